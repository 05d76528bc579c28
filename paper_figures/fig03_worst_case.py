"""Figure 3: worst-case landscapes at the same norm √d as the random directions, next to most-case.

The worst direction maximises the basic-set token NLL (a differentiable surrogate of the 0–1 score) at
θ₀ + α_ref·δ on the sphere ‖δ‖ = √d (landscape.worst_case.worst_case_pga, α_ref = the basic median edge
of random directions), so α has the same per-coordinate unit on both curves. Right panel: the edges.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from landscape.directions import DirectionSpec
from landscape.plotting import (
    ALPHA_LABEL,
    chance_line,
    error_points,
    finish_axes,
    log_axis,
    new_figure,
    plot_curves,
    save_figure,
    score_axis,
)
from landscape.worst_case import worst_case_pga
from paper_figures import measure, toy
from paper_figures.context import RunContext
from paper_figures.figure import PLOTTED, FigureResult

NAME = "fig03_worst_case"
TITLE = "Worst-case vs most-case landscapes at equal norm ‖δ‖ = √d (basic capability)"


@lru_cache(maxsize=2)
def _worst(n_examples: int, alpha_ref: float, steps: int) -> DirectionSpec:
    from toymodels.tasks import basic_score
    from toymodels.train import sequence_loss

    data = basic_score(n_examples).data
    loss = sequence_loss(data)
    rows = torch.arange(len(data))
    return worst_case_pga(toy.transformer("align"), lambda m: loss(m, rows), alpha_ref, steps=steps).direction


def worst_direction(ctx: RunContext) -> DirectionSpec:
    s = toy.sizes(ctx)
    return _worst(s.n_examples, measure.basic_edge(ctx).estimate, s.worst_steps)


def worst_data(ctx: RunContext) -> dict:
    """Landscape and edges of every capability along the worst direction."""
    alphas = measure.grid(ctx)
    return {cap: {"landscape": measure.landscape(ctx, cap, alphas, directions=lambda: [worst_direction(ctx)],
                                                 label="worst"),
                  "edges": measure.edges(ctx, cap, directions=lambda: [worst_direction(ctx)], label="worst")}
            for cap in toy.CAPABILITIES}


def make(ctx: RunContext) -> FigureResult:
    alphas = measure.grid(ctx)
    worst = worst_data(ctx)
    fig, (left, right) = new_figure(2, width_per_panel=5.2)
    most = measure.landscape(ctx, "basic", alphas)
    plot_curves(left, most["alphas"], measure.values(most), label="most-case (random δ)")
    wl = worst["basic"]["landscape"]
    left.plot(wl["alphas"], measure.values(wl)[0], color="C3", linewidth=2.0, label="worst-case δ (PGA on NLL)")
    chance_line(left, toy.capability_scores(ctx)["basic"].chance)
    score_axis(left, "basic")
    finish_axes(left, title="basic capability", xlabel=ALPHA_LABEL)
    ratios = []
    for i, cap in enumerate(toy.CAPABILITIES):
        m = measure.median_edge(measure.edges(ctx, cap))
        w = measure.single_edge(worst[cap]["edges"])
        error_points(right, [i], [m], label="most-case median edge" if i == 0 else None, color_index=0)
        error_points(right, [i + 0.15], [w], label="worst-case edge (bracket)" if i == 0 else None,
                     color_index=3, marker="v")
        ratios.append(f"{m.estimate / w.estimate:.3g}×" if w.estimate > 0 else "–")
    right.set_xticks(range(len(toy.CAPABILITIES)),
                     [f"{cap}\nmost/worst {r}" for cap, r in zip(toy.CAPABILITIES, ratios)])
    log_axis(right, "y")
    right.set_ylabel("edge α_edge (per-coordinate σ)")
    finish_axes(right, title="basin edges (τ = 0): median of K random δ vs the worst δ")
    files = save_figure(fig, ctx.out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        "most-case band vs one PGA worst-case direction at equal norm; edges per capability; "
                        "most/worst edge ratios " + ", ".join(f"{c} {r}" for c, r in zip(toy.CAPABILITIES, ratios)))

