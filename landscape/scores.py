"""The Score protocol: a capability is a callable returning the mean of a 0–1 oracle over examples.

`score(model, example_ids=None) -> ScoreResult`; `example_ids=None` means every example. Scores run in
eval mode under torch.no_grad(); they never change the model's parameters.

Two generic scores live here: `ClassificationAccuracy` (tensors (x, y), e.g. for MLPs; value in [0, 1])
and `NLLScore`, the smooth control (mean token negative log-likelihood in nats/token; lower is better, not
in [0, 1], so `higher_is_better = False` and `bounded = False`; certificates refuse it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from theory.errors import UserInputError


@dataclass(frozen=True)
class ScoreResult:
    """value = mean(outcomes) in [0, 1]; outcomes are per-example 0/1 (or [0, 1] for averaged scores).
    `labels`: optionally, the per-example class each outcome was derived from (the safety score's
    refused / complied / broken); result rows keep them."""

    value: float
    outcomes: np.ndarray
    n: int
    example_ids: tuple[int, ...] | None = None
    labels: tuple[str, ...] | None = None

    @classmethod
    def from_outcomes(cls, outcomes: Sequence[float] | np.ndarray, example_ids: Sequence[int] | None = None,
                      labels: Sequence[str] | None = None) -> ScoreResult:
        arr = np.asarray(outcomes, dtype=np.float64)
        n = int(arr.size)
        value = float(arr.mean()) if n else float("nan")
        if labels is not None and len(labels) != n:
            raise ValueError(f"{len(labels)} labels for {n} outcomes")
        return cls(value=value, outcomes=arr, n=n,
                   example_ids=None if example_ids is None else tuple(int(i) for i in example_ids),
                   labels=None if labels is None else tuple(str(x) for x in labels))


class TaskScore:
    """Base of a Score over a task record (attribute `task` with `name`, `chance` and `examples`): the
    Score's name, chance and n_examples are the task's."""

    task: Any

    @property
    def name(self) -> str:
        return self.task.name

    @property
    def chance(self) -> float:
        return self.task.chance

    @property
    def n_examples(self) -> int:
        return len(self.task.examples)


@runtime_checkable
class Score(Protocol):
    """A capability benchmark. `name` identifies it in result rows; `chance` is its chance rate."""

    name: str
    chance: float

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult: ...

    @property
    def n_examples(self) -> int: ...


def higher_is_better(score: Score) -> bool:
    """True for capability scores (the default); False for losses such as `NLLScore`."""
    return bool(getattr(score, "higher_is_better", True))


def is_bounded_score(score: Score) -> bool:
    """True when every outcome lies in [0, 1] (what certificates and Clopper–Pearson need)."""
    return bool(getattr(score, "bounded", True))


@contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[None]:
    """model.eval() and torch.no_grad() inside; the previous train/eval flag is restored on exit."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def resolve_example_ids(example_ids: Sequence[int] | None, n_examples: int) -> list[int]:
    ids = list(range(n_examples)) if example_ids is None else [int(i) for i in example_ids]
    if not ids:
        raise UserInputError("example_ids is empty: a score needs at least one example")
    bad = [i for i in ids if not 0 <= i < n_examples]
    if bad:
        raise UserInputError(f"example_ids out of range [0, {n_examples}): {bad[:5]}")
    return ids


def model_device(model: torch.nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@dataclass(frozen=True, eq=False)
class ClassificationAccuracy:
    """S(θ) = mean_i 1{prediction(f_θ(x_i)) = y_i}.

    Prediction: argmax over the last dimension, or, for a single output (shape (n,) or (n, 1)),
    1{logit > 0}. `chance` defaults to 1 / number of classes (classes = max label + 1, at least 2).
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    name: str = "accuracy"
    chance: float | None = None
    batch_size: int = 4096

    def __post_init__(self) -> None:
        if len(self.inputs) != len(self.targets):
            raise UserInputError(f"inputs ({len(self.inputs)}) and targets ({len(self.targets)}) differ in length")
        if len(self.inputs) == 0:
            raise UserInputError("ClassificationAccuracy needs at least one example")
        if self.batch_size < 1:
            raise UserInputError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.chance is None:
            n_classes = max(2, int(self.targets.max().item()) + 1)
            object.__setattr__(self, "chance", 1.0 / n_classes)

    @property
    def n_examples(self) -> int:
        return len(self.inputs)

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        ids = resolve_example_ids(example_ids, self.n_examples)
        device = model_device(model)
        index = torch.as_tensor(ids, dtype=torch.long)
        outcomes = []
        with eval_mode(model):
            for start in range(0, len(ids), self.batch_size):
                chunk = index[start:start + self.batch_size]
                out = model(self.inputs[chunk].to(device))
                if out.ndim == 1 or out.shape[-1] == 1:
                    pred = (out.reshape(len(chunk)) > 0).long()
                else:
                    pred = out.argmax(dim=-1)
                outcomes.append((pred.cpu() == self.targets[chunk].long()).double())
        return ScoreResult.from_outcomes(torch.cat(outcomes).numpy(), example_ids=ids)


def causal_lm_nll(model: torch.nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """Per-example mean next-token NLL (nats/token) of a causal LM on `tokens` (batch, seq).

    `model(tokens)` may return logits (batch, seq, vocab) or an object with `.logits` (Hugging Face).
    """
    out = model(tokens)
    logits = out.logits if hasattr(out, "logits") else out
    pred = logits[:, :-1, :].float()
    target = tokens[:, 1:]
    nll = torch.nn.functional.cross_entropy(pred.reshape(-1, pred.shape[-1]), target.reshape(-1),
                                            reduction="none")
    return nll.reshape(target.shape).mean(dim=1)


@dataclass(frozen=True, eq=False)
class NLLScore:
    """Smooth control: value = mean over examples of the per-example loss (default: mean next-token NLL,
    nats/token). Lower is better and the value is not in [0, 1].

    `tokens` is an (n_examples, seq) tensor (token batches), or any tensor whose first dimension indexes
    examples; `loss_fn(model, batch) -> per-example loss (batch,)` makes it work for any model.
    """

    tokens: torch.Tensor
    loss_fn: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor] = causal_lm_nll
    name: str = "nll"
    batch_size: int = 8
    chance: float = float("nan")
    higher_is_better: bool = False
    bounded: bool = False

    def __post_init__(self) -> None:
        if len(self.tokens) == 0:
            raise UserInputError("NLLScore needs at least one example")
        if self.batch_size < 1:
            raise UserInputError(f"batch_size must be >= 1, got {self.batch_size}")

    @property
    def n_examples(self) -> int:
        return len(self.tokens)

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        ids = resolve_example_ids(example_ids, self.n_examples)
        device = model_device(model)
        index = torch.as_tensor(ids, dtype=torch.long)
        losses = []
        with eval_mode(model):
            for start in range(0, len(ids), self.batch_size):
                chunk = index[start:start + self.batch_size]
                losses.append(self.loss_fn(model, self.tokens[chunk].to(device)).double().cpu())
        return ScoreResult.from_outcomes(torch.cat(losses).numpy(), example_ids=ids)


# A capability is "below resolution" when its clean score's upper 95 % Clopper–Pearson bound lies less than
# this above chance: the default τ = 0.05 edge then asks for a drop that the score cannot show twice over, so
# a basin measured on it would be a curve of floor values, not a basin.
RESOLUTION_MARGIN = 0.1
RESOLUTION_CONFIDENCE = 0.95


def below_resolution(successes: float, n: int, chance: float) -> bool:
    """True when the upper bound of S(θ₀) (RESOLUTION_CONFIDENCE, two-sided) < chance + RESOLUTION_MARGIN."""
    from theory.stats import clopper_pearson

    if n < 1:
        return True
    _, hi = clopper_pearson(int(round(successes)), int(n), RESOLUTION_CONFIDENCE)
    return bool(hi < chance + RESOLUTION_MARGIN)


def resolution_text(successes: float, n: int, chance: float) -> str:
    """The report's wording for a capability at its floor (empty when it is above resolution)."""
    if not below_resolution(successes, n, chance):
        return ""
    return (f"below resolution: the upper {RESOLUTION_CONFIDENCE:.0%} bound of S(θ₀) is under chance + "
            f"{RESOLUTION_MARGIN}, so no basin can be measured on this capability")
