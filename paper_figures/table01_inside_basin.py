"""Table 1: scores inside the basin, on K′ ≥ 51 FRESH directions (not those that set the edge).

The basin scale is the median basic-capability edge α_edge over the K edge directions (seeds 0..K−1).
Fresh directions (seeds FRESH_SEED..FRESH_SEED+K′−1, disjoint) are evaluated at α ∈ {¼, ½, ¾, 1, 1.5} ×
α_edge, so the table carries no selection bias from the edge search. Per capability and α: the mean score
over the K′ directions, the minimum, and the strictly flat fraction (S(θ₀+αδ) = S(θ₀)) with its two-sided
99 % Clopper–Pearson interval (α per coordinate, raw Gaussian directions).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from paper_figures.stored import values
from theory.estimate import Estimate

NAME = "table01_inside_basin"
TITLE = "Table 1: scores inside the basin on fresh directions"
CONFIDENCE = 0.99


def inside_basin(ctx: FigureRun) -> dict:
    """{"edge": Estimate dict, "alphas": [...], "multiples": [...], "landscapes": {capability: Landscape1D}}."""
    from paper_figures import measure, toy

    edge = measure.basic_edge(ctx)
    alphas = [m * edge.estimate for m in toy.ALPHA_MULTIPLES]
    s = toy.sizes(ctx)
    return {"edge": edge.to_dict(), "multiples": list(toy.ALPHA_MULTIPLES), "alphas": alphas,
            "k_fresh": s.k_fresh,
            "landscapes": {cap: measure.landscape(ctx, cap, alphas, k=s.k_fresh, seed=toy.FRESH_SEED,
                                                  label="fresh", confidence=CONFIDENCE)
                           for cap in toy.CAPABILITIES}}


def data(run: FigureRun) -> dict:
    """inside_basin, stored under that name (shared with Figure 5 and the claims)."""
    return run.cached("inside_basin", lambda: inside_basin(run))


def work(run: FigureRun) -> Work:
    from paper_figures import cost, toy

    if run.has("inside_basin"):
        return cost.NONE
    s = toy.sizes(run)
    return toy.landscape_work(run, [("align", cap, "fresh") for cap in toy.CAPABILITIES], k=s.k_fresh,
                              n_alphas=1 + len(toy.ALPHA_MULTIPLES))


def rows(data: dict) -> list[dict]:
    """One row per (α multiple, capability): mean, min, flat fraction and its CP interval."""
    out = []
    for cap, land in data["landscapes"].items():
        vals = values(land)
        for m, alpha in zip(data["multiples"], data["alphas"]):
            i = int(np.argmin(np.abs(np.asarray(land["alphas"]) - alpha)))
            flat = Estimate.from_dict(land["strict_basin_fraction"][i])
            out.append({"multiple_of_edge": m, "alpha": alpha, "capability": cap, "baseline": land["baseline"],
                        "mean_score": float(np.mean(vals[:, i])), "min_score": float(np.min(vals[:, i])),
                        "flat_fraction": flat.estimate, "flat_ci_lo": flat.lo, "flat_ci_hi": flat.hi,
                        "k_fresh": int(vals.shape[0])})
    order = list(data["landscapes"])
    return sorted(out, key=lambda r: (r["multiple_of_edge"], order.index(r["capability"])))


def write(data: dict, out: Path) -> list:
    table = rows(data)
    edge = Estimate.from_dict(data["edge"])
    csv_path, md_path = out / f"{NAME}.csv", out / f"{NAME}.md"
    with csv_path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    lines = [f"# {TITLE}", "",
             f"Basin scale: median basic edge α_edge = {edge.estimate:.4g} per coordinate "
             f"(order-statistic CI [{edge.lo:.4g}, {edge.hi:.4g}], K = {edge.n} edge directions). "
             f"K′ = {data['k_fresh']} fresh Gaussian directions per cell; flat = S(θ₀+αδ) = S(θ₀) exactly, "
             f"two-sided {CONFIDENCE:.0%} Clopper–Pearson interval.", "",
             "| α / α_edge | α | capability | S(θ₀) | mean S | min S | flat fraction [99 % CI] |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['multiple_of_edge']:g} | {r['alpha']:.3g} | {r['capability']} | {r['baseline']:.3f} | "
              f"{r['mean_score']:.3f} | {r['min_score']:.3f} | {r['flat_fraction']:.2f} "
              f"[{r['flat_ci_lo']:.2f}, {r['flat_ci_hi']:.2f}] |" for r in table]
    md_path.write_text("\n".join(lines) + "\n")
    return [md_path, csv_path]


def plot(data: dict, out: Path) -> FigureResult:
    files = write(data, out)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        f"mean/min score and flat fraction of K′={data['k_fresh']} fresh directions at "
                        "α ∈ {¼,½,¾,1,1.5} × median edge, per capability")


FIGURE = Figure(NAME, TITLE, data, plot, work)
