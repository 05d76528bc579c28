"""The 5x protocol on the tiny sweep (toymodels.enlarge.TINY, the producer's own output): σ_train, grids, the
plateau stop, the enlargement test against the factor's interval, the unit control, the verdict rule,
resumability and the CLI's user errors."""

import copy
import json
import math

import pytest

from landscape.store import ResultStore
from theory.claims.protocol import FIVE_X_PROTOCOL
from toymodels.__main__ import main
from toymodels.enlarge import TINY, entry_verdict, run_sweep

REL = 1e-9


def arms(entries):
    return [(e, a) for e in entries for a in e["protocol"]["arms"] if a.get("sigma_train") is not None]


def test_every_entry_runs_the_primary_arm_from_its_anchor(tiny_sweep):
    entries = tiny_sweep[1]
    assert [(e["kind"], e["width"], e["seed"]) for e in entries] == [("mlp", 8, 0), ("mlp", 16, 0)]
    assert arms(entries), "no GO arm was trained"
    for e in entries:
        assert [a["m"] for a in e["protocol"]["arms"]] == list(FIVE_X_PROTOCOL.arms) == list(TINY.arms)
        assert [a["primary"] for a in e["protocol"]["arms"]] == [True] + [False] * (len(TINY.arms) - 1)
        assert e["m"] == FIVE_X_PROTOCOL.primary_m
    for e, a in arms(entries):
        anchor = e["protocol"]["anchor"]["sigma_basin"]["estimate"]
        assert a["sigma_train"] == pytest.approx(a["m"] * anchor, rel=REL)


def test_go_grid_contains_m_times_the_controls_first_outside_point(tiny_sweep):
    for _, a in arms(tiny_sweep[1]):
        s = a["control"]["first_outside"]
        if s is None or not math.isfinite(s):
            continue
        assert any(abs(g - a["m"] * s) <= REL * a["m"] * s for g in a["go"]["grid"])
        ratios = [b / c for c, b in zip(a["go"]["grid"], a["go"]["grid"][1:])]
        assert all(r <= FIVE_X_PROTOCOL.max_grid_ratio * (1 + REL) for r in ratios)


def test_go_stops_at_the_first_check_that_improved_less_than_the_tolerance(tiny_sweep):
    budget = TINY.mlp_tune.steps
    for _, a in arms(tiny_sweep[1]):
        values = [v for _, v in a["monitored"]]
        drops = [prev - cur < FIVE_X_PROTOCOL.plateau_rel_tol * abs(prev) for prev, cur in zip(values, values[1:])]
        if a["plateau_reached"]:
            assert drops and drops[-1] and not any(drops[:-1]) and a["steps"] == a["plateau_step"]
        else:
            assert not any(drops) and a["steps"] == budget
        assert [s for s, _ in a["monitored"]] == list(range(FIVE_X_PROTOCOL.plateau_every, a["steps"] + 1,
                                                            FIVE_X_PROTOCOL.plateau_every))[:len(values)]


def test_the_enlargement_test_agrees_with_the_factors_interval(tiny_sweep):
    """'enlarged' iff the factor's lower end is >= m; 'not enlarged' iff its upper end is < m (the ratio of
    the two σ-basin intervals, read in both units)."""
    for _, a in arms(tiny_sweep[1]):
        for test in (a["test"], a["test_multiplicative"]):
            lo, hi = (float(x) for x in test["factor"]["ci"])
            assert (test["verdict"] == "enlarged") == (lo >= a["m"] * (1 - REL))
            assert (test["verdict"] == "not enlarged") == (hi < a["m"] * (1 - REL))


def test_the_gate_margin_is_half_tau_and_too_few_examples_never_pass(tiny_sweep):
    """TINY scores 128 examples, below the protocol's 512: no arm may pass its gate, whatever the difference."""
    for e, a in arms(tiny_sweep[1]):
        tau = e["protocol"]["tau"]
        assert tau == pytest.approx(FIVE_X_PROTOCOL.tau_fraction * (e["protocol"]["clean_score_control"]
                                                                     - e["protocol"]["chance"]))
        assert a["gate"]["margin"] == pytest.approx(tau / 2)
        assert a["gate"]["difference"]["n"] == TINY.mlp_n_eval < FIVE_X_PROTOCOL.gate_min_examples_toy
        assert not a["gate"]["passed"] and "fewer than the 512 examples" in a["gate"]["text"]


def test_a_rescaling_leaves_the_canonical_sigma_basin_in_place(tiny_sweep):
    controls = [e["protocol"]["unit_control"] for e in tiny_sweep[1] if "unit_control" in e["protocol"]]
    assert [e["width"] for e in tiny_sweep[1] if "unit_control" in e["protocol"]] == list(TINY.unit_control_widths)
    for uc in controls:
        lo, hi = (float(x) for x in uc["canonical_ratio"]["ci"])
        assert lo <= 1.0 <= hi and uc["canonical_stayed"]


def test_entry_verdict_is_the_judges_on_the_arm(tiny_sweep):
    """The producer's arm with the gate flipped and planted factors: the gate decides first, then the factor's
    interval against 5, and a missing plateau blocks only a holds."""
    entry = tiny_sweep[1][0]
    arm = copy.deepcopy(arms(tiny_sweep[1])[0][1])
    arm["gate"]["passed"] = False
    assert entry_verdict(entry, arm).startswith("not-measured (clean_gate_passed = False")
    arm["gate"]["passed"] = True
    for ci, plateau, expected in (((6.0, 9.0), True, "holds"), ((6.0, 9.0), False, "inconclusive"),
                                  ((1.0, 3.0), False, "fails"), ((3.0, 7.0), True, "inconclusive")):
        arm["test"]["factor"] = {**arm["test"]["factor"], "estimate": sum(ci) / 2, "ci": list(ci)}
        arm["plateau_reached"] = plateau
        assert entry_verdict(entry, arm) == expected


def test_rerun_reuses_the_store_and_the_trained_models(tiny_sweep):
    out, entries = tiny_sweep
    n_rows = len(ResultStore(out / "store.jsonl"))
    again = run_sweep(TINY, out, log=lambda s: None)
    assert len(ResultStore(out / "store.jsonl")) == n_rows
    def decided(es):
        return json.dumps([[a.get(k) for k in ("sigma_train", "steps", "gate", "test", "test_multiplicative")]
                           for _, a in arms(es)])
    assert decided(again) == decided(entries)


def test_cli_user_errors_exit_2(tmp_path, capsys):
    assert main(["enlarge"]) == 2
    (tmp_path / "file").write_text("x")
    assert main(["enlarge", "--out", str(tmp_path / "file")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error:") for line in err)
