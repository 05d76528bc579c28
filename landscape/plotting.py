"""Shared plotting helpers for landscape figures (paper_figures and llm_check reports).

Conventions: raw scores by default with the score's chance rate drawn as a dashed line (the paper's
min–max transform, `minmax_loss`, is an option: it hides whether a collapse reaches chance); every α axis
names its unit (per-coordinate σ for raw Gaussian directions, ‖Δθ‖₂ for distances); a set of K curves is
drawn as thin lines plus the median with a distribution-free order-statistic band for the median
(theory.stats.median_interval, coverage as stated by the interval). Figures are written as PNG and PDF.
matplotlib runs headless (Agg); no torch is needed here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from theory.errors import UserInputError  # noqa: E402
from theory.estimate import Estimate  # noqa: E402
from theory.stats import median_interval  # noqa: E402

ALPHA_LABEL = "α (per-coordinate σ of the step; ‖αδ‖ ≈ α√d)"
DISTANCE_LABEL = "‖Δθ‖₂ (Euclidean parameter distance)"
SIGMA_LABEL = "σ (per-coordinate noise std)"
RELATIVE_SIGMA_LABEL = "relative σ (θ ⊙ (1 + σz), rescaling-invariant)"
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def minmax_loss(values: np.ndarray) -> np.ndarray:
    """The paper's plot transform per curve (last axis): loss = 1 − S, minus its min, divided by its max
    (a constant curve maps to 0)."""
    loss = 1.0 - np.asarray(values, dtype=np.float64)
    loss = loss - loss.min(axis=-1, keepdims=True)
    top = loss.max(axis=-1, keepdims=True)
    return np.divide(loss, top, out=np.zeros_like(loss), where=top > 0)


def median_band(values: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of a (K, n) array: median and the order-statistic interval of the median."""
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if v.shape[0] < 1:
        raise UserInputError("median_band needs at least one curve")
    ests = [median_interval(v[:, i], confidence) for i in range(v.shape[1])]
    return (np.array([e.estimate for e in ests]), np.array([e.lo for e in ests]),
            np.array([e.hi for e in ests]))


def plot_curves(ax, x: Sequence[float], values: np.ndarray, *, label: str, color_index: int = 0,
                confidence: float = 0.95, show_members: bool = True, minmax: bool = False) -> None:
    """K curves (rows of `values`) over x: thin members, bold median, shaded order-statistic band."""
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if minmax:
        v = minmax_loss(v)
    c = color(color_index)
    if show_members:
        for row in v:
            ax.plot(x, row, color=c, alpha=0.18, linewidth=0.7)
    med, lo, hi = median_band(v, confidence)
    k = v.shape[0]
    ax.plot(x, med, color=c, linewidth=2.0, label=f"{label} (median of K={k})")
    if k > 1:
        ax.fill_between(x, lo, hi, color=c, alpha=0.25, linewidth=0,
                        label=f"order-statistic CI of the median (≥{min(confidence, 1 - 2.0 ** (1 - k)):.0%})")


def plot_estimates(ax, x: Sequence[float], estimates: Sequence[Estimate], *, label: str, color_index: int = 0,
                   marker: str = "o", linestyle: str = "-") -> None:
    """Point estimates joined by a line, their confidence intervals as a shaded band (infinite ends clipped)."""
    est = np.array([e.estimate for e in estimates], dtype=np.float64)
    lo = np.array([e.lo for e in estimates], dtype=np.float64)
    hi = np.array([e.hi for e in estimates], dtype=np.float64)
    c = color(color_index)
    ax.plot(x, est, marker=marker, linestyle=linestyle, color=c, label=label)
    finite = np.isfinite(lo) & np.isfinite(hi)
    if finite.any():
        ax.fill_between(np.asarray(x, dtype=np.float64)[finite], lo[finite], hi[finite], color=c, alpha=0.2,
                        linewidth=0)


def error_points(ax, x: Sequence[float], estimates: Sequence[Estimate], *, label: str, color_index: int = 0,
                 marker: str = "o") -> None:
    """Point estimates with interval error bars (an infinite upper end drawn as an arrow-free cap at 2×)."""
    est = np.array([e.estimate for e in estimates], dtype=np.float64)
    lo = np.array([e.lo for e in estimates], dtype=np.float64)
    hi = np.array([e.hi for e in estimates], dtype=np.float64)
    hi = np.where(np.isfinite(hi), hi, np.where(np.isfinite(est), 2 * np.abs(est), np.nan))
    lo = np.where(np.isfinite(lo), lo, est)
    err = np.vstack([np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)])
    ax.errorbar(x, est, yerr=err, fmt=marker, color=color(color_index), capsize=3, label=label)


def log_axis(ax, axis: str = "y") -> None:
    """Log scale with plain number ticks at 1, 2, 5 × 10^k (0.01, 0.02, 0.05, ...), not powers of ten;
    only 1 × 10^k when the axis spans more than three decades (the labels would overlap)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    class PlainLogLocator(LogLocator):
        def tick_values(self, vmin, vmax):
            lo, hi = sorted((vmin, vmax))
            wide = lo > 0 and math.log10(hi / lo) > 3
            self.set_params(subs=(1.0,) if wide else (1.0, 2.0, 5.0))
            return super().tick_values(vmin, vmax)

    getattr(ax, f"set_{axis}scale")("log")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(PlainLogLocator(base=10))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


def chance_line(ax, chance: float | None, *, minmax: bool = False, label: str = "chance") -> None:
    """Dashed horizontal line at the score's chance rate (omitted under the min–max transform)."""
    if chance is None or minmax:
        return
    ax.axhline(chance, color="0.35", linestyle="--", linewidth=1.0, label=f"{label} ({chance:.3g})")


def score_axis(ax, score_name: str = "score", *, minmax: bool = False) -> None:
    ax.set_ylabel("min–max normalised loss 1 − S" if minmax else f"{score_name} (fraction correct, raw)")
    if not minmax:
        ax.set_ylim(-0.03, 1.03)


def finish_axes(ax, *, title: str | None = None, xlabel: str | None = None, legend: bool = True,
                legend_below: bool = False) -> None:
    """Title, x label, grid and legend (`legend_below`: under the axes, so it never hides the curves)."""
    if title:
        ax.set_title(title, fontsize=10)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ax.get_xscale() == "linear":
        ax.locator_params(axis="x", nbins=6)
    ax.grid(alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        if legend_below:
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
        else:
            ax.legend(fontsize=7, loc="best")


def new_figure(n_panels: int = 1, *, width_per_panel: float = 4.6, height: float = 3.6, ncols: int | None = None):
    """(fig, flat list of axes) for n_panels panels in one row (or `ncols` columns)."""
    ncols = ncols or n_panels
    nrows = -(-n_panels // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width_per_panel * ncols, height * nrows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def message_panel(ax, text: str) -> None:
    """A panel that states in words why there is nothing to plot (never fake data)."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=9,
            transform=ax.transAxes, bbox={"boxstyle": "round", "facecolor": "0.95", "edgecolor": "0.6"})


def save_figure(fig, out_dir: str | Path, stem: str, *, suptitle: str | None = None) -> list[Path]:
    """Write `stem`.png (150 dpi) and `stem`.pdf into out_dir; closes the figure; returns both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    paths = [out / f"{stem}.png", out / f"{stem}.pdf"]
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths
