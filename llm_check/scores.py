"""Scores (landscape.scores.Score) for causal LMs: multiple choice, exact-match generation, refusal, NLL.

All run in eval mode under torch.no_grad() (landscape.scores.eval_mode), never touch parameters, tokenise
once at construction, and accept `example_ids` subsets.

- MultipleChoiceScore: outcome_i = 1{argmax_c LL(c) ∈ gold_i}, LL(c) = Σ_t log p(cont_t | query, cont_<t)
  summed over the tokens of " " + choice, no length normalisation. Context and continuation are tokenised
  separately (context with the tokenizer's special tokens, continuation without) and concatenated.
  Each example is one packed row (context once, then every choice, with a 4-D mask so a choice sees only
  the context and itself: `packed_loglikelihoods`); rows left-padded; `batch_size` = examples per forward
  pass; only trailing logits are computed; log-probabilities in float32.
- GenerationScore: greedy decoding (left padding), outcome = task.oracle(output, target).
- SafetyScore (llm_check.safety): greedy replies to harmful prompts, refused / all; LmEvalScore
  (llm_check.lm_eval_backend): any lm-evaluation-harness task's 0/1 metric per document.
- text_nll_score: landscape.scores.NLLScore over fixed-length token blocks of a text (smooth control).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from landscape.scores import NLLScore, ScoreResult, TaskScore, eval_mode, model_device, resolve_example_ids
from llm_check.generation import greedy_generate, pad_token_id
from llm_check.lm_eval_backend import LmEvalScore, LmEvalTask
from llm_check.safety import SafetyScore, SafetyTask
from llm_check.tasks import GenerationTask, MultipleChoiceTask, Task, text_corpus
from theory.errors import UserInputError

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


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise UserInputError(f"batch_size must be >= 1, got {batch_size}")


@dataclass(frozen=True, eq=False)
class MultipleChoiceScore(TaskScore):
    """Log-likelihood multiple choice (protocol in the module docstring and llm_check.tasks)."""

    task: MultipleChoiceTask
    tokenizer: Any
    batch_size: int = 16
    higher_is_better: bool = True
    bounded: bool = True

    def __post_init__(self) -> None:
        _check_batch_size(self.batch_size)
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


@dataclass(frozen=True, eq=False)
class GenerationScore(TaskScore):
    """Exact-match generation: outcome_i = task.oracle(greedy output_i, target_i)."""

    task: GenerationTask
    tokenizer: Any
    batch_size: int = 16
    higher_is_better: bool = True
    bounded: bool = True

    def __post_init__(self) -> None:
        _check_batch_size(self.batch_size)
        object.__setattr__(self, "_prompts", tuple(list(self.tokenizer(e.prompt).input_ids)
                                                   for e in self.task.examples))

    def outputs(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> list[str]:
        ids = resolve_example_ids(example_ids, self.n_examples)
        return greedy_generate(model, self.tokenizer, [self._prompts[i] for i in ids],
                               self.task.max_new_tokens, self.batch_size)

    def __call__(self, model: torch.nn.Module, example_ids: Sequence[int] | None = None) -> ScoreResult:
        ids = resolve_example_ids(example_ids, self.n_examples)
        outputs = self.outputs(model, ids)
        outcomes = [float(self.task.oracle(o, self.task.examples[i].target)) for i, o in zip(ids, outputs)]
        return ScoreResult.from_outcomes(outcomes, example_ids=ids)


def text_nll_score(tokenizer: Any, text: str | None = None, *, block_size: int = 128,
                   max_blocks: int | None = None, name: str = "nll", batch_size: int = 8) -> NLLScore:
    """NLLScore (mean next-token NLL, nats/token) over consecutive, non-overlapping `block_size`-token
    blocks of `text` (None: Python's pydoc_data topics); the incomplete last block is dropped."""
    if block_size < 2:
        raise UserInputError(f"block_size must be >= 2, got {block_size}")
    ids = tokenizer(text if text is not None else text_corpus(), add_special_tokens=False).input_ids
    n_blocks = len(ids) // block_size if max_blocks is None else min(max_blocks, len(ids) // block_size)
    if n_blocks < 1:
        raise UserInputError(f"text has {len(ids)} tokens, fewer than one block of {block_size}")
    blocks = torch.as_tensor(ids[:n_blocks * block_size], dtype=torch.long).reshape(n_blocks, block_size)
    return NLLScore(tokens=blocks, name=name, batch_size=batch_size)


def make_score(task: Task, tokenizer: Any, batch_size: int = 16):
    """The Score for a loaded task (multiple choice, generation, safety prompts or an lm-eval task)."""
    if isinstance(task, MultipleChoiceTask):
        return MultipleChoiceScore(task, tokenizer, batch_size=batch_size)
    if isinstance(task, SafetyTask):
        return SafetyScore(task.prompts, tokenizer, name=task.name, batch_size=batch_size, source=task.source)
    if isinstance(task, LmEvalTask):
        return LmEvalScore(task, tokenizer, batch_size=batch_size)
    if isinstance(task, GenerationTask):
        return GenerationScore(task, tokenizer, batch_size=batch_size)
    raise TypeError(f"no Score for a {type(task).__name__}")
