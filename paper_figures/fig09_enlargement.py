"""Figure 9: the enlargement factor σ_basin(GO) / σ_basin(control) vs width — the "5×" claim.

Every GO arm of the pre-registered protocol (theory.claims.protocol, toymodels.enlarge; m = 5 primary, circles,
m = 2 secondary, squares) per width and training seed (seeds drawn side by side): factors with intervals
[lo_GO/hi_control, hi_GO/lo_control], left in canonical raw σ (the deciding unit), right in multiplicative σ,
each m as a dotted line in its colour. A filled marker passed the clean-score gate; a hollow one did not (its
factor compares a model that lost its clean score, so it decides nothing: the claim is not-measured there).
The unit control, where it ran: a random function-preserving rescaling of the control, whose raw σ-basin
ratio (plus) may move away from 1 while its canonical ratio (cross) must stay at 1.
A lower interval end at 0 cannot be drawn on the log axis: such whiskers run to the bottom of the panel
and end in a downward triangle, explained in the legend ("lower end 0, clipped").
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
TITLE = "Enlargement factor of GO vs width (claim: 5×), canonical raw and multiplicative units"
CLIPPED_LABEL = "lower end 0 (clipped at the axis)"


def data(run: FigureRun) -> list[dict]:
    return enlargement.entries(run)


def work(run: FigureRun) -> Work:
    return enlargement.sweep_work(run)


def measured(rows: list[dict]) -> list[dict]:
    """The entries whose primary factor is a measurement (verdict not "not-measured …")."""
    return [r for r in rows if not str(r.get("verdict", "")).startswith("not-measured")]


def clipped(estimates: list[Estimate]) -> list[bool]:
    """Which intervals have a lower end ≤ 0 (not drawable on a log axis)."""
    return [not (e.lo > 0) for e in estimates]


def log_points(ax, x: list[float], estimates: list[Estimate], *, label: str | None, color_index: int,
               marker: str = "o", floor: float, hollow: bool = False) -> int:
    """Points with interval whiskers on a log y axis; a lower end ≤ 0 is drawn down to `floor` and marked
    with a downward triangle there; an infinite upper end is drawn to 2 × the estimate. Returns how many
    were clipped."""
    if not estimates:
        return 0
    est = np.array([e.estimate for e in estimates], dtype=np.float64)
    lo = np.array([e.lo if e.lo > 0 else floor for e in estimates], dtype=np.float64)
    hi = np.array([e.hi if np.isfinite(e.hi) else 2 * abs(e.estimate) for e in estimates], dtype=np.float64)
    err = np.vstack([np.clip(est - lo, 0, None), np.clip(hi - est, 0, None)])
    c = color(color_index)
    ax.errorbar(x, est, yerr=err, fmt=marker, color=c, capsize=3, label=label,
                markerfacecolor="none" if hollow else c)
    cut = [xi for xi, k in zip(x, clipped(estimates)) if k]
    if cut:
        ax.plot(cut, [floor] * len(cut), linestyle="none", marker="v", markersize=7, color=c)
    return len(cut)


def arm_points(data: list[dict], key: str) -> dict[tuple[float, bool], tuple[list[float], list[Estimate]]]:
    """(m, gate passed) -> (x, factors) of every GO arm; x = params, shifted 6 % per training seed."""
    out: dict[tuple[float, bool], tuple[list[float], list[Estimate]]] = {}
    for e in data:
        for a in e["protocol"]["arms"]:
            if a.get("sigma_train") is None:
                continue
            xs, fs = out.setdefault((a["m"], bool(a["gate"]["passed"])), ([], []))
            xs.append(e["params"] * 1.06 ** e["seed"])
            fs.append(Estimate.from_dict(a[key]["factor"]))
    return out


def plot(data: list[dict], out: Path) -> FigureResult:
    fig, axes = new_figure(2, width_per_panel=5.6, height=5.2)
    n_clipped = 0
    controls = [e for e in data if e["protocol"].get("unit_control")]
    ms = sorted({a["m"] for e in data for a in e["protocol"]["arms"]}, reverse=True)
    for ax, key, unit in ((axes[0], "test", "canonical raw σ"), (axes[1], "test_multiplicative", "multiplicative σ")):
        series = [(x, f, f"GO m = {m:g}, " + ("gate passed" if ok else "gate failed"), ms.index(m),
                   "o" if i == 0 else "s", not ok)
                  for (m, ok), (x, f) in sorted(arm_points(data, key).items(), key=lambda kv: (-kv[0][0], not kv[0][1]))
                  for i in [ms.index(m)]]
        if key == "test" and controls:
            uc = [e["protocol"]["unit_control"] for e in controls]
            series.append(([1.15 * e["params"] for e in controls], [Estimate.from_dict(u["raw_ratio"]) for u in uc],
                           "unit control: raw σ-basin, rescaled / original", len(ms), "+", False))
            series.append(([1.3 * e["params"] for e in controls], [Estimate.from_dict(u["canonical_ratio"]) for u in uc],
                           "unit control: canonical σ-basin, rescaled / original", len(ms) + 1, "x", False))
        positive = [v for _, ests, *_ in series for e in ests for v in (e.lo, e.estimate) if v > 0 and np.isfinite(v)]
        floor = min(positive + [1.0]) / 3
        for x, ests, label, i, marker, hollow in series:
            n_clipped += log_points(ax, x, ests, label=label, color_index=i, marker=marker, floor=floor, hollow=hollow)
        if any(any(clipped(ests)) for _, ests, *_ in series):
            ax.plot([], [], linestyle="none", marker="v", color="0.3", label=CLIPPED_LABEL)
        for m in ms:
            ax.axhline(m, color=color(ms.index(m)), linestyle=":", label=f"factor {m:g}")
        ax.axhline(1.0, color="0.6", linestyle="-", linewidth=0.8)
        log_axis(ax, "x")
        log_axis(ax, "y")
        ax.set_ylim(bottom=floor / 1.5)
        ax.set_ylabel(f"σ-basin ratio ({unit})")
        finish_axes(ax, title=f"factor in {unit}", xlabel="parameters d (seeds side by side)", legend_below=True)
    gated = sorted({f"m={a['m']:g}" for e in data for a in e["protocol"]["arms"]
                    if a.get("sigma_train") is not None and not a["gate"]["passed"]})
    if gated:
        fig.text(0.5, 0.005, f"hollow: the arm failed the clean-score gate ({', '.join(gated)}); its factor decides "
                 "nothing", ha="center", va="bottom", fontsize=8, wrap=True)
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    verdicts = ", ".join(f"{e['kind']}-{e['width']}-s{e['seed']}: {e['verdict']}" for e in data)
    note = f"; {n_clipped} lower interval end(s) at 0 drawn clipped (▼)" if n_clipped else ""
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED, f"GO/control σ-basin factors vs d; {verdicts}{note}")


FIGURE = Figure(NAME, TITLE, data, plot, work)
