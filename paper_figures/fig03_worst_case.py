"""Figure 3: worst-case landscapes at the same norm √d as the random directions, next to most-case.

The worst direction maximises the basic-set token NLL (a differentiable surrogate of the 0–1 score) at
θ₀ + α_ref·δ on the sphere ‖δ‖ = √d (landscape.worst_case.worst_case_pga, α_ref = the basic median edge
of random directions), so α has the same per-coordinate unit on both curves. The worst-case landscape is
measured on the linear grid of the random directions plus a log-spaced grid from 1/30 to 30 × its own
edge, and the left panel has a log α axis (α > 0), so an edge far below the random ones is resolved
instead of collapsing into one spike at α ≈ 0. Right panel: the edges.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landscape.plotting import (
    ALPHA_LABEL,
    chance_line,
    color,
    error_points,
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
from paper_figures.stored import single_edge, values
from theory.estimate import Estimate

NAME = "fig03_worst_case"
TITLE = "Worst-case vs most-case landscapes at equal norm ‖δ‖ = √d (basic capability)"
FINE_SPAN = 30.0     # the log grid spans [edge / FINE_SPAN, edge × FINE_SPAN]
FINE_POINTS = 25
LABEL = "worst"
LANDSCAPE_LABEL = "worst-log"


def _worst(n_examples: int, alpha_ref: float, steps: int):
    import torch

    from landscape.worst_case import worst_case_pga
    from paper_figures import toy
    from toymodels.tasks import basic_score
    from toymodels.train import sequence_loss

    data = basic_score(n_examples).data
    loss = sequence_loss(data)
    rows = torch.arange(len(data))
    return worst_case_pga(toy.transformer("align"), lambda m: loss(m, rows), alpha_ref, steps=steps).direction


_DIRECTIONS: dict[tuple, object] = {}


def worst_direction(run: FigureRun):
    """The PGA worst direction (computed once per process and settings)."""
    from paper_figures import measure, toy

    s = toy.sizes(run)
    key = (s.n_examples, measure.basic_edge(run).estimate, s.worst_steps)
    if key not in _DIRECTIONS:
        _DIRECTIONS[key] = _worst(*key)
    return _DIRECTIONS[key]


def worst_grid(linear: list[float], edge: Estimate) -> list[float]:
    """The linear grid plus ±FINE_POINTS log-spaced α around the worst-case edge (when finite and > 0)."""
    fine: list[float] = []
    if np.isfinite(edge.estimate) and edge.estimate > 0:
        fine = np.geomspace(edge.estimate / FINE_SPAN, edge.estimate * FINE_SPAN, FINE_POINTS).tolist()
    return sorted(set(linear) | set(fine) | {-a for a in fine})


def worst_data(run: FigureRun) -> dict:
    """Edges and landscape of every capability along the worst direction."""
    from paper_figures import measure, toy

    out = {}
    for cap in toy.CAPABILITIES:
        edges = measure.first_exit_edges(run, cap, directions=lambda: [worst_direction(run)], label=LABEL)
        alphas = worst_grid(measure.grid(run), single_edge(edges))
        out[cap] = {"edges": edges,
                    "landscape": measure.landscape(run, cap, alphas, directions=lambda: [worst_direction(run)],
                                                   label=LANDSCAPE_LABEL)}
    return out


def data(run: FigureRun) -> dict:
    from paper_figures import measure, toy

    worst = worst_data(run)
    return {"capabilities": list(toy.CAPABILITIES),
            "most": measure.landscape(run, "basic", measure.grid(run)),
            "chance": toy.capability_scores(run)["basic"].chance,
            "most_edges": {cap: measure.first_exit_edges(run, cap)["median"] for cap in toy.CAPABILITIES},
            "worst_edges": {cap: single_edge(worst[cap]["edges"]).to_dict() for cap in toy.CAPABILITIES},
            "worst_landscape": worst["basic"]["landscape"]}


def work(run: FigureRun) -> Work:
    from paper_figures import cost, toy

    caps = toy.CAPABILITIES
    works = [toy.landscape_work(run, [("align", "basic", "random")])]
    works += [toy.edges_work(run, "align", cap) for cap in caps]
    works += [toy.edges_work(run, "align", cap, LABEL, k=1) for cap in caps]
    works += [toy.landscape_work(run, [("align", cap, LANDSCAPE_LABEL)], k=1,
                                 n_alphas=toy.sizes(run).grid_points + 2 * FINE_POINTS) for cap in caps]
    if not all(run.has(f"edges_align_{cap}_{LABEL}") for cap in caps):
        works.append(cost.Work({"tf-worst-pga": (cost.TRANSFORMER, toy.sizes(run).worst_steps)}))
    return toy.merge(*works)


def plot(d: dict, out: Path) -> FigureResult:
    caps = d["capabilities"]
    fig, (left, right) = new_figure(2, width_per_panel=5.6, height=4.8)
    most, wl = d["most"], d["worst_landscape"]
    ma, wa = np.asarray(most["alphas"]), np.asarray(wl["alphas"])
    plot_curves(left, ma[ma > 0], values(most)[:, ma > 0], label="most-case (K random δ)")
    left.plot(wa[wa > 0], values(wl)[0][wa > 0], color="C3", linewidth=2.0, marker=".", markersize=3,
              label="worst-case δ (PGA on NLL)")
    chance_line(left, d["chance"])
    score_axis(left, "basic")
    log_axis(left, "x")
    finish_axes(left, title="basic capability, α > 0 (log axis)", xlabel=ALPHA_LABEL, legend_below=True)
    ratios = []
    for i, cap in enumerate(caps):
        m, w = Estimate.from_dict(d["most_edges"][cap]), Estimate.from_dict(d["worst_edges"][cap])
        error_points(right, [i], [m], label="most-case median edge" if i == 0 else None, color_index=0)
        error_points(right, [i + 0.2], [w], label="worst-case edge (bracket)" if i == 0 else None,
                     color_index=3, marker="v")
        r = f"{m.estimate / w.estimate:.3g}×" if w.estimate > 0 else "–"
        ratios.append(r)
        right.annotate(r, (i, m.estimate), textcoords="offset points", xytext=(-7, 0), ha="right", va="center",
                       fontsize=7, color=color(0))
    right.set_xticks(range(len(caps)), caps, fontsize=8)
    right.set_xlim(-0.7, len(caps) - 0.4)
    log_axis(right, "y")
    right.set_ylabel("edge α_edge (per-coordinate σ)")
    finish_axes(right, title="basin edges (τ = 0); label: most/worst ratio", legend_below=True)
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        "most-case band vs one PGA worst-case direction at equal norm; edges per capability; "
                        "most/worst edge ratios " + ", ".join(f"{c} {r}" for c, r in zip(caps, ratios)))


FIGURE = Figure(NAME, TITLE, data, plot, work)
