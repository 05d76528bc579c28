"""Figure 8: GO vs plain training — landscapes, and forgetting under the same later fine-tune.

Left: width-64 MLP trained plainly (AdamW) and with the Gaussian-augmented optimizer (σ_train = ½ × the
plain median edge at τ = ½(S(θ₀) − chance), per coordinate), 1-D accuracy landscapes over the same
K raw Gaussian directions.
Right: both models then fine-tuned identically on a new teacher task; old-task accuracy (solid) and
new-task accuracy (dashed) over the fine-tune steps.
"""

from __future__ import annotations

from pathlib import Path

from landscape.plotting import (
    ALPHA_LABEL,
    chance_line,
    color,
    finish_axes,
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

NAME = "fig08_go"
TITLE = "GO vs plain training: landscapes and forgetting under the same later fine-tune (MLP)"


def data(ctx: FigureRun) -> dict:
    from paper_figures import mlp_runs

    return ctx.cached("go_comparison", lambda: mlp_runs.go_comparison(ctx))


def plot_data(run: FigureRun) -> dict:
    """The stored comparison plus the plot option --minmax."""
    return {**data(run), "minmax": run.minmax}


def work(run: FigureRun) -> Work:
    from paper_figures import mlp_runs

    return mlp_runs.go_comparison_work(run)


def plot(d: dict, out: Path) -> FigureResult:
    minmax = d["minmax"]
    fig, (left, right) = new_figure(2, width_per_panel=5.4, height=4.0)
    notes = []
    for i, (label, m) in enumerate(d["models"].items()):
        land = m["landscape"]
        plot_curves(left, land["alphas"], values(land), label=label, color_index=i, minmax=minmax)
        pts = m["forgetting"]["points"]
        steps = [p["step"] for p in pts]
        right.plot(steps, [p["old"] for p in pts], color=color(i), marker="o", label=f"{label}: old task")
        right.plot(steps, [p["new"] for p in pts], color=color(i), linestyle="--", label=f"{label}: new task")
        notes.append(f"{label}: old-task acc {pts[0]['old']:.3f}→{pts[-1]['old']:.3f}")
    chance_line(left, d["chance"], minmax=minmax)
    score_axis(left, "accuracy", minmax=minmax)
    finish_axes(left, title="accuracy landscapes (same directions)", xlabel=ALPHA_LABEL)
    right.set_ylabel("held-out accuracy (raw)")
    right.set_ylim(-0.03, 1.03)
    finish_axes(right, title="later fine-tune on a new teacher task", xlabel="fine-tune step")
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED, "; ".join(notes))


FIGURE = Figure(NAME, TITLE, plot_data, plot, work)
