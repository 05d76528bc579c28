"""The claims registry: 12 empirical claims and 5 theorem checks, each id once, each record complete; no
claim id or criterion defined outside it; the statistics behind its criteria; the claims.json document."""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path

import pytest

from theory.claims import CLAIM_IDS, CLAIMS, EMPIRICAL_IDS, THEOREM_IDS, Measurement, get, judge_all
from theory.claims.document import (
    SCHEMA_VERSION,
    counts,
    document,
    measurement_from_dict,
    measurement_to_dict,
)
from theory.claims.records import scrub_paths
from theory.claims.statistics import (
    R_GAUSSIAN,
    R_QUADRATIC,
    R_RAMP,
    log_slope,
    prediction_coverage,
    sign_test_p_above,
)
from theory.estimate import Estimate

REPO = Path(__file__).resolve().parents[2]
PRODUCER_PACKAGES = ("landscape", "toymodels", "llm_check", "paper_figures", "benchmarks")
ID_SHAPE = re.compile(r"^(thm4\d|basins?|worst|benign|adversarial|strict|nll|go)-[a-z0-9-]+$")


def test_twelve_empirical_claims_and_five_theorem_checks_each_once():
    assert len(CLAIM_IDS) == len(set(CLAIM_IDS)) == 17
    assert len(EMPIRICAL_IDS) == 12 and len(THEOREM_IDS) == 5
    assert set(THEOREM_IDS) == {"thm42-holds", "thm43-holds", "thm44-holds", "thm45-embedding-holds",
                                "thm45-heuristic-fails"}


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_record_is_complete(claim):
    assert claim.statement and claim.quantity and claim.unit and claim.criterion
    assert "2505.17646" in claim.paper_version
    assert len(claim.justification.split()) >= 20  # a paragraph, not a label
    assert claim.multiplicity.startswith("holds iff every entry holds")
    assert get(claim.id) is claim


def _string_constants(tree: ast.AST):
    """(string, allowed) for every str constant: allowed when it is the first argument of a `measured(...)`
    or `Measurement(...)` call, or sits in the PRODUCES declaration of the claim ids a producer measures."""
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("measured", "Measurement") and node.args and isinstance(node.args[0], ast.Constant):
                allowed.add(id(node.args[0]))
            if name in ("measured", "Measurement"):
                allowed |= {id(k.value) for k in node.keywords if k.arg == "claim_id"}
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(getattr(t, "id", "") == "PRODUCES" for t in targets):
                allowed |= {id(n) for n in ast.walk(node) if isinstance(n, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, id(node) in allowed


def test_no_claim_id_or_criterion_is_defined_outside_the_registry():
    """Producers name claim ids only where they hand a Measurement over (or declare what they measure),
    every such id is registered, and no producer builds a verdict region for a claim."""
    misplaced, unknown, regions = [], [], []
    for package in PRODUCER_PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            source = path.read_text()
            for text, allowed in _string_constants(ast.parse(source)):
                if text in CLAIM_IDS and not allowed:
                    misplaced.append(f"{path.relative_to(REPO)}: {text}")
                if allowed and ID_SHAPE.match(text) and text not in CLAIM_IDS:
                    unknown.append(f"{path.relative_to(REPO)}: {text}")
            if path.name.startswith("claims") and re.search(r"\bRegion\(|ClaimResult\.judged|\bverdict\(", source):
                regions.append(str(path.relative_to(REPO)))
    assert not misplaced, misplaced
    assert not unknown, unknown
    assert not regions, regions


def test_the_scan_finds_a_misplaced_id():
    tree = ast.parse('x = "worst-much-narrower"\nmeasured("nll-smooth", e, "m")\n')
    assert sorted(_string_constants(tree)) == [("m", False), ("nll-smooth", True), ("worst-much-narrower", False)]


# ------------------------------------------------------------------------------------- statistics

def test_transition_ratio_nulls_by_hand():
    assert R_QUADRATIC == 3.0 and R_RAMP == 9.0
    assert R_GAUSSIAN == pytest.approx(math.sqrt(2.302585093 / 0.105360516), rel=1e-8)
    assert 4.67 < R_GAUSSIAN < 4.68


def test_prediction_interval_coverage_reaches_95_percent_at_39():
    assert prediction_coverage(39) == pytest.approx(0.95)
    assert prediction_coverage(38) < 0.95


def test_sign_test_by_hand():
    assert sign_test_p_above([2.0] * 6, 1.0) == pytest.approx(1 / 64)
    assert sign_test_p_above([2.0] * 5 + [0.5], 1.0) == pytest.approx(7 / 64)


def test_log_slope_of_two_points_by_hand():
    """ξ = (0, 1), weights (−1, 1): slope ∈ [log(lo₂) − log(hi₁), log(hi₂) − log(lo₁)]."""
    y = [Estimate(1.5, (1.0, 2.0), 0.975, 8, "s"), Estimate(math.e * 1.5, (math.e, 2 * math.e), 0.975, 8, "s")]
    s = log_slope([1.0, math.e], y)
    assert s.estimate == pytest.approx(1.0)
    assert s.ci == pytest.approx((1.0 - math.log(2.0), 1.0 + math.log(2.0)))
    assert s.confidence == pytest.approx(0.95)


def test_log_slope_recovers_an_exact_power_law():
    d = [100.0, 1000.0, 10000.0]
    y = [Estimate(v ** 0.5, (v ** 0.5, v ** 0.5), 0.99, 8, "s") for v in d]
    assert log_slope(d, y).ci == pytest.approx((0.5, 0.5))


# ------------------------------------------------------------------------------------- document

def test_document_counts_kinds_apart_and_has_no_machine_path():
    est = Estimate(20.0, (12.0, 30.0), 0.95, 8, "ratio")
    ms = [Measurement("worst-much-narrower", est, "mlp", "/home/someone/runs/out/enlargement.json"),
          Measurement("thm45-heuristic-fails", Estimate(-0.2, (-0.25, -0.1), 0.99, 8, "s"), "tf", "fig11")]
    rows = judge_all(ms, {"go-enlarges-5x": "see /tmp/pytest-of-x/run/enlargement.json"})
    doc = json.loads(json.dumps(document(rows)))
    assert doc["schema_version"] == SCHEMA_VERSION == 2
    assert doc["counts"]["empirical claim"]["total"] == 12 and doc["counts"]["empirical claim"]["holds"] == 1
    assert doc["counts"]["theorem check"] == {"total": 5, "holds": 1, "fails": 0, "inconclusive": 0,
                                              "not-measured": 4}
    assert doc["headline"] == "1 of 12 empirical claims hold; 1 of 5 theorem checks pass"
    text = json.dumps(doc)
    assert "/home/" not in text and "/tmp/" not in text and "enlargement.json" in text
    assert counts(rows) == doc["counts"]


def test_scrub_paths_keeps_relative_text():
    assert scrub_paths("toymodels.claims: /a/b/enlargement.json; raw 1 [0, 2]") == \
        "toymodels.claims: enlargement.json; raw 1 [0, 2]"
    assert scrub_paths("ratio a/b and 1/2") == "ratio a/b and 1/2"


def test_measurement_round_trips_through_json():
    m = Measurement("basins-nested", Estimate(0.8, (0.5, math.inf), 0.97, 6, "ratio"), "tf", "toy", n=6,
                    seeds=(0, 1), varied=("directions",), entry="math", training_seed=2, p_fails=0.3,
                    extra={"k": [1, 2]})
    back = measurement_from_dict(json.loads(json.dumps(measurement_to_dict(m))))
    assert back == m and back.extra == {"k": [1, 2]}
