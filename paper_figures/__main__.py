"""`python -m paper_figures [--quick] --out DIR [--only NAME] [--llm-results DIR] [--minmax]`.

Regenerates every figure (PNG + PDF), Table 1 and the claims table from stored results under
DIR/results, computing what is missing (toy models on CPU; a second run only re-plots). Exit status:
0 when every figure was produced (with data or with an honest "no data" panel), 1 when a figure failed
with an unexpected error, 2 for bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from paper_figures.context import RunContext
from paper_figures.figure import FigureResult, no_data
from theory.errors import UserInputError

MODULES = (
    "fig01_most_case", "fig02_scale", "fig03_worst_case", "fig04_sft_case", "fig05_strict_basin",
    "fig06_bounds", "fig07_training", "fig08_go", "fig09_enlargement", "fig10_nll", "fig11_input_robustness",
    "table01_inside_basin", "claims_table",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse errors are user errors: one line, exit 2
        raise UserInputError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m paper_figures", description=__doc__.split("\n\n")[1])
    p.add_argument("--out", required=True, type=Path, help="output folder (figures, tables, results/)")
    p.add_argument("--quick", action="store_true", help="quick settings (target: ≤ 10 minutes on 2 idle cores, training included)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help=f"produce only this item (repeatable; a prefix such as fig03 is enough): {', '.join(MODULES)}")
    p.add_argument("--llm-results", type=Path, default=None, help="folder of llm_check results to add")
    p.add_argument("--minmax", action="store_true", help="plot the paper's min–max normalised loss, not raw scores")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    return p


def select(only: Sequence[str] | None) -> list[str]:
    """Module names matching --only (exact name or unique prefix); all when None."""
    if not only:
        return list(MODULES)
    chosen = []
    for name in only:
        hits = [m for m in MODULES if m == name or m.startswith(name)]
        if len(hits) != 1:
            raise UserInputError(f"--only {name!r} must name one of {', '.join(MODULES)} (or a unique prefix)")
        chosen.append(hits[0])
    return [m for m in MODULES if m in chosen]


def run_item(ctx: RunContext, name: str) -> FigureResult:
    """Run one module's make(ctx); a missing upstream module gives an honest "no data" figure."""
    try:
        return importlib.import_module(f"paper_figures.{name}").make(ctx)
    except ModuleNotFoundError as exc:
        return no_data(ctx.out, name, name, f"upstream module missing: {exc.name}")


def write_index(ctx: RunContext, results: Sequence[FigureResult], wall_s: float) -> Path:
    """figures.md (+ figures.json): one row per item; rows of items not run this time are kept."""
    store = ctx.out / "figures.json"
    rows = json.loads(store.read_text()) if store.exists() else {}
    rows.update({r.name: {"status": r.status, "summary": r.summary} for r in results})
    store.write_text(json.dumps(rows, indent=1))
    order = {m: i for i, m in enumerate(MODULES)}
    lines = ["# Figures", "", f"settings: {ctx.settings}; last run {wall_s:.0f} s", "",
             "| file | status | shows |", "|---|---|---|"]
    lines += [f"| {name} | {row['status']} | {row['summary']} |"
              for name, row in sorted(rows.items(), key=lambda kv: order.get(kv[0], len(order)))]
    path = ctx.out / "figures.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    start = time.perf_counter()
    try:
        args = _parser().parse_args(argv)
        ctx = RunContext(out=args.out, quick=args.quick, minmax=args.minmax, llm_results=args.llm_results)
        names = select(args.only)
        if args.threads < 1:
            raise UserInputError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
        ctx.out.mkdir(parents=True, exist_ok=True)
    except (UserInputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results, failed = [], False
    for name in names:
        t0 = time.perf_counter()
        try:
            result = run_item(ctx, name)
        except UserInputError as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            return 2
        except Exception as exc:  # a figure that crashed must not take the others down
            traceback.print_exc()
            result = no_data(ctx.out, name, name, f"computation failed: {type(exc).__name__}: {exc}")
            result = FigureResult(result.name, result.title, result.files, f"failed ({exc})", result.summary)
            failed = True
        results.append(result)
        print(f"[paper_figures] {result.name}: {result.status} ({time.perf_counter() - t0:.0f} s)", flush=True)
    index = write_index(ctx, results, time.perf_counter() - start)
    print(f"[paper_figures] wrote {index} ({time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
