"""Figure 4: SFT-case landscapes along benign, normal and adversarial fine-tuning directions.

δ = (θ_sft − θ₀)·√d/‖θ_sft − θ₀‖ (landscape DirectionSpec "sft"), so α shares the per-coordinate unit of
the random directions; the fine-tuned model itself sits at α_sft = ‖θ_sft − θ₀‖/√d (dotted line). The
grey band is the median and order-statistic band of the K random directions for the same capability.
"""

from __future__ import annotations

import math
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

NAME = "fig04_sft_case"
TITLE = "SFT-case landscapes: benign, normal, adversarial fine-tuning directions (from the aligned model)"


def sft_direction(kind: str):
    from landscape.directions import DirectionSpec
    from paper_figures import toy

    tuned = toy.transformer(kind)
    return DirectionSpec.sft({n: p.detach().clone() for n, p in tuned.named_parameters()})


def sft_data(run: FigureRun, kind: str) -> dict:
    """Landscapes of every capability along the `kind` fine-tuning direction, and α_sft."""
    from landscape.certificates import parameter_distance
    from paper_figures import measure, toy

    def compute():
        base, tuned = toy.transformer("align"), toy.transformer(kind)
        distance = parameter_distance(base, tuned)
        return {"distance": distance, "alpha_sft": distance / math.sqrt(toy.parameter_count(base))}

    info = run.cached(f"sft_{kind}_distance", compute)
    alphas = sorted(set(measure.grid(run)) | {info["alpha_sft"], -info["alpha_sft"]})
    lands = {cap: measure.landscape(run, cap, alphas, directions=lambda: [sft_direction(kind)],
                                    label=f"sft-{kind}") for cap in toy.CAPABILITIES}
    return {**info, "landscapes": lands}


def data(run: FigureRun) -> dict:
    from paper_figures import measure, toy

    return {"kinds": {kind: sft_data(run, kind) for kind in toy.FINETUNE_KINDS},
            "random_basic": measure.landscape(run, "basic", measure.grid(run)),
            "basic_chance": toy.capability_scores(run)["basic"].chance}


def work(run: FigureRun) -> Work:
    from paper_figures import cost, toy

    works = [toy.landscape_work(run, [("align", "basic", "random")])]
    for kind in toy.FINETUNE_KINDS:
        w = toy.landscape_work(run, [("align", cap, f"sft-{kind}") for cap in toy.CAPABILITIES], k=1,
                               n_alphas=toy.sizes(run).grid_points + 2)
        if w.evals:
            w = toy.merge(w, cost.Work(toy.transformer_jobs(kind)))
        works.append(w)
    return toy.merge(*works)


def plot(d: dict, out: Path) -> FigureResult:
    kinds = d["kinds"]
    fig, axes = new_figure(len(kinds), height=5.0)
    notes = []
    random_basic = d["random_basic"]
    for ax, (kind, k) in zip(axes, kinds.items()):
        for i, (cap, land) in enumerate(k["landscapes"].items()):
            ax.plot(land["alphas"], values(land)[0], color=color(i), linewidth=1.8, label=f"{cap} along SFT δ")
        plot_curves(ax, random_basic["alphas"], values(random_basic), label="basic, random δ",
                    color_index=7, show_members=False)
        ax.axvline(k["alpha_sft"], color="0.2", linestyle=":", label=f"θ_sft (α = {k['alpha_sft']:.3g})")
        chance_line(ax, d["basic_chance"], label="basic chance")
        score_axis(ax, "score")
        finish_axes(ax, title=f"{kind} fine-tune, ‖θ_sft − θ₀‖ = {k['distance']:.3g}", xlabel=ALPHA_LABEL,
                    legend_below=True)
        notes.append(f"{kind} α_sft={k['alpha_sft']:.3g}")
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        "capability scores along each normalised fine-tuning direction vs random; " + ", ".join(notes))


FIGURE = Figure(NAME, TITLE, data, plot, work)
