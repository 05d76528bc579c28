"""Over-parameterization and the "5x" claim on toy models: the registry's protocol (theory.claims.protocol,
run by landscape.enlargement_protocol) per (kind, parameterisation, width, training seed).

Per entry: base = standard AdamW training from a seeded init, canonicalised (the start θ_s); the σ_train = 0
control and the GO arms (m = 5 primary, m = 2 secondary) fine-tune from it on the same data order and seed, GO stopping at its plateau of E_ε L(θ + ε) and the control read at the same step; the paired
TOST gate on the clean outcomes; σ-basins in raw σ on the canonical copies (landscape.symmetries: ReLU
neurons for MLPs, toymodels.transformer.transformer_symmetries for transformers), the deciding unit, and in
multiplicative σ beside; the enlargement test per unit; the unit control (a random function-preserving
rescaling moves the raw σ-basin, not the canonical one) on the first seed of each width.
Tasks: MLPs on gaussian_mixture(d=16, k=4, separation 4) scored by held-out accuracy (mlp_n_eval examples);
transformers on the synthetic language scored by the basic capability (tf_n_eval examples). Both example
sets hold ≥ the protocol's 512 examples for the gate.
Entry verdict (primary arm): the registry's judge on that arm's Measurement (arm_measurement): not-measured
when the gate fails, else the factor's interval against ≥ 5 (the same as the enlargement test), and a holds
without a plateau downgraded to inconclusive (under-trained).
Every evaluation goes through DIR/store.jsonl and trained weights are kept in DIR/models/, so a rerun
re-reads instead of recomputing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from landscape.enlargement_protocol import arm_measurement as protocol_arm_measurement
from landscape.enlargement_protocol import run_enlargement
from landscape.scores import Score
from landscape.store import ResultStore, to_json_value
from landscape.symmetries import ScalingSymmetry
from landscape.training import recipe_path, trained_once
from theory.claims import Measurement
from theory.claims.protocol import FIVE_X_PROTOCOL
from theory.errors import UserInputError
from theory.estimate import Estimate
from toymodels.mlp import MLP, MLPConfig, relu_symmetries
from toymodels.tasks.classification import gaussian_mixture
from toymodels.tasks.language import training_pool
from toymodels.tasks.scores import basic_score
from toymodels.train import (
    POOL_SIZE,
    Plateau,
    TrainConfig,
    classification_loss,
    mlp_adamw,
    sequence_loss,
    train,
    train_on_mixture,
)
from toymodels.transformer import TinyTransformer, TransformerConfig, transformer_symmetries

SOURCE = "toymodels.enlarge"
MLP_SEPARATION = 4.0  # Bayes accuracy ~99 %: a clean score near 1 lets small drops be certified
MONITOR_ROWS = 512  # training rows of the plateau monitor E_ε L(θ + ε)


@dataclass(frozen=True)
class SweepConfig:
    """Widths, seeds, arms, training budgets (tune: the fine-tune budget both arms share) and estimator sizes."""

    mlp_widths: tuple[int, ...] = (32, 256)
    parameterisations: tuple[str, ...] = ("standard",)
    transformer_widths: tuple[int, ...] = ()
    seeds: tuple[int, ...] = tuple(range(FIVE_X_PROTOCOL.min_training_seeds_toy))
    arms: tuple[float, ...] = FIVE_X_PROTOCOL.arms
    mlp_base: TrainConfig = TrainConfig(steps=400, batch_size=128, lr=3e-3)
    mlp_tune: TrainConfig = TrainConfig(steps=800, batch_size=128, lr=3e-3)
    tf_base: TrainConfig = TrainConfig(steps=800, batch_size=64, lr=3e-3)
    tf_tune: TrainConfig = TrainConfig(steps=600, batch_size=64, lr=1e-3)
    mlp_n_eval: int = 1024
    tf_n_eval: int = 512
    n_trials: int = 80
    unit_control_trials: int = 240
    n_coarse: int = 8
    unit_control_seeds: tuple[int, ...] = (0,)
    unit_control_widths: tuple[int, ...] | None = (32,)  # None: every width

    def __post_init__(self) -> None:
        if not self.mlp_widths and not self.transformer_widths:
            raise UserInputError("the sweep needs at least one width")
        if not self.seeds or not self.arms or any(m <= 0 for m in self.arms):
            raise UserInputError("the sweep needs at least one seed and positive arms m")
        if min(self.mlp_n_eval, self.tf_n_eval) < 1:
            raise UserInputError("the sweep's example sets must not be empty")


QUICK = SweepConfig()
# The smallest sweep that runs every stage of the protocol (tests, rehearsals); its gate sees too few examples.
TINY = SweepConfig(mlp_widths=(8, 16), seeds=(0,), mlp_base=TrainConfig(steps=60, batch_size=64, lr=3e-3),
                   mlp_tune=TrainConfig(steps=150, batch_size=64, lr=3e-3), mlp_n_eval=128, n_trials=20,
                   unit_control_trials=40,
                   n_coarse=3, unit_control_widths=(8,))
# Sized by the printed estimate so the full figure run fits 2 hours on 2 cores; the widths span 32x.
FULL = SweepConfig(mlp_widths=(32, 128, 512, 1024), transformer_widths=(32, 64), n_trials=240,
                   unit_control_trials=480, mlp_base=TrainConfig(steps=1000, batch_size=128, lr=3e-3),
                   mlp_tune=TrainConfig(steps=2000, batch_size=128, lr=3e-3),
                   tf_base=TrainConfig(steps=1500, batch_size=64, lr=3e-3),
                   tf_tune=TrainConfig(steps=1000, batch_size=64, lr=1e-3))


@dataclass(frozen=True)
class Arm:
    """One (kind, parameterisation, width, seed): how to build, train and score its models."""

    kind: str
    parameterisation: str
    width: int
    seed: int
    build: Callable[[], nn.Module]
    train: Callable[[nn.Module, TrainConfig, Plateau | None], Any]
    monitor_loss: Callable[[nn.Module], torch.Tensor]
    symmetries: Callable[[nn.Module], list[ScalingSymmetry]]
    score: Score
    base_cfg: TrainConfig
    tune_cfg: TrainConfig

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.parameterisation}-w{self.width}-s{self.seed}"


def _mlp_training(task):
    loss, n = classification_loss(task), len(task.y_train)
    rows = torch.arange(min(MONITOR_ROWS, n))
    return (lambda m, c, plateau=None: train(m, loss, n, c, mlp_adamw, plateau)), (lambda m: loss(m, rows))


def _transformer_training(seed: int):
    loss, rows = sequence_loss(training_pool("pretrain", POOL_SIZE, seed + 1)), torch.arange(MONITOR_ROWS)
    return (lambda m, c, plateau=None: train_on_mixture(m, "pretrain", c, plateau=plateau)), (lambda m: loss(m, rows))


def arms(cfg: SweepConfig) -> list[Arm]:
    out = []
    for seed in cfg.seeds:
        task = gaussian_mixture(separation=MLP_SEPARATION, seed=seed, n_test=cfg.mlp_n_eval)
        fit, monitor = _mlp_training(task)
        for p in cfg.parameterisations:
            for w in cfg.mlp_widths:
                mcfg = MLPConfig(input_dim=task.input_dim, width=w, n_classes=task.n_classes, parameterisation=p,
                                 seed=seed)
                out.append(Arm("mlp", p, w, seed, lambda mcfg=mcfg: MLP(mcfg), fit, monitor, relu_symmetries,
                               task.accuracy(), replace(cfg.mlp_base, seed=seed), replace(cfg.mlp_tune, seed=seed + 1)))
        if not cfg.transformer_widths:
            continue
        score = basic_score(cfg.tf_n_eval, seed)
        fit, monitor = _transformer_training(seed)
        for w in cfg.transformer_widths:
            tcfg = TransformerConfig(d_model=w, n_heads=max(1, w // 16), seed=seed)
            out.append(Arm("transformer", "standard", w, seed, lambda tcfg=tcfg: TinyTransformer(tcfg), fit, monitor,
                           transformer_symmetries, score, replace(cfg.tf_base, seed=seed),
                           replace(cfg.tf_tune, seed=seed + 1)))
    return out


def _base(arm: Arm, cache: Path | None) -> nn.Module:
    model = arm.build()
    trained_once(recipe_path(cache, f"{arm.name}-base", {"weights and record": asdict(arm.base_cfg)}), model,
                 lambda m: {"steps": arm.train(m, arm.base_cfg, None).steps})
    return model


def runs_unit_control(arm: Arm, cfg: SweepConfig) -> bool:
    return arm.seed in cfg.unit_control_seeds and (cfg.unit_control_widths is None
                                                    or arm.width in cfg.unit_control_widths)


def entry_verdict(entry: dict[str, Any], arm_row: dict[str, Any]) -> str:
    """An arm's verdict as the registry's judge gives it (the claim's one criterion, no second copy here)."""
    from theory.claims import judge

    return judge([arm_measurement(entry, arm_row, SOURCE)]).verdict


def run_arm(arm: Arm, cfg: SweepConfig, store: ResultStore | None, cache: Path | None,
            log: Callable[[str], None] = print) -> dict[str, Any]:
    """One entry of enlargement.json: the protocol's record plus the summary the figures and claims read."""
    start = time.perf_counter()
    base = _base(arm, cache)
    rec = run_enlargement(base, arm.train, arm.tune_cfg, arm.score, arm.symmetries, arm.monitor_loss,
                          model_id=arm.name, n_trials=cfg.n_trials, n_coarse=cfg.n_coarse, arms=cfg.arms,
                          store=store, cache=cache, unit_control=runs_unit_control(arm, cfg),
                          unit_control_trials=cfg.unit_control_trials, log=log)
    primary = next((a for a in rec["arms"] if a.get("primary")), rec["arms"][0])
    measured = primary.get("sigma_train") is not None
    entry = {"kind": arm.kind, "parameterisation": arm.parameterisation, "width": arm.width, "seed": arm.seed,
             "params": sum(p.numel() for p in base.parameters()), "m": primary["m"]}
    return {**entry, "verdict": entry_verdict(entry, primary),
            "sigma_basin": {"before": rec["anchor"]["sigma_basin"],
                            "after": primary["go"]["sigma_basin"] if measured else None},
            "sigma_basin_multiplicative": {
                "before": primary["control_multiplicative"]["sigma_basin"] if measured else None,
                "after": primary["go_multiplicative"]["sigma_basin"] if measured else None},
            "factor": primary["test"]["factor"] if measured else None,
            "factor_multiplicative": primary["test_multiplicative"]["factor"] if measured else None,
            "protocol": rec, "train": {"base": asdict(arm.base_cfg), "tune": asdict(arm.tune_cfg)},
            "wall_time_s": time.perf_counter() - start}


def run_sweep(cfg: SweepConfig, out: Path, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Runs every arm (resuming from out/store.jsonl and out/models/), writes out/enlargement.json."""
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out / "store.jsonl")
    plan = arms(cfg)
    log(f"enlarge: {len(plan)} entries ({', '.join(a.name for a in plan)}); arms m = {cfg.arms}")
    entries = [run_arm(a, cfg, store, out / "models", log) for a in plan]
    (out / "enlargement.json").write_text(json.dumps(to_json_value(entries), indent=1, allow_nan=False))
    return entries


# ----------------------------------------------------------------------------- measurements for the registry
def enlargement_measurements(entries: list[dict[str, Any]], source: str) -> list[Measurement]:
    """The sweep's Measurements, one producer for the toy claims and the figures: factor_measurements and
    size_measurements."""
    return factor_measurements(entries, source) + size_measurements(entries, source)


def arm_measurement(entry: dict[str, Any], arm: dict[str, Any], source: str) -> Measurement:
    """go-enlarges-5x of one GO arm of one entry (landscape.enlargement_protocol.arm_measurement)."""
    return protocol_arm_measurement(arm, model=f"toy {entry['kind']} ({entry['parameterisation']})", source=source,
                                    entry=f"{entry['kind']} {entry['parameterisation']} width {entry['width']}",
                                    training_seed=entry.get("seed"))


def factor_measurements(entries: list[dict[str, Any]], source: str) -> list[Measurement]:
    """go-enlarges-5x per entry: its primary arm (arm_measurement), training seed named."""
    return [arm_measurement(e, next((a for a in e["protocol"]["arms"] if a.get("primary")), e["protocol"]["arms"][0]),
                            source) for e in entries]


def size_measurements(entries: list[dict[str, Any]], source: str) -> list[Measurement]:
    """basins-widen-with-size per (kind, parameterisation, seed) with ≥ 2 widths: the log-log slope of the
    controls' canonical raw σ-basins against parameter count (the multiplicative slope in the note)."""
    from theory.claims.statistics import log_slope

    out = []
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for e in entries:
        groups.setdefault((e["kind"], e["parameterisation"], e.get("seed", 0)), []).append(e)
    for (kind, param, seed), rows in groups.items():
        rows = sorted(rows, key=lambda r: r["params"])
        if len({r["params"] for r in rows}) < 2:
            continue
        d = [r["params"] for r in rows]
        canon = log_slope(d, [Estimate.from_dict(r["sigma_basin"]["before"]) for r in rows],
                          "slope of log sigma_basin vs log params, canonical raw sigma")
        mult = [r["sigma_basin_multiplicative"]["before"] for r in rows]
        note = ("multiplicative slope " + log_slope(d, [Estimate.from_dict(x) for x in mult], "slope").brief()
                if all(x is not None for x in mult) else "")
        out.append(Measurement("basins-widen-with-size", canon, f"toy {kind} ({param})", source, n=canon.n,
                               varied=("noise", "examples"), entry=f"{kind} {param}", training_seed=seed, note=note,
                               extra={"unit_kind": "canonical"}))
    return out
