"""Classification tasks for the MLPs, generated from a seed, with accuracy as the 0–1 score.

teacher_student:   x ~ N(0, I_d); y = argmax of a random one-hidden-layer ReLU teacher (d -> h -> k).
gaussian_mixture:  y uniform on k classes; x = mu_y + N(0, I_d), ||mu_y|| = separation (random directions).
Train and test rows are independent draws. `accuracy()` gives the Score (landscape.scores.ClassificationAccuracy); `CrossEntropyNll` the smooth
control (per-example cross-entropy in nats, NOT a 0–1 score).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from landscape.scores import ClassificationAccuracy, ScoreResult, eval_mode
from theory.errors import UserInputError
from toymodels.tasks.scores import DEFAULT_BATCH, example_index


@dataclass(frozen=True)
class ClassificationTask:
    """x_train [n_train, d] float32, y_train [n_train] long; same for test; `n_classes` k."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int

    @property
    def input_dim(self) -> int:
        return int(self.x_train.shape[1])

    def accuracy(self, n: int | None = None) -> ClassificationAccuracy:
        """Held-out accuracy on the first n test rows (all by default); chance = majority-class rate."""
        y = self.y_test[:n]
        majority = float(torch.bincount(y, minlength=self.n_classes).max()) / max(int(y.numel()), 1)
        return ClassificationAccuracy(self.x_test[:n], y, name=f"{self.name}/accuracy", chance=majority,
                                      batch_size=DEFAULT_BATCH)

    def nll(self, n: int | None = None) -> CrossEntropyNll:
        return CrossEntropyNll(f"{self.name}/nll", self.x_test[:n], self.y_test[:n])


def _check(d: int, k: int, n_train: int, n_test: int) -> None:
    if d < 1 or k < 2 or n_train < 1 or n_test < 1:
        raise UserInputError(f"need d >= 1, k >= 2, n_train, n_test >= 1; got {d}, {k}, {n_train}, {n_test}")


def teacher_student(d: int = 16, k: int = 4, teacher_width: int = 32, n_train: int = 4096,
                    n_test: int = 1024, seed: int = 0) -> ClassificationTask:
    """Labels from a random ReLU teacher; realisable, so accuracy 1 is attainable."""
    _check(d, k, n_train, n_test)
    rng = np.random.default_rng([seed, 1])
    w1 = rng.standard_normal((d, teacher_width)) / np.sqrt(d)
    b1 = 0.1 * rng.standard_normal(teacher_width)
    w2 = rng.standard_normal((teacher_width, k)) / np.sqrt(teacher_width)
    x = rng.standard_normal((n_train + n_test, d))
    logits = np.maximum(x @ w1 + b1, 0.0) @ w2
    y = np.argmax(logits - np.median(logits, axis=0), axis=1)  # centring per class roughly balances labels
    return _split("teacher_student", x, y, n_train, k)


def gaussian_mixture(d: int = 16, k: int = 4, separation: float = 3.0, n_train: int = 4096,
                     n_test: int = 1024, seed: int = 0) -> ClassificationTask:
    """Isotropic unit-variance Gaussian classes at distance `separation` from the origin."""
    _check(d, k, n_train, n_test)
    if separation <= 0:
        raise UserInputError(f"separation must be > 0, got {separation}")
    rng = np.random.default_rng([seed, 2])
    mu = rng.standard_normal((k, d))
    mu *= separation / np.linalg.norm(mu, axis=1, keepdims=True)
    y = rng.integers(0, k, size=n_train + n_test)
    x = mu[y] + rng.standard_normal((n_train + n_test, d))
    return _split("gaussian_mixture", x, y, n_train, k)


def _split(name: str, x: np.ndarray, y: np.ndarray, n_train: int, k: int) -> ClassificationTask:
    xt = torch.tensor(x, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    return ClassificationTask(name, xt[:n_train], yt[:n_train], xt[n_train:], yt[n_train:], k)


def _logits(model: torch.nn.Module, x: torch.Tensor, ids: torch.Tensor, batch_size: int) -> torch.Tensor:
    return torch.cat([model(x[ids[s:s + batch_size]]).float() for s in range(0, ids.numel(), batch_size)]) \
        if ids.numel() else torch.zeros(0, 1)


@dataclass(frozen=True)
class CrossEntropyNll:
    """Smooth control: outcomes = per-example cross-entropy (nats), value = mean. Not a 0–1 score."""

    name: str
    x: torch.Tensor
    y: torch.Tensor
    chance: float = float("nan")
    batch_size: int = DEFAULT_BATCH
    bounded: bool = False

    @property
    def n_examples(self) -> int:
        return int(self.y.shape[0])

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        ids = example_index(self.n_examples, example_ids)
        with eval_mode(model):
            ce = F.cross_entropy(_logits(model, self.x, ids, self.batch_size), self.y[ids], reduction="none")
        return ScoreResult.from_outcomes(ce.double().numpy(), example_ids)
