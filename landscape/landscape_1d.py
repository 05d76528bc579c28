"""1-D landscapes S(θ₀ + α·δ) over a grid of α, for K directions (most-case, SFT or worst-case).

The grid always holds 0 and both endpoints. Per α: the median over directions with a distribution-free
order-statistic interval (its guaranteed coverage recorded, e.g. 1 − 2^{1−K} for [min, max]), and the
strict-basin fraction — the share of directions with S(θ₀ + α·δ) = S(θ₀) exactly — with a two-sided
Clopper–Pearson interval over K directions. α is in the direction's unit: per-coordinate σ for raw
Gaussian directions (‖α·δ‖ ≈ α√d), and likewise for SFT/worst-case directions rescaled to norm √d.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from landscape.context import ProbeContext
from landscape.directions import DirectionSpec
from landscape.evaluate import ProbeEvaluator, default_directions
from landscape.progress import progress
from landscape.scores import Score
from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.stats import median_interval, proportion_estimate


def symmetric_grid(alpha_max: float, n_points: int = 21) -> np.ndarray:
    """n_points equally spaced α in [−alpha_max, alpha_max], both endpoints and 0 included (n_points odd)."""
    if alpha_max <= 0 or n_points < 3 or n_points % 2 == 0:
        raise UserInputError(f"need alpha_max > 0 and odd n_points >= 3, got {alpha_max}, {n_points}")
    grid = np.linspace(-alpha_max, alpha_max, n_points)
    grid[n_points // 2] = 0.0
    return grid


@dataclass(frozen=True)
class Curve:
    """One direction's curve: values[i] = S(θ₀ + alphas[i]·δ); effective_norms[i] = ‖Δθ‖ after casting."""

    direction: dict
    values: tuple[float, ...]
    effective_norms: tuple[float, ...]


@dataclass(frozen=True)
class Landscape1D:
    """Curves over K directions and per-α summaries (median with order-statistic CI; strict fraction, CP)."""

    score: str
    alphas: tuple[float, ...]
    baseline: float
    curves: tuple[Curve, ...]
    median: tuple[Estimate, ...]
    strict_basin_fraction: tuple[Estimate, ...]
    seeds: tuple[int, ...]
    n_evals: int
    wall_time_s: float

    @property
    def values(self) -> np.ndarray:
        """(K, len(alphas)) array of scores."""
        return np.array([c.values for c in self.curves])


def landscape_1d(model, score: Score, alphas: Sequence[float], ctx: ProbeContext | None = None, *,
                 directions: Sequence[DirectionSpec] | None = None, k: int = 8,
                 confidence: float = 0.95) -> Landscape1D:
    """Evaluate every direction at every α (0 added if absent; sorted). Default: K raw Gaussian directions
    seeded from ctx.seed."""
    start = time.perf_counter()
    ctx = ProbeContext() if ctx is None else ctx
    seed, rng = ctx.seed, ctx.rng
    grid = sorted({float(a) for a in alphas} | {0.0})
    if len(grid) < 2:
        raise UserInputError("alphas must contain at least one non-zero value")
    specs = list(directions) if directions is not None else default_directions(k, seed, rng)
    if not specs:
        raise UserInputError("at least one direction is needed")
    ev = ProbeEvaluator(model, score, ctx)
    baseline = ev.baseline().value
    ev.announce("1-D landscape", len(grid) - 1, len(specs))
    curves = []
    for spec in progress(specs, total=len(specs), desc="1-D landscape"):
        probes = [ev.at(spec, a) if a != 0.0 else None for a in grid]
        curves.append(Curve(direction=spec.to_key(),
                            values=tuple(baseline if p is None else p.value for p in probes),
                            effective_norms=tuple(0.0 if p is None else p.effective_norm for p in probes)))
    values = np.array([c.values for c in curves])
    unit = f"{score.name} score"
    medians, strict = [], []
    for i in range(len(grid)):
        medians.append(median_interval(values[:, i], confidence, unit))
        same = int(np.sum(values[:, i] == baseline))
        strict.append(proportion_estimate(same, len(specs), confidence, "two", unit="fraction of directions"))
    return Landscape1D(score=score.name, alphas=tuple(grid), baseline=baseline, curves=tuple(curves),
                       median=tuple(medians), strict_basin_fraction=tuple(strict),
                       seeds=tuple(int(s.seed) for s in specs), n_evals=ev.n_evals,
                       wall_time_s=time.perf_counter() - start)
