"""The one training loop of the suite, GO (Gaussian-augmented) or plain, for any model: toy and LLM.

Each step draws a seeded batch of row indices (uniformly with replacement, or `sampling="epochs"`: a fresh
seeded permutation of the rows per epoch, cycled), sets each group's lr from the config's schedule, computes
the loss through a closure and calls `optimizer.step(closure)`. The optimizer is injected; the default is
AdamW (betas 0.9, 0.95), wrapped in landscape.go.GaussianAugmentedOptimizer when sigma_train > 0 (GO: the
gradient is taken at θ + ε, ε ~ N(0, σ_train² I) per coordinate, and applied to the clean θ). The "control"
of a GO run is the same call with sigma_train = 0: same data order, same steps, same seed. Deterministic
given the seeds (CPU, fixed thread count). Checkpoints hold clean weights.

A `Plateau` stops a run early: every `every` steps the monitored value (e.g. E_ε L(θ + ε) on fixed rows
and noise seeds, landscape.enlargement_protocol) is computed in eval mode, and the run stops at the first
check whose value fell by less than rel_tol × |the previous check's value|. cfg.steps is then the budget.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from landscape.go import GaussianAugmentedOptimizer
from theory.errors import UserInputError

SAMPLINGS = ("with-replacement", "epochs")

LossFn = Callable[[nn.Module, torch.Tensor], torch.Tensor]  # (model, batch row ids) -> scalar loss
OptimizerFactory = Callable[[nn.Module, "TrainConfig"], torch.optim.Optimizer]


@dataclass(frozen=True)
class TrainConfig:
    """Peak lr for AdamW (betas 0.9, 0.95), linear warmup over `warmup` steps then cosine decay to 0 when
    cosine=True; sigma_train: GO noise std per coordinate (0 = plain AdamW)."""

    steps: int = 500
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.0
    sigma_train: float = 0.0
    seed: int = 0
    checkpoint_every: int = 0
    grad_clip: float | None = 1.0
    warmup: int = 0
    cosine: bool = False
    sampling: str = "with-replacement"

    def lr_at(self, step: int) -> float:
        """Learning rate of step 1..steps."""
        scale = min(1.0, step / self.warmup) if self.warmup else 1.0
        if self.cosine and self.steps > self.warmup:
            frac = max(0.0, (step - self.warmup) / (self.steps - self.warmup))
            scale *= 0.5 * (1.0 + math.cos(math.pi * frac))
        return self.lr * scale

    def __post_init__(self) -> None:
        if self.steps < 0 or self.batch_size < 1 or self.lr <= 0 or self.sigma_train < 0 or self.checkpoint_every < 0:
            raise UserInputError(f"invalid training config {self}")
        if self.sampling not in SAMPLINGS:
            raise UserInputError(f"sampling must be one of {SAMPLINGS}, got {self.sampling!r}")


@dataclass(frozen=True)
class Plateau:
    monitor: Callable[[nn.Module], float]
    every: int
    rel_tol: float = 0.01

    def __post_init__(self) -> None:
        if self.every < 1 or not self.rel_tol >= 0:
            raise UserInputError(f"a plateau check needs every >= 1 and rel_tol >= 0, got {self.every}, {self.rel_tol}")


@dataclass(frozen=True)
class Checkpoint:
    step: int
    state: dict[str, torch.Tensor]


@dataclass(frozen=True)
class TrainResult:
    """losses[i] = training loss at step i (at the noisy point for GO); checkpoints every
    `checkpoint_every` steps plus the final one (clean weights); monitored: (step, value) of each plateau
    check; plateau_step: the step the run stopped at its plateau (None: no plateau rule, or budget reached)."""

    config: TrainConfig
    losses: tuple[float, ...]
    checkpoints: tuple[Checkpoint, ...]
    wall_time_s: float
    monitored: tuple[tuple[int, float], ...] = ()
    plateau_step: int | None = None

    @property
    def steps(self) -> int:
        return len(self.losses)

    def final_loss(self, window: int = 20) -> float:
        tail = self.losses[-window:]
        return sum(tail) / len(tail) if tail else float("nan")


def adamw(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW (betas 0.9, 0.95) over all parameters; a group's "lr_scale" (default 1) multiplies cfg.lr."""
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=cfg.weight_decay)


def with_go(base: torch.optim.Optimizer, model: nn.Module, cfg: TrainConfig,
            rng: str = "cpu") -> torch.optim.Optimizer | GaussianAugmentedOptimizer:
    """`base` itself when cfg.sigma_train = 0 (the control), else GO around it (landscape.go), drawing ε
    on `rng` ("cpu", or "cuda": the parameters' GPU)."""
    if cfg.sigma_train == 0:
        return base
    return GaussianAugmentedOptimizer(base, model, sigma_train=cfg.sigma_train, seed=cfg.seed, rng=rng)


def train(model: nn.Module, loss_fn: LossFn, n_rows: int, cfg: TrainConfig,
          make_optimizer: OptimizerFactory = adamw, plateau: Plateau | None = None, rng: str = "cpu") -> TrainResult:
    """Trains `model` in place for cfg.steps steps (fewer when `plateau` stops it) on batches of rows drawn
    from range(n_rows), with the injected base optimizer (wrapped in GO when cfg.sigma_train > 0, its noise
    drawn on `rng`)."""
    if n_rows < 1:
        raise UserInputError("training set is empty")
    start = time.perf_counter()
    opt = with_go(make_optimizer(model, cfg), model, cfg, rng)
    g = torch.Generator().manual_seed(cfg.seed)
    losses: list[float] = []
    checkpoints: list[Checkpoint] = []
    monitored: list[tuple[int, float]] = []
    plateau_step = None
    model.train()
    order = torch.empty(0, dtype=torch.long)
    for step in range(1, cfg.steps + 1):
        if cfg.sampling == "epochs":
            first = (step - 1) * cfg.batch_size
            while order.numel() < first + cfg.batch_size:
                order = torch.cat([order, torch.randperm(n_rows, generator=g)])
            rows = order[first:first + cfg.batch_size]
        else:
            rows = torch.randint(0, n_rows, (cfg.batch_size,), generator=g)
        for group in opt.param_groups:
            group["lr"] = cfg.lr_at(step) * group.get("lr_scale", 1.0)

        def closure(rows: torch.Tensor = rows) -> torch.Tensor:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model, rows)
            loss.backward()
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            return loss

        losses.append(float(opt.step(closure).detach()))
        if plateau is not None and step % plateau.every == 0 and step < cfg.steps:
            model.eval()
            with torch.no_grad():
                monitored.append((step, float(plateau.monitor(model))))
            model.train()
            if len(monitored) >= 2 and monitored[-2][1] - monitored[-1][1] < plateau.rel_tol * abs(monitored[-2][1]):
                plateau_step = step
        last = step == cfg.steps or plateau_step is not None
        if last or (cfg.checkpoint_every and step % cfg.checkpoint_every == 0):
            checkpoints.append(Checkpoint(step, {k: v.detach().clone() for k, v in model.state_dict().items()}))
        if plateau_step is not None:
            break
    model.eval()
    return TrainResult(cfg, tuple(losses), tuple(checkpoints), time.perf_counter() - start, tuple(monitored),
                       plateau_step)


def parameter_change(before: dict[str, torch.Tensor], model: nn.Module) -> dict[str, float]:
    """The effective move of a training run: ‖θ − θ_before‖₂ over all parameters (accumulated in float64) and
    the share of coordinates whose value changed at all (0 when a step is rounded away)."""
    sq, moved, n = 0.0, 0, 0
    for name, p in model.named_parameters():
        d = p.detach() - before[name]
        sq += float(d.double().square().sum())
        moved += int((d != 0).sum())
        n += d.numel()
    return {"delta_norm": math.sqrt(sq), "moved_share": moved / n if n else 0.0}


def recipe_path(folder: Path | None, name: str, recipe: Any) -> Path | None:
    """folder/<name>-<12 hex of sha256(recipe as sorted JSON)>.pt, or None without a folder."""
    if folder is None:
        return None
    tag = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    return folder / f"{name}-{tag}.pt"


def trained_once(path: Path | None, model: nn.Module, fit: Callable[[nn.Module], dict]) -> dict:
    """Trains `model` in place by fit(model) (which returns the run's record), or, when `path` holds an
    earlier run, loads its weights instead; with a path, weights and record are stored there atomically.
    Returns the record; the model is left in eval mode."""
    if path is not None and path.exists():
        blob = torch.load(path, weights_only=True)
        model.load_state_dict(blob["state"])
        model.eval()
        return blob["record"]
    record = fit(model)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"state": model.state_dict(), "record": record}, tmp)
        tmp.replace(path)
    model.eval()
    return record
