"""Measurements shared by several figures, each cached as JSON in the run context (see context.py).

All go through the landscape estimators and the run's ResultStore; the numbers are whatever the toy
models give. α is per-coordinate σ for raw Gaussian directions; SFT and worst-case directions are
rescaled to norm √d so they share that axis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from landscape.context import ProbeContext
from landscape.directions import DirectionSpec
from landscape.edges import basin_edges
from landscape.landscape_1d import landscape_1d, symmetric_grid
from paper_figures import toy
from paper_figures.context import FigureRun
from paper_figures.stored import median_edge
from theory.estimate import Estimate

Directions = Sequence[DirectionSpec] | Callable[[], Sequence[DirectionSpec]] | None


def _directions(directions: Directions) -> Sequence[DirectionSpec] | None:
    """Directions given lazily (a callable) are only built when the data is not cached yet."""
    return directions() if callable(directions) else directions


def first_exit_edges(ctx: FigureRun, score_name: str, *, stage: str = "align", directions: Directions = None,
          label: str = "random", seed: int = 0) -> dict:
    """Basin edges (τ = 0) of one capability score on the transformer at `stage`: per direction and the
    median with its order-statistic interval (BasinEdges as JSON)."""
    s = toy.sizes(ctx)

    def compute():
        score = _score(ctx, score_name)
        model = toy.transformer(stage)
        probe = ProbeContext.for_model(model, store=ctx.store, model_id=toy.transformer_id(stage), seed=seed)
        return basin_edges(model, score, probe, directions=_directions(directions), k=s.k, tau=0.0,
                           rel_precision=s.rel_precision, alpha_start=1e-2, alpha_min=1e-5, alpha_max=2.0)

    return ctx.cached(f"edges_{stage}_{score_name}_{label}", compute)


def basic_edge(ctx: FigureRun) -> Estimate:
    """The median basic-capability edge on the aligned transformer: the basin scale of the figures."""
    return median_edge(first_exit_edges(ctx, "basic"))


def grid(ctx: FigureRun, extent: float = 8.0) -> list[float]:
    """Symmetric α grid out to `extent` × the basic median edge (finite; falls back to α_max = 1)."""
    edge = basic_edge(ctx).estimate
    alpha_max = extent * edge if np.isfinite(edge) and edge > 0 else 1.0
    return symmetric_grid(alpha_max, toy.sizes(ctx).grid_points).tolist()


def landscape(ctx: FigureRun, score_name: str, alphas: Sequence[float], *, stage: str = "align",
              directions: Directions = None, k: int | None = None, seed: int = 0,
              label: str = "random", confidence: float = 0.95) -> dict:
    """A 1-D landscape (Landscape1D as JSON) of one score on the transformer at `stage`; `confidence` of
    the per-α median interval and strict-basin Clopper–Pearson interval."""

    def compute():
        score = _score(ctx, score_name)
        model = toy.transformer(stage)
        probe = ProbeContext.for_model(model, store=ctx.store, model_id=toy.transformer_id(stage), seed=seed)
        return landscape_1d(model, score, alphas, probe, directions=_directions(directions),
                            k=k or toy.sizes(ctx).k, confidence=confidence)

    return ctx.cached(f"landscape_{stage}_{score_name}_{label}", compute)


def _score(ctx: FigureRun, name: str):
    if name == "nll":
        return toy.nll_score(ctx)
    return toy.capability_scores(ctx)[name]
