"""Figure 7: basin size during training — median basin edge of held-out accuracy at each checkpoint.

One plain (AdamW) training run of the width-64 teacher–student MLP (toymodels.train.train_mlp with
checkpoints); per checkpoint the median over K raw Gaussian directions of α_edge at the collapse
midpoint τ = ½(S(θ₀) − chance), with its order-statistic interval, and the clean accuracy (right axis).
"""

from __future__ import annotations

from pathlib import Path

from landscape.plotting import finish_axes, log_axis, new_figure, plot_estimates, save_figure
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from theory.estimate import Estimate

NAME = "fig07_training"
TITLE = "Basin size during training (MLP, teacher–student accuracy)"


def data(ctx: FigureRun) -> dict:
    from paper_figures import mlp_runs

    return ctx.cached("training_curve", lambda: mlp_runs.training_curve(ctx))


def work(run: FigureRun) -> Work:
    from paper_figures import mlp_runs

    return mlp_runs.training_curve_work(run)


def plot(d: dict, out: Path) -> FigureResult:
    steps = [p["step"] for p in d["points"]]
    fig, (ax,) = new_figure(1, width_per_panel=6.5, height=4.0)
    plot_estimates(ax, steps, [Estimate.from_dict(p["median_edge"]) for p in d["points"]],
                   label="median basin edge α_edge (order-statistic CI)")
    log_axis(ax, "y")
    ax.set_ylabel("α_edge (per-coordinate σ)")
    acc = ax.twinx()
    acc.plot(steps, [p["accuracy"] for p in d["points"]], color="C2", marker="s", linestyle="--",
             label="clean accuracy")
    acc.axhline(d["chance"], color="0.5", linestyle=":", label=f"chance ({d['chance']:.2f})")
    acc.set_ylabel("held-out accuracy (raw)")
    acc.set_ylim(0, 1.03)
    acc.legend(fontsize=7, loc="lower right")
    finish_axes(ax, title=f"width-{d['width']} MLP, one AdamW run", xlabel="training step")
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        f"median α_edge and accuracy at {len(steps)} checkpoints of one MLP training run")


FIGURE = Figure(NAME, TITLE, data, plot, work)
