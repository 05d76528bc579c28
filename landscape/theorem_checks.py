"""Checking Thms 4.2–4.5 on any model (the toy claims and the figures use it): displacement families, the
smoothed-score attack, surrogates with a provable Lipschitz constant, and the token-substitution checks.

Displacements Δ are dicts {parameter name: tensor} with ‖Δ‖₂ = radius exactly (float64 norm), built from
a direction δ and rescaled: Δ = radius·δ/‖δ‖. Families:
  random       δ ~ N(0, I) over all parameters (landscape direction "gaussian", seeded)
  sft          δ = θ_sft − θ₀ (a fine-tuned copy of the model)
  adversarial  δ attacks the smoothed score itself: projected gradient ascent on the sphere ‖Δ‖ = radius
               (landscape.worst_case.worst_case_pga) of −E_ε s(θ₀ + Δ + ε), s a differentiable surrogate
               of S, the expectation replaced by the mean over `draws` ≥ 16 fresh seeded noise draws per step
               (reparameterised gradient: ∇_Δ E s(θ₀+Δ+ε) = E ∇s(θ₀+Δ+ε)).
A check (`check_displacement_bound`) certifies p_A at σ (one-sided Clopper–Pearson lower bound, failure
probability γ), puts the model at θ₀ + Δ with ‖Δ‖ = t·r_cert(q), measures the smoothed score there
(one-sided upper bound, failure probability γ) and compares it with the Thm 4.3 (strong) and Thm 4.2
(weak) bounds computed from the lower bound: a violation is UCB < bound. Per check the probability of a
false violation is ≤ 2γ. σ is per coordinate; radii and distances are ‖Δθ‖₂.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import ndtr
from torch.func import functional_call

from landscape.certificates import Certificate, certify, check_displacement
from landscape.context import ProbeContext
from landscape.directions import DirectionSpec, bind
from landscape.evaluate import ProbeEvaluator, derive_seed
from landscape.hashing import canonical_name
from landscape.input_robustness import (
    heuristic_substitution_bound,
    input_embedding_certificates,
    rigorous_substitution_bound,
)
from landscape.scores import Score, ScoreResult, eval_mode, resolve_example_ids
from landscape.smoothing import draw_noise, noise_spec, smoothed_estimate
from landscape.worst_case import worst_case_pga
from theory.bounds import lipschitz_concentration_bound
from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.stats import clopper_pearson, proportion_estimate

FAMILIES = ("random", "sft", "adversarial")
MIN_ATTACK_DRAWS = 16
ATTACK_STRENGTH_REQUIRED = 0.5

Displacement = dict[str, torch.Tensor]
SoftScore = Callable[[torch.nn.Module, dict[str, torch.Tensor]], torch.Tensor]


def per_interval_fail_prob(test_fail_prob: float, n_checks: int, intervals_per_check: int = 2) -> float:
    """Bonferroni: the failure probability of each interval so that a test of n_checks checks, each with
    `intervals_per_check` intervals, wrongly reports a violation with probability ≤ test_fail_prob."""
    if not 0 < test_fail_prob < 1 or n_checks < 1 or intervals_per_check < 1:
        raise UserInputError("need 0 < test_fail_prob < 1, n_checks >= 1, intervals_per_check >= 1")
    return test_fail_prob / (n_checks * intervals_per_check)


# ----------------------------------------------------------------------------------------- displacements


def _norm(tensors: Displacement) -> float:
    return math.sqrt(sum(float(t.double().square().sum()) for t in tensors.values()))


def rescaled(model: torch.nn.Module, direction: DirectionSpec, radius: float) -> Displacement:
    """Δ = radius·δ/‖δ‖ for a landscape direction δ bound to `model` (which must hold θ₀)."""
    if not radius >= 0:
        raise UserInputError(f"radius must be >= 0, got {radius}")
    bound = bind(direction, model)
    delta = {n: bound.delta(n, p).double() for n, p in bound.params}
    size = _norm(delta)
    if size == 0.0:
        raise UserInputError("the direction is zero; cannot rescale it")
    return {n: t * (radius / size) for n, t in delta.items()}


def random_displacement(model: torch.nn.Module, radius: float, seed: int) -> Displacement:
    return rescaled(model, DirectionSpec("gaussian", seed=seed), radius)


def sft_displacement(model: torch.nn.Module, finetuned: torch.nn.Module, radius: float) -> Displacement:
    """Δ along θ_sft − θ₀ (names matched canonically by the landscape "sft" direction)."""
    return rescaled(model, DirectionSpec.sft({n: p.detach() for n, p in finetuned.named_parameters()}), radius)


def classification_soft_score(x: torch.Tensor, y: torch.Tensor, temperature: float = 0.5) -> SoftScore:
    """s(θ) = mean_i sigmoid(margin_i/temperature), margin_i = logit_{y_i} − max_{c≠y_i} logit_c: a smooth
    stand-in for accuracy (→ accuracy as temperature → 0)."""
    if not temperature > 0:
        raise UserInputError(f"temperature must be > 0, got {temperature}")

    def soft(model: torch.nn.Module, params: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = functional_call(model, params, (x,))
        right = logits.gather(1, y[:, None])[:, 0]
        other = logits.scatter(1, y[:, None], float("-inf")).amax(dim=1)
        return torch.sigmoid((right - other) / temperature).mean()

    return soft


def smoothed_surrogate(soft: SoftScore, sigma: float, draws: int, seed: int) -> Callable[[torch.nn.Module], torch.Tensor]:
    """Callable model -> −mean_j soft(θ + σ ε_j), j < draws, fresh seeded ε_j on every call (a loss to
    maximise: larger = lower smoothed surrogate score). Gradients reach θ through θ + σ ε_j."""
    if draws < MIN_ATTACK_DRAWS:
        raise UserInputError(f"the smoothed-score attack needs >= {MIN_ATTACK_DRAWS} noise draws, got {draws}")
    calls = [0]

    def loss(model: torch.nn.Module) -> torch.Tensor:
        params = dict(model.named_parameters())
        total = 0.0
        for j in range(draws):
            gen = torch.Generator().manual_seed(derive_seed(seed, "attack", calls[0], j) % (1 << 63))
            noisy = {n: p + sigma * torch.randn(p.shape, generator=gen, dtype=torch.float32).to(p.dtype)
                     for n, p in params.items()}
            total = total + soft(model, noisy)
        calls[0] += 1
        return -total / draws

    return loss


def adversarial_displacement(model: torch.nn.Module, soft: SoftScore, sigma: float, radius: float, *,
                             draws: int = MIN_ATTACK_DRAWS, steps: int = 20, step_size: float = 0.5,
                             seed: int = 0) -> Displacement:
    """Δ with ‖Δ‖ = radius maximising the drop of the noise-averaged surrogate (PGA on the sphere)."""
    if not radius > 0:
        raise UserInputError(f"radius must be > 0, got {radius}")
    d = sum(p.numel() for p in model.parameters())
    result = worst_case_pga(model, smoothed_surrogate(soft, sigma, draws, seed), radius / math.sqrt(d),
                            steps=steps, step_size=step_size, seed=seed)
    return rescaled(model, result.direction, radius)


@torch.no_grad()
def displaced_copy(model: torch.nn.Module, delta: Displacement) -> torch.nn.Module:
    """A deep copy of `model` holding θ₀ + Δ (computed in float64, cast once to each parameter's dtype)."""
    out = copy.deepcopy(model)
    params = {canonical_name(n): p for n, p in out.named_parameters()}
    missing = set(delta) - set(params)
    if missing:
        raise UserInputError(f"displacement names not in the model: {sorted(missing)[:5]}")
    for name, step in delta.items():
        p = params[name]
        p.copy_((p.double() + step.to(p.device)).to(p.dtype))
    return out


# ----------------------------------------------------------------------------------------- Thms 4.2 / 4.3


@dataclass(frozen=True)
class BoundCheck:
    """One displacement check. p_a: one-sided lower CP Estimate at θ₀; displaced: two-sided Estimate at
    θ₀ + Δ whose upper end is a one-sided bound with failure probability fail_prob_per_interval.
    distance = ‖Δ‖ actually applied (after casting); bounds from p_a.lo at that distance."""

    family: str
    t: float
    sigma: float
    q: float
    r_cert: float
    distance: float
    p_a: Estimate
    displaced: Estimate
    bound_strong: float
    bound_weak: float
    fail_prob_per_interval: float

    @property
    def violated_strong(self) -> bool:
        return self.displaced.hi < self.bound_strong

    @property
    def violated_weak(self) -> bool:
        return self.displaced.hi < self.bound_weak

    @property
    def attack_strength(self) -> float:
        """(p̂_A − p̂(θ₀+Δ)) / (p̂_A − strong bound): 1 means the displacement reaches the bound."""
        gap = self.p_a.estimate - self.bound_strong
        return (self.p_a.estimate - self.displaced.estimate) / gap if gap > 0 else math.nan


def certify_for_check(model: torch.nn.Module, score: Score, sigma: float, *, n: int, seed: int, q: float,
                      fail_prob: float) -> Certificate:
    """certify() in "pairs" mode (each trial a Bernoulli(p_A)) with a one-sided bound failing w.p. fail_prob."""
    return certify(model, score, sigma, ProbeContext(seed=seed), n=n, q=q, confidence=1.0 - fail_prob,
                   mode="pairs")


def check_displacement_bound(model: torch.nn.Module, score: Score, certificate: Certificate, family: str,
                             t: float, displacement: Callable[[float], Displacement], *, n: int, seed: int,
                             fail_prob: float) -> BoundCheck:
    """Move θ₀ by displacement(t·r_cert) and compare the measured smoothed score with both bounds."""
    if family not in FAMILIES:
        raise UserInputError(f"family must be one of {FAMILIES}, got {family!r}")
    if not certificate.certified or not math.isfinite(certificate.radius):
        raise UserInputError("the certificate certifies no finite radius; nothing to test")
    moved = displaced_copy(model, displacement(t * certificate.radius))
    check = check_displacement(model, moved, score, certificate, ProbeContext(model_id="finetuned", seed=seed),
                               n=n, confidence=1.0 - 2.0 * fail_prob, mode="pairs")
    return BoundCheck(family=family, t=float(t), sigma=certificate.sigma, q=certificate.q,
                      r_cert=certificate.radius, distance=check.displacement_norm, p_a=certificate.p_a,
                      displaced=check.measured, bound_strong=check.guaranteed, bound_weak=check.guaranteed_weak,
                      fail_prob_per_interval=fail_prob)


# ----------------------------------------------------------------------------------------- Thm 4.4


def projection(v: dict[str, torch.Tensor], model: torch.nn.Module) -> float:
    """vᵀθ over all parameters (float64; v keyed by canonical names)."""
    return float(sum(float((v[canonical_name(n)] * p.detach().double()).sum()) for n, p in model.named_parameters()))


@dataclass(frozen=True, eq=False)
class LinearProbitScore:
    """S(θ) = Φ((vᵀθ − b)/s) for a fixed unit vector v over all parameters: L = 1/(√(2π) s)-Lipschitz.

    Under ε ~ N(0, σ² I): E S(θ₀ + ε) = Φ((vᵀθ₀ − b)/√(s² + σ²)) exactly (`exact_p_a`). One "example".
    """

    v: dict[str, torch.Tensor]
    b: float
    s: float
    name: str = "linear-probit"
    chance: float = 0.0

    @property
    def n_examples(self) -> int:
        return 1

    @property
    def lipschitz(self) -> float:
        return 1.0 / (math.sqrt(2.0 * math.pi) * self.s)

    def projection(self, model: torch.nn.Module) -> float:
        return projection(self.v, model)

    def exact_p_a(self, model: torch.nn.Module, sigma: float) -> float:
        return float(ndtr((self.projection(model) - self.b) / math.sqrt(self.s ** 2 + sigma ** 2)))

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        value = float(ndtr((self.projection(model) - self.b) / self.s))
        return ScoreResult.from_outcomes([value], example_ids=None if example_ids is None else [0])


def unit_vector(model: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """A seeded unit vector over all parameters (float64), keyed by canonical names."""
    return rescaled(model, DirectionSpec("gaussian", seed=seed), 1.0)


@dataclass(frozen=True)
class ConcentrationCheck:
    """Thm 4.4: share of single draws with S(θ₀+ε) < p_A − c·Lσ√(2 log(1/δ)) (CP interval) vs δ; c =
    lipschitz_factor, 1 for the theorem, < 1 for a mutant with too small a constant."""

    sigma: float
    fail_prob: float
    threshold: float
    p_a: float
    violations: Estimate
    lipschitz_factor: float = 1.0

    @property
    def violated(self) -> bool:
        """The violation share is certainly above δ (its lower end exceeds fail_prob)."""
        return self.violations.lo > self.fail_prob


def check_concentration(model: torch.nn.Module, score: LinearProbitScore, sigma: float, fail_prob: float, *,
                        n: int, seed: int, confidence: float, lipschitz_factor: float = 1.0) -> ConcentrationCheck:
    """n single draws at σ; the threshold uses the exact p_A of the surrogate and lipschitz_factor × its L
    (0.5: the L/2 mutant, which a check able to detect a wrong constant must report as violated).

    The check has power where the surrogate is nearly linear, vᵀθ₀ = b and σ ≪ s: then S(θ₀ + ε) ≈
    Φ(0) + L·vᵀε and the share below the threshold is ≈ Φ(−c·√(2 log(1/δ))), e.g. 0.007 (c = 1) against
    0.11 (c = ½) at δ = 0.05; where Φ saturates (σ ≳ s) the bound is loose by orders of magnitude."""
    if not lipschitz_factor > 0:
        raise UserInputError(f"lipschitz_factor must be > 0, got {lipschitz_factor}")
    p_a = score.exact_p_a(model, sigma)
    threshold = float(lipschitz_concentration_bound(p_a, lipschitz_factor * score.lipschitz, sigma, fail_prob))
    draws = draw_noise(ProbeEvaluator(model, score, ProbeContext(seed=seed)), sigma, n, mode="set")
    below = int(np.count_nonzero(draws.values < threshold))
    return ConcentrationCheck(sigma=float(sigma), fail_prob=float(fail_prob), threshold=threshold, p_a=p_a,
                              violations=proportion_estimate(below, n, confidence, "two", unit="fraction of draws"),
                              lipschitz_factor=float(lipschitz_factor))


# ----------------------------------------------------------------------------------------- Thm 4.5


@dataclass(frozen=True, eq=False)
class LastTokenPreferenceScore:
    """outcome_i = 1{logit_a > logit_b at the last position of sequence i}: a 0–1 score of a causal LM."""

    tokens: torch.Tensor
    a: int
    b: int
    name: str = "last-token-preference"
    chance: float = 0.0

    @property
    def n_examples(self) -> int:
        return int(self.tokens.shape[0])

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        ids = resolve_example_ids(example_ids, self.n_examples)
        with eval_mode(model):
            logits = model(self.tokens[ids])[:, -1].float()
        return ScoreResult.from_outcomes((logits[:, self.a] > logits[:, self.b]).double().numpy(), example_ids)


@dataclass(frozen=True, eq=False)
class EmbeddingDifferenceScore:
    """outcome_i = 1{u·(z_{i,2} − z_{i,1}) > threshold}, z = model.token_embeddings(tokens): the paper's
    smallest Thm 4.5 counter-example S(z) = 1{z₂ − z₁ > ½}, read off the transformer's input embeddings."""

    tokens: torch.Tensor
    u: torch.Tensor
    threshold: float = 0.5
    name: str = "embedding-difference"
    chance: float = 0.0

    @property
    def n_examples(self) -> int:
        return int(self.tokens.shape[0])

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        ids = resolve_example_ids(example_ids, self.n_examples)
        with eval_mode(model):
            z = model.token_embeddings(self.tokens[ids]).double()
        diff = (z[:, 1] - z[:, 0]) @ self.u.double()
        return ScoreResult.from_outcomes((diff > self.threshold).double().numpy(), example_ids)


def upper_bound(estimate: Estimate, fail_prob: float) -> float:
    """One-sided CP upper bound from a 0/1 Estimate's count (estimate·n successes)."""
    k = int(round(estimate.estimate * estimate.n))
    return float(clopper_pearson(k, estimate.n, 1.0 - fail_prob, "upper")[1])


@dataclass(frozen=True)
class SubstitutionCheck:
    """One example x → x′: the certified bound on x′'s smoothed outcome and x′'s measured upper bound."""

    label: str
    example: int
    distance: float
    bound: float
    p_lower: float
    measured_upper: float
    measured: float
    n: int
    caveats: tuple[str, ...]

    @property
    def violated(self) -> bool:
        return self.measured_upper < self.bound


def embedding_noise_checks(model: torch.nn.Module, tokens: torch.Tensor, new_tokens: torch.Tensor,
                           make_score: Callable[[torch.Tensor], Score], sigma_emb: float, *, n: int, seed: int,
                           fail_prob: float) -> list[SubstitutionCheck]:
    """RIGOROUS Thm 4.5: per example, certify x under input-embedding noise (landscape), bound x′ by
    Φ(Φ⁻¹(p_lower(x)) − ‖E(x) − E(x′)‖/σ_emb), measure x′ under fresh embedding noise."""
    emb = model.tok_emb
    before = input_embedding_certificates(model, make_score(tokens), emb, sigma_emb, ProbeContext(seed=seed),
                                          n=n, q=0.0, confidence=1.0 - fail_prob)
    after = input_embedding_certificates(model, make_score(new_tokens), emb, sigma_emb,
                                         ProbeContext(seed=seed + 1), n=n, q=0.0, confidence=1.0 - fail_prob)
    out = []
    for i in range(tokens.shape[0]):
        b = rigorous_substitution_bound(before, i, emb.weight, tokens[i].tolist(), new_tokens[i].tolist())
        measured = after.for_example(i).p_a
        out.append(SubstitutionCheck(label=b.label, example=i, distance=b.distance, bound=b.bound,
                                     p_lower=b.p_lower, measured_upper=upper_bound(measured, fail_prob),
                                     measured=measured.estimate, n=measured.n, caveats=b.caveats))
    return out


@dataclass(frozen=True)
class RepeatedTokenCounterexample:
    """The repeated-token counter-example on a transformer: x = (a, b) → x′ = (a, a), W_a = 0, W_b = u."""

    heuristic: SubstitutionCheck
    rigorous: SubstitutionCheck
    p_a_parameter: Estimate
    x_prime_parameter: Estimate
    x_prime_embedding: Estimate


def counterexample_model(model: torch.nn.Module, a: int, b: int) -> tuple[torch.nn.Module, torch.Tensor]:
    """A copy of a transformer with embedding rows W_a = 0 and W_b = u = e₀ (unit vector); returns (copy, u)."""
    out = copy.deepcopy(model)
    u = torch.zeros(out.tok_emb.weight.shape[1], dtype=torch.float64)
    u[0] = 1.0
    with torch.no_grad():
        out.tok_emb.weight[a].zero_()
        out.tok_emb.weight[b].copy_(u.to(out.tok_emb.weight.dtype))
    return out, u


def repeated_token_counterexample(model: torch.nn.Module, a: int, b: int, *, n: int, seed: int,
                                  fail_prob: float, sigma: float = 1.0) -> RepeatedTokenCounterexample:
    """Heuristic Thm 4.5 under parameter noise σ (all parameters) vs the rigorous embedding-noise version,
    for S = 1{u·(z₂ − z₁) > ½} on x = (a, b) → x′ = (a, a) (rest of the sequence: token a)."""
    m, u = counterexample_model(model, a, b)
    x = torch.tensor([[a, b]], dtype=torch.long)
    x2 = torch.tensor([[a, a]], dtype=torch.long)
    score_x, score_x2 = EmbeddingDifferenceScore(x, u), EmbeddingDifferenceScore(x2, u)
    cert = certify(m, score_x, sigma, ProbeContext(seed=seed), n=n, q=0.0, confidence=1.0 - fail_prob,
                   mode="pairs")
    heur = heuristic_substitution_bound(cert, m.tok_emb.weight, [a, b], [a, a])
    draws = draw_noise(ProbeEvaluator(m, score_x2, ProbeContext(seed=seed + 1)), sigma, n, mode="pairs")
    x2_param = smoothed_estimate(draws.values, 1.0 - 2.0 * fail_prob, sided="two")
    rig = embedding_noise_checks(m, x, x2, lambda toks: EmbeddingDifferenceScore(toks, u), sigma, n=n,
                                 seed=seed + 2, fail_prob=fail_prob)[0]
    emb_after = Estimate(estimate=rig.measured, ci=(0.0, rig.measured_upper), confidence=1.0 - fail_prob, n=n,
                         unit="smoothed outcome", method="clopper-pearson (upper)")
    heuristic = SubstitutionCheck(label=heur.label, example=0, distance=heur.distance, bound=heur.bound,
                                  p_lower=heur.p_lower, measured_upper=x2_param.hi, measured=x2_param.estimate,
                                  n=x2_param.n, caveats=heur.caveats)
    return RepeatedTokenCounterexample(heuristic=heuristic, rigorous=rig, p_a_parameter=cert.p_a,
                                       x_prime_parameter=x2_param, x_prime_embedding=emb_after)


@dataclass(frozen=True, eq=False)
class HalfSpaceScore:
    """S(θ) = 1{vᵀθ ≥ b} for a unit vector v over all parameters: the case where Thm 4.3 is an equality.
    Under ε ~ N(0, σ² I): E S(θ₀ + ε) = Φ((vᵀθ₀ − b)/σ); after Δ = −r·v it is Φ((vᵀθ₀ − b − r)/σ)."""

    v: dict[str, torch.Tensor]
    b: float
    name: str = "half-space"
    chance: float = 0.0

    @property
    def n_examples(self) -> int:
        return 1

    def projection(self, model: torch.nn.Module) -> float:
        return projection(self.v, model)

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        return ScoreResult.from_outcomes([float(self.projection(model) >= self.b)],
                                         example_ids=None if example_ids is None else [0])


@dataclass(frozen=True, eq=False)
class HalfSpacePairScore:
    """Two outcomes per parameter vector: 1{vᵀθ ≥ b} (θ₀'s half-space) and 1{vᵀθ ≥ b + r}, which equals
    the half-space score at θ − r·v. One noise draw ε thus scores θ₀ + ε and θ₀ − r·v + ε together."""

    v: dict[str, torch.Tensor]
    b: float
    r: float
    name: str = "half-space-pair"
    chance: float = 0.0

    @property
    def n_examples(self) -> int:
        return 2

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        x = projection(self.v, model)
        both = [float(x >= self.b), float(x >= self.b + self.r)]
        ids = [0, 1] if example_ids is None else [int(i) for i in example_ids]
        return ScoreResult.from_outcomes([both[i] for i in ids], example_ids)


def half_space_pair(model: torch.nn.Module, v: dict[str, torch.Tensor], b: float, r: float, sigma: float, *,
                    n: int, seed: int, fail_prob: float) -> tuple[Estimate, Estimate]:
    """(p_A one-sided lower CP, smoothed score at θ₀ − r·v two-sided CP at 1 − 2·fail_prob) from n shared
    noise draws at σ (the same draw seeds as landscape.smoothing.draw_noise)."""
    ev = ProbeEvaluator(model, HalfSpacePairScore(v, b, r))
    outcomes = np.array([ev.at(noise_spec("gaussian", derive_seed(seed, "noise", j)), sigma).outcomes
                         for j in range(n)])
    return (smoothed_estimate(outcomes[:, 0], 1.0 - fail_prob, sided="lower"),
            smoothed_estimate(outcomes[:, 1], 1.0 - 2.0 * fail_prob, sided="two"))
