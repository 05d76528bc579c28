"""The paper's empirical claims MEASURED on toy models (never asserted): one function per claim id, each
returning `theory.claims.Measurement`s (an Estimate of the registry's quantity for that claim, with model,
source, n, seeds and what varied); the registry's one judge (theory.claims.judge) turns them into verdicts.
No criterion lives here. `measure_all(out_dir, quick)` runs them all through one landscape ResultStore
(reruns skip every evaluation already made and reload trained weights) and writes JSON for the figures;
`measure_all_claims` also judges them.

Units: α for raw Gaussian directions is σ per coordinate (‖αδ‖ ≈ α√d); SFT / worst-case directions are
rescaled to norm √d so they share the α axis; multiplicative directions θ ⊙ (1 + αz) have α relative.
Edges are landscape.edges (first exit below S(θ₀) − τ, bisection bracket per direction, median over K
directions with an order-statistic interval; `coverage` is the guaranteed level). Unless stated,
τ = ½(S(θ₀) − chance) ("collapse midpoint"). Single-direction (SFT, worst-case) edges are read on the +δ
half-line, compared with the Gaussian median of +δ edges, and carry their deterministic bisection bracket
(confidence reported as 1.0).

Files under out_dir (JSON; NaN → null, ±inf → "inf"/"-inf"; Estimates as {estimate, ci, confidence,
coverage, n, unit, method, extra}):
  rows.jsonl                          ResultStore rows (one evaluation each), resumable
  models/<name>.pt                    trained weights (state_dict), reloaded on rerun
  measurements.json                   [theory.claims.document.measurement_to_dict(m), ...]
  claims.json                         theory.claims.document.document(rows): schema version, counts by kind,
                                      rows in registry order
  curves/<model>-<score>.json         (score names carry "@<n examples>", e.g. tf-align-basic@128.json; the
                                      strict-basin σ slice is curves/tf-align-strict-safety.json) landscape_1d result: {score, alphas[], baseline, curves: [{direction,
                                      values[], effective_norms[]}], median: [Estimate], strict_basin_fraction:
                                      [Estimate], seeds[], n_evals, wall_time_s}
  edges/<model>-<score>-<kind>.json   basin_edges result: {score, tau, baseline, directions: [{direction, plus,
                                      minus}], median, median_plus, median_minus (Estimates), n_non_monotone, ...};
                                      plus/minus = {estimate, lo, hi, censored, non_monotone, evaluations[[α, S]]}
  records/width_sweep.json            [{width, params, clean_score, edge_gaussian, edge_multiplicative, edge_worst
                                      (Estimates), measured_ratio, predicted_ratio (Estimates), lambda_max, trace}]
  records/sft_norm_vs_width.json      [{width, params, sft_norm, sft_norm_per_coordinate, sigma, p_a (Estimate),
                                      r_cert, sft_over_r_cert}]  (Prop. E.2 "smoothing regime": reported only)
  records/training.json               [{step, clean_score, edge (Estimate)}] along MLP training
  records/theorems.json               {sigma, certificate_p_a (Estimate), r_cert, checks: [BoundCheck fields +
                                      attack_strength], concentration: ConcentrationCheck, embedding:
                                      [SubstitutionCheck], counterexample: RepeatedTokenCounterexample}
  records/forgetting.json             {adamw: {before, after, forgetting}, go: {...}, sigma_train, steps}
  records/sft_directions.json         {benign: {basic, safety: edges}, adversarial: {...}, worst_safety: edges,
                                      cos_adv_worst, worst_alpha_ref}
Command line: `python -m toymodels claims [--quick] --out DIR` prints one line per claim.
QUICK trains its transformer for 0.4 × the default steps at d_model 32 (shared 2-core machines); FULL uses
toymodels.train.trained_transformer (d_model 64).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from landscape.certificates import certify
from landscape.context import ProbeContext
from landscape.directions import DirectionSpec, bind
from landscape.edges import BasinEdges, basin_edges
from landscape.evaluate import ProbeEvaluator, default_directions
from landscape.landscape_1d import landscape_1d, symmetric_grid
from landscape.scores import Score
from landscape.store import ResultStore, to_json_value
from landscape.worst_case import worst_case_pga
from theory.claims import Measurement, judge_all
from theory.claims.document import document, measurement_to_dict
from theory.claims.statistics import log_slope, sign_test_p_above
from theory.estimate import Estimate
from theory.stats import clopper_pearson, median_interval
from theory.verdict import ClaimResult
from toymodels import theorems as T
from toymodels.hessian import curvature
from toymodels.mlp import MLP, MLPConfig
from toymodels.tasks.classification import teacher_student
from toymodels.tasks.scores import language_nll, language_scores
from toymodels.train import (
    ALIGN,
    FINETUNE,
    MLP_TRAIN,
    PRETRAIN,
    TrainConfig,
    classification_loss,
    finetune,
    mlp_adamw,
    pretrain_transformer,
    sequence_loss,
    train,
    train_mlp,
    trained_transformer,
)
from toymodels.transformer import TinyTransformer, TransformerConfig

SOURCE = "toymodels.claims"
THEOREM_FAIL_PROB = 1e-6
SPECIFIC = ("math", "coding", "safety")


@dataclass(frozen=True)
class ClaimsConfig:
    """Sizes of one run. k: directions per median edge; n_eval: examples per score."""

    widths: tuple[int, ...] = (16, 64, 256)
    k: int = 6
    n_eval_mlp: int = 512
    n_eval_tf: int = 128
    d_model: int = 64
    tf_scale: float = 1.0
    rel_precision: float = 0.1
    n_checks: int = 2
    confidence: float = 0.95
    strict_k: int = 51
    strict_examples: int = 50
    n_draws: int = 150
    worst_steps: int = 15
    curve_points: int = 13
    hessian_steps: int = 20
    hessian_probes: int = 20
    checkpoint_every: int = 100
    forget_steps: int = 150
    seed: int = 0


QUICK = ClaimsConfig(d_model=32, tf_scale=0.4)
FULL = ClaimsConfig(widths=(16, 32, 64, 128, 256, 512), k=24, n_eval_mlp=1024, n_eval_tf=256, rel_precision=0.05,
                    n_checks=5, n_draws=600, worst_steps=40, curve_points=31, hessian_steps=40,
                    hessian_probes=50, strict_k=101, strict_examples=50)


# ----------------------------------------------------------------------------------------- workspace


class Workspace:
    """out_dir with its ResultStore, JSON writer and trained-weight cache."""

    def __init__(self, out_dir: str | Path, cfg: ClaimsConfig):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.cfg = cfg
        self.store = ResultStore(self.out / "rows.jsonl")

    def dump(self, name: str, obj: Any) -> Path:
        path = self.out / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(to_json_value(obj), indent=1, allow_nan=False))
        return path

    def model(self, name: str, skeleton: Callable[[], nn.Module], make: Callable[[], nn.Module]) -> nn.Module:
        """Trained weights from out_dir/models/<name>.pt when present, else make() and save them."""
        path = self.out / "models" / f"{name}.pt"
        if path.exists():
            m = skeleton()
            m.load_state_dict(torch.load(path, weights_only=True))
            return m.eval()
        m = make().eval()
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(m.state_dict(), path)
        return m

    def checkpoints(self, name: str, make: Callable[[], Sequence[Any]]) -> list[tuple[int, dict]]:
        """[(step, state_dict)] from out_dir/models/<name>.pt, else from make() (train-loop Checkpoints), saved."""
        path = self.out / "models" / f"{name}.pt"
        if path.exists():
            return [(int(k), v) for k, v in torch.load(path, weights_only=True)]
        states = [(c.step, c.state) for c in make()]
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(states, path)
        return states

    def context(self, model: nn.Module, model_id: str, seed: int = 0) -> ProbeContext:
        """The probe context of one trained model: rows in this workspace's store under `model_id`."""
        return ProbeContext.for_model(model, store=self.store, model_id=model_id, seed=seed)

    def edges(self, model: nn.Module, model_id: str, score: Score, directions: Sequence[DirectionSpec], tau: float,
              kind: str, alpha_start: float = 1e-2, alpha_max: float = 10.0) -> BasinEdges:
        res = basin_edges(model, score, self.context(model, model_id), directions=list(directions), tau=tau,
                          alpha_start=alpha_start, alpha_max=alpha_max, rel_precision=self.cfg.rel_precision,
                          n_checks=self.cfg.n_checks, confidence=self.cfg.confidence)
        self.dump(f"edges/{model_id}-{score.name.replace('/', '_')}-{kind}", res)
        return res


def sized(score: Score) -> Score:
    """The score renamed "<name>@<n_examples>": store keys hold the score name, so two example sets of
    one capability must not share it."""
    return replace(score, name=f"{score.name}@{score.n_examples}")


def half_drop(score: Score, model: nn.Module) -> float:
    """τ = ½(S(θ₀) − chance): the collapse midpoint (0 when the model is at chance)."""
    return 0.5 * max(score(model).value - score.chance, 0.0)


def multiplicative_directions(k: int, seed: int) -> list[DirectionSpec]:
    return [DirectionSpec("multiplicative", seed=seed + i) for i in range(k)]


def _finite(*candidates: float) -> float:
    """The first finite positive candidate (edges can be censored at 0 or +inf)."""
    return next(c for c in candidates if math.isfinite(c) and c > 0)


def _cov(e: Estimate) -> float:
    return e.coverage if e.coverage is not None else e.confidence


def ratio(num: Estimate, den: Estimate, unit: str = "ratio") -> Estimate:
    """num/den with [num.lo/den.hi, num.hi/den.lo]; confidence 1 − Σ(1 − coverage) (Bonferroni)."""

    def div(a: float, b: float) -> float:
        if b == 0:
            return math.inf if a > 0 else math.nan
        if math.isinf(a) and math.isinf(b):
            return math.nan
        return a / b

    lo, hi = div(num.lo, den.hi), div(num.hi, den.lo)
    lo = 0.0 if math.isnan(lo) else lo
    hi = math.inf if math.isnan(hi) else max(hi, lo)
    conf = max(1e-9, 1.0 - (1.0 - _cov(num)) - (1.0 - _cov(den)))
    return Estimate(estimate=div(num.estimate, den.estimate), ci=(lo, hi), confidence=min(conf, 1 - 1e-12),
                    n=min(num.n, den.n), unit=unit, method="ratio of intervals (bonferroni)")


def bracket(edge, side: str = "plus") -> Estimate:
    """One direction's edge on its +δ half-line (SFT / worst-case directions point toward the fine-tuned or
    most damaging weights), with its deterministic bisection bracket."""
    s = edge.plus if side == "plus" else edge.minus
    return Estimate(estimate=s.estimate, ci=(s.lo, s.hi), confidence=1 - 1e-12, n=1, unit="alpha",
                    method=f"bisection bracket on the {side} half-line (deterministic given the direction)")


def measured(cid: str, est: Estimate | None, model: str, note: str = "", varied: tuple[str, ...] = ("directions",),
             **kw: Any) -> Measurement:
    """A Measurement of claim `cid` by this producer (the training seed is set by measure_all)."""
    return Measurement(cid, est, model, SOURCE, n=0 if est is None else est.n, varied=varied, note=note, **kw)


# ----------------------------------------------------------------------------------------- models


def mlp_model(ws: Workspace, width: int, name: str | None = None, cfg: TrainConfig = MLP_TRAIN) -> MLP:
    seed = ws.cfg.seed
    config = MLPConfig(width=width, seed=seed)
    return ws.model(name or f"mlp-w{width}", lambda: MLP(config),
                    lambda: train_mlp(teacher_student(seed=seed), config, replace(cfg, seed=seed))[0])


def transformer_model(ws: Workspace, stage: str) -> TinyTransformer:
    """"align" (pretrain + safety: θ₀), "benign" or "adversarial" (fine-tuned from "align"). With
    cfg.tf_scale = 1 these are toymodels.train.trained_transformer's; otherwise every stage runs
    tf_scale × its default steps (quick runs on shared CPUs)."""
    cfg = ws.cfg
    config = TransformerConfig(d_model=cfg.d_model, seed=cfg.seed)

    def make() -> TinyTransformer:
        if cfg.tf_scale == 1.0:
            return trained_transformer(stage, seed=cfg.seed, d_model=cfg.d_model)
        if stage == "align":
            base = pretrain_transformer(config, _scaled(PRETRAIN, cfg))[0]
            return finetune(base, "align", _scaled(ALIGN, cfg))[0]
        return finetune(transformer_model(ws, "align"), stage, _scaled(FINETUNE[stage], cfg))[0]

    return ws.model(f"tf{cfg.d_model}-x{cfg.tf_scale:g}-{stage}", lambda: TinyTransformer(config), make)


def _scaled(tc: TrainConfig, cfg: ClaimsConfig) -> TrainConfig:
    return replace(tc, steps=max(1, round(tc.steps * cfg.tf_scale)), seed=cfg.seed)


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
    alpha0 = _finite(first.median.estimate, gauss["basic"].median.estimate, 1e-2)
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
    grid = symmetric_grid(3.0 * max(_finite(collapse.median.estimate, alpha0), alpha0), cfg.curve_points)
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
    adversarial = {k: ws.edges(theta0, "tf-align", scores[k], [sft["adversarial"]], half_drop(scores[k], theta0),
                               "sft-adversarial", alpha_start=1e-3) for k in ("basic", "safety")}
    refusal = sequence_loss(scores["safety"].triggered)
    rows = torch.arange(len(scores["safety"].triggered))
    alpha_ref = _finite(adversarial["safety"].median.estimate, gauss["safety"].median.estimate / 10, 1e-3)
    worst = worst_case_pga(theta0, lambda m: refusal(m, rows), alpha_ref, steps=cfg.worst_steps, seed=cfg.seed)
    worst_safety = ws.edges(theta0, "tf-align", scores["safety"], [worst.direction],
                            half_drop(scores["safety"], theta0), "worst", alpha_start=1e-4)
    dot, na, nb = bind(sft["adversarial"], theta0).inner(bind(worst.direction, theta0))
    cos = dot / math.sqrt(na * nb)
    ws.dump("records/sft_directions", {"benign": benign, "adversarial": adversarial, "worst_safety": worst_safety,
                                       "cos_adv_worst": cos, "worst_alpha_ref": alpha_ref})
    return TransformerMeasurements(scores, baselines, gauss, first, collapse, nll_exp, benign, adversarial,
                                   worst_safety, cos, onset)


def claim_flat_then_collapse(m: TransformerMeasurements) -> Measurement:
    """R = α₉₀/α₁₀ of the median curve: α_p is where p of the drop to chance is lost (edges at τ = p·drop);
    for curves monotone in |α| the median curve's α_p is the median over directions of α_p, so
    R = median α₉₀ / median α₁₀ with the ratio-of-intervals interval. Collapse reached: median α₉₀ finite."""
    est = ratio(m.collapse.median, m.onset.median, "alpha_90 / alpha_10 of the median curve")
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
    """The benign SFT edge (+δ half-line bracket) against the +δ edges of the random directions."""
    ref = [d.plus.estimate for d in m.gauss["safety"].directions]
    return measured("benign-sft-like-random", bracket(m.benign["safety"].directions[0]),
                    "toy transformer (aligned -> benign)", "safety score, tau = half drop to chance",
                    extra={"reference_edges": ref})


def claim_adversarial_safety_first(m: TransformerMeasurements) -> Measurement:
    est = ratio(bracket(m.adversarial["safety"].directions[0]), bracket(m.adversarial["basic"].directions[0]),
                "edge ratio safety / basic")
    return measured("adversarial-sft-kills-safety-first", est, "toy transformer (aligned -> adversarial)",
                    "along the adversarial SFT direction, tau = half drop to chance")


def claim_adversarial_near_worst(m: TransformerMeasurements) -> Measurement:
    est = ratio(bracket(m.adversarial["safety"].directions[0]), bracket(m.worst_safety.directions[0]),
                "edge ratio adversarial SFT / worst case")
    return measured("adversarial-sft-near-worst-case", est, "toy transformer (aligned)",
                    f"safety score; cos(delta_adv, delta_worst) = {m.cos_adv_worst:.4f}")


def claim_strict_basin(ws: Workspace, m: TransformerMeasurements) -> Measurement:
    """Fraction of strict_k fresh directions with S(θ₀ + σδ) = S(θ₀) exactly (CP at 99 %) at one σ = ½ ×
    median first-exit edge of the basic score, stored in curves/; the registry's quantity (σ* of the
    fixed-sequence test over a grid, relative to the collapse edge) is not measured by this producer."""
    cfg = ws.cfg
    theta0 = transformer_model(ws, "align")
    safety = sized(language_scores(cfg.strict_examples, cfg.seed)["safety"])
    sigma = 0.5 * m.first_exit.median.estimate
    model = f"toy transformer (aligned), safety on {cfg.strict_examples} examples"
    if not (sigma > 0 and math.isfinite(sigma)):
        return measured("strict-basin-90pct-at-99", None, model, reason="no finite first-exit edge")
    res = landscape_1d(theta0, safety, [sigma], ws.context(theta0, "tf-align"),
                       directions=default_directions(cfg.strict_k, cfg.seed + 1000), confidence=0.99)
    ws.dump("curves/tf-align-strict-safety", res)
    flat = res.strict_basin_fraction[res.alphas.index(sigma)]
    return measured("strict-basin-90pct-at-99", None, model, note=f"flat fraction {flat.brief()} at sigma = "
                    f"{sigma:.4g} (1/2 median first-exit edge), {cfg.strict_k} directions",
                    reason="this producer measures the flat fraction at one sigma, not sigma* of the ascending "
                    "fixed-sequence test over a pre-declared grid relative to the median collapse edge")


# ----------------------------------------------------------------------------------------- MLP claims


@dataclass
class WidthPoint:
    width: int
    params: int
    clean: float
    gauss: BasinEdges
    mult: BasinEdges
    worst: BasinEdges
    curvature: Any


def measure_widths(ws: Workspace) -> list[WidthPoint]:
    cfg = ws.cfg
    task = teacher_student(seed=cfg.seed)
    acc = sized(task.accuracy(cfg.n_eval_mlp))
    points, records, sft_records = [], [], []
    related = teacher_student(seed=cfg.seed + 1)
    for w in cfg.widths:
        model = mlp_model(ws, w)
        mid = f"mlp-w{w}"
        tau = half_drop(acc, model)
        gauss = ws.edges(model, mid, acc, default_directions(cfg.k, cfg.seed), tau, "gaussian")
        mult = ws.edges(model, mid, acc, multiplicative_directions(cfg.k, cfg.seed), tau, "multiplicative",
                        alpha_start=1e-1, alpha_max=1e3)
        x, y = task.x_train[:1024], task.y_train[:1024]
        ce = lambda m, x=x, y=y: nn.functional.cross_entropy(m(x), y)  # noqa: E731
        alpha_ref = max(gauss.median.estimate, 1e-6) / 10
        wc = worst_case_pga(model, ce, alpha_ref, steps=cfg.worst_steps, seed=cfg.seed)
        worst = ws.edges(model, mid, acc, [wc.direction], tau, "worst", alpha_start=alpha_ref)
        curv = curvature(model, ce, lanczos_steps=cfg.hessian_steps, probes=cfg.hessian_probes, seed=cfg.seed)
        points.append(WidthPoint(w, sum(p.numel() for p in model.parameters()), acc(model).value, gauss, mult,
                                 worst, curv))
        measured = ratio(gauss.median_plus, bracket(worst.directions[0]), "edge ratio random / worst")
        records.append({"width": w, "params": points[-1].params, "clean_score": points[-1].clean,
                        "edge_gaussian": gauss.median, "edge_multiplicative": mult.median,
                        "edge_worst": bracket(worst.directions[0]), "measured_ratio": measured,
                        "predicted_ratio": curv.predicted_edge_ratio, "lambda_max": curv.lambda_max,
                        "trace": curv.trace,
                        "measured_over_predicted": measured.estimate / curv.predicted_edge_ratio.estimate})
        sft_records.append(sft_record(ws, model, w, acc, related, gauss.median.estimate))
    ws.dump("records/width_sweep", records)
    ws.dump("records/sft_norm_vs_width", sft_records)
    return points


def sft_record(ws: Workspace, model: MLP, width: int, acc: Score, related, edge: float) -> dict:
    """Prop. E.2 regime: ‖θ_sft − θ₀‖ after fitting a related task vs the certified radius r_cert at
    σ = ½ × median Gaussian edge (q = chance). Reported, not judged."""
    tuned = ws.model(f"mlp-w{width}-sft", lambda: MLP(model.config), lambda: _tuned_copy(model, related, 100))
    d = sum(p.numel() for p in model.parameters())
    norm = math.sqrt(sum(float((a.detach().double() - b.detach().double()).square().sum())
                         for a, b in zip(model.parameters(), tuned.parameters())))
    sigma = 0.5 * edge if math.isfinite(edge) and edge > 0 else math.nan
    rec = {"width": width, "params": d, "sft_norm": norm, "sft_norm_per_coordinate": norm / math.sqrt(d),
           "sigma": sigma}
    if math.isfinite(sigma):
        cert = certify(model, acc, sigma, ws.context(model, f"mlp-w{width}", ws.cfg.seed), n=ws.cfg.n_draws,
                       confidence=0.99, mode="pairs")
        rec.update(p_a=cert.p_a, r_cert=cert.radius, sft_over_r_cert=norm / cert.radius if cert.radius else math.inf)
    return rec


def _tuned_copy(model: MLP, task, steps: int) -> MLP:
    tuned = MLP(model.config)
    tuned.load_state_dict(model.state_dict())
    train(tuned, classification_loss(task), len(task.y_train), TrainConfig(steps=steps, lr=1e-3, seed=7),
          mlp_adamw)
    return tuned


def claim_worst_narrower(points: list[WidthPoint]) -> Measurement:
    """At the widest MLP (pre-declared): median +δ Gaussian edge / the PGA worst direction's bracket."""
    p = points[-1]
    est = ratio(p.gauss.median_plus, bracket(p.worst.directions[0]), "edge ratio random / worst (equal norm)")
    pred = p.curvature.predicted_edge_ratio
    return measured("worst-much-narrower", est, f"MLP width {p.width} ({p.params} params)",
                    f"predicted sqrt(d lambda_max / tr H) = {pred.brief()}; measured/predicted = "
                    f"{est.estimate / pred.estimate:.3g}; per width in records/width_sweep.json")


def claim_widen_with_size(points: list[WidthPoint]) -> Measurement:
    """Slope of log median edge against log d over every width (theory.claims.statistics.log_slope), in the
    multiplicative (rescaling-invariant) unit; the raw-σ slope is reported in the note."""
    d = [p.params for p in points]
    inv = log_slope(d, [p.mult.median for p in points], "slope of log edge vs log params, invariant unit")
    raw = log_slope(d, [p.gauss.median for p in points], "slope, raw sigma")
    return measured("basins-widen-with-size", inv, f"MLP widths {points[0].width}->{points[-1].width}",
                    f"raw sigma slope = {raw.brief()}", extra={"unit_kind": "invariant"})


def claim_widen_with_training(ws: Workspace) -> Measurement:
    cfg = ws.cfg
    task = teacher_student(seed=cfg.seed)
    acc = sized(task.accuracy(cfg.n_eval_mlp))
    config = MLPConfig(width=64, seed=cfg.seed)
    model = MLP(config)
    states = ws.checkpoints("mlp-w64-train", lambda: train(
        model, classification_loss(task), len(task.y_train),
        replace(MLP_TRAIN, seed=cfg.seed, checkpoint_every=cfg.checkpoint_every), mlp_adamw).checkpoints)
    records, medians = [], []
    for step, state in states:
        model.load_state_dict(state)
        e = ws.edges(model, f"mlp-w64-step{step}", acc, default_directions(cfg.k, cfg.seed), half_drop(acc, model),
                     "gaussian")
        records.append({"step": step, "clean_score": acc(model).value, "edge": e.median})
        medians.append(e.median)
    ws.dump("records/training", records)
    est = ratio(medians[-1], medians[0], "edge ratio final / first checkpoint")
    return measured("basins-widen-with-training", est, "MLP width 64 (AdamW)",
                    f"checkpoints {[r['step'] for r in records]}, raw sigma, tau = half drop to chance per checkpoint",
                    extra={"unit_kind": "raw", "tau_fixed": False})


def _accuracy(score: Score, model: nn.Module, confidence: float) -> Estimate:
    r = score(model)
    k = int(round(r.value * r.n))
    lo, hi = clopper_pearson(k, r.n, confidence)
    return Estimate(r.value, (lo, hi), confidence, r.n, "accuracy", method="clopper-pearson")


def claim_go_forgets_less(ws: Workspace, points: list[WidthPoint]) -> Measurement:
    """Task A model (width 64) tuned 150 steps with GO (σ_train = 2 × median edge) or AdamW (σ_train = 0,
    same data and seed), then both fine-tuned on task B with AdamW; forgetting = acc_A before − after.
    value = forgetting(AdamW) − forgetting(GO); four CP intervals at 1 − 0.05/4 combined."""
    cfg = ws.cfg
    a, b = teacher_student(seed=cfg.seed), teacher_student(seed=cfg.seed + 2)
    acc = sized(a.accuracy(cfg.n_eval_mlp))
    base = mlp_model(ws, 64)
    p64 = next((p for p in points if p.width == 64), points[len(points) // 2])
    sigma_train = 2.0 * p64.gauss.median.estimate
    c = 1 - 0.05 / 4
    out = {}
    for arm, s in (("adamw", 0.0), ("go", sigma_train)):
        tcfg = TrainConfig(steps=cfg.forget_steps, lr=1e-3, seed=cfg.seed + 5, sigma_train=s)

        def tuned(tcfg=tcfg) -> MLP:
            m = MLP(base.config)
            m.load_state_dict(base.state_dict())
            train(m, classification_loss(a), len(a.y_train), tcfg, mlp_adamw)
            return m

        before = ws.model(f"mlp-w64-{arm}-A", lambda: MLP(base.config), tuned)
        after = ws.model(f"mlp-w64-{arm}-A-then-B", lambda: MLP(base.config),
                         lambda before=before: _tuned_copy(before, b, cfg.forget_steps))
        out[arm] = {"before": _accuracy(acc, before, c), "after": _accuracy(acc, after, c)}
        out[arm]["forgetting"] = out[arm]["before"].estimate - out[arm]["after"].estimate
    ws.dump("records/forgetting", {**out, "sigma_train": sigma_train, "steps": cfg.forget_steps})
    fa, fg = out["adamw"], out["go"]
    lo = (fa["before"].lo - fa["after"].hi) - (fg["before"].hi - fg["after"].lo)
    hi = (fa["before"].hi - fa["after"].lo) - (fg["before"].lo - fg["after"].hi)
    est = Estimate(fa["forgetting"] - fg["forgetting"], (lo, hi), 0.95, acc.n_examples,
                   "accuracy points (AdamW forgetting - GO forgetting)", method="4 CP intervals, bonferroni")
    return measured("go-forgets-less", est, "MLP width 64, teacher-student A then B",
                    f"sigma_train = {sigma_train:.3g} (2 x median edge)", varied=("examples",),
                    extra={"paired": False, "training_seeds": 1})


# ----------------------------------------------------------------------------------------- theorem claims


def theorem_claims(ws: Workspace, points: list[WidthPoint]) -> list[Measurement]:
    cfg = ws.cfg
    task = teacher_student(seed=cfg.seed)
    score = task.accuracy(256)
    model = mlp_model(ws, 64)
    p64 = next((p for p in points if p.width == 64), points[len(points) // 2])
    sigma = 0.5 * p64.gauss.median.estimate
    n_checks = 9
    gamma = T.per_interval_fail_prob(THEOREM_FAIL_PROB, n_checks)
    cert = T.certify_for_check(model, score, sigma, n=cfg.n_draws, seed=cfg.seed, q=score.chance, fail_prob=gamma)
    tuned = ws.model("mlp-w64-sft", lambda: MLP(model.config),
                     lambda: _tuned_copy(model, teacher_student(seed=cfg.seed + 1), 100))
    soft = T.classification_soft_score(task.x_test[:256], task.y_test[:256])
    families = {"random": lambda r: T.random_displacement(model, r, cfg.seed),
                "sft": lambda r: T.sft_displacement(model, tuned, r),
                "adversarial": lambda r: T.adversarial_displacement(model, soft, sigma, r, steps=cfg.worst_steps,
                                                                    seed=cfg.seed)}
    checks = []
    if cert.certified:
        for fam, make in families.items():
            for t in (0.25, 0.5, 1.0):
                checks.append(T.check_displacement_bound(model, score, cert, fam, t, make, n=cfg.n_draws,
                                                         seed=cfg.seed + len(checks) + 1, fail_prob=gamma))
    conc_model = MLP(MLPConfig(width=64, seed=cfg.seed))
    v = T.unit_vector(conc_model, cfg.seed)
    probit = T.LinearProbitScore(v, T.projection(v, conc_model) - 0.2, 0.1)
    conc = T.check_concentration(conc_model, probit, 0.2, 0.1, n=cfg.n_draws * 2, seed=cfg.seed, confidence=0.99)
    tiny = TinyTransformer(TransformerConfig(d_model=32, n_layers=1, n_heads=2, seed=cfg.seed))
    g = torch.Generator().manual_seed(cfg.seed)
    toks = torch.randint(0, tiny.config.vocab_size, (6, 8), generator=g)
    new = toks.clone()
    new[:, 3] = toks[:, 0]
    emb = T.embedding_noise_checks(tiny, toks, new, lambda x: T.LastTokenPreferenceScore(x, 7, 8), 0.5,
                                   n=cfg.n_draws, seed=cfg.seed, fail_prob=T.per_interval_fail_prob(1e-6, 6))
    cex = T.repeated_token_counterexample(tiny, 20, 21, n=cfg.n_draws * 2, seed=cfg.seed,
                                          fail_prob=T.per_interval_fail_prob(1e-6, 1, 3))
    ws.dump("records/theorems", {"sigma": sigma, "certificate_p_a": cert.p_a, "r_cert": cert.radius,
                                 "checks": [dataclasses.asdict(c) | {"attack_strength": c.attack_strength}
                                            for c in checks],
                                 "concentration": conc, "embedding": emb, "counterexample": cex})
    strength = max((c.attack_strength for c in checks if c.family == "adversarial" and c.t == 1.0), default=0.0)

    def margin(attr: str) -> Estimate | None:
        """min over the 9 checks of (measured smoothed score − bound), simultaneous interval."""
        if not checks:
            return None
        m = [(c.displaced.estimate - getattr(c, attr), c.displaced.lo - getattr(c, attr),
              c.displaced.hi - getattr(c, attr)) for c in checks]
        return Estimate(min(x[0] for x in m), (min(x[1] for x in m), min(x[2] for x in m)), 1 - THEOREM_FAIL_PROB,
                        cfg.n_draws, "smoothed score - bound",
                        method="min over 9 checks (random/sft/adversarial x t in 1/4,1/2,1)")

    kw = dict(varied=("noise", "examples"), reason="" if checks else "p_A not certified above chance",
              extra={"adversarial_displacement": True, "attack_strength": strength} if checks else {})
    note = f"sigma={sigma:.3g}; adversarial attack strength at r_cert = {strength:.2f}"
    out = [measured("thm42-holds", margin("bound_weak"), "MLP width 64", note, **kw),
           measured("thm43-holds", margin("bound_strong"), "MLP width 64", note, **kw)]
    out.append(measured("thm44-holds", conc.violations, "linear-probit surrogate on a random-init MLP",
                        "a linear-probit score: on trained 0-1 scores no L is provable", varied=("noise",),
                        extra={"delta": conc.fail_prob}))
    lo_margins = [float(clopper_pearson(int(round(c.measured * c.n)), c.n, 0.99, "lower")[0]) - c.bound for c in emb]
    est = Estimate(min(c.measured - c.bound for c in emb), (min(lo_margins), min(c.measured_upper - c.bound for c in emb)),
                   0.98, cfg.n_draws, "smoothed outcome - bound", method="min over examples")
    out.append(measured("thm45-embedding-holds", est, "random-init toy transformer (d_model 32)",
                        "sigma_emb = 0.5, one repeated-token substitution", varied=("noise",)))
    h = cex.heuristic
    est = Estimate(cex.x_prime_parameter.estimate - h.bound, (cex.x_prime_parameter.lo - h.bound,
                                                              cex.x_prime_parameter.hi - h.bound),
                   cex.x_prime_parameter.confidence, h.n, "smoothed score on x' - heuristic bound")
    out.append(measured("thm45-heuristic-fails", est, "toy transformer with the (a,b)->(a,a) embedding rows",
                        "parameter noise sigma = 1", varied=("noise",)))
    return out


# ----------------------------------------------------------------------------------------- GO 5x


def claim_go_enlarges(enlargement: Path | None) -> list[Measurement]:
    """From enlargement.json (toymodels.enlarge): one Measurement of the invariant factor per entry (every
    entry counts; no best-of); an entry whose GO arm lost its clean score records clean_score_kept False."""
    if enlargement is None or not enlargement.exists():
        return [measured("go-enlarges-5x", None, "", reason="no enlargement.json (run python -m toymodels enlarge)")]
    entries = json.loads(enlargement.read_text())
    usable = [e for e in entries if e.get("factor_invariant") and e["factor_invariant"].get("estimate") is not None]
    if not usable:
        return [measured("go-enlarges-5x", None, "", reason="no entry with an invariant factor", note=enlargement.name)]
    out = []
    for e in usable:
        inv, raw = Estimate.from_dict(e["factor_invariant"]), Estimate.from_dict(e["factor"])
        name = f"{e['kind']} {e['parameterisation']} width {e['width']}"
        out.append(measured("go-enlarges-5x", inv, f"toy {e['kind']} ({e['parameterisation']})", enlargement.name,
                            varied=("noise", "examples"), entry=name,
                            extra={"clean_score_kept": not str(e.get("verdict", "")).startswith("not-measured"),
                                   "raw_factor": raw.brief()}))
    return out


# ----------------------------------------------------------------------------------------- all


def measure_all(out_dir: str | Path, quick: bool = True, enlargement: str | Path | None = None,
                log: Callable[[str], None] = print) -> list[Measurement]:
    """Every claim's Measurements; writes out_dir/measurements.json and the records listed in the module doc.
    `enlargement`: path of enlargement.json (default: out_dir/enlargement.json)."""
    ws = Workspace(out_dir, QUICK if quick else FULL)
    start = time.perf_counter()
    out: list[Measurement] = []

    def stage(label: str) -> None:
        log(f"[claims] {label} ({time.perf_counter() - start:.0f} s)")

    stage("MLP width sweep")
    points = measure_widths(ws)
    out += [claim_worst_narrower(points), claim_widen_with_size(points)]
    stage("training checkpoints")
    out.append(claim_widen_with_training(ws))
    stage("theorems")
    out += theorem_claims(ws, points)
    stage("forgetting")
    out.append(claim_go_forgets_less(ws, points))
    out += claim_go_enlarges(Path(enlargement) if enlargement else ws.out / "enlargement.json")
    stage("transformer")
    m = measure_transformer(ws)
    out += [claim_flat_then_collapse(m), claim_nll_smooth(m), *claim_nested(m), claim_benign(m),
            claim_adversarial_safety_first(m), claim_adversarial_near_worst(m), claim_strict_basin(ws, m)]
    out = [replace(x, training_seed=ws.cfg.seed) for x in out]
    ws.dump("measurements", [measurement_to_dict(x) for x in out])
    stage(f"done: {len(out)} measurements")
    return out


def measure_all_claims(out_dir: str | Path, quick: bool = True, enlargement: str | Path | None = None,
                       log: Callable[[str], None] = print) -> list[ClaimResult]:
    """measure_all, judged by the registry (theory.claims.judge_all); writes out_dir/claims.json."""
    rows = judge_all(measure_all(out_dir, quick, enlargement, log))
    (Path(out_dir) / "claims.json").write_text(json.dumps(to_json_value(document(rows)), indent=1, allow_nan=False))
    return rows


def summary_lines(results: Sequence[ClaimResult]) -> list[str]:
    """One line per claim: id, verdict, value [ci] unit."""
    def num(x):
        return "nan" if x is None else f"{x:.4g}"
    return [f"{r.id:38s} {r.verdict:28s} {num(r.value)} [{num(r.ci[0]) if r.ci else ''}, "
            f"{num(r.ci[1]) if r.ci else ''}] {r.unit}" for r in results]

