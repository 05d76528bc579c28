"""`python -m theory [--report FILE]`: print every derivation with its verdict; exit 1 if any fails.

Also runs each derivation's mutant (a deliberately wrong claim), which must be reported "failed"; a mutant
that passes means the checker cannot fail, and also exits 1. User errors: one line on stderr, exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sympy as sp

from theory.cli import OneLineParser
from theory.derivations import FAILED, Derivation, derivations, mutants
from theory.errors import UserInputError


def _text(d: Derivation) -> str:
    lines = [f"({d.key}) {d.title}  [{d.verdict}]", f"    claim: {d.claim}"]
    lines += ["        " + row for row in sp.pretty(d.expression, use_unicode=True).splitlines()]
    for step in d.steps:
        note = f"  ({step.note})" if step.note else ""
        lines.append(f"    - [{step.verdict}] {step.statement}{note}")
    return "\n".join(lines)


def _markdown(results: tuple[Derivation, ...], mutated: tuple[tuple[str, Derivation], ...]) -> str:
    out = ["# Theory report", "", "Verdicts: *proved* (symbolic), *checked numerically* (random points only), "
           "*failed*. Monte Carlo steps confirm (*agrees*) or fail a claim; they never prove one.", "",
           "| derivation | claim | verdict |", "|---|---|---|"]
    out += [f"| ({d.key}) {d.title} | {d.claim} | **{d.verdict}** |" for d in results]
    for d in results:
        out += ["", f"## ({d.key}) {d.title} — {d.verdict}", "", d.claim, "", f"$$ {sp.latex(d.expression)} $$", ""]
        out += [f"- *{s.verdict}*: {s.statement}" + (f" ({s.note})" if s.note else "") for s in d.steps]
    out += ["", "## Mutants (each must be reported failed)", "", "| derivation | mutant | verdict |", "|---|---|---|"]
    out += [f"| ({d.key}) | {desc} | {d.verdict} |" for desc, d in mutated]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m theory", description=__doc__.splitlines()[0])
    parser.add_argument("--report", metavar="FILE", help="also write a Markdown report to FILE")
    try:
        args = parser.parse_args(argv)
        if args.report is not None and not Path(args.report).resolve().parent.is_dir():
            raise UserInputError(f"--report: directory of {args.report!r} does not exist")
        results = derivations()
        mutated = mutants()
        for d in results:
            print(_text(d), end="\n\n")
        print("Mutants (a wrong claim each; the checker must report failed):")
        for desc, d in mutated:
            print(f"    ({d.key}) {desc}: {d.verdict}")
        n_failed = sum(d.verdict == FAILED for d in results)
        n_escaped = sum(d.verdict != FAILED for _, d in mutated)
        print(f"\n{len(results) - n_failed}/{len(results)} derivations hold; "
              f"{len(mutated) - n_escaped}/{len(mutated)} mutants caught.")
        if args.report is not None:
            try:
                Path(args.report).write_text(_markdown(results, mutated), encoding="utf-8")
            except OSError as exc:
                raise UserInputError(f"--report: cannot write {args.report!r}: {exc.strerror}") from exc
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1 if n_failed or n_escaped else 0


if __name__ == "__main__":
    sys.exit(main())
