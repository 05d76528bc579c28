"""Parameter-space certificates (randomized smoothing, Thms 4.2/4.3) from a measured p_A.

p_A = E_ε S(θ₀ + ε), ε ~ N(0, σ² I) isotropic over all parameters (σ per coordinate), estimated with a
one-sided Clopper–Pearson lower bound p_lower (confidence and n recorded; "pairs" mode makes every trial
a Bernoulli(p_A)). Certified radius for a floor q (default: the score's chance rate), in ‖Δθ‖₂:
σ(Φ⁻¹(p_lower) − Φ⁻¹(q)). Guaranteed smoothed score at distance r: Φ(Φ⁻¹(p_lower) − r/σ) (strong) and
p_lower − r/(√(2π)σ) (weak). For a concrete displacement (a fine-tuned checkpoint) the measured smoothed
score there is compared with the guarantee. Non-isotropic noise (layer/filter-normalised, parameter
subsets, multiplicative) is refused: the theorems need N(0, σ² I) over all of θ.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from landscape.context import ProbeContext
from landscape.evaluate import ProbeEvaluator
from landscape.hashing import canonical_name
from landscape.kinds import kind as direction_kind
from landscape.scores import Score
from landscape.smoothing import (
    TrialDesign,
    draw_noise,
    draw_noise_many,
    noise_spec,
    paired_lower_estimate,
    smoothed_estimate,
)
from theory.bounds import certified_lower_bound, certified_radius, lipschitz_lower_bound
from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.verdict import Region, verdict


def require_isotropic(kind: str, param_filter=None) -> None:
    """UserInputError unless the noise is of an isotropic kind (the registry's raw Gaussian) over all
    parameters."""
    if not direction_kind(kind).isotropic or not noise_spec(kind, 0, param_filter).is_isotropic:
        raise UserInputError(f"certificates need isotropic Gaussian noise over all parameters; got kind={kind!r}"
                             f"{'' if param_filter is None else ' with a parameter filter'}")


@dataclass(frozen=True)
class Certificate:
    """p_a: one-sided lower CP Estimate (ci = (p_lower, 1)); radius in ‖Δθ‖₂ (0 when p_lower < q)."""

    score: str
    sigma: float
    q: float
    p_a: Estimate
    radius: float
    certified: bool
    mode: str
    rng: str
    noise_seeds: tuple[int, ...]
    n_evals: int
    wall_time_s: float
    examples_per_trial: int = 1
    design: TrialDesign | None = None  # mode "pairs": how each draw's examples were picked

    @property
    def p_lower(self) -> float:
        return self.p_a.lo

    def guaranteed_score(self, distance):
        """Thm 4.3: smoothed score ≥ Φ(Φ⁻¹(p_lower) − r/σ) at any θ with ‖θ − θ₀‖₂ = r."""
        return certified_lower_bound(self.p_lower, distance, self.sigma)

    def guaranteed_score_weak(self, distance):
        """Thm 4.2: smoothed score ≥ p_lower − r/(√(2π)σ)."""
        return lipschitz_lower_bound(self.p_lower, distance, self.sigma)


def certify(model: torch.nn.Module, score: Score, sigma: float, ctx: ProbeContext | None = None, *,
            n: int = 200, q: float | None = None, confidence: float = 0.99, mode: str = "pairs",
            bound: str = "auto", kind: str = "gaussian", param_filter=None, paired: bool = True,
            b: int = 1) -> Certificate:
    """Estimate p_A at σ (per coordinate) from n draws (noise seeds from ctx.seed) and certify a radius in
    ‖Δθ‖₂ for the floor q. paired (default): p_lower = S(θ₀) − the one-sided betting upper bound of the paired
    drop (landscape.smoothing.paired_lower_estimate); else the raw outcomes' one-sided bound (`bound`).
    b: examples per draw in "pairs" mode (their mean is one trial)."""
    return certify_many([(model, score, sigma, ctx, b)], n=n, q=q, confidence=confidence, mode=mode, bound=bound,
                        kind=kind, param_filter=param_filter, paired=paired)[0]


def certify_many(items: Sequence[tuple[torch.nn.Module, Score, float, ProbeContext | None, int]], *, n: int = 200,
                 q: float | None = None, confidence: float = 0.99, mode: str = "pairs", bound: str = "auto",
                 kind: str = "gaussian", param_filter=None, paired: bool = True) -> list[Certificate]:
    """`certify` for several (model, score, σ, context, b) on one noise plan (landscape.smoothing.
    draw_noise_many: each draw's noise is made once for all of them, e.g. the capabilities of one model);
    each certificate is the one `certify` gives it alone. q: the floor (default each score's chance)."""
    require_isotropic(kind, param_filter)
    start = time.perf_counter()
    evs, floors = [], []
    for model, score, _, ctx, _ in items:
        floor = float(score.chance if q is None else q)
        if not 0 <= floor <= 1 or math.isnan(floor):
            raise UserInputError(f"q must lie in [0, 1] (default: the score's chance rate), got {floor}")
        ev = ProbeEvaluator(model, score, ProbeContext() if ctx is None else ctx)
        ev.announce("certificate p_A", n, 1)
        evs.append(ev)
        floors.append(floor)
    all_draws = draw_noise_many([(ev, sigma, b) for ev, (_, _, sigma, _, b) in zip(evs, items)], n, mode=mode,
                                kind=kind, param_filter=param_filter)
    out = []
    for ev, floor, draws, (_, score, sigma, _, b) in zip(evs, floors, all_draws, items):
        if paired:
            pool = ev.example_ids if ev.example_ids is not None else range(score.n_examples)
            p_a = paired_lower_estimate(ev.baseline(), draws, pool, confidence)
        else:
            p_a = smoothed_estimate(draws.values, confidence, sided="lower", bound=bound, rounding_seed=ev.ctx.seed)
        certified = p_a.lo >= floor
        radius = float(certified_radius(p_a.lo, floor, sigma)) if certified else 0.0
        out.append(Certificate(score=score.name, sigma=float(sigma), q=floor, p_a=p_a, radius=radius,
                               certified=certified, mode=mode, rng=ev.ctx.rng, noise_seeds=draws.noise_seeds,
                               n_evals=ev.n_evals, wall_time_s=time.perf_counter() - start,
                               examples_per_trial=b if mode == "pairs" else 0, design=draws.design))
    return out


@dataclass(frozen=True)
class GuaranteedCurve:
    """Guaranteed smoothed score vs ‖Δθ‖₂: strong (Thm 4.3) and weak (Thm 4.2) bounds from p_lower."""

    distances: tuple[float, ...]
    strong: tuple[float, ...]
    weak: tuple[float, ...]
    p_lower: float
    sigma: float


def guaranteed_score_curve(certificate: Certificate, distances: Sequence[float]) -> GuaranteedCurve:
    r = np.asarray(distances, dtype=np.float64)
    strong = np.atleast_1d(certificate.guaranteed_score(r))
    weak = np.atleast_1d(certificate.guaranteed_score_weak(r))
    return GuaranteedCurve(distances=tuple(r.tolist()), strong=tuple(strong.tolist()), weak=tuple(weak.tolist()),
                           p_lower=certificate.p_lower, sigma=certificate.sigma)


def parameter_distance(model: torch.nn.Module,
                       other: torch.nn.Module | Mapping[str, torch.Tensor]) -> float:
    """‖θ_other − θ_model‖₂ over all parameters (float64 per tensor; names matched canonically)."""
    theirs = dict(other.named_parameters()) if isinstance(other, torch.nn.Module) else dict(other)
    theirs = {canonical_name(k): v for k, v in theirs.items()}
    total = 0.0
    for name, p in model.named_parameters():
        key = canonical_name(name)
        if key not in theirs or tuple(theirs[key].shape) != tuple(p.shape):
            raise UserInputError(f"parameter {key!r} missing or of a different shape in the other model")
        diff = theirs[key].detach().to(p.device, torch.float64) - p.detach().to(torch.float64)
        total += float(torch.sum(diff * diff))
    return math.sqrt(total)


@dataclass(frozen=True)
class DisplacementCheck:
    """At θ_ft: ‖Δθ‖₂, the guaranteed smoothed score (strong/weak, from the certificate's p_lower) and the
    measured smoothed score (two-sided interval); verdict of "measured ≥ guaranteed" (a theorem: "fails"
    would mean a bug or a coverage miss)."""

    displacement_norm: float
    guaranteed: float
    guaranteed_weak: float
    measured: Estimate
    verdict: str
    certificate: Certificate
    noise_seeds: tuple[int, ...]
    wall_time_s: float


def check_displacement(model: torch.nn.Module, finetuned: torch.nn.Module, score: Score,
                       certificate: Certificate, ctx: ProbeContext | None = None, *, n: int | None = None,
                       confidence: float = 0.99, mode: str | None = None) -> DisplacementCheck:
    """Compare the guarantee at ‖θ_ft − θ₀‖ with the smoothed score measured at θ_ft (same σ and noise
    backend as the certificate). `ctx` is the fine-tuned model's context; its seed should differ from the
    certificate's (default context: model id "finetuned", seed 1), so the check uses fresh noise."""
    start = time.perf_counter()
    ctx = ProbeContext(model_id="finetuned", seed=1) if ctx is None else ctx
    ctx = ctx.replace(rng=certificate.rng)
    seed = ctx.seed
    distance = parameter_distance(model, finetuned)
    ev = ProbeEvaluator(finetuned, score, ctx)
    n_draws = certificate.p_a.n if n is None else n
    ev.announce("smoothed score at the displaced weights", n_draws, 1)
    draws = draw_noise(ev, certificate.sigma, n_draws, mode=mode or certificate.mode)
    measured = smoothed_estimate(draws.values, confidence, sided="two", rounding_seed=seed)
    guaranteed = float(certificate.guaranteed_score(distance))
    return DisplacementCheck(displacement_norm=distance, guaranteed=guaranteed,
                             guaranteed_weak=float(certificate.guaranteed_score_weak(distance)),
                             measured=measured, verdict=verdict(measured.ci, Region(lo=guaranteed)),
                             certificate=certificate, noise_seeds=draws.noise_seeds,
                             wall_time_s=time.perf_counter() - start)
