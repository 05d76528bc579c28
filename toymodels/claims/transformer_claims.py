"""Claims measured on the tiny transformer (pretrain → align → fine-tunes): flat-then-collapse, NLL
smoothness, nesting, SFT directions and the strict basin."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from landscape.directions import DirectionSpec, bind
from landscape.edges import BasinEdges
from landscape.evaluate import ProbeEvaluator, default_directions
from landscape.landscape_1d import landscape_1d, symmetric_grid
from landscape.scores import Score
from landscape.worst_case import worst_case_pga
from theory.claims import Measurement
from theory.claims.statistics import PREDICTION_K_MIN, sign_test_p_above
from theory.estimate import Estimate, ratio_estimate
from theory.stats import clopper_pearson, median_interval
from toymodels.claims.common import (
    SPECIFIC,
    Workspace,
    bracket,
    first_finite,
    half_drop,
    measured,
    sized,
    transformer_model,
)
from toymodels.tasks.scores import language_nll, language_scores
from toymodels.train import (
    sequence_loss,
)

# ----------------------------------------------------------------------------------------- transformer claims


@dataclass
class TransformerMeasurements:
    """Everything measured on the aligned transformer (θ₀) and its fine-tunes, for several claims."""

    scores: dict[str, Score]
    baselines: dict[str, float]
    gauss: dict[str, BasinEdges]
    first_exit: BasinEdges
    collapse: BasinEdges
    nll_exponents: Estimate
    benign: dict[str, BasinEdges]
    adversarial: dict[str, BasinEdges]
    worst_safety: BasinEdges
    cos_adv_worst: float
    onset: BasinEdges | None = None
    reference: BasinEdges | None = None  # K >= 39 random directions, safety: the benign SFT comparison


def measure_transformer(ws: Workspace) -> TransformerMeasurements:
    cfg = ws.cfg
    theta0 = transformer_model(ws, "align")
    scores = {k: sized(s) for k, s in language_scores(cfg.n_eval_tf, cfg.seed).items() if k != "sub"}
    dirs = default_directions(cfg.k, cfg.seed)
    baselines = {k: s(theta0).value for k, s in scores.items()}
    gauss = {k: ws.edges(theta0, "tf-align", s, dirs, half_drop(s, theta0), "gaussian", alpha_start=1e-3)
             for k, s in scores.items()}
    basic = scores["basic"]
    first = ws.edges(theta0, "tf-align", basic, dirs, 0.0, "gaussian-first-exit", alpha_start=1e-3)
    drop = max(baselines["basic"] - basic.chance, 0.0)
    collapse = ws.edges(theta0, "tf-align", basic, dirs, 0.9 * drop, "gaussian-collapse", alpha_start=1e-3)
    onset = ws.edges(theta0, "tf-align", basic, dirs, 0.1 * drop, "gaussian-onset", alpha_start=1e-3)
    alpha0 = first_finite(first.median.estimate, gauss["basic"].median.estimate, 1e-2)
    nll = sized(language_nll(cfg.n_eval_tf, cfg.seed))
    ev = ProbeEvaluator(theta0, nll, ws.context(theta0, "tf-align"))
    nll0 = ev.baseline().value
    exps = []
    for spec in dirs:
        rise = [0.5 * (ev.at(spec, a).value + ev.at(spec, -a).value) - nll0 for a in (alpha0 / 8, alpha0 / 4)]
        exps.append(math.log2(rise[1] / rise[0]) if rise[0] > 0 and rise[1] > 0 else math.nan)
    exps_clean = [e for e in exps if math.isfinite(e)]
    nll_exp = median_interval(exps_clean, cfg.confidence, "local exponent of the symmetric NLL rise") \
        if exps_clean else Estimate(math.nan, (math.nan, math.nan), cfg.confidence, 0, "exponent")
    grid = symmetric_grid(3.0 * max(first_finite(collapse.median.estimate, alpha0), alpha0), cfg.curve_points)
    for s in (basic, scores["safety"], nll):
        ws.dump(f"curves/tf-align-{s.name}", landscape_1d(theta0, s, grid, ws.context(theta0, "tf-align"),
                                                         directions=dirs[: min(4, cfg.k)],
                                                         confidence=cfg.confidence))
    benign_model = transformer_model(ws, "benign")
    adv_model = transformer_model(ws, "adversarial")
    sft = {name: DirectionSpec.sft({n: p.detach() for n, p in m.named_parameters()})
           for name, m in (("benign", benign_model), ("adversarial", adv_model))}
    benign = {k: ws.edges(theta0, "tf-align", scores[k], [sft["benign"]], half_drop(scores[k], theta0),
                          "sft-benign", alpha_start=1e-3) for k in ("basic", "safety")}
    reference = ws.edges(theta0, "tf-align", scores["safety"], default_directions(PREDICTION_K_MIN, cfg.seed),
                         half_drop(scores["safety"], theta0), "gaussian-reference", alpha_start=1e-3)
    adversarial = {k: ws.edges(theta0, "tf-align", scores[k], [sft["adversarial"]], half_drop(scores[k], theta0),
                               "sft-adversarial", alpha_start=1e-3) for k in ("basic", "safety")}
    refusal = sequence_loss(scores["safety"].triggered)
    rows = torch.arange(len(scores["safety"].triggered))
    alpha_ref = first_finite(adversarial["safety"].median.estimate, gauss["safety"].median.estimate / 10, 1e-3)
    worst = worst_case_pga(theta0, lambda m: refusal(m, rows), alpha_ref, steps=cfg.worst_steps, seed=cfg.seed)
    worst_safety = ws.edges(theta0, "tf-align", scores["safety"], [worst.direction],
                            half_drop(scores["safety"], theta0), "worst", alpha_start=1e-4)
    dot, na, nb = bind(sft["adversarial"], theta0).inner(bind(worst.direction, theta0))
    cos = dot / math.sqrt(na * nb)
    ws.dump("records/sft_directions", {"benign": benign, "adversarial": adversarial, "worst_safety": worst_safety,
                                       "cos_adv_worst": cos, "worst_alpha_ref": alpha_ref})
    return TransformerMeasurements(scores, baselines, gauss, first, collapse, nll_exp, benign, adversarial,
                                   worst_safety, cos, onset, reference)


def claim_flat_then_collapse(m: TransformerMeasurements) -> Measurement:
    """R = α₉₀/α₁₀ of the median curve: α_p is where p of the drop to chance is lost (edges at τ = p·drop);
    for curves monotone in |α| the median curve's α_p is the median over directions of α_p, so
    R = median α₉₀ / median α₁₀ with the ratio-of-intervals interval. Collapse reached: median α₉₀ finite."""
    est = ratio_estimate(m.collapse.median, m.onset.median, "alpha_90 / alpha_10 of the median curve")
    return measured("basin-flat-then-collapse", est, "toy transformer (aligned), basic score",
                    "tau = 0.1 and 0.9 of the drop to chance, gaussian directions",
                    extra={"collapse_reached": math.isfinite(m.collapse.median.estimate)})


def claim_nll_smooth(m: TransformerMeasurements) -> Measurement:
    return measured("nll-smooth", m.nll_exponents, "toy transformer (aligned), NLL",
                    "log2 of symmetric NLL rise at alpha0/4 vs alpha0/8, alpha0 = median first-exit edge of basic")


def claim_nested(m: TransformerMeasurements) -> list[Measurement]:
    """Per learnt specific capability (S(θ₀) ≥ chance + 0.1): the median over directions of the per-direction
    ratio edge_specific / edge_basic (same directions), order-statistic interval, sign-test p of "> 1"."""
    learnt = [k for k in SPECIFIC if m.baselines[k] - m.scores[k].chance >= 0.1]
    if not learnt:
        return [measured("basins-nested", None, "toy transformer",
                         reason="no specific capability learnt above chance + 0.1")]
    out = []
    basic = m.gauss["basic"].directions
    for k in learnt:
        per = [s.edge / b.edge if b.edge > 0 else math.inf for s, b in zip(m.gauss[k].directions, basic)]
        per = [r for r in per if not math.isnan(r)]  # both edges beyond the range: the direction says nothing
        if not per:
            out.append(measured("basins-nested", None, "toy transformer (aligned)", entry=k,
                                reason="every direction's edges lie beyond the searched range"))
            continue
        est = median_interval(per, m.gauss[k].median.confidence, "per-direction edge ratio specific / basic")
        out.append(measured("basins-nested", est, "toy transformer (aligned)", "tau = half drop to chance",
                            entry=k, p_fails=sign_test_p_above(per, 1.0)))
    return out


def claim_benign(m: TransformerMeasurements) -> Measurement:
    """The benign SFT edge (+δ half-line bracket) against the +δ edges of K >= 39 random directions (same
    score and τ)."""
    ref = [d.plus.estimate for d in (m.reference or m.gauss["safety"]).directions]
    return measured("benign-sft-like-random", bracket(m.benign["safety"].directions[0]),
                    "toy transformer (aligned -> benign)", "safety score, tau = half drop to chance",
                    extra={"reference_edges": ref})


def claim_adversarial_safety_first(m: TransformerMeasurements) -> Measurement:
    est = ratio_estimate(bracket(m.adversarial["safety"].directions[0]), bracket(m.adversarial["basic"].directions[0]),
                "edge ratio safety / basic")
    return measured("adversarial-sft-kills-safety-first", est, "toy transformer (aligned -> adversarial)",
                    "along the adversarial SFT direction, tau = half drop to chance")


def claim_adversarial_near_worst(m: TransformerMeasurements) -> Measurement:
    est = ratio_estimate(bracket(m.adversarial["safety"].directions[0]), bracket(m.worst_safety.directions[0]),
                "edge ratio adversarial SFT / worst case")
    return measured("adversarial-sft-near-worst-case", est, "toy transformer (aligned)",
                    f"safety score; cos(delta_adv, delta_worst) = {m.cos_adv_worst:.4f}")


STRICT_GRID = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 2 ** -0.5, 1.0, 2 ** 0.5)  # × the median collapse edge, ascending
STRICT_FLAT, STRICT_LEVEL = 0.9, 0.99


def claim_strict_basin(ws: Workspace) -> Measurement:
    """σ* / the median collapse edge of the same score (safety on strict_examples examples, 90 % of its drop
    to chance lost, over the K shared directions), σ* from the ascending fixed-sequence test over the
    pre-declared grid STRICT_GRID × that edge: at each σ in turn, the share of strict_k fresh directions
    with S(θ₀ + σδ) = S(θ₀) exactly is tested with its one-sided 99 % Clopper–Pearson lower bound ≥ 0.9, and
    σ* is the last σ passed before the first failure (no correction: each hypothesis is tested at 1 %, in a
    fixed order). The interval's upper end is the first grid σ whose one-sided 99 % upper bound is < 0.9
    (under the reading that the flat share falls with σ), both divided by the edge's interval:
    [σ*/edge.hi, σ_out/edge.lo], level 1 − 0.02 − (1 − the edge's coverage). The σ tested stop there; every
    flat share is in curves/tf-align-strict-safety-<factor>.json."""
    cfg = ws.cfg
    theta0 = transformer_model(ws, "align")
    safety = sized(language_scores(cfg.strict_examples, cfg.seed)["safety"])
    drop = max(safety(theta0).value - safety.chance, 0.0)
    edge = ws.edges(theta0, "tf-align", safety, default_directions(cfg.k, cfg.seed), 0.9 * drop,
                    "gaussian-collapse", alpha_start=1e-3).median
    model = f"toy transformer (aligned), safety on {cfg.strict_examples} examples"
    if not (0 < edge.lo and math.isfinite(edge.hi)):
        return measured("strict-basin-90pct-at-99", None, model, reason=f"no finite collapse edge ({edge.brief()})")
    directions = default_directions(cfg.strict_k, cfg.seed + 1000)
    passed, out_at, shares, still_passing = 0.0, math.inf, [], True
    for factor in STRICT_GRID:
        sigma = factor * edge.estimate
        res = landscape_1d(theta0, safety, [sigma], ws.context(theta0, "tf-align"), directions=directions,
                           confidence=STRICT_LEVEL)
        ws.dump(f"curves/tf-align-strict-safety-{factor:.4g}", res)
        flat = int(round(res.strict_basin_fraction[res.alphas.index(sigma)].estimate * cfg.strict_k))
        lower = clopper_pearson(flat, cfg.strict_k, STRICT_LEVEL, "lower")[0]
        upper = clopper_pearson(flat, cfg.strict_k, STRICT_LEVEL, "upper")[1]
        shares.append(f"{factor:.3g}x: {flat}/{cfg.strict_k}")
        still_passing = still_passing and lower >= STRICT_FLAT
        if still_passing:
            passed = factor
        if upper < STRICT_FLAT:
            out_at = factor
            break
    star = passed * edge.estimate
    est = Estimate(estimate=passed, ci=(star / edge.hi, out_at * edge.estimate / edge.lo if math.isfinite(out_at)
                                        else math.inf),
                   confidence=max(1e-9, 1 - 2 * (1 - STRICT_LEVEL) - (1 - (edge.coverage or edge.confidence))),
                   n=cfg.strict_k, unit="ratio", method="ascending fixed-sequence test, one-sided 99 % CP, "
                   "over the grid x the median collapse edge")
    return measured("strict-basin-90pct-at-99", est, model, f"sigma* = {star:.4g} (collapse edge {edge.brief()}); "
                    f"flat directions {', '.join(shares)}", varied=("directions",),
                    extra={"test": "fixed-sequence", "n_directions": cfg.strict_k})


