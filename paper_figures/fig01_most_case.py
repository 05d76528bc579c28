"""Figure 1: most-case landscapes per capability — K raw Gaussian directions, median and band, chance.

α is the per-coordinate σ of the step (raw, unnormalised N(0, I_d) directions over all parameters).
With --llm-results, every stored llm_check landscape gets its own panel.
"""

from __future__ import annotations

from landscape.plotting import (
    ALPHA_LABEL,
    chance_line,
    finish_axes,
    new_figure,
    plot_curves,
    save_figure,
    score_axis,
)
from paper_figures import llm_results, measure, toy
from paper_figures.context import RunContext
from paper_figures.figure import PLOTTED, FigureResult

NAME = "fig01_most_case"
TITLE = "Most-case landscapes per capability (toy transformer, aligned)"


def make(ctx: RunContext) -> FigureResult:
    alphas = measure.grid(ctx)
    scores = toy.capability_scores(ctx)
    llm = llm_results.landscapes(ctx.llm_results)
    fig, axes = new_figure(len(toy.CAPABILITIES) + len(llm), ncols=2)
    for i, cap in enumerate(toy.CAPABILITIES):
        data = measure.landscape(ctx, cap, alphas)
        plot_curves(axes[i], data["alphas"], measure.values(data), label=cap, color_index=i, minmax=ctx.minmax)
        chance_line(axes[i], scores[cap].chance, minmax=ctx.minmax)
        score_axis(axes[i], cap, minmax=ctx.minmax)
        finish_axes(axes[i], title=f"{cap}: S(θ₀) = {data['baseline']:.3f}", xlabel=ALPHA_LABEL)
    for j, (name, data) in enumerate(llm, start=len(toy.CAPABILITIES)):
        plot_curves(axes[j], data["alphas"], measure.values(data), label=str(data.get("score", "score")),
                    color_index=j, minmax=ctx.minmax)
        score_axis(axes[j], str(data.get("score", "score")), minmax=ctx.minmax)
        finish_axes(axes[j], title=f"llm_check: {name}", xlabel=ALPHA_LABEL)
    files = save_figure(fig, ctx.out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        f"S(θ₀+αδ) for K={toy.sizes(ctx).k} Gaussian directions per capability"
                        + (f", plus {len(llm)} llm_check panel(s)" if llm else ""))
