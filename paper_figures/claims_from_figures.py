"""Claim rows derived from this package's figure data (used for ids toymodels.claims does not report).

Every row is an interval judged against a region (theory.verdict); the intervals and their confidence
are stated per row. Ratios of edges use toymodels.claims.ratio: interval division [a.lo/b.hi, a.hi/b.lo]
at confidence 1 − Σ(1 − coverage) (Bonferroni).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from paper_figures import measure, toy
from paper_figures.claims_table import CLAIMS, judge
from paper_figures.context import FigureRun
from paper_figures.stored import MissingData, median_edge, single_edge, values
from theory.estimate import Estimate
from theory.stats import clopper_pearson, proportion_estimate
from theory.verdict import ClaimResult, Region
from toymodels.claims import ratio

TOY_TF = "toy transformer (aligned, d_model 64)"
TOY_MLP = "toy MLP (width 64, teacher-student)"


def strict_basin(ctx: FigureRun) -> ClaimResult:
    from paper_figures.table01_inside_basin import inside_basin

    data = ctx.cached("inside_basin", lambda: inside_basin(ctx))
    land = data["landscapes"]["basic"]
    alpha = 0.5 * data["edge"]["estimate"]
    i = int(np.argmin(np.abs(np.asarray(land["alphas"]) - alpha)))
    flat = Estimate.from_dict(land["strict_basin_fraction"][i])
    return judge("strict-basin-90pct-at-99", flat, Region(lo=0.9), model=TOY_TF,
                 source=f"fig05/table01: K'={flat.n} fresh directions at alpha = 1/2 median basic edge = {alpha:.3g}")


def worst_narrower(ctx: FigureRun) -> ClaimResult:
    from paper_figures.fig03_worst_case import worst_data

    worst = single_edge(worst_data(ctx)["basic"]["edges"])
    r = ratio(measure.basic_edge(ctx), worst, "edge(most-case median) / edge(worst-case)")
    return judge("worst-much-narrower", r, Region(10.0, 100.0), model=TOY_TF, source="fig03: basic score, PGA worst direction")


def sft_rows(ctx: FigureRun) -> list[ClaimResult]:
    from paper_figures.fig03_worst_case import worst_data
    from paper_figures.fig04_sft_case import sft_direction

    def along(kind: str, cap: str) -> Estimate:
        return single_edge(measure.first_exit_edges(ctx, cap, directions=lambda: [sft_direction(kind)], label=f"sft-{kind}"))

    benign = ratio(along("benign", "basic"), measure.basic_edge(ctx), "edge(benign SFT) / median edge(random)")
    kills = ratio(along("adversarial", "safety"), along("adversarial", "basic"),
                  "edge(safety) / edge(basic) along adversarial SFT")
    near = ratio(along("adversarial", "safety"), single_edge(worst_data(ctx)["safety"]["edges"]),
                 "edge(adversarial SFT) / edge(worst case), safety score")
    src = "fig04: edges along normalised fine-tuning directions"
    return [judge("benign-sft-like-random", benign, Region(0.5, 2.0), model=TOY_TF, source=src),
            judge("adversarial-sft-kills-safety-first", kills, Region(hi=1.0), model=TOY_TF, source=src),
            judge("adversarial-sft-near-worst-case", near, Region(hi=2.0), model=TOY_TF, source=src)]


def nested(ctx: FigureRun) -> ClaimResult:
    ratios = [ratio(median_edge(measure.first_exit_edges(ctx, cap)), measure.basic_edge(ctx),
                    f"max over specific capabilities of median edge / basic median edge ({cap})")
              for cap in toy.CAPABILITIES[1:]]
    worst = max(ratios, key=lambda e: e.estimate)
    return judge("basins-nested", worst, Region(hi=1.0), model=TOY_TF, source="fig01 edges: math, coding, safety vs basic")


def nll_smooth(ctx: FigureRun) -> ClaimResult:
    alphas = measure.grid(ctx)
    basic, nll = measure.landscape(ctx, "basic", alphas), measure.landscape(ctx, "nll", alphas)
    b, n = values(basic), values(nll)
    zero = int(np.argmin(np.abs(np.asarray(basic["alphas"]))))
    flat_cols = [j for j in range(b.shape[1]) if j != zero and np.all(b[:, j] == basic["baseline"])]
    if not flat_cols:
        return ClaimResult.unmeasured("nll-smooth", *CLAIMS["nll-smooth"],
                                      "no grid point where every 0–1 curve is exactly flat", model=TOY_TF)
    j = min(flat_cols, key=lambda c: abs(basic["alphas"][c]))
    moved = int(np.sum(n[:, j] != nll["baseline"]))
    est = proportion_estimate(moved, n.shape[0], 0.95, "two", unit="fraction of directions whose NLL moved")
    return judge("nll-smooth", est, Region(lo=0.9), model=TOY_TF,
                 source=f"fig10: alpha={basic['alphas'][j]:.3g}, where every 0–1 curve is exactly flat")


def theorem_rows(ctx: FigureRun) -> list[ClaimResult]:
    from paper_figures.fig06_bounds import theorem_margin

    src = "fig06: random and fine-tuning displacements, basic score"
    return [judge("thm42-holds", theorem_margin(ctx, weak=True), Region(lo=0.0), model=TOY_TF, source=src),
            judge("thm43-holds", theorem_margin(ctx, weak=False), Region(lo=0.0), model=TOY_TF, source=src)]


def thm45_rows(ctx: FigureRun) -> list[ClaimResult]:
    from paper_figures.fig11_input_robustness import data

    cx = data(ctx)["counterexample"]
    emb, par = Estimate.from_dict(cx["x_prime_embedding"]), Estimate.from_dict(cx["x_prime_parameter"])

    def shifted(e: Estimate, b: float, unit: str) -> Estimate:
        return Estimate(e.estimate - b, (e.lo - b, e.hi - b), e.confidence, e.n, unit, method=e.method)

    src = "fig11: repeated-token counter-example on the toy transformer"
    return [judge("thm45-embedding-holds", shifted(emb, cx["rigorous_bound"], "smoothed score − rigorous bound"),
                  Region(lo=0.0), model=TOY_TF, source=src),
            judge("thm45-heuristic-fails", shifted(par, cx["heuristic_bound"], "smoothed score − heuristic bound"),
                  Region(hi=0.0), model=TOY_TF, source=src)]


def training_row(ctx: FigureRun) -> ClaimResult:
    from paper_figures.fig07_training import data

    pts = data(ctx)["points"]
    if len(pts) < 2:
        raise MissingData(f"the training curve has {len(pts)} checkpoint(s), needs 2")
    r = ratio(Estimate.from_dict(pts[-1]["median_edge"]), Estimate.from_dict(pts[0]["median_edge"]),
              f"median edge at step {pts[-1]['step']} / at step {pts[0]['step']}")
    return judge("basins-widen-with-training", r, Region(lo=1.0), model=TOY_MLP, source="fig07")


def forgetting_row(ctx: FigureRun) -> ClaimResult:
    """forgetting = old-task accuracy before − after the later fine-tune; the interval combines four
    two-sided Clopper–Pearson intervals at 1 − 0.05/4 each (union bound: 95 %)."""
    from paper_figures.fig08_go import data

    models = list(data(ctx)["models"].values())
    if len(models) != 2:
        raise MissingData(f"the GO comparison stored {len(models)} model(s), needs plain and GO")
    c = 1 - 0.05 / 4

    def forgetting(m: dict) -> tuple[float, float, float]:
        pts, n = m["forgetting"]["points"], m["forgetting"]["n_test"]
        b, a = pts[0]["old"], pts[-1]["old"]
        (blo, bhi), (alo, ahi) = (clopper_pearson(round(x * n), n, c) for x in (b, a))
        return b - a, blo - ahi, bhi - alo

    plain, go = forgetting(models[0]), forgetting(models[1])
    est = Estimate(plain[0] - go[0], (plain[1] - go[2], plain[2] - go[1]), 0.95, models[0]["forgetting"]["n_test"],
                   "forgetting(plain) − forgetting(GO), accuracy points", method="clopper-pearson, union bound")
    return judge("go-forgets-less", est, Region(lo=0.0), model=TOY_MLP, source="fig08: same later fine-tune")


def enlargement_rows(ctx: FigureRun) -> list[ClaimResult]:
    from paper_figures import enlargement

    data = enlargement.entries(ctx)
    if not data:
        raise MissingData("the width sweep stored no entries")
    rows = []
    for (kind, param), entries in enlargement.groups(data).items():
        if len(entries) >= 2:
            for key, unit in (("sigma_basin", "raw sigma"), ("sigma_basin_invariant", "invariant relative sigma")):
                r = ratio(Estimate.from_dict(entries[-1][key]["before"]), Estimate.from_dict(entries[0][key]["before"]),
                          f"sigma_basin(d={entries[-1]['params']}) / sigma_basin(d={entries[0]['params']}), {unit}")
                rows.append(judge("basins-widen-with-size", r, Region(lo=1.0), model=f"toy {kind} ({param})",
                                  source="toymodels enlarge (fig02)"))
        widest = entries[-1]
        f = Estimate.from_dict(widest["factor_invariant"])
        rows.append(ClaimResult(id="go-enlarges-5x", claim="GO enlarges the basin about 5x (invariant unit decides)",
                                criterion="invariant factor lower bound >= 5 (toymodels.enlarge.five_x_verdict)",
                                value=f.estimate, ci=f.ci, confidence=f.confidence, unit="invariant factor",
                                n=f.n, model=f"toy {kind} ({param}), d={widest['params']}",
                                source="toymodels enlarge (fig09)", verdict=widest["verdict"]))
    return rows


DERIVERS: dict[str, Callable[[FigureRun], ClaimResult | list[ClaimResult]]] = {
    "strict-basin-90pct-at-99": strict_basin, "worst-much-narrower": worst_narrower,
    "benign-sft-like-random": sft_rows, "adversarial-sft-kills-safety-first": sft_rows,
    "adversarial-sft-near-worst-case": sft_rows, "basins-nested": nested, "nll-smooth": nll_smooth,
    "thm42-holds": theorem_rows, "thm43-holds": theorem_rows, "thm45-embedding-holds": thm45_rows,
    "thm45-heuristic-fails": thm45_rows, "basins-widen-with-training": training_row,
    "go-forgets-less": forgetting_row, "basins-widen-with-size": enlargement_rows,
    "go-enlarges-5x": enlargement_rows,
}
