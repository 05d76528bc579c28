"""Measurements shared by several figures, each cached as JSON in the run context (see context.py).

All go through the landscape estimators and the run's ResultStore; the numbers are whatever the toy
models give. α is per-coordinate σ for raw Gaussian directions; SFT and worst-case directions are
rescaled to norm √d so they share that axis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from landscape.directions import DirectionSpec
from landscape.edges import basin_edges
from landscape.landscape_1d import landscape_1d, symmetric_grid
from paper_figures import toy
from paper_figures.context import RunContext
from theory.estimate import Estimate

Directions = Sequence[DirectionSpec] | Callable[[], Sequence[DirectionSpec]] | None


def _directions(directions: Directions) -> Sequence[DirectionSpec] | None:
    """Directions given lazily (a callable) are only built when the data is not cached yet."""
    return directions() if callable(directions) else directions


def edges(ctx: RunContext, score_name: str, *, stage: str = "align", directions: Directions = None,
          label: str = "random", seed: int = 0) -> dict:
    """Basin edges (τ = 0) of one capability score on the transformer at `stage`: per direction and the
    median with its order-statistic interval (BasinEdges as JSON)."""
    s = toy.sizes(ctx)

    def compute():
        score = _score(ctx, score_name)
        return basin_edges(toy.transformer(stage), score, _directions(directions), k=s.k, seed=seed, tau=0.0,
                           rel_precision=s.rel_precision, alpha_start=1e-2, alpha_min=1e-5, alpha_max=2.0,
                           store=ctx.store, model_id=toy.transformer_id(stage))

    return ctx.cached(f"edges_{stage}_{score_name}_{label}", compute)


def median_edge(data: dict) -> Estimate:
    return Estimate.from_dict(data["median"])


def basic_edge(ctx: RunContext) -> Estimate:
    """The median basic-capability edge on the aligned transformer: the basin scale of the figures."""
    return median_edge(edges(ctx, "basic"))


def grid(ctx: RunContext, extent: float = 8.0) -> list[float]:
    """Symmetric α grid out to `extent` × the basic median edge (finite; falls back to α_max = 1)."""
    edge = basic_edge(ctx).estimate
    alpha_max = extent * edge if np.isfinite(edge) and edge > 0 else 1.0
    return symmetric_grid(alpha_max, toy.sizes(ctx).grid_points).tolist()


def landscape(ctx: RunContext, score_name: str, alphas: Sequence[float], *, stage: str = "align",
              directions: Directions = None, k: int | None = None, seed: int = 0,
              label: str = "random", confidence: float = 0.95) -> dict:
    """A 1-D landscape (Landscape1D as JSON) of one score on the transformer at `stage`; `confidence` of
    the per-α median interval and strict-basin Clopper–Pearson interval."""

    def compute():
        score = _score(ctx, score_name)
        return landscape_1d(toy.transformer(stage), score, alphas, _directions(directions), k=k or toy.sizes(ctx).k,
                            seed=seed, confidence=confidence, store=ctx.store,
                            model_id=toy.transformer_id(stage))

    return ctx.cached(f"landscape_{stage}_{score_name}_{label}", compute)


def _score(ctx: RunContext, name: str):
    if name == "nll":
        return toy.nll_score(ctx)
    return toy.capability_scores(ctx)[name]


def values(landscape_data: dict) -> np.ndarray:
    """(K, len(alphas)) scores of a stored landscape."""
    return np.array([[np.nan if v is None else float(v) for v in c["values"]] for c in landscape_data["curves"]])


def single_edge(edges_data: dict) -> Estimate:
    """The edge of a one-direction BasinEdges (min of the ± half-lines) with its bisection bracket (lo, hi]
    as the interval (deterministic given the evaluations; confidence recorded as 0.999)."""
    d = edges_data["directions"][0]
    side = min((d["plus"], d["minus"]), key=lambda s: float(s["estimate"]))
    return Estimate(estimate=float(side["estimate"]), ci=(float(side["lo"]), float(side["hi"])),
                    confidence=0.999, n=1, unit="alpha per coordinate", method="bisection bracket")
