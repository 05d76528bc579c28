"""`python -m paper_figures [--quick] --out DIR [--only NAME] [--llm-results DIR] [--minmax]`.

Regenerates every figure (PNG + PDF), Table 1 and the claims table from stored results under
DIR/results, computing what is missing (toy models on CPU; a second run only re-plots). Exit status:
0 when every figure was produced (with data or with an honest "no data" panel), 1 when a figure failed
with an unexpected error, 2 for bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from landscape.manifest import manifest_markdown, write_manifest
from paper_figures import cost, registry
from paper_figures.context import FigureRun
from paper_figures.figure import FigureResult, no_data
from paper_figures.registry import MODULES
from theory.cli import OneLineParser
from theory.errors import UserInputError


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m paper_figures", description=__doc__.split("\n\n")[1])
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


def run_item(ctx: FigureRun, name: str) -> FigureResult:
    """Produce one registry item (its data, then its plot); a missing upstream module gives an honest
    "no data" figure."""
    try:
        return registry.produce(ctx, registry.figure(name))
    except ModuleNotFoundError as exc:
        return no_data(ctx.out, name, name, f"upstream module missing: {exc.name}")


def estimate_stages(ctx: FigureRun, names: Sequence[str]) -> dict[str, cost.StageEstimate]:
    """Per-item cost estimates (training + evaluations) from unit costs timed now on this machine;
    empty when the toy models cannot be imported (then each figure says so itself)."""
    from paper_figures import toy

    t0 = time.perf_counter()
    try:
        works = []
        for name in names:
            fig = registry.figure(name)
            works.append(fig.work(ctx) if fig.work else cost.NONE)
        if all(not w.train and not w.evals for w in works):
            return {name: cost.StageEstimate(0.0, 0.0, 0, 0) for name in names}
        timers = {name: timer for w in works for name, timer in w.timers.items()}
        units = cost.measure_units(toy.sizes(ctx).n_examples, timers=timers)
    except ModuleNotFoundError as exc:
        print(f"[paper_figures] no cost estimate: module {exc.name} missing", flush=True)
        return {}
    timing_s = time.perf_counter() - t0
    stages = dict(zip(names, cost.estimate(works, units)))
    train, evals = units.train_step_s, units.eval_s
    print(f"[paper_figures] unit costs ({timing_s:.0f} s to time): training step transformer "
          f"{train[cost.TRANSFORMER]:.3g} s, mlp {train[cost.MLP]:.3g} s; evaluation transformer "
          f"{evals[cost.TRANSFORMER]:.3g} s, mlp {evals[cost.MLP]:.3g} s; (noise, example) trial transformer "
          f"{evals[cost.TRANSFORMER_TRIAL]:.3g} s, mlp {evals[cost.MLP_TRIAL]:.3g} s", flush=True)
    total = cost.StageEstimate(sum(e.train_s for e in stages.values()), sum(e.eval_s for e in stages.values()),
                               sum(e.train_steps for e in stages.values()), sum(e.evals for e in stages.values()))
    print(f"[paper_figures] whole-run estimate ({len(names)} items): {total.line()}", flush=True)
    return stages


def write_index(ctx: FigureRun, results: Sequence[FigureResult], wall_s: float) -> Path:
    """figures.md (+ figures.json): one row per item; rows of items not run this time are kept."""
    store = ctx.out / "figures.json"
    rows = json.loads(store.read_text()) if store.exists() else {}
    rows.update({r.name: {"status": r.status, "summary": r.summary} for r in results})
    store.write_text(json.dumps(rows, indent=1))
    order = {m: i for i, m in enumerate(MODULES)}
    lines = ["# Figures", "", f"settings: {ctx.settings}; last run {wall_s:.0f} s", "",
             *manifest_markdown(ctx.out), "| file | status | shows |", "|---|---|---|"]
    lines += [f"| {name} | {row['status']} | {row['summary']} |"
              for name, row in sorted(rows.items(), key=lambda kv: order.get(kv[0], len(order)))]
    path = ctx.out / "figures.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    start = time.perf_counter()
    try:
        args = _parser().parse_args(argv)
        ctx = FigureRun(out=args.out, quick=args.quick, minmax=args.minmax, llm_results=args.llm_results)
        names = select(args.only)
        if args.threads < 1:
            raise UserInputError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
        ctx.out.mkdir(parents=True, exist_ok=True)
        write_manifest(ctx.out, ["python -m paper_figures", *(sys.argv[1:] if argv is None else argv)])
    except (UserInputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stages = estimate_stages(ctx, names)
    predicted = time.perf_counter() - start + sum(e.total_s for e in stages.values())
    results, failed = [], False
    for name in names:
        t0 = time.perf_counter()
        if name in stages:
            print(f"[paper_figures] {name}: estimate {stages[name].line()}", flush=True)
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
        spent = time.perf_counter() - t0
        beside = f"; estimated {stages[name].total_s:.0f} s" if name in stages else ""
        print(f"[paper_figures] {result.name}: {result.status} ({spent:.0f} s{beside})", flush=True)
    index = write_index(ctx, results, time.perf_counter() - start)
    total = time.perf_counter() - start
    beside = f" vs {predicted:.0f} s estimated ({100 * (predicted - total) / total:+.0f} %)" if stages else ""
    print(f"[paper_figures] wrote {index}; whole run {total:.0f} s measured{beside}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
