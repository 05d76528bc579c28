"""Figure 4: SFT-case landscapes along benign, normal and adversarial fine-tuning directions.

δ = (θ_sft − θ₀)·√d/‖θ_sft − θ₀‖ (landscape DirectionSpec "sft"), so α shares the per-coordinate unit of
the random directions; the fine-tuned model itself sits at α_sft = ‖θ_sft − θ₀‖/√d (dotted line). The
grey band is the median and order-statistic band of the K random directions for the same capability.
"""

from __future__ import annotations

import math

from landscape.certificates import parameter_distance
from landscape.directions import DirectionSpec
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
from paper_figures import measure, toy
from paper_figures.context import RunContext
from paper_figures.figure import PLOTTED, FigureResult

NAME = "fig04_sft_case"
TITLE = "SFT-case landscapes: benign, normal, adversarial fine-tuning directions (from the aligned model)"


def sft_direction(kind: str) -> DirectionSpec:
    tuned = toy.transformer(kind)
    return DirectionSpec.sft({n: p.detach().clone() for n, p in tuned.named_parameters()})


def sft_data(ctx: RunContext, kind: str) -> dict:
    """Landscapes of every capability along the `kind` fine-tuning direction, and α_sft."""

    def compute():
        base, tuned = toy.transformer("align"), toy.transformer(kind)
        distance = parameter_distance(base, tuned)
        return {"distance": distance, "alpha_sft": distance / math.sqrt(toy.parameter_count(base))}

    info = ctx.cached(f"sft_{kind}_distance", compute)
    alphas = sorted(set(measure.grid(ctx)) | {info["alpha_sft"], -info["alpha_sft"]})
    lands = {cap: measure.landscape(ctx, cap, alphas, directions=lambda: [sft_direction(kind)],
                                    label=f"sft-{kind}") for cap in toy.CAPABILITIES}
    return {**info, "landscapes": lands}


def make(ctx: RunContext) -> FigureResult:
    alphas = measure.grid(ctx)
    scores = toy.capability_scores(ctx)
    fig, axes = new_figure(len(toy.FINETUNE_KINDS), height=5.0)
    notes = []
    for ax, kind in zip(axes, toy.FINETUNE_KINDS):
        data = sft_data(ctx, kind)
        for i, cap in enumerate(toy.CAPABILITIES):
            land = data["landscapes"][cap]
            ax.plot(land["alphas"], measure.values(land)[0], color=color(i), linewidth=1.8,
                    label=f"{cap} along SFT δ")
        random_basic = measure.landscape(ctx, "basic", alphas)
        plot_curves(ax, random_basic["alphas"], measure.values(random_basic), label="basic, random δ",
                    color_index=7, show_members=False)
        ax.axvline(data["alpha_sft"], color="0.2", linestyle=":", label=f"θ_sft (α = {data['alpha_sft']:.3g})")
        chance_line(ax, scores["basic"].chance, label="basic chance")
        score_axis(ax, "score")
        finish_axes(ax, title=f"{kind} fine-tune, ‖θ_sft − θ₀‖ = {data['distance']:.3g}", xlabel=ALPHA_LABEL,
                    legend_below=True)
        notes.append(f"{kind} α_sft={data['alpha_sft']:.3g}")
    files = save_figure(fig, ctx.out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        "capability scores along each normalised fine-tuning direction vs random; " + ", ".join(notes))
