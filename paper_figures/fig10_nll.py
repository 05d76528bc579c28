"""Figure 10: the smooth NLL control next to the 0–1 basic score, along the same K directions.

Both landscapes use the raw Gaussian direction seeds 0..K−1, so each NLL curve and 0–1 curve share a δ.
"""

from __future__ import annotations

from landscape.plotting import (
    ALPHA_LABEL,
    chance_line,
    finish_axes,
    log_axis,
    new_figure,
    plot_curves,
    save_figure,
    score_axis,
)
from paper_figures import measure, toy
from paper_figures.context import RunContext
from paper_figures.figure import PLOTTED, FigureResult

NAME = "fig10_nll"
TITLE = "NLL (smooth) vs 0–1 score (basin) along the same directions"


def make(ctx: RunContext) -> FigureResult:
    alphas = measure.grid(ctx)
    basic = measure.landscape(ctx, "basic", alphas)
    nll = measure.landscape(ctx, "nll", alphas)
    fig, (left, right) = new_figure(2)
    plot_curves(left, basic["alphas"], measure.values(basic), label="basic 0–1 score", minmax=ctx.minmax)
    chance_line(left, toy.capability_scores(ctx)["basic"].chance, minmax=ctx.minmax)
    score_axis(left, "basic", minmax=ctx.minmax)
    finish_axes(left, title="0–1 exact match: flat, then collapse", xlabel=ALPHA_LABEL)
    plot_curves(right, nll["alphas"], measure.values(nll), label="token NLL", color_index=3)
    right.set_ylabel("mean token NLL (nats per target token)")
    log_axis(right, "y")
    finish_axes(right, title="NLL along the same δ: smooth, no plateau", xlabel=ALPHA_LABEL)
    files = save_figure(fig, ctx.out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        "basic exact-match score and token NLL along the same K Gaussian directions")
