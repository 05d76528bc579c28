"""CLI of the toy-model room.

    python -m toymodels enlarge [--quick] --out DIR [--seeds N ...]
        the registry's 5x protocol per width and training seed (GO vs AdamW σ-basins in canonical raw and
        multiplicative units, the clean-score gate, the unit control) -> DIR/enlargement.json (rows cached
        in DIR/store.jsonl, models in DIR/models/, so a rerun skips finished work).
    python -m toymodels claims [--quick] --out DIR [--seeds N ...]
        every empirical claim and theorem check measured per training seed with a verdict -> DIR/claims.json
        (+ the curve, edge and record JSON the figures read, under DIR/seed-<n>/); uses DIR/enlargement.json
        for go-enlarges-5x if present.
    python -m toymodels all [--quick] --out DIR
        the sweep, the 5x table and every claim in one call.
User errors: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from landscape.manifest import write_manifest
from theory.cli import OneLineParser
from theory.errors import UserInputError
from theory.estimate import Estimate
from toymodels.enlarge import FULL, QUICK, run_sweep


def _parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m toymodels", description="toy models: width sweeps and the 5x claim")
    sub = p.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    helps = {"enlarge": "GO vs AdamW sigma-basins per width -> DIR/enlargement.json",
             "claims": "every empirical claim with a verdict -> DIR/claims.json",
             "all": "enlarge, then claims, in one call"}
    for name, text in helps.items():
        e = sub.add_parser(name, help=text)
        e.add_argument("--quick", action="store_true", help="quick settings (default: full)")
        e.add_argument("--out", required=True, type=Path, help="output directory")
        e.add_argument("--seeds", type=int, nargs="+", default=None,
                       help="training seeds (default: the settings' own, 0 1 2)")
        e.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    return p


def _enlarge(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    cfg = QUICK if args.quick else FULL
    if args.seeds is not None:
        cfg = replace(cfg, seeds=tuple(args.seeds))
    entries = run_sweep(cfg, args.out, log=lambda s: print(s, file=sys.stderr, flush=True))
    print(f"wrote {args.out / 'enlargement.json'}: {len(entries)} entries in {time.perf_counter() - start:.0f} s")
    for e in entries:
        f = "-" if e["factor"] is None else Estimate.from_dict(e["factor"]).brief()
        fm = "-" if e["factor_multiplicative"] is None else Estimate.from_dict(e["factor_multiplicative"]).brief()
        print(f"  {e['kind']:<11} {e['parameterisation']:<10} w={e['width']:<5} seed={e['seed']} "
              f"params={e['params']:<7} "
              f"m={e['m']:g} factor={f}  multiplicative={fm}  {e['verdict']}")


def _claims(args: argparse.Namespace) -> None:
    from toymodels.claims import measure_all_claims, summary_lines

    results = measure_all_claims(args.out, quick=args.quick, seeds=args.seeds,
                                 log=lambda s: print(s, file=sys.stderr, flush=True))
    print("\n".join(summary_lines(results)))


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.threads < 1:
            raise UserInputError(f"--threads must be >= 1, got {args.threads}")
        if args.out.exists() and not args.out.is_dir():
            raise UserInputError(f"--out {args.out} exists and is not a directory")
        torch.set_num_threads(args.threads)
        write_manifest(args.out, ["python -m toymodels", *(sys.argv[1:] if argv is None else argv)])
        if args.command in ("enlarge", "all"):
            _enlarge(args)
        if args.command in ("claims", "all"):
            _claims(args)
        return 0
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
