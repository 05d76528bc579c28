"""The shared records: `Estimate` (JSON round trip, validation) and `verdict` (holds / fails / inconclusive)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from theory.errors import InternalError
from theory.estimate import Estimate
from theory.stats import proportion_estimate
from theory.verdict import FAILS, HOLDS, INCONCLUSIVE, Region, not_measured, verdict

finite = st.floats(-1e6, 1e6)


@given(a=finite, b=finite, est=st.one_of(finite, st.just(math.nan)), conf=st.floats(0.01, 0.999),
       cov=st.one_of(st.none(), st.floats(0.01, 0.999)), inf_hi=st.booleans())
def test_estimate_json_round_trip(a, b, est, conf, cov, inf_hi):
    lo, hi = min(a, b), (math.inf if inf_hi else max(a, b))
    e = Estimate(estimate=est, ci=(lo, hi), confidence=conf, n=7, unit="alpha per coordinate", coverage=cov,
                 method="order-statistics")
    back = Estimate.from_dict(json.loads(json.dumps(e.to_dict(), allow_nan=False)))
    assert back.ci == e.ci and back.n == 7 and back.unit == e.unit and back.coverage == e.coverage
    assert (math.isnan(back.estimate) and math.isnan(est)) or back.estimate == est


def test_estimate_validation():
    with pytest.raises(InternalError, match="lo <= hi"):
        Estimate(0.5, (0.6, 0.4), 0.9, 10, "score")
    with pytest.raises(InternalError, match="confidence"):
        Estimate(0.5, (0.4, 0.6), 1.0, 10, "score")


def test_proportion_estimate_uses_clopper_pearson():
    e = proportion_estimate(50, 50, 0.99)
    assert e.estimate == 1.0 and e.lo == 0.005 ** (1 / 50) and e.hi == 1.0 and e.method.startswith("clopper")


@given(lo=finite, width=st.floats(0, 1e3), rlo=finite, rwidth=st.floats(0, 1e3))
def test_verdict_is_consistent_with_interval_logic(lo, width, rlo, rwidth):
    hi, rhi = lo + width, rlo + rwidth
    v = verdict((lo, hi), Region(rlo, rhi))
    if rlo <= lo and hi <= rhi:
        assert v == HOLDS
    elif hi < rlo or lo > rhi:
        assert v == FAILS
    else:
        assert v == INCONCLUSIVE


def test_verdict_edge_cases():
    assert verdict((math.nan, 1.0), Region(0.0)) == INCONCLUSIVE
    assert verdict((0.95, 1.0), Region(lo=0.9)) == HOLDS
    assert verdict((0.1, 0.2), Region(hi=0.05)) == FAILS
    assert not_measured("no GPU").startswith("not-measured")


def test_ratio_of_intervals_divides_the_ends_at_the_bonferroni_level():
    """[a.lo/b.hi, a.hi/b.lo]; held with probability ≥ 1 − Σ(1 − c), c the stated coverage where there is one
    (an exact order-statistic interval) else the confidence; open ends and ∞/∞ give 0 below and +inf above."""
    from theory.estimate import ratio_estimate

    a = Estimate(2.0, (1.0, 4.0), 0.95, 5, "x")
    b = Estimate(1.0, (0.5, 2.0), 0.95, 5, "x")
    r = ratio_estimate(a, b)
    assert (r.estimate, r.ci) == (2.0, (0.5, 8.0)) and r.confidence == pytest.approx(0.9)
    exact = Estimate(1.0, (0.5, 2.0), 0.95, 5, "x", coverage=0.97)
    assert ratio_estimate(a, exact).confidence == pytest.approx(0.92)
    assert ratio_estimate(a, Estimate(1.0, (0.0, 2.0), 0.95, 5, "x")).ci == (0.5, math.inf)
    assert ratio_estimate(Estimate(2.0, (1.0, math.inf), 0.95, 5, "x"),
                          Estimate(1.0, (0.5, math.inf), 0.95, 5, "x")).ci == (0.0, math.inf)
    assert ratio_estimate(a, Estimate(0.0, (0.0, math.inf), 0.95, 5, "x")).ci == (0.0, math.inf)
