"""Figure 9: the enlargement factor σ_basin(GO) / σ_basin(control) vs width — the "5×" claim.

The pre-registered protocol's primary arm (m = 5; theory.claims.protocol, toymodels.enlarge) per width and
training seed: factors with intervals [lo_GO/hi_control, hi_GO/lo_control], left in canonical raw σ (the
deciding unit), right in multiplicative σ, the claimed 5× as a dotted line. The unit control, where it ran:
a random function-preserving rescaling of the control, whose raw σ-basin ratio (plus, drawn 10 % to the
right) may move away from 1 while its canonical ratio (cross, 20 % to the right) must stay at 1.
A lower interval end at 0 cannot be drawn on the log axis: such whiskers run to the bottom of the panel
and end in a downward triangle, explained in the legend ("lower end 0, clipped").
Entries whose verdict is "not-measured" (e.g. GO's clean score collapsed, so its "basin" is the flat floor
at chance) get no GO point — only their control — and are named under the panels instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landscape.plotting import color, finish_axes, log_axis, new_figure, save_figure
from paper_figures import enlargement
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from theory.estimate import Estimate

NAME = "fig09_enlargement"
TITLE = "Enlargement factor of GO vs width (claim: 5×), raw and invariant units, with the control"
CLIPPED_LABEL = "lower end 0 (clipped at the axis)"


def data(run: FigureRun) -> list[dict]:
    return enlargement.entries(run)


def work(run: FigureRun) -> Work:
    return enlargement.sweep_work(run)


def measured(rows: list[dict]) -> list[dict]:
    """The entries whose GO factor is a measurement (verdict not "not-measured …")."""
    return [r for r in rows if not str(r.get("verdict", "")).startswith("not-measured")]


def clipped(estimates: list[Estimate]) -> list[bool]:
    """Which intervals have a lower end ≤ 0 (not drawable on a log axis)."""
    return [not (e.lo > 0) for e in estimates]


def log_points(ax, x: list[float], estimates: list[Estimate], *, label: str, color_index: int, marker: str = "o",
               floor: float) -> int:
    """Points with interval whiskers on a log y axis; a lower end ≤ 0 is drawn down to `floor` and marked
    with a downward triangle there; an infinite upper end is drawn to 2 × the estimate. Returns how many
    were clipped."""
    est = np.array([e.estimate for e in estimates], dtype=np.float64)
    lo = np.array([e.lo if e.lo > 0 else floor for e in estimates], dtype=np.float64)
    hi = np.array([e.hi if np.isfinite(e.hi) else 2 * abs(e.estimate) for e in estimates], dtype=np.float64)
    err = np.vstack([np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)])
    ax.errorbar(x, est, yerr=err, fmt=marker, color=color(color_index), capsize=3, label=label)
    cut = [xi for xi, c in zip(x, clipped(estimates)) if c]
    if cut:
        ax.plot(cut, [floor] * len(cut), linestyle="none", marker="v", markersize=7, color=color(color_index))
    return len(cut)


def plot(data: list[dict], out: Path) -> FigureResult:
    groups = enlargement.groups(data)
    fig, axes = new_figure(2, width_per_panel=5.6, height=5.2)
    n_clipped = 0
    controls = [e for e in data if e["protocol"].get("unit_control")]
    for ax, key, unit in ((axes[0], "factor", "canonical raw σ"), (axes[1], "factor_multiplicative", "multiplicative σ")):
        series = []
        for i, ((kind, param, seed), rows) in enumerate(groups.items()):
            go_rows = measured(rows)
            if go_rows:
                series.append(([r["params"] for r in go_rows], [Estimate.from_dict(r[key]) for r in go_rows],
                               f"GO/control, {kind} ({param}) seed {seed}", i, "o"))
        if key == "factor" and controls:
            uc = [e["protocol"]["unit_control"] for e in controls]
            series.append(([1.1 * e["params"] for e in controls], [Estimate.from_dict(u["raw_ratio"]) for u in uc],
                           "unit control: raw σ-basin, rescaled / original", len(groups), "+"))
            series.append(([1.2 * e["params"] for e in controls],
                           [Estimate.from_dict(u["canonical_ratio"]) for u in uc],
                           "unit control: canonical σ-basin, rescaled / original", len(groups) + 1, "x"))
        positive = [v for _, ests, *_ in series for e in ests for v in (e.lo, e.estimate) if v > 0 and np.isfinite(v)]
        floor = min(positive + [1.0]) / 3
        for x, ests, label, i, marker in series:
            n_clipped += log_points(ax, x, ests, label=label, color_index=i, marker=marker, floor=floor)
        if any(any(clipped(ests)) for _, ests, *_ in series):
            ax.plot([], [], linestyle="none", marker="v", color="0.3", label=CLIPPED_LABEL)
        ax.axhline(5.0, color="0.3", linestyle=":", label="claimed 5×")
        ax.axhline(1.0, color="0.6", linestyle="-", linewidth=0.8)
        log_axis(ax, "x")
        log_axis(ax, "y")
        ax.set_ylim(bottom=floor / 1.5)
        ax.set_ylabel(f"σ-basin ratio ({unit})")
        finish_axes(ax, title=f"factor in {unit}", xlabel="parameters d", legend_below=True)
    skipped = [e for e in data if e not in measured(data)]
    if skipped:
        names = ", ".join(f"{e['kind']}-{e['parameterisation']}-{e['width']}-s{e['seed']}" for e in skipped)
        fig.text(0.5, 0.005, f"no GO point (not measured: {skipped[0]['verdict'].removeprefix('not-measured ').strip('()')}): "
                 f"{names}", ha="center", va="bottom", fontsize=8, wrap=True)
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    verdicts = ", ".join(f"{e['kind']}-{e['width']}-s{e['seed']}: {e['verdict']}" for e in data)
    note = f"; {n_clipped} lower interval end(s) at 0 drawn clipped (▼)" if n_clipped else ""
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED, f"GO/control σ-basin factors vs d; {verdicts}{note}")


FIGURE = Figure(NAME, TITLE, data, plot, work)
