"""Monte Carlo draws of the smoothed score p_A(σ) = E_ε S(θ₀ + ε), ε ~ N(0, σ² I) (σ per coordinate).

Two sampling modes:
  "set"   — n i.i.d. noise draws, each scored on the whole example set: n values in [0, 1] with mean p_A.
  "pairs" — n i.i.d. (noise, example) pairs, the example drawn uniformly from the set: for a 0–1 oracle
            each trial is a Bernoulli with success probability exactly p_A (Clopper–Pearson applies).
            With b > 1 examples per trial a trial's value is the design's estimate of the score on them,
            again with mean exactly p_A (`TrialDesign`: stratified by the clean outcome when it is 0–1,
            else b examples uniformly without replacement).
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
    design: TrialDesign | None = None  # "pairs": how the examples were drawn (values: its score estimate)

    @property
    def n(self) -> int:
        return int(self.values.size)


@dataclass(frozen=True)
class TrialDesign:
    """How one paired trial picks its b examples from the set of N, and the range of its paired drop.

    uniform (one stratum):  b examples uniformly without replacement; the trial's score is their mean.
    stratified (0–1 clean outcomes O(θ₀, x), 2 ≤ b ≤ N, both strata non-empty): the N₁ examples correct
        at θ₀ and the N₀ = N − N₁ incorrect ones are sampled separately, b₁ = clamp(round(b·N₁/N), 1, b − 1)
        from the first and b₀ = b − b₁ from the second (each uniformly without replacement, within the
        stratum sizes); the trial's score is Σ_s w_s · (mean over its stratum-s examples), w_s = N_s/N.
    Either way the trial's score has mean exactly S over the whole set (each example of a stratum is drawn
    with the same probability), so the paired drop V = score(O(θ₀)) − score(O(θ₀ + ε)) has mean exactly
    S(θ₀) − p_A(σ). Stratified, score(O(θ₀)) = w₁ = S(θ₀) on every trial and D = O(θ₀, x) − O(θ₀ + ε, x) is in
    [0, 1] on correct and [−1, 0] on incorrect examples, so V ∈ [−(1 − S(θ₀)), S(θ₀)]: a range of 1 where a
    uniform subset's V ∈ [−1, 1] has 2. A bounded-mean confidence sequence needs about log(1/α)/margin
    trials per unit of range whatever the variance, so this halves the trials of a σ decided near τ.
    `drop_bounds` is the range of V for the trials this design can draw."""

    strata: tuple[tuple[int, ...], ...]
    counts: tuple[int, ...]
    weights: tuple[float, ...]
    drop_bounds: tuple[float, float]

    @property
    def b(self) -> int:
        return sum(self.counts)

    @property
    def stratified(self) -> bool:
        return len(self.strata) > 1

    def draw(self, picker: np.random.Generator) -> list[int]:
        """One trial's example ids, sorted."""
        ids = []
        for members, count in zip(self.strata, self.counts):
            ids += [members[k] for k in picker.choice(len(members), count, replace=False)]
        return sorted(int(i) for i in ids)

    def score(self, ids: Sequence[int], outcomes: Sequence[float]) -> float:
        """The trial's estimate of the set's score from the outcomes of its examples `ids` (in that order)."""
        if not self.stratified:
            return float(np.mean(np.asarray(outcomes, dtype=np.float64)))
        sums = [0.0] * len(self.strata)
        for i, o in zip(ids, outcomes):
            sums[self._stratum_of(int(i))] += float(o)
        return float(sum(w * s / c for w, s, c in zip(self.weights, sums, self.counts)))

    def _stratum_of(self, example: int) -> int:
        lookup = self.__dict__.get("_lookup")
        if lookup is None:
            lookup = {int(x): k for k, members in enumerate(self.strata) for x in members}
            object.__setattr__(self, "_lookup", lookup)
        return lookup[example]

    def drop(self, ids: Sequence[int], clean: Sequence[float], noisy: Sequence[float]) -> float:
        """The paired drop V = score(clean outcomes) − score(outcomes under noise) of one trial, clipped into
        `drop_bounds` (only float rounding can take it outside)."""
        lo, hi = self.drop_bounds
        return min(hi, max(lo, self.score(ids, clean) - self.score(ids, noisy)))


def allocate(b: int, sizes: Sequence[int]) -> tuple[int, ...]:
    """Examples per stratum of a b-example stratified trial (two strata): b₁ = clamp(round(b·N₁/N), 1, b − 1),
    then moved so that neither stratum is asked for more examples than it has."""
    n1, n0 = sizes
    b1 = min(max(1, round(b * n1 / (n1 + n0))), b - 1)
    b1 = min(n1, max(b1, b - n0))
    return b1, b - b1


def trial_design(pool: Sequence[int], b: int, clean: Sequence[float] | None = None) -> TrialDesign:
    """The design of `TrialDesign` for b examples per trial from `pool`: stratified when the clean outcomes
    (aligned with `pool`) are all 0 or 1, 2 ≤ b and both strata are non-empty; else uniform. drop_bounds:
    (−(1 − S(θ₀)), S(θ₀)) stratified; uniform, (mean of the b smallest clean outcomes − 1, mean of the b
    largest), which is (−1, 1) for b = 1 and (S(θ₀) − 1, S(θ₀)) for the whole set; (−1, 1) without `clean`."""
    pool = tuple(int(i) for i in pool)
    if not 1 <= b <= len(pool):
        raise UserInputError(f"b must lie in [1, {len(pool)}] (the example set), got {b}")
    if clean is None:
        return TrialDesign(strata=(pool,), counts=(b,), weights=(1.0,), drop_bounds=(-1.0, 1.0))
    c = np.asarray(clean, dtype=np.float64)
    if c.shape != (len(pool),):
        raise UserInputError(f"clean outcomes must be one per example of the pool ({len(pool)}), got {c.shape}")
    correct = tuple(i for i, o in zip(pool, c) if o == 1.0)
    wrong = tuple(i for i, o in zip(pool, c) if o == 0.0)
    if b >= 2 and correct and wrong and len(correct) + len(wrong) == len(pool):
        s0 = len(correct) / len(pool)
        return TrialDesign(strata=(correct, wrong), counts=allocate(b, (len(correct), len(wrong))),
                           weights=(s0, 1.0 - s0), drop_bounds=(-(1.0 - s0), s0))
    ordered = np.sort(c)
    return TrialDesign(strata=(pool,), counts=(b,), weights=(1.0,),
                       drop_bounds=(float(ordered[:b].mean()) - 1.0, float(ordered[-b:].mean())))


def noise_spec(kind: str, seed: int, param_filter=None, rng: str = "cpu") -> DirectionSpec:
    """The direction of one noise draw (rng: "cpu" device-independent, "cuda" on the parameters' GPU)."""
    if kind not in kinds.REGISTRY or not kinds.REGISTRY[kind].noise:
        raise UserInputError(f"noise kind must be one of {kinds.noise_kinds()}, got {kind!r}")
    return DirectionSpec(kind, seed=seed, param_filter=param_filter, rng=rng)


def noise_trials(pool: Sequence[int], n: int, seed: int, *, mode: str = "set", kind: str = "gaussian",
                 param_filter=None, rng: str = "cpu", b: int = 1,
                 clean: Sequence[float] | None = None) -> list[tuple[DirectionSpec, list[int] | None]]:
    """The n draws as (noise direction, example ids): ids None in "set" mode (the whole set), else the
    example drawn for that trial from `pool` (b > 1: the b examples of `trial_design(pool, b, clean)`,
    sorted; `clean`: the clean outcomes aligned with `pool`). The same list at every σ (common random
    numbers)."""
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
    return list(itertools.islice(trial_plan(trial_design(pool, b, clean), seed, mode=mode, kind=kind,
                                            param_filter=param_filter, rng=rng), n))


def trial_plan(design: TrialDesign, seed: int, *, mode: str = "pairs", kind: str = "gaussian",
               param_filter=None, rng: str = "cpu") -> Iterator[tuple[DirectionSpec, list[int] | None]]:
    """Trials in order, without end: trial j's noise direction (seed derive_seed(seed, "noise", j)) and its b
    examples drawn by `design` (None in mode "set"), sorted. The sequential σ-basin's trials, and
    `noise_trials`' for b > 1."""
    tag = ("examples", design.b) + (("stratified",) if design.stratified else ())
    picker = np.random.default_rng(derive_seed(seed, *tag))
    for j in itertools.count():
        spec = noise_spec(kind, derive_seed(seed, "noise", j), param_filter, rng)
        yield spec, None if mode == "set" else design.draw(picker)


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
    plans, designs = [], []
    for ev, sigma, b in items:
        if not sigma > 0:
            raise UserInputError(f"sigma must be > 0, got {sigma}")
        if not is_bounded_score(ev.score):
            raise UserInputError(f"score {ev.score.name!r} is not bounded in [0, 1]; smoothing needs one")
        pool = ev.example_ids if ev.example_ids is not None else range(ev.score.n_examples)
        clean = ev.baseline().outcomes if mode == "pairs" and b > 1 else None
        designs.append(trial_design(pool, b, clean) if mode == "pairs" else None)
        plans.append(noise_trials(pool, n, ev.ctx.seed, mode=mode, kind=kind, param_filter=param_filter,
                                  rng=ev.ctx.rng, b=b, clean=clean))
    shareable = len(items) > 1 and not kinds.REGISTRY[kind].reads_theta0
    values: list[list[float]] = [[] for _ in items]
    norms: list[list[float]] = [[] for _ in items]
    sigmas = ", ".join(f"{sigma:g}" for _, sigma, _ in items)
    for j in progress(range(n), total=n, desc=f"noise draws at sigma={sigmas}"):
        held = None
        for k, ((ev, sigma, _), plan, design) in enumerate(zip(items, plans, designs)):
            spec, ids = plan[j]
            if shareable:
                with ev.hold(spec, held) as held:
                    probe = ev.at(spec, sigma, example_ids=ids)
            else:
                probe = ev.at(spec, sigma, example_ids=ids)
            values[k].append(probe.value if design is None or not design.stratified
                             else design.score(ids, probe.outcomes))
            norms[k].append(probe.effective_norm)
    out = []
    for (_, sigma, b), plan, vals, nrm, design in zip(items, plans, values, norms, designs):
        single = mode == "pairs" and b == 1
        out.append(NoiseDraws(sigma=float(sigma), kind=kind, mode=mode, values=np.asarray(vals, dtype=np.float64),
                              noise_seeds=tuple(spec.seed for spec, _ in plan),
                              example_ids=tuple(ids[0] for _, ids in plan) if single else None,
                              effective_norms=np.asarray(nrm),
                              subsets=tuple(tuple(ids) for _, ids in plan) if mode == "pairs" and b > 1 else None,
                              design=design))
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
    """p_A ≥ S(θ₀) − (upper end of the paired drop): per draw j, the paired drop D_j = the clean score minus
    the score under noise, on the draw's examples ("pairs", as the draws' `TrialDesign` estimates it) or the
    whole set ("set"), with E D_j = S(θ₀) − p_A and D_j in the design's drop bounds ((S(θ₀) − 1, S(θ₀)) for
    the whole set); the upper end is the one-sided betting confidence bound (theory.sequential) at
    `confidence`. `clean` is S(θ₀) with its per-example outcomes over `pool`."""
    if draws.mode == "set":
        bounds = (clean.value - 1.0, clean.value)
        drops = np.clip(clean.value - draws.values, *bounds)
    else:
        by_id = dict(zip((int(i) for i in pool), (float(x) for x in clean.outcomes)))
        design = draws.design if draws.design is not None else trial_design(pool, 1, clean.outcomes)
        subsets = draws.subsets if draws.subsets is not None else [(i,) for i in draws.example_ids]
        bounds = design.drop_bounds
        drops = np.array([min(bounds[1], max(bounds[0], design.score(ids, [by_id[i] for i in ids]) - v))
                          for ids, v in zip(subsets, draws.values)])
    _, upper = betting_interval(drops, confidence=confidence, bounds=bounds, sided="upper")
    mean = float(np.mean(drops))
    return Estimate(estimate=clean.value - mean, ci=(max(0.0, clean.value - upper), 1.0), confidence=confidence,
                    n=draws.n, unit=unit, method="paired drop, betting confidence bound (upper), S(θ₀) − it",
                    extra={"drop": mean, "drop_upper": upper, "clean": clean.value, "drop_bounds": list(bounds),
                           "stratified": bool(draws.design is not None and draws.design.stratified)})
