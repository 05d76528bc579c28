"""The enlargement test on half-spaces whose σ-basins are known exactly: scaling every threshold b_i by k
scales p_A(σ) = mean_i Φ(−b_i/σ), hence σ_b, by exactly k."""

import numpy as np
import pytest
import torch
from analytic_models import HalfSpace, threshold_score

from landscape.context import ProbeContext
from landscape.enlargement import ENLARGED, INCONCLUSIVE, NOT_ENLARGED, enlargement_test
from landscape.sigma_basin import sigma_basin
from theory.errors import UserInputError

D, TAU = 8, 0.1
B = np.array([-0.5, -1.0, -1.5, -2.0])
GRID = 2.0 ** np.arange(-4, 6.01, 0.5)  # ratio 2^½, up to 64 (≥ 5 × the control's outside point)


def _basin(k: float, seed: int):
    v = torch.zeros(D, dtype=torch.float64)
    v[0] = 1.0
    model, score = HalfSpace(torch.zeros(D), v), threshold_score(k * B)
    return sigma_basin(model, score, GRID, tau=TAU, n=600, confidence=0.95, ctx=ProbeContext(seed=seed))


@pytest.fixture(scope="module")
def control():
    return _basin(1.0, seed=1)


def test_twenty_times_wider_is_enlarged_by_five(control):
    """The test needs a margin: s is the control's first certified-outside σ (above its σ_b) and GO must be
    certified inside (below its σ_b) at 5·s, so a true factor of 6 is not enough at this n."""
    res = enlargement_test(control, _basin(20.0, seed=2), m=5)
    assert res.verdict == ENLARGED and res.control_outside_at_s
    assert res.go_inside_at >= 5 * res.s
    assert res.factor.lo <= 20.0 <= res.factor.hi


def test_one_and_a_half_times_wider_is_not_enlarged_by_five(control):
    res = enlargement_test(control, _basin(1.5, seed=3), m=5)
    assert res.verdict == NOT_ENLARGED
    assert res.go_outside_at < 5 * res.control_inside_at
    assert res.factor.lo <= 1.5 <= res.factor.hi


def test_a_grid_too_short_for_m_is_inconclusive(control):
    go = _basin(20.0, seed=2)
    assert enlargement_test(control, go, m=5, s=control.sigma_basin.hi * 64).verdict == INCONCLUSIVE


def test_mismatched_sigma_basins_are_refused(control):
    with pytest.raises(UserInputError):
        enlargement_test(control, control, m=0)
