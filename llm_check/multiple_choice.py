"""Multiple-choice tasks and their Score: the records (llm_check.tasks builds them from BIG-bench and JSONL)
and MultipleChoiceScore, in one module with no other task machinery, so a run that needs only multiple choice
(llm_check.five_x on a GPU machine) imports nothing else.

Prompt protocol (pinned; `MultipleChoiceExample.query` is the exact context string, llm_check.tasks):
    candidate = " " + choice; gold = every choice with the maximal target score.
MultipleChoiceScore: outcome_i = 1{argmax_c LL(c) ∈ gold_i}, LL(c) = Σ_t log p(cont_t | query, cont_<t) summed
over the tokens of " " + choice, no length normalisation. Context and continuation are tokenised separately
(context with the tokenizer's special tokens, continuation without) and concatenated, once, at construction.
Each example is one packed row (context once, then every choice, with a 4-D mask so a choice sees only the
context and itself: `packed_loglikelihoods`); rows left-padded; `batch_size` = examples per forward pass; only
trailing logits are computed; log-probabilities in float32; eval mode under torch.no_grad().
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from landscape.scores import ScoreResult, TaskScore, eval_mode, model_device, resolve_example_ids
from theory.errors import UserInputError


def pad_token_id(tokenizer: Any) -> int:
    """The tokenizer's pad id, else its eos id, else 0 (padded positions are masked out anyway)."""
    for attr in ("pad_token_id", "eos_token_id"):
        value = getattr(tokenizer, attr, None)
        if value is not None:
            return int(value)
    return 0


def check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise UserInputError(f"batch_size must be >= 1, got {batch_size}")


@dataclass(frozen=True)
class MultipleChoiceExample:
    query: str
    choices: tuple[str, ...]
    gold: tuple[int, ...]


@dataclass(frozen=True)
class MultipleChoiceTask:
    """Scored by summed log-likelihood of " " + choice after `query` (scores.MultipleChoiceScore)."""

    name: str
    examples: tuple[MultipleChoiceExample, ...]
    source: str = ""

    def __post_init__(self) -> None:
        if not self.examples:
            raise UserInputError(f"task {self.name} has no examples")

    @property
    def chance(self) -> float:
        """Mean over examples of #gold / #choices: the expected score of a uniform random pick."""
        return sum(len(e.gold) / len(e.choices) for e in self.examples) / len(self.examples)


@dataclass(frozen=True, eq=False)
class MultipleChoiceScore(TaskScore):
    """Log-likelihood multiple choice (protocol in the module docstring and llm_check.tasks)."""

    task: MultipleChoiceTask
    tokenizer: Any
    batch_size: int = 16
    higher_is_better: bool = True
    bounded: bool = True

    def __post_init__(self) -> None:
        check_batch_size(self.batch_size)
        requests = []
        for i, ex in enumerate(self.task.examples):
            context = list(self.tokenizer(ex.query).input_ids)
            if not context:
                raise UserInputError(f"{self.task.name}: example {i} has an empty context after tokenisation")
            conts = [list(self.tokenizer(" " + c, add_special_tokens=False).input_ids) for c in ex.choices]
            requests.append((context, conts))
        object.__setattr__(self, "_requests", tuple(requests))

    def choice_loglikelihoods(self, model: torch.nn.Module,
                              example_ids: Sequence[int] | None = None) -> list[np.ndarray]:
        """Per example (in `example_ids` order), the summed log-likelihood of each choice (nats)."""
        ids = resolve_example_ids(example_ids, self.n_examples)
        order = sorted(range(len(ids)), key=lambda r: -_packed_length(self._requests[ids[r]]))
        out: list[np.ndarray] = [np.zeros(0)] * len(ids)
        pad = pad_token_id(self.tokenizer)
        with eval_mode(model):
            for start in range(0, len(order), self.batch_size):
                rows = order[start:start + self.batch_size]
                lls = packed_loglikelihoods(model, [self._requests[ids[r]] for r in rows], pad)
                for r, ll in zip(rows, lls):
                    out[r] = ll
        return out

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        ids = resolve_example_ids(example_ids, self.n_examples)
        lls = self.choice_loglikelihoods(model, ids)
        outcomes = [float(int(np.argmax(ll)) in self.task.examples[i].gold) for i, ll in zip(ids, lls)]
        return ScoreResult.from_outcomes(outcomes, example_ids=ids)


def _packed_length(request: tuple[list[int], list[list[int]]]) -> int:
    return len(request[0]) + sum(len(c) for c in request[1])


def packed_loglikelihoods(model: torch.nn.Module, requests: Sequence[tuple[list[int], list[list[int]]]],
                          pad: int) -> list[np.ndarray]:
    """Σ log p(choice tokens | context) for every choice of every request, one forward pass.

    Each request (context, [choice tokens, ...]) is packed into one row: the context once, then every
    choice, each choice attending to the context and to its own earlier tokens only (a 4-D additive
    mask) with positions continuing from the context, so each choice sees exactly what it would see
    alone after the context. Rows are left-padded; only the trailing logits are computed.
    """
    device, dtype = model_device(model), next(model.parameters()).dtype
    width = max(_packed_length(r) for r in requests)
    input_ids = torch.full((len(requests), width), pad, dtype=torch.long)
    positions = torch.zeros((len(requests), width), dtype=torch.long)
    segment = torch.full((len(requests), width), -1, dtype=torch.long)  # -1 pad, 0 context, k+1 choice k
    for b, (context, conts) in enumerate(requests):
        offset = width - _packed_length((context, conts))
        seq = context + [t for c in conts for t in c]
        input_ids[b, offset:] = torch.as_tensor(seq)
        positions[b, offset:offset + len(context)] = torch.arange(len(context))
        segment[b, offset:offset + len(context)] = 0
        at = offset + len(context)
        for k, cont in enumerate(conts):
            positions[b, at:at + len(cont)] = torch.arange(len(context), len(context) + len(cont))
            segment[b, at:at + len(cont)] = k + 1
            at += len(cont)
    query, key = segment[:, :, None], segment[:, None, :]
    allowed = torch.ones(width, width, dtype=torch.bool).tril() & (query >= 0) & ((key == 0) | (key == query))
    allowed |= torch.eye(width, dtype=torch.bool)  # padded rows attend to themselves (no empty softmax)
    mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)[:, None]
    keep = max(sum(len(c) for c in conts) for _, conts in requests) + 1
    logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                   position_ids=positions.to(device), logits_to_keep=keep).logits
    logp = logits.float().log_softmax(-1).cpu()  # logp[:, j] is the distribution after column width-keep+j
    results = []
    for b, (_, conts) in enumerate(requests):
        col = keep - sum(len(c) for c in conts)  # column (in logp) of the first choice token
        last_context = col - 1  # every choice's first token is predicted from the context's last column
        lls = np.zeros(len(conts))
        for k, cont in enumerate(conts):
            predictors = [last_context] + list(range(col, col + len(cont) - 1))
            lls[k] = float(sum(logp[b, p, t] for p, t in zip(predictors, cont)))
            col += len(cont)
        results.append(lls)
    return results


__all__ = ["MultipleChoiceExample", "MultipleChoiceScore", "MultipleChoiceTask", "packed_loglikelihoods"]
