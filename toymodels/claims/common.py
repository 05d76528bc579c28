"""What every toy claim family shares: run sizes (QUICK / FULL), the workspace (one ResultStore, trained
models cached on disk), the trained models and the Measurement helper."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from landscape.context import ProbeContext
from landscape.directions import DirectionSpec
from landscape.edges import BasinEdges, basin_edges
from landscape.scores import Score
from landscape.store import ResultStore, to_json_value
from theory.claims import Measurement
from theory.estimate import Estimate
from toymodels.mlp import MLP, MLPConfig
from toymodels.tasks.classification import teacher_student
from toymodels.train import (
    ALIGN,
    FINETUNE,
    MLP_TRAIN,
    PRETRAIN,
    TrainConfig,
    finetune,
    pretrain_transformer,
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
    n_eval_forget: int = 4096
    seed: int = 0
    seeds: tuple[int, ...] = (0, 1, 2)


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


def first_finite(*candidates: float) -> float:
    """The first finite positive candidate (edges can be censored at 0 or +inf)."""
    return next(c for c in candidates if math.isfinite(c) and c > 0)


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


