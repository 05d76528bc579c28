"""The one judge on synthetic Measurements: every claim can hold, fail, be inconclusive and be not-measured;
the multiplicity rule (intersection–union / Holm) and the per-seed rule, each against mutant rules that
the same checks must reject. Expected verdicts are read off the hand-written intervals and the paper's
criteria, never computed by the code under test."""

from __future__ import annotations

import math

import pytest

from theory.claims import CLAIM_IDS, Measurement, judge, judge_all
from theory.claims.judge import holm
from theory.estimate import Estimate
from theory.verdict import FAILS, HOLDS, INCONCLUSIVE, SEED_DEPENDENT

REF39 = [1.0 + i / 38 for i in range(39)]  # prediction interval [1, 2]
OK_GO = {"paired": True, "clean_gate_passed": True, "training_seeds": 3}
OK_5X = {"clean_gate_passed": True, "m": 5.0, "unit_kind": "canonical", "plateau_reached": True}
# claim id -> (interval that holds, one that fails, one that straddles, the extra a valid measurement records)
CASES = {
    "basin-flat-then-collapse": ((1.2, 2.5), (5.0, 8.0), (3.5, 4.5), {"collapse_reached": True}),
    "nll-smooth": ((1.8, 2.2), (0.2, 1.0), (1.2, 2.0), {}),
    "basins-nested": ((0.3, 0.9), (1.2, 2.0), (0.8, 1.3), {}),
    "worst-much-narrower": ((12.0, 400.0), (2.0, 8.0), (5.0, 20.0), {}),
    "benign-sft-like-random": ((1.3, 1.6), (3.0, 4.0), (1.8, 2.5), {"reference_edges": REF39}),
    "adversarial-sft-kills-safety-first": ((0.2, 0.8), (1.5, 3.0), (0.5, 1.5), {}),
    "adversarial-sft-near-worst-case": ((1.2, 2.5), (0.2, 0.7), (2.0, 5.0), {}),
    "basins-widen-with-size": ((0.1, 0.5), (-0.5, -0.1), (-0.1, 0.3), {"unit_kind": "invariant"}),
    "basins-widen-with-training": ((1.5, 3.0), (0.3, 0.8), (0.8, 1.5), {"unit_kind": "invariant", "tau_fixed": True}),
    "strict-basin-90pct-at-99": ((0.6, 0.9), (0.1, 0.3), (0.3, 0.7), {"test": "fixed-sequence", "n_directions": 51}),
    "thm42-holds": ((0.01, 0.1), (-0.2, -0.05), (-0.05, 0.05), {"adversarial_displacement": True, "attack_strength": 0.8}),
    "thm43-holds": ((0.01, 0.1), (-0.2, -0.05), (-0.05, 0.05), {"adversarial_displacement": True, "attack_strength": 0.8}),
    "thm44-holds": ((0.0, 0.05), (0.2, 0.4), (0.05, 0.2), {"delta": 0.1, "mutant_rejected": True}),
    "thm45-embedding-holds": ((0.01, 0.2), (-0.3, -0.1), (-0.1, 0.1), {}),
    "thm45-heuristic-fails": ((-0.26, -0.2), (0.1, 0.3), (-0.1, 0.1), {}),
    "go-enlarges-5x": ((5.5, 9.0), (1.0, 3.0), (3.0, 7.0), OK_5X),
    "go-forgets-less": ((0.01, 0.1), (-0.1, -0.02), (-0.02, 0.05), OK_GO),
}


def m(cid: str, ci, extra=None, entry: str = "", seed=None, p_fails=None, level: float = 0.95) -> Measurement:
    lo, hi = ci
    mid = 0.5 * (lo + hi) if math.isfinite(hi) else lo
    return Measurement(cid, Estimate(mid, (lo, hi), level, 8, "u"), "model", "test", n=8, entry=entry,
                       training_seed=seed, p_fails=p_fails, extra=CASES[cid][3] if extra is None else extra)


def test_every_registered_claim_has_a_case():
    assert set(CASES) == set(CLAIM_IDS)


@pytest.mark.parametrize("cid", sorted(CASES))
def test_each_claim_holds_fails_is_inconclusive_and_not_measured(cid):
    holds, fails, straddles, _ = CASES[cid]
    assert judge([m(cid, holds)]).verdict == HOLDS
    assert judge([m(cid, fails)]).verdict == FAILS
    assert judge([m(cid, straddles)]).verdict == INCONCLUSIVE
    none = Measurement(cid, None, "model", "test", reason="no GPU here")
    assert judge([none]).verdict == "not-measured (no GPU here)"
    assert judge([], claim_id=cid).verdict.startswith("not-measured")


@pytest.mark.parametrize("cid", sorted(c for c in CASES if CASES[c][3]))
def test_a_measurement_that_does_not_record_what_the_criterion_needs_is_not_measured(cid):
    row = judge([m(cid, CASES[cid][0], extra={})])
    assert row.verdict.startswith("not-measured (test does not record ")


def test_benign_needs_39_reference_directions():
    row = judge([m("benign-sft-like-random", (1.3, 1.6), extra={"reference_edges": REF39[:38]})])
    assert row.verdict.startswith("not-measured (38 random-direction edges") and "K >= 39" in row.verdict


def test_the_5x_claim_is_judged_on_the_protocols_primary_arm_only():
    """A gated-out arm is not-measured, an m = 2 arm cannot decide, raw sigma off the canonical copy cannot
    decide, and an arm stopped at its budget (no plateau) cannot hold but can still fail."""
    big, small = (5.5, 9.0), (1.0, 3.0)
    assert judge([m("go-enlarges-5x", big, extra={**OK_5X, "clean_gate_passed": False})]).verdict.startswith(
        "not-measured (clean_gate_passed = False")
    assert judge([m("go-enlarges-5x", big, extra={**OK_5X, "m": 2.0})]).verdict.startswith("not-measured (m = 2.0")
    assert judge([m("go-enlarges-5x", big, extra={**OK_5X, "unit_kind": "raw"})]).verdict.startswith("not-measured")
    assert judge([m("go-enlarges-5x", big, extra={**OK_5X, "plateau_reached": False})]).verdict == INCONCLUSIVE
    assert judge([m("go-enlarges-5x", small, extra={**OK_5X, "plateau_reached": False})]).verdict == FAILS


def test_guards_downgrade_a_holds_and_unmet_requirements_are_not_measured():
    weak = {"adversarial_displacement": True, "attack_strength": 0.3}
    assert judge([m("thm42-holds", (0.01, 0.1), extra=weak)]).verdict == INCONCLUSIVE
    assert judge([m("thm42-holds", (-0.2, -0.05), extra=weak)]).verdict == FAILS  # a violation is still one
    no_adv = {"adversarial_displacement": False, "attack_strength": 1.0}
    assert judge([m("thm43-holds", (0.01, 0.1), extra=no_adv)]).verdict.startswith("not-measured")
    blind = {"delta": 0.1, "mutant_rejected": False}
    assert judge([m("thm44-holds", (0.0, 0.05), extra=blind)]).verdict == INCONCLUSIVE
    no_collapse = judge([m("basin-flat-then-collapse", (1.2, 2.5), extra={"collapse_reached": False})])
    assert no_collapse.verdict.startswith("not-measured")
    raw = judge([m("basins-widen-with-training", (1.5, 3.0), extra={"unit_kind": "raw", "tau_fixed": True})])
    assert raw.verdict.startswith("not-measured (unit_kind = 'raw'")
    one_seed = judge([m("go-forgets-less", (0.01, 0.1), extra={**OK_GO, "training_seeds": 1})])
    assert one_seed.verdict.startswith("not-measured")


def test_the_new_regions_at_their_ends():
    """worst-much-narrower has no upper cap (the real LLM's ~306); adversarial-near-worst needs ratio >= 1."""
    assert judge([m("worst-much-narrower", (250.0, 400.0))]).verdict == HOLDS
    assert judge([m("worst-much-narrower", (95.0, 113.0))]).verdict == HOLDS
    assert judge([m("adversarial-sft-near-worst-case", (0.5, 0.9))]).verdict == FAILS
    # R between the two smooth nulls (3 < R < 4.67) decides nothing
    assert judge([m("basin-flat-then-collapse", (3.2, 4.5))]).verdict == INCONCLUSIVE
    assert judge([m("basin-flat-then-collapse", (4.8, 6.0))]).verdict == FAILS


# ------------------------------------------------------------------------------------- multiplicity

def test_holm_step_down_by_hand():
    # alpha 0.05, m = 3: thresholds 0.05/3 = 0.0167, 0.05/2 = 0.025, 0.05
    assert holm([0.001, 0.02, 0.5], 0.05) == [True, True, False]
    assert holm([0.03, 0.04], 0.05) == [False, False]          # 0.03 > 0.025: nothing named
    assert holm([0.04, 0.001, 0.02], 0.05) == [True, True, True]
    assert holm([0.02, 0.001], 0.05) == [True, True]


NESTED = "basins-nested"


def multiplicity_expectations_hold(judge_fn) -> bool:
    """The multiplicity rule's consequences, hand-derived; a wrong rule fails at least one."""
    hold = [m(NESTED, (0.3, 0.9), entry=e) for e in ("math", "coding", "safety")]
    one_fails = hold[:2] + [m(NESTED, (1.2, 2.0), entry="safety", p_fails=0.001)]
    straddle = hold[:2] + [m(NESTED, (0.8, 1.3), entry="safety")]
    weak_fails = [m(NESTED, (1.2, 2.0), entry=e, p_fails=p) for e, p in (("math", 0.03), ("coding", 0.04))]
    unmeasured = hold[:2] + [Measurement(NESTED, None, "model", "test", entry="safety", reason="not learnt")]
    return (judge_fn(hold).verdict == HOLDS and judge_fn(one_fails).verdict == FAILS
            and judge_fn(straddle).verdict == INCONCLUSIVE and judge_fn(weak_fails).verdict == INCONCLUSIVE
            and judge_fn(unmeasured).verdict == INCONCLUSIVE)


def best_of(ms):
    """Mutant: judge only the most favourable entry (the best-of selection this rule forbids)."""
    return judge([min(ms, key=lambda x: x.estimate.hi if x.estimate else math.inf)])


def uncorrected(ms):
    """Mutant: fails as soon as any entry's own test fails (no Holm)."""
    verdicts = [judge([x]).verdict for x in ms]
    return judge([next(x for x, v in zip(ms, verdicts) if v == FAILS)]) if FAILS in verdicts else judge(ms)


def test_multiplicity_rule_and_its_mutants():
    assert multiplicity_expectations_hold(judge)
    assert not multiplicity_expectations_hold(best_of)
    assert not multiplicity_expectations_hold(uncorrected)


def test_holm_names_the_failing_entries_and_every_entry_is_listed():
    ms = [m(NESTED, (1.2, 2.0), entry="math", p_fails=0.001), m(NESTED, (1.1, 1.9), entry="coding", p_fails=0.02),
          m(NESTED, (0.8, 1.3), entry="safety", p_fails=0.5)]
    row = judge(ms)
    assert row.verdict == FAILS and row.value is None and row.ci is None
    assert any(line.startswith("fails for math, coding") for line in row.entries)
    assert sum(line.startswith(("math:", "coding:", "safety:")) for line in row.entries) == 3


def test_without_p_values_an_interval_outside_at_level_one_minus_alpha_names_nothing_among_two():
    """Two entries whose 95 % intervals both lie outside: p <= 0.05 each, Holm needs 0.025 first."""
    ms = [m(NESTED, (1.2, 2.0), entry="math"), m(NESTED, (1.3, 2.0), entry="coding")]
    assert judge(ms).verdict == INCONCLUSIVE
    hi_conf = [m(NESTED, (1.2, 2.0), entry=e, level=0.99) for e in ("math", "coding")]
    mixed = hi_conf[:1] + [m(NESTED, (1.3, 2.0), entry="coding", level=0.95)]
    assert judge(mixed).verdict == FAILS  # alpha = 0.05; p1 <= 0.01 <= 0.025, p2 <= 0.05


# ------------------------------------------------------------------------------------- per seed

def seed_expectations_hold(judge_fn) -> bool:
    cid = "worst-much-narrower"
    h, f, i = CASES[cid][:3]
    all_hold = [m(cid, h, seed=s) for s in (0, 1, 2)]
    mixed = [m(cid, h, seed=0), m(cid, h, seed=1), m(cid, f, seed=2)]
    all_fail = [m(cid, f, seed=s) for s in (0, 1, 2)]
    one_open = [m(cid, f, seed=0), m(cid, f, seed=1), m(cid, i, seed=2)]
    all_open = [m(cid, i, seed=s) for s in (0, 1, 2)]
    return (judge_fn(all_hold).verdict == HOLDS and judge_fn(mixed).verdict == SEED_DEPENDENT
            and judge_fn(all_fail).verdict == FAILS and judge_fn(one_open).verdict == SEED_DEPENDENT
            and judge_fn(all_open).verdict == INCONCLUSIVE)


def majority(ms):
    """Mutant: the verdict most seeds give."""
    verdicts = [judge([x]).verdict for x in ms]
    top = max(set(verdicts), key=verdicts.count)
    return judge([next(x for x, v in zip(ms, verdicts) if v == top)])


def pooled(ms):
    """Mutant: the seeds treated as entries of one model."""
    return judge([Measurement(**{**x.__dict__, "training_seed": None, "entry": f"s{x.training_seed}"}) for x in ms])


def test_per_seed_rule_and_its_mutants():
    assert seed_expectations_hold(judge)
    assert not seed_expectations_hold(majority)
    assert not seed_expectations_hold(pooled)


def test_seed_dependent_lists_the_per_seed_verdicts():
    cid = "worst-much-narrower"
    row = judge([m(cid, (12.0, 40.0), seed=0), m(cid, (2.0, 8.0), seed=1), m(cid, (12.0, 40.0), seed=2)])
    assert row.verdict == "inconclusive: seed-dependent"
    per_seed = list(dict.fromkeys(e.split(":")[0] for e in row.entries))
    assert per_seed == ["seed 0 -> holds", "seed 1 -> fails", "seed 2 -> holds"]


# ------------------------------------------------------------------------------------- table

def test_judge_all_gives_one_row_per_claim_and_subject_in_registry_order():
    ms = [m("thm45-embedding-holds", (0.01, 0.2)), m("worst-much-narrower", (12.0, 40.0)),
          Measurement("worst-much-narrower", Estimate(306.0, (280.0, 330.0), 0.95, 8, "ratio"), "SmolLM2-360M",
                      "llm_check", subject="SmolLM2-360M")]
    rows = judge_all(ms, {"nll-smooth": "needs the NLL run"})
    assert [r.id for r in rows] == list(CLAIM_IDS[:4]) + ["worst-much-narrower"] + list(CLAIM_IDS[4:])
    smol = [r for r in rows if r.model == "SmolLM2-360M"]
    assert len(smol) == 1 and smol[0].verdict == HOLDS
    by_id = {r.id: r for r in rows if r.model != "SmolLM2-360M"}
    assert by_id["nll-smooth"].verdict == "not-measured (needs the NLL run)"
    assert by_id["thm45-embedding-holds"].kind == "theorem check" and by_id["nll-smooth"].kind == "empirical claim"


def test_an_unknown_claim_id_or_mixed_ids_are_internal_errors():
    from theory.errors import InternalError

    with pytest.raises(InternalError):
        judge([Measurement("made-up-claim", None, "m", "s", reason="r")])
    with pytest.raises(InternalError):
        judge([m("nll-smooth", (1.8, 2.2)), m("worst-much-narrower", (12.0, 40.0))])


def test_seeds_that_were_all_not_measured_keep_their_reasons():
    cid = "strict-basin-90pct-at-99"
    ms = [Measurement(cid, None, "tf", "toy", training_seed=0, reason="one sigma only"),
          Measurement(cid, None, "tf", "fig05", training_seed=None, reason="no fixed-sequence test")]
    assert judge(ms).verdict == "not-measured (one sigma only; no fixed-sequence test)"
