"""Thms 4.2–4.5 ASSERTED on toy models (hypothesis draws σ, displacement t and seed; architecture fixed).

A violation is UCB(p(θ₀+Δ)) < bound(LCB(p_A)) with one-sided Clopper–Pearson bounds; each test's chance
of a false violation is ≤ TEST_FAIL_PROB = 1e-6 (Bonferroni over its checks and their two intervals).
Displacements are rescaled to t·r_cert(q), t ∈ {¼, ½, 1}, q = the score's chance rate.
"""

from __future__ import annotations

import math
from functools import lru_cache

import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy.special import ndtr, ndtri

from landscape import theorem_checks as T
from theory import counterexample
from theory.bounds import certified_lower_bound
from toymodels.mlp import MLP, MLPConfig
from toymodels.tasks.classification import teacher_student
from toymodels.train import TrainConfig, classification_loss, train, trained_mlp
from toymodels.transformer import TinyTransformer, TransformerConfig

TEST_FAIL_PROB = 1e-6
N_DRAWS = 150
N_EVAL = 128
SIGMAS = st.floats(0.04, 0.2)
TS = st.sampled_from([0.25, 0.5, 1.0])
SEEDS = st.integers(0, 10_000)
HSET = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow],
            phases=[Phase.explicit, Phase.generate])  # no shrinking: each example costs seconds


@lru_cache(maxsize=1)
def _setup():
    """θ₀: the session-cached MLP (width 64, trained ≤ 30 s); θ_sft: 60 AdamW steps on a related task."""
    model = trained_mlp(64)
    task = teacher_student(seed=0)
    related = teacher_student(seed=1)
    tuned = trained_mlp(64)
    train(tuned, classification_loss(related), len(related.y_train), TrainConfig(steps=60, lr=1e-3, seed=3))
    return model, task, task.accuracy(N_EVAL), tuned


def _check(family: str, sigma: float, t: float, seed: int, max_examples: int) -> T.BoundCheck | None:
    model, task, score, tuned = _setup()
    gamma = T.per_interval_fail_prob(TEST_FAIL_PROB, max_examples)
    cert = T.certify_for_check(model, score, sigma, n=N_DRAWS, seed=seed, q=score.chance, fail_prob=gamma)
    if not cert.certified:
        return None
    soft = T.classification_soft_score(task.x_test[:N_EVAL], task.y_test[:N_EVAL])
    make = {"random": lambda r: T.random_displacement(model, r, seed),
            "sft": lambda r: T.sft_displacement(model, tuned, r),
            "adversarial": lambda r: T.adversarial_displacement(model, soft, sigma, r, steps=10, seed=seed)}[family]
    check = T.check_displacement_bound(model, score, cert, family, t, make, n=N_DRAWS, seed=seed + 1,
                                       fail_prob=gamma)
    assert math.isclose(check.distance, t * cert.radius, rel_tol=1e-3)
    assert not check.violated_strong, f"Thm 4.3 violated: {check}"
    assert not check.violated_weak, f"Thm 4.2 violated: {check}"
    return check


def _family_test(family: str, max_examples: int):
    checks: list[T.BoundCheck] = []

    @settings(max_examples=max_examples, **HSET)
    @given(sigma=SIGMAS, t=TS, seed=SEEDS)
    def run(sigma, t, seed):
        check = _check(family, sigma, t, seed, max_examples)
        if check is not None:
            checks.append(check)

    def test():
        run()
        assert checks, "no certified case was drawn: the bounds were never checked"

    return test


test_thm42_43_random = _family_test("random", 2)
test_thm42_43_sft = _family_test("sft", 2)
test_thm42_43_random_many = pytest.mark.slow(_family_test("random", 25))
test_thm42_43_sft_many = pytest.mark.slow(_family_test("sft", 25))


def _adversarial(max_examples: int):
    checks: list[T.BoundCheck] = []

    @settings(max_examples=max_examples, **HSET)
    @given(sigma=SIGMAS, seed=SEEDS)
    def run(sigma, seed):
        check = _check("adversarial", sigma, 1.0, seed, max_examples)
        if check is not None:
            checks.append(check)

    def test():
        run()
        assert checks, "no certified case was drawn"
        weak = [c for c in checks if not c.attack_strength >= T.ATTACK_STRENGTH_REQUIRED]
        if weak:
            pytest.xfail(f"attack too weak: cut {min(c.attack_strength for c in weak):.2f} < "
                         f"{T.ATTACK_STRENGTH_REQUIRED} of (p_A - bound) at r_cert in {len(weak)}/{len(checks)} "
                         "cases; the bound held but was not stressed")

    return test


test_thm42_43_adversarial = _adversarial(1)
test_thm42_43_adversarial_many = pytest.mark.slow(_adversarial(25))


# ------------------------------------------------------------------------------------------- a test that can fail

def test_ten_percent_too_strong_bound_is_rejected_on_a_half_space():
    """Certifying with σ while the noise is 0.9σ (a bound 10 % too strong in r/σ) must be caught; the
    correct bound (σ_true) must not be. S = 1{vᵀθ ≥ b} on a linear layer makes Thm 4.3 an equality
    (Δ = −r·v), so only the Clopper–Pearson slack separates the two. Each noise draw scores θ₀ + ε and
    θ₀ + Δ + ε at once (`HalfSpacePair`); the two intervals are Bonferroni-combined (dependence allowed)."""
    sigma_true, z, r_over_sigma, n = 0.045, 1.8, 2.9, 8000
    model = torch.nn.Linear(4, 1, bias=False)  # one parameter tensor: the cheapest probe
    v = T.unit_vector(model, 11)
    r = r_over_sigma * sigma_true
    p_a, displaced = T.half_space_pair(model, v, T.projection(v, model) - z * sigma_true, r, sigma_true, n=n,
                                       seed=11, fail_prob=T.per_interval_fail_prob(TEST_FAIL_PROB, 1))
    assert p_a.lo <= float(ndtr(z)) and float(ndtr(z - r_over_sigma)) <= displaced.hi
    too_strong = float(certified_lower_bound(p_a.lo, r, sigma_true / 0.9))
    correct = float(certified_lower_bound(p_a.lo, r, sigma_true))
    assert displaced.hi < too_strong, (displaced, too_strong)
    assert displaced.hi >= correct, (displaced, correct)


# ------------------------------------------------------------------------------------------- Thm 4.4

@settings(max_examples=3, **HSET)
@given(sigma=st.floats(0.01, 0.5), s=st.floats(0.01, 0.5), margin=st.floats(-2.0, 2.0),
       fail=st.sampled_from([0.05, 0.1, 0.2]), seed=SEEDS)
def test_thm44_concentration_for_a_lipschitz_surrogate(sigma, s, margin, fail, seed):
    """S = Φ((vᵀθ − b)/s) is L = 1/(√(2π)s)-Lipschitz; the share of single draws below
    p_A − Lσ√(2 log 1/δ) must not be certainly above δ."""
    model = MLP(MLPConfig(width=16, seed=seed % 7))
    v = T.unit_vector(model, seed)
    score = T.LinearProbitScore(v, T.projection(v, model) - margin * s, s)
    check = T.check_concentration(model, score, sigma, fail, n=200, seed=seed,
                                  confidence=1 - 2 * T.per_interval_fail_prob(TEST_FAIL_PROB, 3, 1))
    assert not check.violated, check


def test_thm44_check_rejects_the_half_lipschitz_mutant_where_the_score_is_nearly_linear():
    """vᵀθ₀ = b, σ = s/10: S(θ₀+ε) ≈ ½ + L·vᵀε, so the share below p_A − c·Lσ√(2 log 1/δ) is ≈ Φ(−c√(2 log 1/δ)):
    0.0072 for the theorem's c = 1 and 0.110 for the mutant's c = ½ at δ = 0.05 (exactly 0.0068 and 0.1099).
    With 1,200 draws and intervals at 1 − 1e-6 the theorem's check passes and the mutant's is certainly above δ."""
    model = MLP(MLPConfig(width=16, seed=0))
    v = T.unit_vector(model, 0)
    score = T.LinearProbitScore(v, T.projection(v, model), 1.0)
    level = 1 - 2 * T.per_interval_fail_prob(TEST_FAIL_PROB, 2, 1)
    right = T.check_concentration(model, score, 0.1, 0.05, n=1200, seed=3, confidence=level)
    mutant = T.check_concentration(model, score, 0.1, 0.05, n=1200, seed=3, confidence=level, lipschitz_factor=0.5)
    assert not right.violated and right.violations.hi < 0.05, right
    assert mutant.violated, mutant
    threshold = 0.5 - 0.5 * 0.1 * math.sqrt(2 * math.log(20)) / math.sqrt(2 * math.pi)  # p_A = Φ(0), s = 1
    exact = float(ndtr(10 * ndtri(threshold)))  # P(Φ(σZ/s) < threshold), s/σ = 10
    assert mutant.violations.lo <= exact <= mutant.violations.hi


def test_linear_probit_smoothed_value_matches_monte_carlo():
    """The surrogate's closed-form p_A (used by the Thm 4.4 check) agrees with sampling."""
    model = MLP(MLPConfig(width=16, seed=0))
    v = T.unit_vector(model, 1)
    score = T.LinearProbitScore(v, T.projection(v, model) - 0.3, 0.2)
    from landscape.context import ProbeContext
    from landscape.evaluate import ProbeEvaluator
    from landscape.smoothing import draw_noise, smoothed_estimate
    draws = draw_noise(ProbeEvaluator(model, score, ProbeContext(seed=0)), 0.3, 400, mode="set")
    est = smoothed_estimate(draws.values, 1 - 1e-6, bound="hoeffding")
    assert est.lo <= score.exact_p_a(model, 0.3) <= est.hi
    assert math.isclose(score.exact_p_a(model, 0.3), float(ndtr(0.3 / math.hypot(0.2, 0.3))), rel_tol=1e-9)


# ------------------------------------------------------------------------------------------- Thm 4.5

TINY = TransformerConfig(d_model=32, n_layers=1, n_heads=2, seed=0)


@settings(max_examples=2, **HSET)
@given(sigma_emb=st.floats(0.3, 1.0), seed=SEEDS, n_sub=st.integers(1, 3), repeat=st.booleans())
def test_thm45_embedding_noise_version_holds_on_the_toy_transformer(sigma_emb, seed, n_sub, repeat):
    model = TinyTransformer(TINY)
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, TINY.vocab_size, (6, 8), generator=g)
    new = tokens.clone()
    for i in range(tokens.shape[0]):
        pos = torch.randperm(8, generator=g)[:n_sub]
        new[i, pos] = tokens[i, 0] if repeat else torch.randint(0, TINY.vocab_size, (n_sub,), generator=g)
    checks = T.embedding_noise_checks(model, tokens, new, lambda toks: T.LastTokenPreferenceScore(toks, 7, 8),
                                      sigma_emb, n=100, seed=seed,
                                      fail_prob=T.per_interval_fail_prob(TEST_FAIL_PROB, 2 * 6))
    assert max(c.bound for c in checks) > 0.02, "every bound is ~0: nothing was tested"
    for c in checks:
        assert not c.violated, c


def test_thm45_repeated_token_counterexample_on_the_toy_transformer():
    """x = (a, b) → (a, a): the heuristic (parameter-noise) bound is violated, the embedding-noise one holds;
    values agree with the closed forms of theory.counterexample."""
    res = T.repeated_token_counterexample(TinyTransformer(TINY), a=20, b=21, n=250, seed=0,
                                          fail_prob=T.per_interval_fail_prob(TEST_FAIL_PROB, 1, 3))
    ex = counterexample.EXACT
    assert res.p_a_parameter.lo <= ex["p_a"]
    assert res.x_prime_parameter.estimate == ex["x_prime_parameter_noise"] == 0.0
    assert res.x_prime_parameter.lo <= ex["x_prime_parameter_noise"] <= res.x_prime_parameter.hi
    assert res.heuristic.violated, res.heuristic
    assert res.heuristic.caveats, "the repeated token must be flagged"
    assert not res.rigorous.violated, res.rigorous
    assert res.rigorous.measured_upper >= ex["x_prime_embedding_noise"]
    assert math.isclose(res.rigorous.distance, 1.0, rel_tol=1e-6)
    assert math.isclose(float(ndtri(ex["p_a"])), 1 / (2 * math.sqrt(2)), rel_tol=1e-9)
