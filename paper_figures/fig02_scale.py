"""Figure 2: basins emerge with scale — σ-basin vs parameter count, raw and rescaling-invariant units.

σ-basin (Def. 4.1, τ per entry as in toymodels.enlarge) of the plainly trained models of the width sweep
("before" = the σ_train = 0 control), 97.5 % intervals; left in raw σ per coordinate, right in the
relative unit of θ ⊙ (1 + σz), which is invariant to neuron rescaling and normalisation-layer scalings.
"""

from __future__ import annotations

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
from paper_figures.context import RunContext
from paper_figures.figure import PLOTTED, FigureResult
from theory.estimate import Estimate

NAME = "fig02_scale"
TITLE = "Basins emerge with scale: σ-basin of plainly trained models vs parameter count"


def make(ctx: RunContext) -> FigureResult:
    groups = enlargement.groups(enlargement.entries(ctx))
    fig, axes = new_figure(2, width_per_panel=5.6, height=5.0)
    for ax, key, label in ((axes[0], "sigma_basin", "raw σ per coordinate"),
                           (axes[1], "sigma_basin_invariant", "relative σ of θ ⊙ (1 + σz)")):
        for i, ((kind, param), rows) in enumerate(groups.items()):
            error_points(ax, [r["params"] for r in rows], [Estimate.from_dict(r[key]["before"]) for r in rows],
                         label=f"{kind} ({param})", color_index=i)
        log_axis(ax, "x")
        log_axis(ax, "y")
        ax.set_ylabel(f"σ-basin ({label})")
        finish_axes(ax, title=SIGMA_LABEL if key == "sigma_basin" else RELATIVE_SIGMA_LABEL,
                    xlabel="parameters d", legend_below=True)
    files = save_figure(fig, ctx.out, NAME, suptitle=TITLE)
    n = sum(len(v) for v in groups.values())
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        f"σ-basin (97.5 % CI) of {n} plainly trained models vs d, raw and invariant units")
