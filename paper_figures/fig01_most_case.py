"""Figure 1: most-case landscapes per capability — K raw Gaussian directions, median and band, chance.

α is the per-coordinate σ of the step (raw, unnormalised N(0, I_d) directions over all parameters).
With --llm-results, every stored llm_check landscape gets its own panel.
"""

from __future__ import annotations

from pathlib import Path

from landscape.plotting import (
    ALPHA_LABEL,
    chance_line,
    finish_axes,
    new_figure,
    plot_curves,
    save_figure,
    score_axis,
)
from paper_figures import llm_results
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from paper_figures.stored import values

NAME = "fig01_most_case"
TITLE = "Most-case landscapes per capability (toy transformer, aligned)"


def data(run: FigureRun) -> dict:
    from paper_figures import measure, toy

    alphas = measure.grid(run)
    scores = toy.capability_scores(run)
    return {"k": toy.sizes(run).k, "minmax": run.minmax,
            "panels": [{"capability": cap, "chance": scores[cap].chance, "landscape": measure.landscape(run, cap, alphas)}
                       for cap in toy.CAPABILITIES],
            "llm": [{"name": name, "landscape": land} for name, land in llm_results.landscapes(run.llm_results)]}


def work(run: FigureRun) -> Work:
    from paper_figures import toy

    return toy.landscape_work(run, [("align", cap, "random") for cap in toy.CAPABILITIES])


def plot(d: dict, out: Path) -> FigureResult:
    panels, llm, minmax = d["panels"], d["llm"], d["minmax"]
    fig, axes = new_figure(len(panels) + len(llm), ncols=2)
    for i, p in enumerate(panels):
        land, cap = p["landscape"], p["capability"]
        plot_curves(axes[i], land["alphas"], values(land), label=cap, color_index=i, minmax=minmax)
        chance_line(axes[i], p["chance"], minmax=minmax)
        score_axis(axes[i], cap, minmax=minmax)
        finish_axes(axes[i], title=f"{cap}: S(θ₀) = {land['baseline']:.3f}", xlabel=ALPHA_LABEL)
    for j, item in enumerate(llm, start=len(panels)):
        land = item["landscape"]
        plot_curves(axes[j], land["alphas"], values(land), label=str(land.get("score", "score")),
                    color_index=j, minmax=minmax)
        score_axis(axes[j], str(land.get("score", "score")), minmax=minmax)
        finish_axes(axes[j], title=f"llm_check: {item['name']}", xlabel=ALPHA_LABEL)
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        f"S(θ₀+αδ) for K={d['k']} Gaussian directions per capability"
                        + (f", plus {len(llm)} llm_check panel(s)" if llm else ""))


FIGURE = Figure(NAME, TITLE, data, plot, work)
