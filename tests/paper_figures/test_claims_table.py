"""The figure path's claim producers on the synthetic stored results (tests/paper_figures/pf_synthetic.py):
every Measurement they hand over is accepted by the registry's judge, and the verdicts follow from the
synthetic numbers; the rendered table (claims.json with schema version and kinds, claims.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pf_synthetic import landscape, populate, write

from paper_figures import claims, claims_table
from paper_figures.claims_from_figures import PRODUCES
from paper_figures.context import FigureRun
from theory.claims import CLAIM_IDS, judge, judge_all
from theory.verdict import FAILS, HOLDS, INCONCLUSIVE


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_sweep):
    out = tmp_path_factory.mktemp("claims")
    populate(out, tiny_sweep[1])
    res = out / "results" / "quick"
    side = {"estimate": 0.01, "lo": 0.009, "hi": 0.011}
    for kind, cap, edge in (("benign", "basic", 0.01), ("adversarial", "basic", 0.01),
                            ("adversarial", "safety", 0.002)):  # safety collapses 5x sooner along adversarial SFT
        s = {k: v * edge / 0.01 for k, v in side.items()}
        write(res, f"edges_align_{cap}_sft-{kind}", {"directions": [{"plus": s, "minus": {**s, "estimate": 1.0}}]})
    nll = landscape(np.linspace(-0.06, 0.06, 15), 6, 0.02)
    a = np.asarray(nll["alphas"])
    a[7] = 0.0
    nll["alphas"] = a.tolist()
    nll["baseline"] = 2.0
    nll["curves"] = [{"values": (2.0 + c * a ** 2).tolist()} for c in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)]  # exponent 2
    write(res, "landscape_align_nll_random", nll)
    (res / "toymodels_measurements.json").write_text("[]")
    return FigureRun(out=out, quick=True)


def test_every_producer_hands_over_registered_measurements_the_judge_accepts(run):
    for produce, ids in PRODUCES:
        ms = produce(run)
        assert ms and {m.claim_id for m in ms} <= set(ids), produce.__name__
        for cid in {m.claim_id for m in ms}:
            row = judge([m for m in ms if m.claim_id == cid])
            assert row.id == cid and row.kind in ("empirical claim", "theorem check")


def test_producer_verdicts_on_the_synthetic_numbers(run):
    ms = [m for produce, _ in PRODUCES for m in produce(run)]
    by_id = {r.id: r for r in judge_all(ms)}
    # median edge 0.02 [0.01, 0.03] over the worst bracket [1e-4/1.1, 1.1e-4]: ratio in [90.9, 330], >= 10
    assert by_id["worst-much-narrower"].verdict == HOLDS
    assert by_id["worst-much-narrower"].ci == pytest.approx((0.01 / 1.1e-4, 0.03 * 1.1 / 1e-4))
    # safety 0.002 [0.0018, 0.0022] over basic 0.01 [0.009, 0.011] along adversarial SFT: < 1
    assert by_id["adversarial-sft-kills-safety-first"].verdict == HOLDS
    # adversarial safety edge 0.002 over the safety worst edge 1e-4: ~20, outside [1, 3]
    assert by_id["adversarial-sft-near-worst-case"].verdict == FAILS
    # the stored random edges carry only a median: no reference sample, no per-direction ratios
    assert by_id["benign-sft-like-random"].verdict.startswith("not-measured")
    assert by_id["basins-nested"].verdict.startswith("not-measured")
    # quadratic NLL curves: exponent exactly 2
    assert by_id["nll-smooth"].verdict == HOLDS and by_id["nll-smooth"].value == pytest.approx(2.0)
    # fig06 has random and fine-tuning displacements only
    assert by_id["thm42-holds"].verdict.startswith("not-measured") and "adversarial" in by_id["thm42-holds"].verdict
    assert by_id["thm45-heuristic-fails"].verdict == HOLDS and by_id["thm45-embedding-holds"].verdict == INCONCLUSIVE
    assert by_id["basins-widen-with-training"].verdict.startswith("not-measured (unit_kind = 'raw'")
    assert by_id["go-forgets-less"].verdict.startswith("not-measured")
    assert by_id["strict-basin-90pct-at-99"].verdict.startswith("not-measured")


def test_sweep_rows_come_from_the_producers_output(run, tiny_sweep):
    """The tiny sweep (two widths, one seed, 128 examples): every GO arm fails the clean-score gate, so the 5x
    row is not-measured with that reason, one entry per width; the size slope is the least-squares slope of
    the log canonical sigma-basins against log d (numpy's fit, not the suite's)."""
    entries = tiny_sweep[1]
    by_id = {r.id: r for r in judge_all([m for produce, _ in PRODUCES for m in produce(run)])}
    go = by_id["go-enlarges-5x"]
    assert [e["protocol"]["arms"][0]["gate"]["passed"] for e in entries] == [False, False]
    assert go.verdict.startswith("not-measured") and "clean score not shown equal" in go.verdict
    assert sum(e.startswith("mlp standard width ") for e in go.entries) == len(entries)
    size = by_id["basins-widen-with-size"]
    x = np.log([e["params"] for e in entries])
    y = np.log([e["sigma_basin"]["before"]["estimate"] for e in entries])
    assert size.value == pytest.approx(np.polyfit(x, y, 1)[0])


def test_rows_of_a_run_list_every_claim_once_plus_the_paper_headline(run):
    rows = claims.rows(run)
    toy = [r for r in rows if "Qwen" not in r.model]
    assert [r.id for r in toy] == list(CLAIM_IDS)
    qwen = [r for r in rows if "Qwen" in r.model]
    assert len(qwen) == 1 and qwen[0].id == "strict-basin-90pct-at-99" and qwen[0].verdict.startswith("not-measured")


def test_written_table_has_schema_version_kinds_and_round_trips(run, tmp_path):
    rows = claims.rows(run)
    json_path, md_path = claims_table.write(rows, tmp_path)
    doc = json.loads(json_path.read_text())
    assert doc["schema_version"] == 2
    assert doc["counts"]["empirical claim"]["total"] == 12 and doc["counts"]["theorem check"]["total"] == 5
    qwen = next(s for s in doc["counts_by_subject"] if "Qwen" in s)  # the paper's headline is its own row
    assert doc["counts_by_subject"][qwen]["empirical claim"]["total"] == 1
    assert all(r["kind"] in ("empirical claim", "theorem check") for r in doc["rows"])
    assert claims_table.read(json_path) == rows
    text = md_path.read_text()
    assert "empirical claims hold" in text and "theorem checks pass" in text
    assert all(f"| {cid} |" in text for cid in CLAIM_IDS)
    assert claims_table.to_markdown(claims_table.read(json_path)) == text
    assert str(run.out) not in json_path.read_text() + text
