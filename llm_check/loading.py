"""From parsed common flags to what a command works on: the output folder (checked first), the tasks, the
model (loaded last) and the capabilities; and the one writer of a command's JSON result.

Kept apart from llm_check.cli_args (argument types, cheap to import) because it loads models, and from
llm_check.commands so that llm_check.distributed can load a context without importing the subcommands.
Order of the checks: output folder, tasks, then the model; nothing is evaluated or written to the
folder's rows before all three passed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llm_check.cli_args import limited_ids, seed_everything, warn
from theory.errors import UserInputError

DEFAULT_OUTPUT = Path("llm-check-results")
PROG = "llm-check"


def prepare_output_dir(path: str | Path, flag: str = "--output-path") -> Path:
    """Create `path` (with parents) and check that a file can be written in it; UserInputError when it
    names an existing file, cannot be created or is not writable. Nothing is left behind but the folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserInputError(f"{flag} {path} exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserInputError(f"{flag} {path}: cannot create the folder ({exc.strerror or exc})") from exc
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise UserInputError(f"{flag} {path}: cannot write in the folder ({exc.strerror or exc})") from exc
    return path


def unique_tasks(tasks: Sequence[Any]) -> list[Any]:
    """Each task once, by name: the same task reached through two specs is scored once (a warning); two
    different tasks with one name would share rows and output keys, so that is a UserInputError."""
    kept: dict[str, Any] = {}
    for task in tasks:
        first = kept.get(task.name)
        if first is None:
            kept[task.name] = task
        elif first.source == task.source and first.examples == task.examples:
            warn(f"task {task.name} is given twice in --tasks; it is scored once")
        else:
            raise UserInputError(f"two different tasks are named {task.name} ({first.source} and {task.source}); "
                                 "rename one of the files")
    return list(kept.values())


def load_checked_tasks(specs: Sequence[str] | str, include_path: str | Path | None = None) -> list[Any]:
    from llm_check.tasks import load_tasks

    return unique_tasks(load_tasks(specs, include_path))


def task_record(score: Any, n: int, limit: int | None) -> dict[str, Any]:
    """What was scored of one task: its name, the examples used (n), its size and the --limit asked for."""
    return {"task": score.name, "n": n, "n_in_task": score.n_examples, "limit_requested": limit}


def tasks_record(capabilities: Sequence[Any], limit: int | None) -> dict[str, dict]:
    return {cap.name: task_record(cap.score, cap.n_examples, limit) for cap in capabilities}


def load_context(args: argparse.Namespace, *, record: bool = True):
    """(RunContext, capabilities) from the common flags: the output folder and the tasks are checked
    before the model loads; then DIR/manifest.json records this invocation (unless `record` is False,
    e.g. on all but one rank, or on a dry run)."""
    out = prepare_output_dir(args.output_path or DEFAULT_OUTPUT)
    tasks = load_checked_tasks(args.tasks, getattr(args, "include_path", None))
    from llm_check.model_io import load_model
    from llm_check.runs import Capability, RunContext
    from llm_check.scores import make_score
    from llm_check.tasks import capability_name

    seed_everything(args.seed)
    lm = load_model(args.model, dtype=args.dtype, device=args.device)
    ctx = RunContext.from_loaded(lm, out, seed=args.seed, rng="cuda" if args.device == "cuda" else "cpu")
    caps = []
    for task in tasks:
        score = make_score(task, lm.tokenizer, batch_size=args.batch_size)
        ids = None if args.limit is None else tuple(limited_ids(task.name, score.n_examples, args.limit))
        caps.append(Capability(capability_name(task.name), score, ids))
    if record and not getattr(args, "dry_run", False):
        record_invocation(out, args, model=lm.model_id, weight_hash=lm.weight_hash,
                          tasks=tasks_record(caps, args.limit))
    return ctx, caps


def record_invocation(out_dir: Path, args: argparse.Namespace, **extra: Any) -> None:
    """Append this command (`args.argv`, set by llm_check.cli.main; else sys.argv) to DIR/manifest.json."""
    from landscape.manifest import write_manifest

    argv = getattr(args, "argv", None)
    write_manifest(out_dir, [PROG, *(sys.argv[1:] if argv is None else argv)], **extra)


def write_json(out_dir: Path, name: str, payload: dict) -> Path:
    """DIR/<name>.json: `payload` as plain JSON (landscape.store.to_json_value: NaN -> null, inf -> "inf")."""
    from landscape.store import to_json_value

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(to_json_value(payload), indent=2, sort_keys=True))
    print(f"wrote {path}")
    return path
