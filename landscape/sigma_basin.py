"""The σ-basin of Def. 4.1: the largest σ with S(θ₀) − E_ε S(θ₀ + ε) ≤ τ, ε ~ N(0, σ² I).

For each tested σ (per coordinate), n draws (see landscape.smoothing: whole-set draws or i.i.d.
(noise, example) pairs) give p_A(σ) with a two-sided interval at confidence 1 − (1 − confidence)/m
(Bonferroni over the m σ values, so all m intervals hold together with probability ≥ confidence).
With threshold t = S(θ₀) − τ, the σ-basin interval is
    [largest σ with lower(p_A) ≥ t,  smallest σ with upper(p_A) < t]
(0 and +inf when no σ qualifies); the point estimate is the largest σ with p̂_A ≥ t, clipped into the
interval. Reading it as an interval assumes p_A(σ) decreasing in σ; a certified-inside σ above a
certified-outside one is flagged `non_monotone`. kind="multiplicative" gives the rescaling-invariant
variant θ ⊙ (1 + σz), σ relative.

search="grid" measures every σ. search="bisect" (for models where one draw costs seconds) measures
only the σ needed under the same monotonicity reading: a binary search over the sorted grid for the last
σ with p̂_A ≥ t (⌈log₂(m + 1)⌉ points), then upward from the first σ with p̂_A < t until one is certified
outside (or the grid ends). Unvisited σ are never certified, so the interval can only be wider than the
full grid's; the Bonferroni correction is still over all m grid points (fixed before any draw), so the
joint coverage argument is unchanged, and every visited σ gets exactly the draws (and rounding seed) it
would get in the full grid. `points` lists the visited σ only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from landscape.context import ProbeContext
from landscape.evaluate import ProbeEvaluator, derive_seed
from landscape.kinds import kind as direction_kind
from landscape.scores import Score
from landscape.smoothing import draw_noise, smoothed_estimate
from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.stats import clopper_pearson, hoeffding_interval

SEARCHES = ("grid", "bisect")


@dataclass(frozen=True)
class SigmaPoint:
    """p_A at one σ (interval at the Bonferroni-corrected level) and what it certifies against t."""

    sigma: float
    p_a: Estimate
    inside: bool
    outside: bool
    noise_seeds: tuple[int, ...]


@dataclass(frozen=True)
class SigmaBasin:
    score: str
    tau: float
    baseline: float
    threshold: float
    kind: str
    mode: str
    points: tuple[SigmaPoint, ...]
    sigma_basin: Estimate
    non_monotone: bool
    seed: int
    n_evals: int
    wall_time_s: float
    inside_resolvable: bool = True


def sigma_basin(model, score: Score, sigmas: Sequence[float], ctx: ProbeContext | None = None, *,
                tau: float = 0.05, n: int = 64, mode: str = "set", kind: str = "gaussian", bound: str = "auto",
                confidence: float = 0.95, search: str = "grid") -> SigmaBasin:
    """σ-basin interval from n draws at each σ in `sigmas` (or the σ a bisection needs; module doc); noise
    seeds derive from ctx.seed, so every σ shares the same draws (common random numbers)."""
    start = time.perf_counter()
    ctx = ProbeContext() if ctx is None else ctx
    seed = ctx.seed
    grid = check_sigma_grid(sigmas, tau)
    if search not in SEARCHES:
        raise UserInputError(f"search must be one of {SEARCHES}, got {search!r}")
    ev = ProbeEvaluator(model, score, ctx)
    baseline = ev.baseline().value
    threshold = baseline - tau
    per_sigma = 1.0 - (1.0 - confidence) / len(grid)
    ev.announce("sigma-basin", len(grid) if search == "grid" else bisect_points(len(grid)), n)
    measured: dict[int, SigmaPoint] = {}

    def measure(i: int) -> SigmaPoint:
        if i not in measured:
            draws = draw_noise(ev, grid[i], n, mode=mode, kind=kind)
            p_a = smoothed_estimate(draws.values, per_sigma, sided="two", bound=bound,
                                    rounding_seed=derive_seed(seed, "rounding", i))
            measured[i] = SigmaPoint(sigma=grid[i], p_a=p_a, inside=p_a.lo >= threshold,
                                     outside=p_a.hi < threshold, noise_seeds=draws.noise_seeds)
        return measured[i]

    if search == "grid":
        for i in range(len(grid)):
            measure(i)
    else:
        below, above = -1, len(grid)  # p̂_A ≥ t at `below` (or none), p̂_A < t at `above` (or none)
        while above - below > 1:
            mid = (below + above) // 2
            if measure(mid).p_a.estimate >= threshold:
                below = mid
            else:
                above = mid
        for i in range(above, len(grid)):
            if measure(i).outside:
                break
    points = [measured[i] for i in sorted(measured)]
    resolvable = inside_resolvable(baseline, threshold, n, per_sigma, bound)
    hi = min((p.sigma for p in points if p.outside), default=math.inf)
    inside_all = [p.sigma for p in points if p.inside]
    lo = max((s for s in inside_all if s < hi), default=0.0)
    point = max((p.sigma for p in points if p.p_a.estimate >= threshold), default=0.0)
    unit = direction_kind(kind).unit
    estimate = Estimate(estimate=min(max(point, lo), hi), ci=(lo, hi), confidence=confidence, n=n, unit=unit,
                        method=f"{points[0].p_a.method}, bonferroni over {len(grid)} sigmas",
                        extra={"mode": mode, "kind": kind, "search": search, "visited": len(points),
                               "grid_size": len(grid), "inside_resolvable": resolvable})
    return SigmaBasin(score=score.name, tau=tau, baseline=baseline, threshold=threshold, kind=kind, mode=mode,
                      points=tuple(points), sigma_basin=estimate,
                      non_monotone=any(s > hi for s in inside_all), seed=seed, n_evals=ev.n_evals,
                      wall_time_s=time.perf_counter() - start, inside_resolvable=resolvable)


def check_sigma_grid(sigmas: Sequence[float], tau: float) -> list[float]:
    """The σ grid sorted, after checking it holds distinct positive numbers and that τ lies in [0, 1]."""
    grid = sorted(float(s) for s in sigmas)
    if not grid or grid[0] <= 0 or len(set(grid)) != len(grid):
        raise UserInputError("sigmas must be distinct positive numbers")
    if not 0 <= tau <= 1:
        raise UserInputError(f"tau must lie in [0, 1], got {tau}")
    return grid


def bisect_points(m: int) -> int:
    """σ values the binary search of search="bisect" measures on an m-point grid (⌈log₂(m + 1)⌉), before
    the upward walk to a certified-outside σ (0 to m − 1 more; usually 0 or 1)."""
    return max(1, math.ceil(math.log2(m + 1)))


def inside_resolvable(baseline: float, threshold: float, n: int, confidence: float, bound: str = "auto") -> bool:
    """Can n draws certify any σ inside at all? True iff draws whose mean equals the clean score (no drop)
    would give a lower bound ≥ threshold. False means the σ-basin's lower end is 0 whatever the model
    does (e.g. n = 200 pairs, τ = 0.05, score ≈ 0.45: Clopper–Pearson half-width ≈ 0.09 > τ)."""
    if bound == "hoeffding":
        lo, _ = hoeffding_interval(baseline, n, confidence=confidence, sided="two")
    else:
        lo, _ = clopper_pearson(int(round(baseline * n)), n, confidence=confidence, sided="two")
    return bool(lo >= threshold)
