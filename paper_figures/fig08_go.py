"""Figure 8: GO vs plain training — landscapes, and forgetting under the same later fine-tune.

Left: width-64 MLP trained plainly (AdamW) and with the Gaussian-augmented optimizer (σ_train = ½ × the
plain median edge at τ = ½(S(θ₀) − chance), per coordinate), 1-D accuracy landscapes over the same
K raw Gaussian directions.
Right: both models then fine-tuned identically on a new teacher task; old-task accuracy (solid) and
new-task accuracy (dashed) over the fine-tune steps.
"""

from __future__ import annotations

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
from paper_figures import measure, mlp_runs
from paper_figures.context import RunContext
from paper_figures.figure import PLOTTED, FigureResult

NAME = "fig08_go"
TITLE = "GO vs plain training: landscapes and forgetting under the same later fine-tune (MLP)"


def data(ctx: RunContext) -> dict:
    return ctx.cached("go_comparison", lambda: mlp_runs.go_comparison(ctx))


def make(ctx: RunContext) -> FigureResult:
    d = data(ctx)
    fig, (left, right) = new_figure(2, width_per_panel=5.4, height=4.0)
    notes = []
    for i, (label, m) in enumerate(d["models"].items()):
        land = m["landscape"]
        plot_curves(left, land["alphas"], measure.values(land), label=label, color_index=i, minmax=ctx.minmax)
        pts = m["forgetting"]["points"]
        steps = [p["step"] for p in pts]
        right.plot(steps, [p["old"] for p in pts], color=color(i), marker="o", label=f"{label}: old task")
        right.plot(steps, [p["new"] for p in pts], color=color(i), linestyle="--", label=f"{label}: new task")
        notes.append(f"{label}: old-task acc {pts[0]['old']:.3f}→{pts[-1]['old']:.3f}")
    chance_line(left, d["chance"], minmax=ctx.minmax)
    score_axis(left, "accuracy", minmax=ctx.minmax)
    finish_axes(left, title="accuracy landscapes (same directions)", xlabel=ALPHA_LABEL)
    right.set_ylabel("held-out accuracy (raw)")
    right.set_ylim(-0.03, 1.03)
    finish_axes(right, title="later fine-tune on a new teacher task", xlabel="fine-tune step")
    files = save_figure(fig, ctx.out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED, "; ".join(notes))
