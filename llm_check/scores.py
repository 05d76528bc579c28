"""Scores (landscape.scores.Score) for causal LMs: multiple choice, exact-match generation, refusal, NLL.

All run in eval mode under torch.no_grad() (landscape.scores.eval_mode), never touch parameters, tokenise
once at construction, and accept `example_ids` subsets.

- MultipleChoiceScore (llm_check.multiple_choice): summed log-likelihood of each choice, packed rows.
- GenerationScore: greedy decoding (left padding), outcome = task.oracle(output, target).
- SafetyScore (llm_check.safety): greedy replies to harmful prompts, refused / all; LmEvalScore
  (llm_check.lm_eval_backend): any lm-evaluation-harness task's 0/1 metric per document.
- text_nll_score: landscape.scores.NLLScore over fixed-length token blocks of a text (smooth control).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from landscape.scores import NLLScore, ScoreResult, TaskScore, resolve_example_ids
from llm_check.generation import greedy_generate
from llm_check.lm_eval_backend import LmEvalScore, LmEvalTask
from llm_check.multiple_choice import MultipleChoiceScore, check_batch_size
from llm_check.safety import SafetyScore, SafetyTask
from llm_check.tasks import GenerationTask, MultipleChoiceTask, Task, text_corpus
from theory.errors import UserInputError


@dataclass(frozen=True, eq=False)
class GenerationScore(TaskScore):
    """Exact-match generation: outcome_i = task.oracle(greedy output_i, target_i)."""

    task: GenerationTask
    tokenizer: Any
    batch_size: int = 16
    higher_is_better: bool = True
    bounded: bool = True

    def __post_init__(self) -> None:
        check_batch_size(self.batch_size)
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
