"""Argument types and shared flags of the `llm-check` command line (no torch, no model: cheap to import).

Every type checks its value when the arguments are parsed, so a bad flag fails before any work: a
UserInputError (wrapped by `arg_type` so that its own message reaches the user) becomes one line on
stderr and exit status 2. Warnings about accepted-but-adjusted input (`warn`) are one line on stderr too.
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llm_check.tasks import DEFAULT_CAPABILITIES, capability_task
from theory.errors import UserInputError

DEFAULT_TASKS = ",".join(capability_task(c) for c in DEFAULT_CAPABILITIES)
MAX_SEED = 2**32 - 1  # numpy's legacy seeding takes seeds in [0, 2**32 - 1]


def warn(message: str) -> None:
    """One warning line on stderr (the input was accepted, but not exactly as given)."""
    print(f"llm-check: warning: {message}".replace("\n", " "), file=sys.stderr, flush=True)


def arg_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse `type` whose own message reaches the user (argparse replaces a ValueError's message,
    UserInputError included, by "invalid <function name> value")."""
    @functools.wraps(parse)
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
    return checked


def _number(text: str, convert: Callable[[str], Any], ok: Callable[[Any], bool], expected: str) -> Any:
    """convert(text) if it parses and ok(value), else UserInputError("expected <expected>, got …")."""
    try:
        value = convert(text)
    except ValueError as exc:
        raise UserInputError(f"expected {expected}, got {text!r}") from exc
    if not ok(value):
        raise UserInputError(f"expected {expected}, got {text}")
    return value


@arg_type
def positive_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 1, "an integer >= 1")


@arg_type
def auto_or_positive_int(text: str) -> int | str:
    """"auto", or an integer >= 1."""
    return "auto" if text == "auto" else _number(text, int, lambda v: v >= 1, "auto or an integer >= 1")


@arg_type
def seed_value(text: str) -> int:
    """A seed: an integer in [0, MAX_SEED]."""
    return _number(text, int, lambda v: 0 <= v <= MAX_SEED, f"an integer in [0, {MAX_SEED}]")


@arg_type
def positive_float(text: str) -> float:
    """For sigma-like flags: a finite float > 0."""
    return _number(text, float, lambda v: 0 < v < math.inf, "a number > 0")


@arg_type
def floats(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise UserInputError(f"expected comma-separated numbers, got {text!r}") from exc
    if not values:
        raise UserInputError("expected at least one number")
    return values


@arg_type
def positive_floats(text: str) -> list[float]:
    values = floats(text)
    for v in values:
        if not 0 < v < math.inf:
            raise UserInputError(f"every sigma must be a finite number > 0, got {v}")
    return values


@arg_type
def unit_interval(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v <= 1, "a number in [0, 1]")


@arg_type
def task_specs(text: str) -> list[str]:
    """Comma-separated task specs, each kept once (a repeated spec is scored once, with a warning)."""
    specs = [s.strip() for s in text.split(",") if s.strip()]
    if not specs:
        raise UserInputError("expected at least one task")
    for spec, count in Counter(specs).items():
        if count > 1:
            warn(f"task {spec!r} is listed {count} times in --tasks; it is scored once")
    return list(dict.fromkeys(specs))


@arg_type
def existing_dir(text: str) -> Path:
    from llm_check.lm_eval_backend import check_include_path

    return check_include_path(text)


def add_common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help="default: SmolLM2-135M-Instruct (GGUF from PyPI); or a .gguf file, HF dir, hub id")
    p.add_argument("--tasks", type=task_specs, default=DEFAULT_TASKS,
                   help="comma-separated task specs: BIG-bench short names, bigbench:<path>, humaneval, harmbench, "
                        "JSONL paths, lm_eval:NAME[,NAME...]")
    p.add_argument("--include-path", "--include_path", dest="include_path", type=existing_dir, default=None,
                   help="folder of the user's own lm-eval task YAMLs (for lm_eval:NAME)")
    p.add_argument("--limit", type=positive_int, default=None, help="use the first N examples of each task")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--batch-size", "--batch_size", dest="batch_size", type=positive_int, default=16)
    p.add_argument("--output-path", "--output_path", dest="output_path", type=Path, default=None)
    p.add_argument("--seed", type=seed_value, default=0, help=f"integer in [0, {MAX_SEED}]")
    p.add_argument("--dry-run", "--dry_run", dest="dry_run", action="store_true",
                   help="print what would be evaluated and its cost, then stop")


def example_ids(n_examples: int, limit: int | None) -> list[int]:
    """The first `limit` examples (all when None), lm-eval's --limit."""
    return list(range(n_examples if limit is None else min(limit, n_examples)))


def limited_ids(task_name: str, n_examples: int, limit: int | None) -> list[int]:
    """`example_ids`, with a warning when --limit asks for more examples than the task has."""
    if limit is not None and limit > n_examples:
        warn(f"--limit {limit} exceeds the {n_examples} examples of task {task_name}; using {n_examples}")
    return example_ids(n_examples, limit)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
