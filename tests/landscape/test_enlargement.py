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


def test_control_and_go_share_each_noise_draw_and_match_their_own_runs(monkeypatch):
    """sigma_basins on two models: every trial's noise is drawn once for both (common random numbers), and
    each model's σ-basin is exactly the one it gets alone."""
    import landscape.kinds.base as kinds_base
    from landscape.sigma_basin import sigma_basins

    def model_and_score(k):
        v = torch.zeros(D, dtype=torch.float64)
        v[0] = 1.0
        return HalfSpace(torch.zeros(D), v), threshold_score(k * B)

    (control, score), (go, _) = model_and_score(1.0), model_and_score(1.0)
    with torch.no_grad():  # GO: the same score, a model whose margin is 3 times wider (v scaled down)
        go.v.mul_(1 / 3)
    alone = [sigma_basin(mdl, score, GRID[:12], ProbeContext(seed=5), tau=TAU, n=300, b=1) for mdl in (control, go)]
    calls = []
    real = kinds_base.noise_chunks
    monkeypatch.setattr(kinds_base, "noise_chunks", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    both = sigma_basins([(control, ProbeContext(seed=5)), (go, ProbeContext(seed=5))], score, GRID[:12], tau=TAU,
                        n=300, b=1)
    assert [r.points for r in both] == [r.points for r in alone]
    assert [r.sigma_basin.ci for r in both] == [r.sigma_basin.ci for r in alone]
    assert len(calls) == len(set(calls)) == max(p.trials for r in both for p in r.points)
    assert alone[1].sigma_basin.lo > alone[0].sigma_basin.lo  # the wider margin is visible


def test_models_on_different_noise_plans_are_refused():
    from landscape.sigma_basin import sigma_basins

    v = torch.zeros(D, dtype=torch.float64)
    v[0] = 1.0
    model, score = HalfSpace(torch.zeros(D), v), threshold_score(B)
    with pytest.raises(UserInputError, match="one noise plan"):
        sigma_basins([(model, ProbeContext(seed=1)), (model, ProbeContext(seed=2))], score, [0.5, 1.0])


@pytest.mark.parametrize("mode", ["pairs", "set"])
def test_the_bracket_draws_what_coarse_mode_names(tmp_path, mode):
    """BasinMeter's coarse grid scores one (noise, example) pair per draw, or with coarse_mode="set" the whole
    set: n_coarse rows per coarse σ, each over 1 example or over all of them."""
    from landscape.enlargement_protocol import COARSE, BasinMeter
    from landscape.store import ResultStore

    v = torch.zeros(D, dtype=torch.float64)
    v[0] = 1.0
    model, score = HalfSpace(torch.zeros(D), v), threshold_score(B)
    store = ResultStore(tmp_path / "rows.jsonl")
    meter = BasinMeter(score, n_trials=8, n_coarse=3, ratio=2 ** 0.25, confidence=0.95, seed=0, store=store,
                       coarse_mode=mode)
    lo, hi = meter.bracket(model, "halfspace", "gaussian", TAU)
    assert 0 < lo < hi
    perturbed = [r.key for r in store.rows() if r.key.get("alpha")]
    assert len(perturbed) == 3 * len(COARSE["gaussian"])
    sizes = {len(k["example_ids"]) if k["example_ids"] is not None else len(B) for k in perturbed}
    assert sizes == ({1} if mode == "pairs" else {len(B)})
