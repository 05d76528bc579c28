import math

import pytest
import torch
from analytic_models import Ball, HalfSpace, param_bits, same_bits, threshold_score
from hypothesis import given
from hypothesis import strategies as st

from landscape.context import ProbeContext
from landscape.directions import DirectionSpec, bind
from landscape.edges import basin_edges, search_edge
from landscape.perturb import perturbed
from landscape.scores import NLLScore
from theory.errors import UserInputError


def step_down(edge: float):
    return lambda a: 1.0 if a < edge else 0.0


@given(st.floats(-6.0, -0.5))
def test_bisection_brackets_a_known_step_to_five_percent(log10_edge):
    edge = 10.0 ** log10_edge
    res = search_edge(step_down(edge), baseline=1.0, tau=0.0, alpha_start=1e-3, alpha_min=1e-7, alpha_max=1.0)
    assert res.censored is None and not res.non_monotone
    assert res.lo < edge <= res.hi
    assert res.hi / res.lo <= 1.05
    assert abs(res.estimate / edge - 1) <= 0.05


def test_tau_is_a_tolerated_drop_and_losses_rise():
    # S(α) = 1 − α: the first α with S < 1 − τ is τ.
    res = search_edge(lambda a: 1.0 - a, baseline=1.0, tau=0.2, alpha_start=0.01)
    assert res.lo < 0.2 <= res.hi
    # a loss L(α) = α²: exit when L > L(0) + τ, i.e. α > √τ
    res = search_edge(lambda a: a * a, baseline=0.0, tau=0.04, higher_is_better=False, alpha_start=0.01)
    assert res.lo < 0.2 <= res.hi


def test_an_exit_below_the_edge_flags_non_monotone():
    edge = 0.01
    dip = (edge / 20, edge / 10)                         # holds lo/15.8, one of the five checks
    f = lambda a: 0.0 if (a >= edge or dip[0] <= a <= dip[1]) else 1.0  # noqa: E731
    res = search_edge(f, baseline=1.0, alpha_start=0.05)
    assert res.non_monotone and dip[0] <= res.first_exit_below <= dip[1]
    clean = search_edge(step_down(edge), baseline=1.0, alpha_start=0.05)
    assert not clean.non_monotone and clean.n_evals < res.n_evals + 5


def test_censoring_on_both_sides():
    never = search_edge(lambda a: 1.0, baseline=1.0, alpha_max=0.5)
    assert never.censored == "above" and never.lo == 0.5 and math.isinf(never.hi) and math.isinf(never.estimate)
    always = search_edge(lambda a: 0.0, baseline=1.0, alpha_min=1e-6)
    assert always.censored == "below" and always.lo == 0.0 and always.hi == 1e-6
    with pytest.raises(UserInputError):
        search_edge(lambda a: 1.0, baseline=1.0, alpha_start=2.0, alpha_max=1.0)


def _projection(model, spec) -> float:
    """vᵀδ recomputed from the materialised direction (float64)."""
    b = bind(spec, model)
    return float(model.v @ b.delta("theta", model.theta))


def test_half_space_edges_match_closed_form_and_restore_bits():
    d, margin = 50, 0.3
    v = torch.zeros(d, dtype=torch.float64)
    v[0] = 1.0
    model = HalfSpace(torch.zeros(d), v)
    score = threshold_score([-margin])                   # S = 1{θ₀ + αδ has v·θ > −margin}
    bits = param_bits(model)
    res = basin_edges(model, score, k=6, alpha_start=1e-2, alpha_max=10.0, ctx=ProbeContext(seed=3))
    assert same_bits(model, bits)
    assert len(res.directions) == 6 and res.median.n == 6
    for spec, de in zip([DirectionSpec("gaussian", seed=3 + i) for i in range(6)], res.directions):
        assert de.direction == spec.to_key()
        vd = _projection(model, spec)
        plus_true = margin / -vd if vd < 0 else math.inf
        minus_true = margin / vd if vd > 0 else math.inf
        for search, true in ((de.plus, plus_true), (de.minus, minus_true)):
            if math.isinf(true) or true > 10.0:
                assert search.censored == "above"
            else:
                assert search.lo < true <= search.hi and search.hi / search.lo <= 1.05
    # median over K = 6 of min(+, −); order statistics: [min, max] covers with 1 − 2^(1−K) ≥ 0.95
    edges = sorted(de.edge for de in res.directions)
    assert res.median.ci == (edges[0], edges[-1])
    assert res.median.coverage == pytest.approx(1 - 2.0 ** (1 - 6))
    assert res.median.method == "order-statistics"


def test_ball_edges_match_the_quadratic_root():
    d, radius = 20, 1.0
    theta0 = torch.full((d,), 0.05, dtype=torch.float64)
    model = Ball(theta0)
    score = threshold_score([radius ** 2], name="ball")
    bits = param_bits(model)
    res = basin_edges(model, score, k=2, alpha_start=1e-3, alpha_max=10.0, ctx=ProbeContext(seed=11))
    assert same_bits(model, bits)
    for i, de in enumerate(res.directions):
        delta = bind(DirectionSpec("gaussian", seed=11 + i), model).delta("theta", model.theta)
        a, b, c = float(delta @ delta), float(2 * theta0 @ delta), float(theta0 @ theta0) - radius ** 2
        for search, sign in ((de.plus, 1.0), (de.minus, -1.0)):
            true = (-sign * b + math.sqrt(b * b - 4 * a * c)) / (2 * a)   # positive root of ‖θ₀ ± αδ‖ = R
            assert search.lo < true <= search.hi and search.hi / search.lo <= 1.05
            assert not search.non_monotone


def test_a_loss_edge_is_where_the_nll_rises_by_tau():
    torch.manual_seed(0)
    model = torch.nn.Embedding(6, 6)                    # a bigram LM: logits = table[token]
    tokens = torch.randint(0, 6, (4, 9))
    score = NLLScore(tokens)
    base = score(model).value
    tau = 0.05
    res = basin_edges(model, score, k=1, tau=tau, alpha_start=1e-2, alpha_max=10.0, ctx=ProbeContext(seed=2))
    spec = DirectionSpec("gaussian", seed=2)
    for search, sign in ((res.directions[0].plus, 1.0), (res.directions[0].minus, -1.0)):
        with perturbed(model, spec, sign * search.hi):
            assert score(model).value > base + tau
        with perturbed(model, spec, sign * search.lo):
            assert score(model).value <= base + tau


def _mixed_half_space(n: int = 60, d: int = 30):
    """A half-space score with n thresholds: those below 0 are correct at θ₀ = 0, the rest wrong; the score
    moves along any direction as examples flip one by one."""
    v = torch.zeros(d, dtype=torch.float64)
    v[0] = 1.0
    thresholds = torch.linspace(-1.5, 1.0, n, dtype=torch.float64)
    return HalfSpace(torch.zeros(d), v), threshold_score(thresholds.tolist())


def test_early_stopped_edges_decide_exactly_as_whole_set_scoring():
    model, score = _mixed_half_space()
    bits = param_bits(model)
    opts = dict(k=4, tau=0.1, alpha_start=0.05, alpha_max=20.0, n_checks=3, ctx=ProbeContext(seed=5))
    full = basin_edges(model, score, **opts)
    early = basin_edges(model, score, stop_early=True, hold=True, chunk=4, **opts)
    assert same_bits(model, bits)
    assert early.chunks and sorted(i for c in early.chunks for i in c) == list(range(60))
    threshold = full.baseline - 0.1
    compared = 0
    for f, e in zip(full.directions, early.directions):
        for fs, es, sign in ((f.plus, e.plus, 1.0), (f.minus, e.minus, -1.0)):
            assert (fs.lo, fs.hi, fs.censored, fs.non_monotone, fs.first_exit_below) == \
                   (es.lo, es.hi, es.censored, es.non_monotone, es.first_exit_below)
            assert [a for a, _ in fs.evaluations] == [a for a, _ in es.evaluations]
            assert len(es.examples_scored) == len(es.evaluations)
            for (a, exact), (_, bound), m in zip(fs.evaluations, es.evaluations, es.examples_scored):
                with perturbed(model, DirectionSpec("gaussian", seed=e.direction["seed"]), sign * a):
                    assert score(model).value == exact
                assert 1 <= m <= 60
                if exact < threshold:       # an exit: the recorded value is an upper bound below t
                    assert exact <= bound < threshold
                else:                        # no exit: a lower bound at or above t
                    assert threshold <= bound <= exact
                compared += 1
    assert compared >= 8 * 6
    # no evaluation can decide before t·N = 30 of the 60 examples are scored (a no-exit needs C ≥ t·N correct,
    # an exit C + u < t·N, i.e. at least N − t·N scored), so the share lies in [0.5, 1), and early stopping
    # must save something on this mixed set
    assert 0.5 * full.examples_scored <= early.examples_scored < full.examples_scored
    assert same_bits(model, bits)


def test_early_stopped_edges_resume_from_their_chunk_rows(tmp_path):
    from landscape.store import ResultStore

    model, score = _mixed_half_space()
    store = ResultStore(tmp_path / "rows.jsonl")
    opts = dict(k=2, tau=0.1, alpha_start=0.05, alpha_max=20.0, n_checks=2, stop_early=True, hold=True, chunk=4)
    first = basin_edges(model, score, ProbeContext(store=store, seed=9, model_id="m"), **opts)
    written = sum(1 for _ in open(tmp_path / "rows.jsonl"))
    again = basin_edges(model, score, ProbeContext(store=ResultStore(tmp_path / "rows.jsonl"), seed=9,
                                                   model_id="m"), **opts)
    assert again.directions == first.directions
    assert sum(1 for _ in open(tmp_path / "rows.jsonl")) == written   # the rerun evaluated nothing
    chunk_rows = sum(math.ceil(m / 4) for d in first.directions for s in (d.plus, d.minus)
                     for m in s.examples_scored)
    assert written >= chunk_rows + 1   # one row per scored chunk, plus the clean baseline


def test_early_stop_falls_back_to_whole_set_scoring_for_losses():
    torch.manual_seed(0)
    model = torch.nn.Embedding(6, 6)
    score = NLLScore(torch.randint(0, 6, (4, 9)))
    res = basin_edges(model, score, k=1, tau=0.05, alpha_start=1e-2, alpha_max=10.0, stop_early=True,
                      ctx=ProbeContext(seed=2))
    assert res.chunks == () and res.directions[0].plus.examples_scored == ()
