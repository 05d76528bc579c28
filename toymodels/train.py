"""Training the toy models: pre-train -> fine-tune (align / benign / normal / adversarial), GO training,
checkpoints, through the suite's one loop (landscape.training.train: seeded batches, injected optimizer, GO
when sigma_train > 0, the σ_train = 0 control on the same data order), re-exported here with its config.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from landscape.training import (  # noqa: F401  (the shared loop and its config, re-exported for the toys)
    Checkpoint,
    LossFn,
    OptimizerFactory,
    Plateau,
    TrainConfig,
    TrainResult,
    adamw,
    train,
    with_go,
)
from theory.errors import UserInputError
from toymodels.mlp import MLP, MLPConfig
from toymodels.tasks.classification import ClassificationTask, teacher_student
from toymodels.tasks.language import MIXTURES, SequenceSet, training_pool
from toymodels.transformer import TinyTransformer, TransformerConfig


def sequence_loss(data: SequenceSet) -> LossFn:
    """Mean next-token cross-entropy over the target positions (answers and END) of the chosen rows."""

    def loss(model: nn.Module, rows: torch.Tensor) -> torch.Tensor:
        batch = data.subset(rows)
        logits = model(batch.tokens)[:, :-1]
        mask = batch.target_mask[:, 1:]
        return F.cross_entropy(logits[mask], batch.tokens[:, 1:][mask])

    return loss


def classification_loss(task: ClassificationTask) -> LossFn:
    def loss(model: nn.Module, rows: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(model(task.x_train[rows]), task.y_train[rows])

    return loss


# ----------------------------------------------------------------------------- transformer pipeline
POOL_SIZE = 20_000
PRETRAIN = TrainConfig(steps=800, batch_size=64, lr=3e-3)
ALIGN = TrainConfig(steps=300, batch_size=64, lr=1e-3)
FINETUNE_KINDS = ("benign", "normal", "adversarial")
FINETUNE = {"benign": TrainConfig(steps=200, lr=1e-3), "normal": TrainConfig(steps=200, lr=1e-3),
            "adversarial": TrainConfig(steps=30, lr=1e-3)}


def train_on_mixture(model: nn.Module, kind: str, cfg: TrainConfig, pool_size: int = POOL_SIZE,
                     make_optimizer: OptimizerFactory = adamw, plateau: Plateau | None = None) -> TrainResult:
    """Trains in place on the seeded training pool of mixture `kind` (see tasks.language.MIXTURES)."""
    if kind not in MIXTURES:
        raise UserInputError(f"unknown mixture {kind!r}; choose from {sorted(MIXTURES)}")
    pool = training_pool(kind, pool_size, cfg.seed)
    return train(model, sequence_loss(pool), len(pool), cfg, make_optimizer, plateau)


def pretrain_transformer(config: TransformerConfig | None = None, cfg: TrainConfig = PRETRAIN,
                         make_optimizer: OptimizerFactory = adamw
                         ) -> tuple[TinyTransformer, TrainResult]:
    """Random init (config.seed) -> pre-trained on the "pretrain" mixture: the basic capability."""
    model = TinyTransformer(config or TransformerConfig())
    return model, train_on_mixture(model, "pretrain", cfg, make_optimizer=make_optimizer)


def finetune(model: nn.Module, kind: str, cfg: TrainConfig,
             make_optimizer: OptimizerFactory = adamw) -> tuple[nn.Module, TrainResult]:
    """A fine-tuned copy of `model` on mixture `kind` ("align", "benign", "normal", "adversarial");
    cfg.sigma_train > 0 makes it GO fine-tuning, and the same cfg with sigma_train=0 is its control."""
    tuned = copy.deepcopy(model)
    return tuned, train_on_mixture(tuned, kind, cfg, make_optimizer=make_optimizer)


@lru_cache(maxsize=8)
def _cached_transformer(stage: str, sigma_train: float, seed: int, d_model: int) -> TinyTransformer:
    if stage == "init":
        return TinyTransformer(TransformerConfig(d_model=d_model, seed=seed))
    if stage == "pretrain":
        return pretrain_transformer(TransformerConfig(d_model=d_model, seed=seed),
                                    replace(PRETRAIN, seed=seed, sigma_train=sigma_train))[0]
    if stage == "align":
        base = _cached_transformer("pretrain", 0.0, seed, d_model)
        return finetune(base, "align", replace(ALIGN, seed=seed, sigma_train=sigma_train))[0]
    if stage in FINETUNE_KINDS:
        aligned = _cached_transformer("align", 0.0, seed, d_model)
        return finetune(aligned, stage, replace(FINETUNE[stage], seed=seed, sigma_train=sigma_train))[0]
    raise UserInputError(f"stage must be init, pretrain, align or one of {FINETUNE_KINDS}, got {stage!r}")


def trained_transformer(stage: str = "align", sigma_train: float = 0.0, seed: int = 0,
                        d_model: int = 64) -> TinyTransformer:
    """A fresh copy of a session-cached transformer. Stages: "init", "pretrain" (basic capability),
    "align" (pretrain + safety: the θ₀ for fine-tuning studies), "benign" / "normal" / "adversarial"
    (fine-tuned from "align"). sigma_train applies to the last stage only (GO); 0 is the control."""
    return copy.deepcopy(_cached_transformer(stage, float(sigma_train), int(seed), int(d_model)))


# ----------------------------------------------------------------------------- MLP pipeline
MLP_TRAIN = TrainConfig(steps=400, batch_size=128, lr=3e-3)


def mlp_adamw(model: MLP, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW with each weight's lr divided by its multiplier m, so the effective weights m·W move as in the
    standard parameterisation (Adam's step is invariant to the gradient's scale, not to m)."""
    groups = []
    for layer, m in zip(model.layers, model.multipliers):
        groups.append({"params": [layer.weight], "lr_scale": 1.0 / m})
        groups.append({"params": [layer.bias], "lr_scale": 1.0})
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95), weight_decay=cfg.weight_decay)

def train_mlp(task: ClassificationTask, config: MLPConfig, cfg: TrainConfig = MLP_TRAIN,
              make_optimizer: OptimizerFactory = mlp_adamw) -> tuple[MLP, TrainResult]:
    """Random init (config.seed) -> trained on task's training rows."""
    if config.input_dim != task.input_dim or config.n_classes != task.n_classes:
        raise UserInputError(f"MLP shape ({config.input_dim} -> {config.n_classes}) does not match the task "
                             f"({task.input_dim} -> {task.n_classes})")
    model = MLP(config)
    return model, train(model, classification_loss(task), len(task.y_train), cfg, make_optimizer)



@lru_cache(maxsize=8)
def _cached_mlp(width: int, parameterisation: str, sigma_train: float, seed: int) -> MLP:
    task = teacher_student(seed=seed)
    return train_mlp(task, MLPConfig(width=width, parameterisation=parameterisation, seed=seed),
                     replace(MLP_TRAIN, seed=seed, sigma_train=sigma_train))[0]


def trained_mlp(width: int = 64, parameterisation: str = "standard", sigma_train: float = 0.0,
                seed: int = 0) -> MLP:
    """A fresh copy of a session-cached MLP trained on teacher_student(seed=seed) (score it with
    teacher_student(seed=seed).accuracy())."""
    return copy.deepcopy(_cached_mlp(int(width), parameterisation, float(sigma_train), int(seed)))
