"""Monte Carlo draws of the smoothed score p_A(σ) = E_ε S(θ₀ + ε), ε ~ N(0, σ² I) (σ per coordinate).

Two sampling modes:
  "set"   — n i.i.d. noise draws, each scored on the whole example set: n values in [0, 1] with mean p_A.
  "pairs" — n i.i.d. (noise, example) pairs, the example drawn uniformly from the set: for a 0–1 oracle
            each trial is a Bernoulli with success probability exactly p_A (Clopper–Pearson applies).
Noise kinds: those of the direction-kind registry (landscape.kinds) marked `noise`: "gaussian" (isotropic,
what the certificates need) and "multiplicative" θ ⊙ (1 + σz) (rescaling-invariant; σ is then relative,
no certificate). Draw j uses the direction seed
derive_seed(seed, "noise", j), so the same seed gives the same noise at every σ (common random numbers).

Intervals for p_A: exact Clopper–Pearson when every value is 0 or 1; otherwise "hoeffding" (for the mean
of n values in [0, 1]) or "randomized-rounding" (each value v replaced by a seeded Bernoulli(v), whose
mean is again p_A, then Clopper–Pearson; the point estimate stays the plain mean). The Estimate's
`method` says which was used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from landscape import kinds
from landscape.directions import DirectionSpec
from landscape.evaluate import ProbeEvaluator, ProbeValue, derive_seed
from landscape.progress import progress
from landscape.scores import is_bounded_score
from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.sequential import betting_interval
from theory.stats import clopper_pearson, hoeffding_interval

MODES = ("set", "pairs")
BOUNDS = ("auto", "clopper-pearson", "hoeffding", "randomized-rounding")


@dataclass(frozen=True)
class NoiseDraws:
    """values[j] = score at θ₀ + σ·δ_j (mode "set") or outcome of example example_ids[j] there ("pairs")."""

    sigma: float
    kind: str
    mode: str
    values: np.ndarray
    noise_seeds: tuple[int, ...]
    example_ids: tuple[int, ...] | None
    effective_norms: np.ndarray

    @property
    def n(self) -> int:
        return int(self.values.size)


def noise_spec(kind: str, seed: int, param_filter=None, rng: str = "cpu") -> DirectionSpec:
    """The direction of one noise draw (rng: "cpu" device-independent, "cuda" on the parameters' GPU)."""
    if kind not in kinds.REGISTRY or not kinds.REGISTRY[kind].noise:
        raise UserInputError(f"noise kind must be one of {kinds.noise_kinds()}, got {kind!r}")
    return DirectionSpec(kind, seed=seed, param_filter=param_filter, rng=rng)


def noise_trials(pool: Sequence[int], n: int, seed: int, *, mode: str = "set", kind: str = "gaussian",
                 param_filter=None, rng: str = "cpu") -> list[tuple[DirectionSpec, list[int] | None]]:
    """The n draws as (noise direction, example ids): ids None in "set" mode (the whole set), else the one
    example drawn for that trial from `pool`. The same list at every σ (common random numbers)."""
    if mode not in MODES:
        raise UserInputError(f"mode must be one of {MODES}, got {mode!r}")
    if n < 1:
        raise UserInputError(f"n must be >= 1, got {n}")
    specs = [noise_spec(kind, derive_seed(seed, "noise", j), param_filter, rng) for j in range(n)]
    if mode == "set":
        return [(spec, None) for spec in specs]
    picker = np.random.default_rng(derive_seed(seed, "examples"))
    return [(spec, [int(pool[i])]) for spec, i in zip(specs, picker.integers(0, len(pool), size=n))]


def draw_noise(evaluator: ProbeEvaluator, sigma: float, n: int, *, mode: str = "set",
               kind: str = "gaussian", param_filter=None) -> NoiseDraws:
    """n draws at noise scale σ (in the kind's unit: per coordinate for "gaussian", relative for
    "multiplicative"), scored through `evaluator`; seeds and RNG backend from the evaluator's context."""
    seed, rng = evaluator.ctx.seed, evaluator.ctx.rng
    if not sigma > 0:
        raise UserInputError(f"sigma must be > 0, got {sigma}")
    if not is_bounded_score(evaluator.score):
        raise UserInputError(f"score {evaluator.score.name!r} is not bounded in [0, 1]; smoothing needs one")
    pool = evaluator.example_ids if evaluator.example_ids is not None else range(evaluator.score.n_examples)
    trials = noise_trials(pool, n, seed, mode=mode, kind=kind, param_filter=param_filter, rng=rng)
    values, norms = [], []
    for spec, ids in progress(trials, total=n, desc=f"noise draws at sigma={sigma:g}"):
        probe = evaluator.at(spec, sigma, example_ids=ids)
        values.append(probe.value)
        norms.append(probe.effective_norm)
    return NoiseDraws(sigma=float(sigma), kind=kind, mode=mode, values=np.asarray(values, dtype=np.float64),
                      noise_seeds=tuple(spec.seed for spec, _ in trials),
                      example_ids=None if mode == "set" else tuple(ids[0] for _, ids in trials),
                      effective_norms=np.asarray(norms))


def smoothed_estimate(values: Sequence[float] | np.ndarray, confidence: float, *, sided: str = "two",
                      bound: str = "auto", rounding_seed: int = 0, unit: str = "smoothed score") -> Estimate:
    """p_A = mean of i.i.d. values in [0, 1], with an interval (see module doc for `bound`)."""
    if bound not in BOUNDS:
        raise UserInputError(f"bound must be one of {BOUNDS}, got {bound!r}")
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or np.any((v < 0) | (v > 1)):
        raise UserInputError("values must be a non-empty array in [0, 1]")
    binary = bool(np.all((v == 0) | (v == 1)))
    if bound == "auto":
        bound = "clopper-pearson" if binary else "randomized-rounding"
    if bound == "clopper-pearson" and not binary:
        raise UserInputError("clopper-pearson needs 0/1 values; use hoeffding or randomized-rounding")
    n = int(v.size)
    if bound == "hoeffding":
        lo, hi = hoeffding_interval(float(v.mean()), n, confidence=confidence, sided=sided)
        return Estimate(estimate=float(v.mean()), ci=(lo, hi), confidence=confidence, n=n, unit=unit,
                        method=f"hoeffding ({sided})")
    mean = float(v.mean())
    if bound == "randomized-rounding":
        coins = np.random.default_rng(rounding_seed)
        v = (coins.random(n) < v).astype(np.float64)
    k = int(v.sum())
    lo, hi = clopper_pearson(k, n, confidence=confidence, sided=sided)
    if bound == "clopper-pearson":
        return Estimate(estimate=mean, ci=(lo, hi), confidence=confidence, n=n, unit=unit,
                        method=f"clopper-pearson ({sided})")
    return Estimate(estimate=mean, ci=(lo, hi), confidence=confidence, n=n, unit=unit,
                    method=f"randomized-rounding + clopper-pearson ({sided})",
                    extra={"rounding_seed": rounding_seed, "rounded_estimate": k / n})


def paired_lower_estimate(clean: ProbeValue, draws: NoiseDraws, pool: Sequence[int], confidence: float,
                          unit: str = "smoothed score") -> Estimate:
    """p_A ≥ S(θ₀) − (upper end of the paired drop): per draw j, D_j = clean outcome − outcome under noise,
    on the draw's example ("pairs") or the whole set ("set"), D_j ∈ [−1, 1] with E D_j = S(θ₀) − p_A; the
    upper end is the one-sided betting confidence bound (theory.sequential) at `confidence`. `clean` is S(θ₀)
    with its per-example outcomes over `pool`."""
    if draws.mode == "set":
        drops = clean.value - draws.values
    else:
        by_id = dict(zip((int(i) for i in pool), (float(x) for x in clean.outcomes)))
        drops = np.array([by_id[i] for i in draws.example_ids]) - draws.values
    _, upper = betting_interval(drops, confidence=confidence, bounds=(-1.0, 1.0), sided="upper")
    mean = float(np.mean(drops))
    return Estimate(estimate=clean.value - mean, ci=(max(0.0, clean.value - upper), 1.0), confidence=confidence,
                    n=draws.n, unit=unit, method="paired drop, betting confidence bound (upper), S(θ₀) − it",
                    extra={"drop": mean, "drop_upper": upper, "clean": clean.value})
