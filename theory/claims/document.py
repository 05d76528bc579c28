"""The claims.json document and the JSON form of a Measurement.

claims.json = {"schema_version": SCHEMA_VERSION, "counts": {kind: {"total", "holds", "fails",
"inconclusive", "not-measured"}} (the toy models' rows), "headline", "counts_by_subject": {subject: counts},
"rows": [ClaimResult.to_dict(), ...]}; each row carries its "kind" and "subject"
(empirical claim / theorem check) so a report counts "N of 12 empirical claims hold" and "M of 5 theorem
checks pass" apart. A row's verdict key is its verdict without reason (theory.verdict.verdict_key).
Version 1 was a bare list of rows without kinds; it is still read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from theory.claims.records import KINDS, Measurement, scrub_paths
from theory.estimate import Estimate
from theory.verdict import FAILS, HOLDS, INCONCLUSIVE, ClaimResult, verdict_key

SCHEMA_VERSION = 2
TOY = "toy models"
KEYS = (HOLDS, FAILS, INCONCLUSIVE, "not-measured")


def counts(rows: Sequence[ClaimResult], subject: str = TOY) -> dict[str, dict[str, int]]:
    """Per kind: how many rows of `subject` (a row without one counts as the toy models'), and how many of
    each verdict key."""
    out = {kind: {"total": 0, **{k: 0 for k in KEYS}} for kind in KINDS}
    for r in rows:
        if r.kind in out and (r.subject or TOY) == subject:
            out[r.kind]["total"] += 1
            out[r.kind][verdict_key(r.verdict)] += 1
    return out


def headline(rows: Sequence[ClaimResult], subject: str = TOY) -> str:
    """'N of 12 empirical claims hold; M of 5 theorem checks pass' for one subject (default: the toy models)."""
    c = counts(rows, subject)
    e, t = c[KINDS[0]], c[KINDS[1]]
    return f"{e[HOLDS]} of {e['total']} empirical claims hold; {t[HOLDS]} of {t['total']} theorem checks pass"


def _scrubbed(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: scrub_paths(v) if isinstance(v, str) else v for k, v in row.items()}
    out["entries"] = [scrub_paths(e) for e in row.get("entries", [])]
    return out


def document(rows: Sequence[ClaimResult]) -> dict[str, Any]:
    """The claims.json document; no absolute machine path survives in any string."""
    subjects = list(dict.fromkeys(r.subject or TOY for r in rows))
    return {"schema_version": SCHEMA_VERSION, "counts": counts(rows), "headline": headline(rows),
            "counts_by_subject": {s: counts(rows, s) for s in subjects},
            "rows": [_scrubbed(r.to_dict()) for r in rows]}


def rows_from_document(data: Any, default_claim: Mapping[str, str] | None = None) -> list[ClaimResult]:
    """The rows of a claims.json document (this schema, or version 1's bare list)."""
    items = data["rows"] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise TypeError("claims.json rows must be a list")
    claims = default_claim or {}
    return [ClaimResult.from_dict(d, default_claim=claims.get(str(d.get("id")), "")) for d in items]


def measurement_to_dict(m: Measurement) -> dict[str, Any]:
    return {"claim_id": m.claim_id, "estimate": None if m.estimate is None else m.estimate.to_dict(),
            "model": m.model, "source": m.source, "n": m.n, "seeds": list(m.seeds), "varied": list(m.varied),
            "entry": m.entry, "training_seed": m.training_seed, "subject": m.subject, "p_fails": m.p_fails,
            "reason": m.reason, "note": m.note, "extra": dict(m.extra)}


def measurement_from_dict(d: Mapping[str, Any]) -> Measurement:
    est = d.get("estimate")
    return Measurement(claim_id=str(d["claim_id"]), estimate=None if est is None else Estimate.from_dict(est),
                       model=str(d.get("model", "")), source=str(d.get("source", "")), n=int(d.get("n", 0)),
                       seeds=tuple(int(s) for s in d.get("seeds", ())), varied=tuple(d.get("varied", ())),
                       entry=str(d.get("entry", "")), training_seed=d.get("training_seed"),
                       subject=str(d.get("subject", "toy models")), p_fails=d.get("p_fails"),
                       reason=str(d.get("reason", "")), note=str(d.get("note", "")), extra=dict(d.get("extra", {})))
