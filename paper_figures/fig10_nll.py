"""Figure 10: the smooth NLL control next to the 0–1 basic score, along the same K directions.

Both landscapes use the raw Gaussian direction seeds 0..K−1, so each NLL curve and 0–1 curve share a δ.
"""

from __future__ import annotations

from pathlib import Path

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
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from paper_figures.stored import values

NAME = "fig10_nll"
TITLE = "NLL (smooth) vs 0–1 score (basin) along the same directions"


def data(run: FigureRun) -> dict:
    from paper_figures import measure, toy

    alphas = measure.grid(run)
    return {"basic": measure.landscape(run, "basic", alphas), "nll": measure.landscape(run, "nll", alphas),
            "chance": toy.capability_scores(run)["basic"].chance, "minmax": run.minmax}


def work(run: FigureRun) -> Work:
    from paper_figures import toy

    return toy.landscape_work(run, [("align", "basic", "random"), ("align", "nll", "random")])


def plot(d: dict, out: Path) -> FigureResult:
    basic, nll, minmax = d["basic"], d["nll"], d["minmax"]
    fig, (left, right) = new_figure(2)
    plot_curves(left, basic["alphas"], values(basic), label="basic 0–1 score", minmax=minmax)
    chance_line(left, d["chance"], minmax=minmax)
    score_axis(left, "basic", minmax=minmax)
    finish_axes(left, title="0–1 exact match: flat, then collapse", xlabel=ALPHA_LABEL)
    plot_curves(right, nll["alphas"], values(nll), label="token NLL", color_index=3)
    right.set_ylabel("mean token NLL (nats per target token)")
    log_axis(right, "y")
    finish_axes(right, title="NLL along the same δ: smooth, no plateau", xlabel=ALPHA_LABEL)
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        "basic exact-match score and token NLL along the same K Gaussian directions")


FIGURE = Figure(NAME, TITLE, data, plot, work)
