"""Figure 5: Clopper–Pearson strict-basin certification — fraction of exactly flat directions vs α.

Same K′ ≥ 51 fresh directions as Table 1 (not those that set the edge); band = two-sided 99 % CP
interval; the dotted line at 0.9 is the paper's headline threshold (> 90 % flat at 99 % confidence).
"""

from __future__ import annotations

from pathlib import Path

from landscape.plotting import finish_axes, new_figure, plot_estimates, save_figure
from paper_figures import table01_inside_basin as table01
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from theory.estimate import Estimate

NAME = "fig05_strict_basin"
TITLE = "Strict-basin certification: fraction of flat directions (K′ fresh, 99 % Clopper–Pearson)"


def plot(data: dict, out: Path) -> FigureResult:
    fig, (ax,) = new_figure(1, width_per_panel=6.5, height=4.0)
    edge = data["edge"]["estimate"]
    for i, (cap, land) in enumerate(data["landscapes"].items()):
        pts = [(a, Estimate.from_dict(e)) for a, e in zip(land["alphas"], land["strict_basin_fraction"]) if a > 0]
        plot_estimates(ax, [a / edge for a, _ in pts], [e for _, e in pts], label=cap, color_index=i)
    ax.axhline(0.9, color="0.3", linestyle=":", label="0.9 (paper's threshold)")
    ax.set_ylabel("fraction of directions with S(θ₀+αδ) = S(θ₀)")
    ax.set_ylim(-0.03, 1.03)
    finish_axes(ax, title=f"K′ = {data['k_fresh']} fresh directions; α_edge = {edge:.3g} "
                f"per coordinate (basic median edge)", xlabel="α / α_edge (α per-coordinate σ)")
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        "flat fraction vs α/α_edge per capability with 99 % CP bands, K′ fresh directions")


FIGURE = Figure(NAME, TITLE, table01.data, plot, table01.work)
