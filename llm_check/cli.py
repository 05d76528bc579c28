"""`llm-check` / `python -m llm_check`: command line in lm-evaluation-harness conventions.

Common flags (every subcommand; `add_common_args` for new ones): --model, --tasks, --limit, --device,
--dtype, --batch-size/--batch_size, --output-path/--output_path, --seed, --dry-run.
Subcommands: `score` (load model and tasks, print each score with its Clopper–Pearson interval), plus the
run subcommands of llm_check.commands (run --quick, edges, sigma-basin, ..., report).
User mistakes raise UserInputError -> one line on stderr, exit status 2 (argparse errors included).
Heavy imports (torch, transformers) happen only after the arguments and task files have been checked.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llm_check.tasks import DEFAULT_CAPABILITY_TASKS
from theory.errors import UserInputError

DEFAULT_TASKS = ",".join(DEFAULT_CAPABILITY_TASKS.values())
CONFIDENCE = 0.95


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's usage+message on two lines -> our one-line contract
        raise UserInputError(message)


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


@arg_type
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise UserInputError(f"expected an integer >= 1, got {text!r}") from exc
    if value < 1:
        raise UserInputError(f"expected an integer >= 1, got {text}")
    return value


@arg_type
def positive_float(text: str) -> float:
    """For sigma-like flags: a finite float > 0."""
    try:
        value = float(text)
    except ValueError as exc:
        raise UserInputError(f"expected a number > 0, got {text!r}") from exc
    if not 0 < value < float("inf"):
        raise UserInputError(f"expected a number > 0, got {text}")
    return value


def add_common_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help="default: SmolLM2-135M-Instruct (GGUF from PyPI); or a .gguf file, HF dir, hub id")
    p.add_argument("--tasks", default=DEFAULT_TASKS,
                   help="comma-separated task names (BIG-bench short names, bigbench:<path>) or JSONL paths")
    p.add_argument("--limit", type=positive_int, default=None, help="use the first N examples of each task")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    p.add_argument("--batch-size", "--batch_size", dest="batch_size", type=positive_int, default=16)
    p.add_argument("--output-path", "--output_path", dest="output_path", type=Path, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dry-run", "--dry_run", dest="dry_run", action="store_true",
                   help="print what would be evaluated and its cost, then stop")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="llm-check", description="Basin estimators on a real causal LM.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    score = sub.add_parser("score", help="clean scores with Clopper-Pearson intervals")
    add_common_args(score)
    score.set_defaults(func=cmd_score)
    # --- run subcommands (run, curves, edges, ..., report, distributed): llm_check/commands.py ---
    from llm_check.commands import register

    register(sub)
    # --- end run subcommands ---
    return parser


def example_ids(n_examples: int, limit: int | None) -> list[int]:
    """The first `limit` examples (all when None), lm-eval's --limit."""
    return list(range(n_examples if limit is None else min(limit, n_examples)))


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def score_interval(outcomes, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided Clopper–Pearson interval for a 0/1 score (theory.stats)."""
    from theory.stats import clopper_pearson

    lo, hi = clopper_pearson(int(round(float(sum(outcomes)))), len(outcomes), confidence)
    return float(lo), float(hi)


def cmd_score(args: argparse.Namespace) -> int:
    from llm_check.tasks import load_tasks

    tasks = load_tasks(args.tasks)
    if args.dry_run:
        for task in tasks:
            ids = example_ids(len(task.examples), args.limit)
            scored = sum(len(getattr(task.examples[i], "choices", (None,))) for i in ids)
            print(f"{task.name}: {len(ids)} examples, {scored} continuations to score")
        return 0

    from llm_check.model_io import load_model
    from llm_check.scores import make_score

    seed_everything(args.seed)
    lm = load_model(args.model, dtype=args.dtype, device=args.device)
    rows = []
    for task in tasks:
        score = make_score(task, lm.tokenizer, batch_size=args.batch_size)
        result = score(lm.model, example_ids(score.n_examples, args.limit))
        ci = score_interval(result.outcomes)
        rows.append({"task": score.name, "score": result.value, "ci": ci, "confidence": CONFIDENCE,
                     "n": result.n, "chance": score.chance})
        print(f"{score.name}: {result.value:.4f} [{ci[0]:.3f}, {ci[1]:.3f}] ({CONFIDENCE:.0%} CI) n={result.n} "
              f"chance={score.chance:.3f}", flush=True)
    if args.output_path is not None:
        args.output_path.mkdir(parents=True, exist_ok=True)
        summary = {"model": lm.model_id, "weight_hash": lm.weight_hash, "dtype": lm.dtype, "scores": rows}
        (args.output_path / "scores.json").write_text(json.dumps(summary, indent=2))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 user error)."""
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except UserInputError as exc:
        print(f"llm-check: error: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
