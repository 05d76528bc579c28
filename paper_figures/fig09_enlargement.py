"""Figure 9: the enlargement factor σ_basin(GO) / σ_basin(control) vs width — the "5×" claim.

Raw and invariant factors with intervals [lo_GO/hi_base, hi_GO/lo_base] (toymodels.enlarge), the claimed
5× as a dotted line, and the reparameterisation control: a function-preserving rescaling θ' = cθ that must
move the raw σ-basin by c while the invariant one stays at 1 (crosses, drawn 10 % to the right).
Entries whose verdict is "not-measured" (e.g. GO's clean score collapsed, so its "basin" is the flat floor
at chance) get no GO point — only their control — and are named under the panels instead.
"""

from __future__ import annotations

from landscape.plotting import error_points, finish_axes, log_axis, new_figure, save_figure
from paper_figures import enlargement
from paper_figures.context import RunContext
from paper_figures.figure import PLOTTED, FigureResult
from theory.estimate import Estimate

NAME = "fig09_enlargement"
TITLE = "Enlargement factor of GO vs width (claim: 5×), raw and invariant units, with the control"


def measured(rows: list[dict]) -> list[dict]:
    """The entries whose GO factor is a measurement (verdict not "not-measured …")."""
    return [r for r in rows if not str(r.get("verdict", "")).startswith("not-measured")]


def make(ctx: RunContext) -> FigureResult:
    data = enlargement.entries(ctx)
    groups = enlargement.groups(data)
    fig, axes = new_figure(2, width_per_panel=5.6, height=5.0)
    for ax, key, ctl, unit in ((axes[0], "factor", "raw_ratio", "raw σ"),
                               (axes[1], "factor_invariant", "invariant_ratio", "invariant relative σ")):
        for i, ((kind, param), rows) in enumerate(groups.items()):
            go_rows = measured(rows)
            if go_rows:
                error_points(ax, [r["params"] for r in go_rows], [Estimate.from_dict(r[key]) for r in go_rows],
                             label=f"GO/control, {kind} ({param})", color_index=i)
            error_points(ax, [1.1 * r["params"] for r in rows], [Estimate.from_dict(r["control"][ctl]) for r in rows],
                         label=f"reparam. control ×{rows[0]['control']['factor_applied']:g}, {kind}",
                         color_index=i, marker="x")
        ax.axhline(5.0, color="0.3", linestyle=":", label="claimed 5×")
        ax.axhline(1.0, color="0.6", linestyle="-", linewidth=0.8)
        log_axis(ax, "x")
        log_axis(ax, "y")
        ax.set_ylabel(f"σ-basin ratio ({unit})")
        finish_axes(ax, title=f"factor in {unit}", xlabel="parameters d", legend_below=True)
    skipped = [e for e in data if e not in measured(data)]
    if skipped:
        names = ", ".join(f"{e['kind']}-{e['parameterisation']}-{e['width']}" for e in skipped)
        fig.text(0.5, 0.005, f"no GO point (not measured: {skipped[0]['verdict'].removeprefix('not-measured ').strip('()')}): "
                 f"{names}", ha="center", va="bottom", fontsize=8, wrap=True)
    files = save_figure(fig, ctx.out, NAME, suptitle=TITLE)
    verdicts = ", ".join(f"{e['kind']}-{e['width']}: {e['verdict']}" for e in data)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED, f"GO/control σ-basin factors vs d; {verdicts}")
