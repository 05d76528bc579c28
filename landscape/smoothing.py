"""Monte Carlo draws of the smoothed score p_A(σ) = E_ε S(θ₀ + ε), ε ~ N(0, σ² I) (σ per coordinate).

Two sampling modes:
  "set"   — n i.i.d. noise draws, each scored on the whole example set: n values in [0, 1] with mean p_A.
  "pairs" — n i.i.d. (noise, example) pairs, the example drawn uniformly from the set: for a 0–1 oracle
            each trial is a Bernoulli with success probability exactly p_A (Clopper–Pearson applies).
            With b > 1 examples per trial (drawn uniformly without replacement) a trial's value is their
            mean score, again with mean exactly p_A.
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

import itertools
from collections.abc import Iterator, Sequence
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
    subsets: tuple[tuple[int, ...], ...] | None = None  # "pairs" with b > 1: each trial's examples

    @property
    def n(self) -> int:
        return int(self.values.size)


def noise_spec(kind: str, seed: int, param_filter=None, rng: str = "cpu") -> DirectionSpec:
    """The direction of one noise draw (rng: "cpu" device-independent, "cuda" on the parameters' GPU)."""
    if kind not in kinds.REGISTRY or not kinds.REGISTRY[kind].noise:
        raise UserInputError(f"noise kind must be one of {kinds.noise_kinds()}, got {kind!r}")
    return DirectionSpec(kind, seed=seed, param_filter=param_filter, rng=rng)


def noise_trials(pool: Sequence[int], n: int, seed: int, *, mode: str = "set", kind: str = "gaussian",
                 param_filter=None, rng: str = "cpu", b: int = 1) -> list[tuple[DirectionSpec, list[int] | None]]:
    """The n draws as (noise direction, example ids): ids None in "set" mode (the whole set), else the
    example drawn for that trial from `pool` (b > 1: b examples without replacement, sorted). The same list
    at every σ (common random numbers)."""
    if mode not in MODES:
        raise UserInputError(f"mode must be one of {MODES}, got {mode!r}")
    if n < 1:
        raise UserInputError(f"n must be >= 1, got {n}")
    if not 1 <= b <= len(pool):
        raise UserInputError(f"b must lie in [1, {len(pool)}] (the example set), got {b}")
    specs = [noise_spec(kind, derive_seed(seed, "noise", j), param_filter, rng) for j in range(n)]
    if mode == "set":
        return [(spec, None) for spec in specs]
    if b == 1:
        picker = np.random.default_rng(derive_seed(seed, "examples"))
        return [(spec, [int(pool[i])]) for spec, i in zip(specs, picker.integers(0, len(pool), size=n))]
    return list(itertools.islice(trial_plan(pool, seed, b, mode=mode, kind=kind, param_filter=param_filter,
                                            rng=rng), n))


def trial_plan(pool: Sequence[int], seed: int, b: int, *, mode: str = "pairs", kind: str = "gaussian",
               param_filter=None, rng: str = "cpu") -> Iterator[tuple[DirectionSpec, list[int] | None]]:
    """Trials in order, without end: trial j's noise direction (seed derive_seed(seed, "noise", j)) and its b
    examples drawn uniformly without replacement from `pool`, sorted (None in mode "set"). The sequential
    σ-basin's trials, and `noise_trials`' for b > 1."""
    picker = np.random.default_rng(derive_seed(seed, "examples", b))
    for j in itertools.count():
        spec = noise_spec(kind, derive_seed(seed, "noise", j), param_filter, rng)
        yield spec, None if mode == "set" else sorted(int(pool[k]) for k in picker.choice(len(pool), b, replace=False))


def draw_noise(evaluator: ProbeEvaluator, sigma: float, n: int, *, mode: str = "set",
               kind: str = "gaussian", param_filter=None, b: int = 1) -> NoiseDraws:
    """n draws at noise scale σ (in the kind's unit: per coordinate for "gaussian", relative for
    "multiplicative"), scored through `evaluator`; seeds and RNG backend from the evaluator's context;
    b: examples per trial in "pairs" mode."""
    return draw_noise_many([(evaluator, sigma, b)], n, mode=mode, kind=kind, param_filter=param_filter)[0]


def draw_noise_many(items: Sequence[tuple[ProbeEvaluator, float, int]], n: int, *, mode: str = "set",
                    kind: str = "gaussian", param_filter=None) -> list[NoiseDraws]:
    """`draw_noise` for several (evaluator, σ, b) at once on one noise plan (their contexts share seed and
    rng): draw j's noise is made once, held, and re-bound to each evaluator's model, which scores it at its
    own σ on its own examples; each result is the one draw_noise gives that evaluator alone."""
    if not items:
        raise UserInputError("at least one evaluator is needed")
    if len({(ev.ctx.seed, ev.ctx.rng) for ev, _, _ in items}) != 1:
        raise UserInputError("the evaluators' contexts must share seed and rng (one noise plan)")
    plans = []
    for ev, sigma, b in items:
        if not sigma > 0:
            raise UserInputError(f"sigma must be > 0, got {sigma}")
        if not is_bounded_score(ev.score):
            raise UserInputError(f"score {ev.score.name!r} is not bounded in [0, 1]; smoothing needs one")
        pool = ev.example_ids if ev.example_ids is not None else range(ev.score.n_examples)
        plans.append(noise_trials(pool, n, ev.ctx.seed, mode=mode, kind=kind, param_filter=param_filter,
                                  rng=ev.ctx.rng, b=b))
    shareable = len(items) > 1 and not kinds.REGISTRY[kind].reads_theta0
    values: list[list[float]] = [[] for _ in items]
    norms: list[list[float]] = [[] for _ in items]
    sigmas = ", ".join(f"{sigma:g}" for _, sigma, _ in items)
    for j in progress(range(n), total=n, desc=f"noise draws at sigma={sigmas}"):
        held = None
        for k, ((ev, sigma, _), plan) in enumerate(zip(items, plans)):
            spec, ids = plan[j]
            if shareable:
                with ev.hold(spec, held) as held:
                    probe = ev.at(spec, sigma, example_ids=ids)
            else:
                probe = ev.at(spec, sigma, example_ids=ids)
            values[k].append(probe.value)
            norms[k].append(probe.effective_norm)
    out = []
    for (_, sigma, b), plan, vals, nrm in zip(items, plans, values, norms):
        single = mode == "pairs" and b == 1
        out.append(NoiseDraws(sigma=float(sigma), kind=kind, mode=mode, values=np.asarray(vals, dtype=np.float64),
                              noise_seeds=tuple(spec.seed for spec, _ in plan),
                              example_ids=tuple(ids[0] for _, ids in plan) if single else None,
                              effective_norms=np.asarray(nrm),
                              subsets=tuple(tuple(ids) for _, ids in plan) if mode == "pairs" and b > 1 else None))
    return out


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
        subsets = draws.subsets if draws.subsets is not None else [(i,) for i in draws.example_ids]
        drops = np.array([sum(by_id[i] for i in ids) / len(ids) for ids in subsets]) - draws.values
    _, upper = betting_interval(drops, confidence=confidence, bounds=(-1.0, 1.0), sided="upper")
    mean = float(np.mean(drops))
    return Estimate(estimate=clean.value - mean, ci=(max(0.0, clean.value - upper), 1.0), confidence=confidence,
                    n=draws.n, unit=unit, method="paired drop, betting confidence bound (upper), S(θ₀) − it",
                    extra={"drop": mean, "drop_upper": upper, "clean": clean.value})
