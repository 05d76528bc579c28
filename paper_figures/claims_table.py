"""The claims table rendered: claims.md + claims.json from the rows of the registry's judge.

Claim ids, statements, criteria and kinds come from theory.claims (the one registry); this module only
writes them. claims.json is theory.claims.document (schema version, counts by kind, rows); claims.md
counts empirical claims and theorem checks apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from theory.claims import CLAIMS, document
from theory.claims.document import headline, rows_from_document
from theory.verdict import ClaimResult

STATEMENTS = {c.id: c.statement for c in CLAIMS}


def from_dict(d: Mapping) -> ClaimResult:
    """A ClaimResult back from its JSON form, the claim text defaulting to the registry's statement."""
    return ClaimResult.from_dict(d, default_claim=STATEMENTS.get(str(d.get("id")), ""))


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.4g}"


def to_markdown(rows: Sequence[ClaimResult]) -> str:
    subjects = dict.fromkeys(r.subject or "toy models" for r in rows)
    lines = ["# Claims table", ""] + [f"**{s}: {headline(rows, s)}.**" for s in subjects] + ["",
             "Verdict: *holds* if the confidence interval lies inside the criterion's region, *fails* if it "
             "lies in its fails region, *inconclusive* otherwise; *not-measured (reason)* when this run could not "
             "measure it. Several entries: holds only if every entry holds (intersection–union), fails for the "
             "entries Holm names; several training seeds: holds / fails only if every seed agrees. *level* is "
             "the guaranteed coverage of the interval.",
             "", "| id | kind | verdict | value | CI | level | unit | n | criterion | model | source |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ci = "–" if r.ci is None else f"[{_fmt(r.ci[0])}, {_fmt(r.ci[1])}]"
        cells = [r.id, r.kind or "–", r.verdict, _fmt(r.value), ci, _fmt(r.confidence), r.unit or "–",
                 "–" if r.n is None else str(r.n), r.criterion, r.model or "–", r.source or "–"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    multi = [r for r in rows if len(r.entries) > 1]
    if multi:
        lines += ["", "Entries:", ""]
        for r in multi:
            lines += [f"- `{r.id}`:"] + [f"  - {e}" for e in r.entries]
    lines += ["", "Claims (registry: theory.claims):", ""]
    lines += [f"- `{c.id}` ({c.kind}; {c.paper_version}): {c.statement}. Measured: {c.quantity}. "
              f"Criterion: {c.criterion}. Why: {c.justification}" for c in CLAIMS]
    return "\n".join(lines) + "\n"


def write(rows: Sequence[ClaimResult], out_dir: str | Path) -> list[Path]:
    """claims.json (theory.claims.document) and claims.md in out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "claims.json", out / "claims.md"]
    paths[0].write_text(json.dumps(document(rows), indent=1, allow_nan=False) + "\n")
    paths[1].write_text(to_markdown(rows))
    return paths


def read(path: str | Path) -> list[ClaimResult]:
    """The rows of a written claims.json."""
    return rows_from_document(json.loads(Path(path).read_text()), STATEMENTS)
