"""`llm-check` / `python -m llm_check`: command line in lm-evaluation-harness conventions.

Common flags (every subcommand; `add_common_args` for new ones): --model, --tasks, --limit, --device,
--dtype, --batch-size/--batch_size, --output-path/--output_path, --seed, --dry-run.
Subcommands: `score` (load model and tasks, print each score with its Clopper–Pearson interval), plus the
run subcommands of llm_check.commands (run --quick, edges, sigma-basin, ..., report).
User mistakes raise UserInputError -> one line on stderr, exit status 2 (argparse errors included), before
any model loads. Argument types and shared flags: llm_check.cli_args; output folder, tasks and model
loading: llm_check.loading. Heavy imports (torch, transformers) happen only after the arguments, the output
folder and the task files have been checked.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from llm_check.cli_args import add_common_args, limited_ids, seed_everything
from llm_check.loading import (
    load_checked_tasks,
    prepare_output_dir,
    record_invocation,
    task_record,
    write_json,
)
from theory.cli import OneLineParser
from theory.errors import UserInputError

CONFIDENCE = 0.95


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="llm-check", description="Basin estimators on a real causal LM.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    score = sub.add_parser("score", help="clean scores with Clopper-Pearson intervals")
    add_common_args(score)
    score.set_defaults(func=cmd_score)
    # --- run subcommands (run, curves, edges, ..., report, distributed): llm_check/commands.py ---
    from llm_check.commands import register

    register(sub)
    # --- end run subcommands ---
    return parser


def score_interval(outcomes, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Two-sided Clopper–Pearson interval for a 0/1 score (theory.stats)."""
    from theory.stats import clopper_pearson

    lo, hi = clopper_pearson(int(round(float(sum(outcomes)))), len(outcomes), confidence)
    return float(lo), float(hi)


def cmd_score(args: argparse.Namespace) -> int:
    out = None if args.output_path is None or args.dry_run else prepare_output_dir(args.output_path)
    tasks = load_checked_tasks(args.tasks, args.include_path)
    if args.dry_run:
        for task in tasks:
            ids = limited_ids(task.name, len(task.examples), args.limit)
            scored = sum(len(getattr(task.examples[i], "choices", (None,))) for i in ids)
            print(f"{task.name}: {len(ids)} examples, {scored} continuations to score")
        return 0

    from landscape.scores import resolution_text
    from llm_check.model_io import load_model
    from llm_check.safety import outcome_counts, outcome_rates
    from llm_check.scores import make_score

    seed_everything(args.seed)
    lm = load_model(args.model, dtype=args.dtype, device=args.device)
    scores = [make_score(task, lm.tokenizer, batch_size=args.batch_size) for task in tasks]
    ids = {score.name: limited_ids(score.name, score.n_examples, args.limit) for score in scores}
    if out is not None:
        record_invocation(out, args, model=lm.model_id, weight_hash=lm.weight_hash,
                          tasks={s.name: task_record(s, len(ids[s.name]), args.limit) for s in scores})
    rows = []
    for score in scores:
        result = score(lm.model, ids[score.name])
        ci = score_interval(result.outcomes)
        floor = resolution_text(float(sum(result.outcomes)), result.n, score.chance)
        row = {**task_record(score, result.n, args.limit), "score": result.value, "ci": ci,
               "confidence": CONFIDENCE, "chance": score.chance, "below_resolution": bool(floor)}
        print(f"{score.name}: {result.value:.4f} [{ci[0]:.3f}, {ci[1]:.3f}] ({CONFIDENCE:.0%} CI) n={result.n} "
              f"chance={score.chance:.3f}" + (f"; {floor}" if floor else ""), flush=True)
        if result.labels is not None:  # the safety score: refused (the score), complied and broken rates
            counts = outcome_counts(result.labels)
            rates = outcome_rates(counts, CONFIDENCE)
            row["outcome_rates"] = {label: rate.to_dict() for label, rate in rates.items()}
            for label, rate in rates.items():
                print(f"  {label}: {counts[label]}/{result.n} = {rate.estimate:.3f} [{rate.lo:.3f}, {rate.hi:.3f}]",
                      flush=True)
        rows.append(row)
    if out is not None:
        write_json(out, "scores", {"model": lm.model_id, "weight_hash": lm.weight_hash, "dtype": lm.dtype,
                                   "scores": rows})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 user error)."""
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(argv)
        args.argv = argv  # recorded in DIR/manifest.json
        return args.func(args)
    except UserInputError as exc:
        print(f"llm-check: error: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
