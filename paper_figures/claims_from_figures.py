"""Measurements from this package's figure data (used for claims toymodels.claims does not measure).

Each producer returns theory.claims Measurements of the registry's quantity; the registry's judge decides.
No criterion lives here. Ratios of edges use theory.estimate.ratio_estimate: interval division
[a.lo/b.hi, a.hi/b.lo] at level 1 − Σ(1 − coverage) (Bonferroni). PRODUCES names the claim ids each
producer measures, so the pipeline runs only the producers whose claims are still unmeasured.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from paper_figures import measure, toy
from paper_figures.context import FigureRun
from paper_figures.stored import MissingData, single_edge, values
from theory.claims import Measurement
from theory.claims.statistics import sign_test_p_above
from theory.estimate import Estimate, ratio_estimate
from theory.stats import clopper_pearson, median_interval

TOY_TF = "toy transformer (aligned, d_model 64)"
TOY_MLP = "toy MLP (width 64, teacher-student)"


def measured(cid: str, est: Estimate | None, model: str, source: str, **kw) -> Measurement:
    return Measurement(cid, est, model, source, n=0 if est is None else est.n, **kw)


def _direction_edges(edges_data: dict) -> list[float]:
    """min(edge+, edge−) per direction of stored BasinEdges (empty when only the median was stored)."""
    return [min(float(d["plus"]["estimate"]), float(d["minus"]["estimate"])) for d in edges_data.get("directions", [])]


def strict_basin(ctx: FigureRun) -> list[Measurement]:
    return [measured("strict-basin-90pct-at-99", None, TOY_TF, "fig05/table01", reason=(
        "table01 stores flat fractions at multiples of the first-exit edge; the criterion needs sigma* of the "
        "ascending fixed-sequence test relative to the median collapse edge"))]


def worst_narrower(ctx: FigureRun) -> list[Measurement]:
    from paper_figures.fig03_worst_case import worst_data

    worst = single_edge(worst_data(ctx)["basic"]["edges"])
    r = ratio_estimate(measure.basic_edge(ctx), worst, "edge(most-case median) / edge(worst-case)")
    return [measured("worst-much-narrower", r, TOY_TF, "fig03: basic score, PGA worst direction",
                     varied=("directions",))]


def sft_rows(ctx: FigureRun) -> list[Measurement]:
    from paper_figures.fig03_worst_case import worst_data
    from paper_figures.fig04_sft_case import sft_direction

    def along(kind: str, cap: str) -> Estimate:
        return single_edge(measure.first_exit_edges(ctx, cap, directions=lambda: [sft_direction(kind)],
                                                    label=f"sft-{kind}"))

    ref = _direction_edges(measure.first_exit_edges(ctx, "basic"))
    kills = ratio_estimate(along("adversarial", "safety"), along("adversarial", "basic"),
                  "edge(safety) / edge(basic) along adversarial SFT")
    near = ratio_estimate(along("adversarial", "safety"), single_edge(worst_data(ctx)["safety"]["edges"]),
                 "edge(adversarial SFT) / edge(worst case), safety score")
    src = "fig04: edges along normalised fine-tuning directions"
    return [measured("benign-sft-like-random", along("benign", "basic"), TOY_TF, src,
                     extra={"reference_edges": ref} if ref else {}),
            measured("adversarial-sft-kills-safety-first", kills, TOY_TF, src),
            measured("adversarial-sft-near-worst-case", near, TOY_TF, src)]


def nested(ctx: FigureRun) -> list[Measurement]:
    """Per specific capability: median over directions of edge(specific)/edge(basic) along each direction."""
    basic = _direction_edges(measure.first_exit_edges(ctx, "basic"))
    out = []
    for cap in toy.CAPABILITIES[1:]:
        spec = _direction_edges(measure.first_exit_edges(ctx, cap))
        src = "fig01 edges: per-direction ratio to basic"
        per = [r for r in (s / b if b > 0 else math.inf for s, b in zip(spec, basic)) if not math.isnan(r)]
        if not basic or len(spec) != len(basic) or not per:
            out.append(measured("basins-nested", None, TOY_TF, src, entry=cap,
                                reason="the stored edges carry no per-direction edges on the same directions"))
            continue
        out.append(measured("basins-nested", median_interval(per, 0.95, "per-direction edge ratio specific / basic"),
                            TOY_TF, src, entry=cap, p_fails=sign_test_p_above(per, 1.0), varied=("directions",)))
    return out


def nll_smooth(ctx: FigureRun) -> list[Measurement]:
    """Per direction: the local exponent log(rise(2a)/rise(a))/log 2 of the symmetric NLL rise
    ½(L(a) + L(−a)) − L(0) at the two smallest grid points a, 2a; median over directions."""
    land = measure.landscape(ctx, "nll", measure.grid(ctx))
    alphas = np.asarray(land["alphas"])
    v = values(land)
    pos = sorted(a for a in alphas if a > 0)
    src = "fig10: NLL on the symmetric grid"

    def at(a: float) -> int | None:
        hit = np.flatnonzero(np.isclose(alphas, a, rtol=1e-9, atol=0.0))
        return int(hit[0]) if hit.size else None

    if len(pos) < 2 or not math.isclose(pos[1], 2 * pos[0], rel_tol=1e-6) or any(at(-a) is None for a in pos[:2]):
        return [measured("nll-smooth", None, TOY_TF, src, reason="the grid has no symmetric points a, 2a")]
    rise = [0.5 * (v[:, at(a)] + v[:, at(-a)]) - land["baseline"] for a in pos[:2]]
    with np.errstate(divide="ignore", invalid="ignore"):
        exps = np.log2(rise[1] / rise[0])
    exps = [float(e) for e, r0 in zip(exps, rise[0]) if r0 > 0 and np.isfinite(e)]
    if not exps:
        return [measured("nll-smooth", None, TOY_TF, src, reason="no direction with a positive NLL rise at a, 2a")]
    return [measured("nll-smooth", median_interval(exps, 0.95, "local exponent of the symmetric NLL rise"),
                     TOY_TF, f"{src}, a = {pos[0]:.3g}", varied=("directions",))]


def theorem_rows(ctx: FigureRun) -> list[Measurement]:
    from paper_figures.fig06_bounds import theorem_margin

    src = "fig06: random and fine-tuning displacements, basic score"
    extra = {"adversarial_displacement": False}
    return [measured("thm42-holds", theorem_margin(ctx, weak=True), TOY_TF, src, extra=extra),
            measured("thm43-holds", theorem_margin(ctx, weak=False), TOY_TF, src, extra=extra)]


def thm45_rows(ctx: FigureRun) -> list[Measurement]:
    from paper_figures.fig11_input_robustness import data

    cx = data(ctx)["counterexample"]
    emb, par = Estimate.from_dict(cx["x_prime_embedding"]), Estimate.from_dict(cx["x_prime_parameter"])

    def shifted(e: Estimate, b: float, unit: str) -> Estimate:
        return Estimate(e.estimate - b, (e.lo - b, e.hi - b), e.confidence, e.n, unit, method=e.method)

    src = "fig11: repeated-token counter-example on the toy transformer"
    return [measured("thm45-embedding-holds", shifted(emb, cx["rigorous_bound"], "smoothed score - rigorous bound"),
                     TOY_TF, src, varied=("noise",)),
            measured("thm45-heuristic-fails", shifted(par, cx["heuristic_bound"], "smoothed score - heuristic bound"),
                     TOY_TF, src, varied=("noise",))]


def training_row(ctx: FigureRun) -> list[Measurement]:
    from paper_figures.fig07_training import data

    pts = data(ctx)["points"]
    if len(pts) < 2:
        raise MissingData(f"the training curve has {len(pts)} checkpoint(s), needs 2")
    r = ratio_estimate(Estimate.from_dict(pts[-1]["median_edge"]), Estimate.from_dict(pts[0]["median_edge"]),
              f"median edge at step {pts[-1]['step']} / at step {pts[0]['step']}")
    return [measured("basins-widen-with-training", r, TOY_MLP, "fig07: raw sigma, tau = half drop per checkpoint",
                     extra={"unit_kind": "raw", "tau_fixed": False})]


def forgetting_row(ctx: FigureRun) -> list[Measurement]:
    """forgetting = old-task accuracy before − after the later fine-tune; the interval combines four
    two-sided Clopper–Pearson intervals at 1 − 0.05/4 each (union bound: 95 %). Unpaired, one seed."""
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
                   "forgetting(plain) - forgetting(GO), accuracy points", method="clopper-pearson, union bound")
    return [measured("go-forgets-less", est, TOY_MLP, "fig08: same later fine-tune", varied=("examples",),
                     extra={"paired": False, "training_seeds": 1})]


def enlargement_rows(ctx: FigureRun) -> list[Measurement]:
    """go-enlarges-5x per entry and basins-widen-with-size per series, from the width sweep through its one
    reader (toymodels.enlarge.enlargement_measurements)."""
    from paper_figures import enlargement
    from toymodels.enlarge import enlargement_measurements

    data = enlargement.entries(ctx)
    if not data:
        raise MissingData("the width sweep stored no entries")
    return enlargement_measurements(data, "toymodels enlarge (fig02, fig09)")


Producer = Callable[[FigureRun], list[Measurement]]
PRODUCES: tuple[tuple[Producer, tuple[str, ...]], ...] = (
    (strict_basin, ("strict-basin-90pct-at-99",)), (worst_narrower, ("worst-much-narrower",)),
    (sft_rows, ("benign-sft-like-random", "adversarial-sft-kills-safety-first", "adversarial-sft-near-worst-case")),
    (nested, ("basins-nested",)), (nll_smooth, ("nll-smooth",)), (theorem_rows, ("thm42-holds", "thm43-holds")),
    (thm45_rows, ("thm45-embedding-holds", "thm45-heuristic-fails")), (training_row, ("basins-widen-with-training",)),
    (forgetting_row, ("go-forgets-less",)), (enlargement_rows, ("basins-widen-with-size", "go-enlarges-5x")),
)
