"""The Score protocol: a capability is a callable returning the mean of a 0–1 oracle over examples.

`score(model, example_ids=None) -> ScoreResult`; `example_ids=None` means every example. Scores run in
eval mode under torch.no_grad(); they never change the model's parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import torch


@dataclass(frozen=True)
class ScoreResult:
    """value = mean(outcomes) in [0, 1]; outcomes are per-example 0/1 (or [0, 1] for averaged scores)."""

    value: float
    outcomes: np.ndarray
    n: int
    example_ids: tuple[int, ...] | None = None

    @classmethod
    def from_outcomes(cls, outcomes: Sequence[float] | np.ndarray,
                      example_ids: Sequence[int] | None = None) -> ScoreResult:
        arr = np.asarray(outcomes, dtype=np.float64)
        n = int(arr.size)
        value = float(arr.mean()) if n else float("nan")
        return cls(value=value, outcomes=arr, n=n,
                   example_ids=None if example_ids is None else tuple(int(i) for i in example_ids))


@runtime_checkable
class Score(Protocol):
    """A capability benchmark. `name` identifies it in result rows; `chance` is its chance rate."""

    name: str
    chance: float

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult: ...

    @property
    def n_examples(self) -> int: ...
