"""Claims-table verdict logic on synthetic inputs (no models): holds / fails / inconclusive / not-measured."""

from __future__ import annotations

import json
import math

import pytest

from paper_figures.claims_table import CLAIM_IDS, assemble, from_dict, judge, to_markdown, write
from theory.estimate import Estimate
from theory.verdict import ClaimResult, Region


def est(value: float, lo: float, hi: float, n: int = 51) -> Estimate:
    return Estimate(estimate=value, ci=(lo, hi), confidence=0.99, n=n, unit="fraction of directions")


def test_ids_are_the_paper_claim_list():
    assert set(CLAIM_IDS) == {
        "basin-flat-then-collapse", "nll-smooth", "basins-nested", "worst-much-narrower",
        "benign-sft-like-random", "adversarial-sft-kills-safety-first", "adversarial-sft-near-worst-case",
        "basins-widen-with-size", "basins-widen-with-training", "strict-basin-90pct-at-99", "thm42-holds",
        "thm43-holds", "thm44-holds", "thm45-embedding-holds", "thm45-heuristic-fails", "go-enlarges-5x",
        "go-forgets-less"}


@pytest.mark.parametrize("interval, expected", [
    ((0.93, 1.0), "holds"),          # entirely above 0.9
    ((0.40, 0.85), "fails"),         # entirely below 0.9
    ((0.80, 0.99), "inconclusive"),  # straddles 0.9
])
def test_strict_basin_verdicts(interval, expected):
    row = judge("strict-basin-90pct-at-99", est(sum(interval) / 2, *interval), Region(lo=0.9), model="m", source="s")
    assert row.verdict == expected
    assert row.ci == interval and row.n == 51 and row.unit == "fraction of directions"


def test_two_sided_region_fails_on_either_side_and_is_inconclusive_across_an_end():
    region = Region(10.0, 100.0)
    assert judge("worst-much-narrower", est(3, 2, 4), region, model="m", source="s").verdict == "fails"
    assert judge("worst-much-narrower", est(300, 200, 400), region, model="m", source="s").verdict == "fails"
    assert judge("worst-much-narrower", est(12, 5, 20), region, model="m", source="s").verdict == "inconclusive"
    assert judge("worst-much-narrower", est(30, 20, 40), region, model="m", source="s").verdict == "holds"


def test_an_unbounded_interval_inside_a_half_line_holds():
    unbounded = Estimate(4.0, (1.5, math.inf), 0.9, 8, "edge ratio")
    assert judge("basins-widen-with-training", unbounded, Region(lo=1.0), model="m", source="s").verdict == "holds"
    assert judge("basins-nested", unbounded, Region(hi=1.0), model="m", source="s").verdict == "fails"


def test_assemble_lists_every_id_and_marks_missing_as_not_measured():
    measured = [judge("thm43-holds", est(0.1, 0.05, 0.2), Region(lo=0.0), model="m", source="s"),
                ClaimResult.unmeasured("extra-claim", "c", "k", "r")]
    rows = assemble(measured, {"go-forgets-less": "needs the GO run"})
    ids = [r.id for r in rows]
    assert ids[:len(CLAIM_IDS)] == list(CLAIM_IDS) and ids[-1] == "extra-claim"
    by_id = {r.id: r for r in rows}
    assert by_id["thm43-holds"].verdict == "holds"
    assert by_id["go-forgets-less"].verdict == "not-measured (needs the GO run)"
    assert by_id["thm44-holds"].verdict.startswith("not-measured (")


def test_written_table_round_trips_and_keeps_infinities(tmp_path):
    rows = assemble([judge("basins-widen-with-training", est(3.0, 1.5, math.inf), Region(lo=1.0), model="m",
                           source="s")])
    json_path, md_path = write(rows, tmp_path)
    data = json.loads(json_path.read_text())
    assert {d["id"] for d in data} == set(CLAIM_IDS)
    back = [from_dict(d) for d in data]
    assert back[CLAIM_IDS.index("basins-widen-with-training")].ci == (1.5, math.inf)
    assert all(set(d) == {"id", "claim", "criterion", "value", "ci", "confidence", "unit", "n", "model",
                          "source", "verdict"} for d in data)
    text = md_path.read_text()
    assert all(f"| {cid} |" in text for cid in CLAIM_IDS)
    assert to_markdown(back) == text
