"""The claims registry's measurements a quick check makes on a real model, read from its summary.json.

`quick_measurements(summary)` returns theory.claims Measurements (the registry's one judge decides; no
criterion lives here), each with the model as its subject, so `python -m paper_figures --llm-results DIR`
puts them in their own rows of the claims table:
  worst-much-narrower  per capability: the median most-case edge over K raw Gaussian directions (its
                       order-statistic interval) ÷ the worst-case edge along the tethered-ascent direction
                       rescaled to the same norm √d (its deterministic bisection bracket), both edges the
                       first exit on either half-line; theory.estimate.ratio_estimate.
  basins-nested        per specific capability learnt above chance + 0.1 (all but "basic"): the median over
                       the K shared directions of edge(specific) / edge(basic), with its order-statistic
                       interval at the edges' confidence and the sign-test p of "the ratio exceeds 1".
What varies in each interval: the K directions (the model, its examples and the ascent are fixed).
"""

from __future__ import annotations

import math
from typing import Any

from theory.claims import Measurement
from theory.claims.statistics import sign_test_p_above
from theory.estimate import Estimate, ratio_estimate
from theory.stats import median_interval

SOURCE = "llm_check.quick"
LEARNT_ABOVE_CHANCE = 0.1


def _most_case(edge: dict[str, Any]) -> Estimate:
    return Estimate(estimate=float(edge["estimate"]), ci=(float(edge["ci"][0]), float(edge["ci"][1])),
                    confidence=float(edge["confidence"]), n=int(edge["K"]), unit=str(edge["unit"]),
                    coverage=None if edge.get("coverage") is None else float(edge["coverage"]),
                    method="median over directions, order-statistic interval")


def quick_measurements(summary: dict[str, Any]) -> list[Measurement]:
    """Measurements from a quick check's summary (module doc); a capability without the stages a claim
    needs gives none for it."""
    model = str(summary["model"])
    seeds = (int(summary["seed"]),)
    caps = summary["capabilities"]
    common = dict(model=model, source=SOURCE, seeds=seeds, varied=("directions",), subject=model)
    out = []
    for name, block in caps.items():
        edge, bracket = block.get("basin_edge"), block.get("worst_edge_bracket")
        if edge is None or bracket is None:
            continue
        worst = Estimate(estimate=float(block["worst_edge"]), ci=(float(bracket[0]), float(bracket[1])),
                         confidence=1 - 1e-12, n=1, unit=str(edge["unit"]),
                         method="bisection bracket (deterministic given the direction)")
        out.append(Measurement("worst-much-narrower", ratio_estimate(_most_case(edge), worst,
                                                                     "edge ratio random (median) / worst"),
                               n=int(edge["K"]), entry=name, note=f"{block.get('task', name)}, tau = {edge['tau']}",
                               **common))
    basic = caps.get("basic", {}).get("basin_edge")
    for name, block in caps.items():
        edge = block.get("basin_edge")
        if name == "basic" or basic is None or edge is None:
            continue
        if block["clean_score"] - block["chance"] < LEARNT_ABOVE_CHANCE:
            out.append(Measurement("basins-nested", None, entry=name, reason=f"{name} is not learnt above chance "
                                   f"+ {LEARNT_ABOVE_CHANCE} (S = {block['clean_score']:.3g}, chance "
                                   f"{block['chance']:.3g})", **common))
            continue
        per = [s / b if b > 0 else math.inf for s, b in zip(edge["per_direction"], basic["per_direction"])]
        per = [r for r in per if not math.isnan(r)]  # both edges beyond the searched range
        est = median_interval(per, float(edge["confidence"]), "per-direction edge ratio specific / basic")
        out.append(Measurement("basins-nested", est, n=len(per), entry=name, p_fails=sign_test_p_above(per, 1.0),
                               note=f"{block.get('task', name)} / {caps['basic'].get('task', 'basic')}, "
                               f"tau = {edge['tau']}", **common))
    return out
