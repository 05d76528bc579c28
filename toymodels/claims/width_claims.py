"""Claims measured on the MLP width sweep and along MLP training: worst-case narrowness, widening with
size and with training, and forgetting under GO."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from torch import nn

from landscape.certificates import certify
from landscape.curvature import curvature
from landscape.edges import BasinEdges
from landscape.evaluate import default_directions
from landscape.scores import Score
from landscape.worst_case import worst_case_pga
from theory.claims import Measurement
from theory.claims.protocol import FIVE_X_PROTOCOL
from theory.claims.statistics import equivalence_gate, log_slope, paired_mean
from theory.estimate import ratio_estimate
from toymodels.claims.common import (
    Workspace,
    bracket,
    half_drop,
    measured,
    mlp_model,
    multiplicative_directions,
    sized,
)
from toymodels.mlp import MLP, MLPConfig
from toymodels.tasks.classification import teacher_student
from toymodels.train import (
    MLP_TRAIN,
    TrainConfig,
    classification_loss,
    mlp_adamw,
    train,
)

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
        measured = ratio_estimate(gauss.median_plus, bracket(worst.directions[0]), "edge ratio random / worst")
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
    tuned = ws.model(f"mlp-w{width}-sft", lambda: MLP(model.config), lambda: tuned_copy(model, related, 100))
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


def tuned_copy(model: MLP, task, steps: int) -> MLP:
    tuned = MLP(model.config)
    tuned.load_state_dict(model.state_dict())
    train(tuned, classification_loss(task), len(task.y_train), TrainConfig(steps=steps, lr=1e-3, seed=7),
          mlp_adamw)
    return tuned


def claim_worst_narrower(points: list[WidthPoint]) -> Measurement:
    """At the widest MLP (pre-declared): median +δ Gaussian edge / the PGA worst direction's bracket."""
    p = points[-1]
    est = ratio_estimate(p.gauss.median_plus, bracket(p.worst.directions[0]), "edge ratio random / worst (equal norm)")
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
    """Median edge of the final checkpoint ÷ the first's, in the invariant unit (multiplicative directions
    θ ⊙ (1 + αz), α relative), at one τ for every checkpoint: half the first checkpoint's drop to chance (the
    smallest drop room of the run, fixed from its clean score before any edge is searched). The raw-σ ratio
    at the same τ is reported in the note."""
    cfg = ws.cfg
    task = teacher_student(seed=cfg.seed)
    acc = sized(task.accuracy(cfg.n_eval_mlp))
    config = MLPConfig(width=64, seed=cfg.seed)
    model = MLP(config)
    states = ws.checkpoints("mlp-w64-train", lambda: train(
        model, classification_loss(task), len(task.y_train),
        replace(MLP_TRAIN, seed=cfg.seed, checkpoint_every=cfg.checkpoint_every), mlp_adamw).checkpoints)
    model.load_state_dict(states[0][1])
    tau = half_drop(acc, model)
    records, invariant, raw = [], [], []
    for step, state in states:
        model.load_state_dict(state)
        mult = ws.edges(model, f"mlp-w64-step{step}", acc, multiplicative_directions(cfg.k, cfg.seed), tau,
                        "multiplicative-fixed-tau", alpha_start=1e-1, alpha_max=1e3)
        gauss = ws.edges(model, f"mlp-w64-step{step}", acc, default_directions(cfg.k, cfg.seed), tau,
                         "gaussian-fixed-tau")
        records.append({"step": step, "clean_score": acc(model).value, "tau": tau, "edge": mult.median,
                        "edge_raw": gauss.median})
        invariant.append(mult.median)
        raw.append(gauss.median)
    ws.dump("records/training", records)
    est = ratio_estimate(invariant[-1], invariant[0], "edge ratio final / first checkpoint, invariant unit")
    raw_ratio = ratio_estimate(raw[-1], raw[0], "edge ratio, raw sigma")
    return measured("basins-widen-with-training", est, "MLP width 64 (AdamW)",
                    f"checkpoints {[r['step'] for r in records]}, tau = {tau:.4g} (half the first checkpoint's drop "
                    f"to chance) at every checkpoint; raw sigma ratio {raw_ratio.brief()}",
                    extra={"unit_kind": "invariant", "tau_fixed": True})


def claim_go_forgets_less(ws: Workspace, points: list[WidthPoint]) -> Measurement:
    """Task A model (width 64) tuned forget_steps steps with GO (σ_train = 2 × median edge) or AdamW
    (σ_train = 0, same data and seed), then both fine-tuned on task B with AdamW. Gate: the two tuned arms'
    clean task-A outcomes, paired TOST within ±τ/2 (τ = the 5x protocol's tau_fraction × (S − chance), the
    same gate rule as the 5x protocol). Value: the mean over task-A test examples of the paired per-example
    difference (o_before − o_after)(AdamW) − (o_before − o_after)(GO) in [−2, 2], 95 % betting interval."""
    cfg = ws.cfg
    a, b = teacher_student(seed=cfg.seed), teacher_student(seed=cfg.seed + 2)
    acc = sized(a.accuracy())
    base = mlp_model(ws, 64)
    p64 = next((p for p in points if p.width == 64), points[len(points) // 2])
    sigma_train = 2.0 * p64.gauss.median.estimate
    outcomes = {}
    for arm, s in (("adamw", 0.0), ("go", sigma_train)):
        tcfg = TrainConfig(steps=cfg.forget_steps, lr=1e-3, seed=cfg.seed + 5, sigma_train=s)

        def tuned(tcfg=tcfg) -> MLP:
            m = MLP(base.config)
            m.load_state_dict(base.state_dict())
            train(m, classification_loss(a), len(a.y_train), tcfg, mlp_adamw)
            return m

        before = ws.model(f"mlp-w64-{arm}-A", lambda: MLP(base.config), tuned)
        after = ws.model(f"mlp-w64-{arm}-A-then-B", lambda: MLP(base.config),
                         lambda before=before: tuned_copy(before, b, cfg.forget_steps))
        outcomes[arm] = (acc(before).outcomes, acc(after).outcomes)
    clean = float(np.mean(outcomes["adamw"][0]))
    tau = FIVE_X_PROTOCOL.tau_fraction * max(clean - acc.chance, 0.0)
    gate = equivalence_gate(outcomes["go"][0], outcomes["adamw"][0], FIVE_X_PROTOCOL.gate_margin(tau),
                            FIVE_X_PROTOCOL.gate_alpha, FIVE_X_PROTOCOL.gate_min_examples_toy) if tau > 0 else None
    forgetting = {arm: o[0] - o[1] for arm, o in outcomes.items()}
    est = paired_mean(forgetting["adamw"] - forgetting["go"], (-2.0, 2.0), cfg.confidence,
                      "accuracy points (AdamW forgetting - GO forgetting)")
    ws.dump("records/forgetting", {arm: {"before": float(o[0].mean()), "after": float(o[1].mean()),
                                         "forgetting": float(forgetting[arm].mean())} for arm, o in outcomes.items()}
            | {"sigma_train": sigma_train, "steps": cfg.forget_steps, "difference": est,
               "gate": None if gate is None else gate.to_dict()})
    return measured("go-forgets-less", est, "MLP width 64, teacher-student A then B",
                    f"sigma_train = {sigma_train:.3g} (2 x median edge); "
                    + ("no clean score above chance" if gate is None else gate.describe()),
                    varied=("examples",),
                    extra={"paired": True, "clean_gate_passed": gate is not None and gate.passed,
                           "training_seeds": len(cfg.seeds)})


