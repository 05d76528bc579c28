"""Figure 2: σ-basin vs parameter count of the plainly trained models of the width sweep, in two invariant units.

σ-basin (Def. 4.1, τ per entry as in toymodels.enlarge) of the σ_train = 0 controls of the width sweep,
one series per (model family, training seed), 97.5 % intervals; left in raw σ per coordinate on each model's
canonical (minimum-norm) representative under its function-preserving rescalings (landscape.symmetries),
right in the relative unit of θ ⊙ (1 + σz). σ-basins are read off a geometric σ grid (the 5x protocol's
ratio), so equal values are grid-limited; each point is drawn at the measured grid value with its interval,
and the caption states only the trend that the intervals resolve (first vs last width of each series).
"""

from __future__ import annotations

from pathlib import Path

from landscape.plotting import (
    RELATIVE_SIGMA_LABEL,
    SIGMA_LABEL,
    error_points,
    finish_axes,
    log_axis,
    new_figure,
    save_figure,
)
from paper_figures import enlargement
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from theory.estimate import Estimate

NAME = "fig02_scale"
TITLE = "σ-basin of plainly trained models vs parameter count"
UNITS = (("sigma_basin", "raw σ per coordinate, canonical"),
         ("sigma_basin_multiplicative", "relative σ of θ ⊙ (1 + σz)"))


def data(run: FigureRun) -> dict:
    from theory.claims.protocol import FIVE_X_PROTOCOL

    return {"entries": enlargement.entries(run), "grid_ratio": FIVE_X_PROTOCOL.max_grid_ratio}


def work(run: FigureRun) -> Work:
    return enlargement.sweep_work(run)


def trend(rows: list[dict], key: str) -> str:
    """"grows" / "shrinks" when the widest model's interval lies above / below the narrowest's, else
    "not resolved"."""
    if len(rows) < 2:
        return "one width only"
    rows = [r for r in rows if r[key]["before"] is not None]
    if len(rows) < 2:
        return "fewer than two widths measured"
    first, last = Estimate.from_dict(rows[0][key]["before"]), Estimate.from_dict(rows[-1][key]["before"])
    if last.lo > first.hi:
        return "grows"
    if last.hi < first.lo:
        return "shrinks"
    return "not resolved"


def plot(d: dict, out: Path) -> FigureResult:
    from matplotlib.ticker import LogLocator

    groups = enlargement.groups(d["entries"])
    fig, axes = new_figure(2, width_per_panel=5.6, height=5.2)
    trends = []
    for ax, (key, label) in zip(axes, UNITS):
        unit = "canonical raw" if key == "sigma_basin" else "multiplicative"
        for i, ((kind, param, seed), rows) in enumerate(groups.items()):
            trends.append(f"{kind} ({param}) seed {seed}, {unit}: {trend(rows, key)}")
            shown = [r for r in rows if r[key]["before"] is not None]
            error_points(ax, [r["params"] for r in shown], [Estimate.from_dict(r[key]["before"]) for r in shown],
                         label=f"{kind} ({param}) seed {seed}", color_index=i)
        log_axis(ax, "x")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0,)))  # 1, 2, 5 × 10^k labels collide on 2–3 decades
        log_axis(ax, "y")
        ax.set_ylabel(f"σ-basin ({label})")
        finish_axes(ax, title=SIGMA_LABEL if key == "sigma_basin" else RELATIVE_SIGMA_LABEL,
                    xlabel="parameters d", legend_below=True)
    grows = [t for t in trends if t.endswith(": grows")]
    headline = ("σ-basin grows with d where the intervals resolve it" if grows and len(grows) == len(trends)
                else f"σ-basin growth with d resolved in {len(grows)} of {len(trends)} series")
    fig.text(0.5, 0.005, f"points: σ-basin on a geometric σ grid (step ×{d['grid_ratio']:.3g}; equal values are "
             "grid-limited); "
             "bars: 97.5 % interval. Widest vs narrowest: " + "; ".join(trends), ha="center", va="bottom",
             fontsize=6.5, wrap=True)
    files = save_figure(fig, out, NAME, suptitle=f"{TITLE}: {headline}")
    n = sum(len(v) for v in groups.values())
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        f"σ-basin (97.5 % CI) of {n} plainly trained models vs d; " + "; ".join(trends))


FIGURE = Figure(NAME, TITLE, data, plot, work)
