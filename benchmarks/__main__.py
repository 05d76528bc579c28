"""`python -m benchmarks <name>`: run one benchmark suite (see benchmarks/<name>.py)."""

from __future__ import annotations

import argparse
import importlib
import sys

SUITES = ("landscape", "llm", "certify", "lm_eval")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suite", choices=SUITES)
    args, rest = parser.parse_known_args(argv)
    return int(importlib.import_module(f"benchmarks.{args.suite}").main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
