"""Reading llm_check results given with --llm-results DIR (optional panels and claim rows).

Recognised files: `DIR/measurements.json` (theory.claims Measurement dicts, judged with the toy ones, each
in its own row by its `subject`), `DIR/claims.json` (already judged rows: a theory.claims.document or a
bare list of ClaimResult dicts) and any `DIR/**/*.json` holding a 1-D landscape (a dict with "alphas" and
"curves", as landscape.landscape_1d results are stored).
"""

from __future__ import annotations

import json
from pathlib import Path

from theory.claims import Measurement, get
from theory.claims.document import measurement_from_dict, rows_from_document
from theory.errors import InternalError, UserInputError
from theory.verdict import ClaimResult


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise UserInputError(f"{path}: not valid JSON ({exc})") from exc


def landscapes(folder: Path | None) -> list[tuple[str, dict]]:
    """(name, landscape dict) for every landscape JSON under `folder` (none when folder is None)."""
    if folder is None:
        return []
    found = []
    for path in sorted(folder.rglob("*.json")):
        if path.name in ("claims.json", "measurements.json"):
            continue
        data = _load(path)
        if isinstance(data, dict) and "alphas" in data and "curves" in data:
            found.append((str(path.relative_to(folder)), data))
    return found


def claims(folder: Path | None) -> list[ClaimResult]:
    if folder is None or not (folder / "claims.json").exists():
        return []
    data = _load(folder / "claims.json")
    if not isinstance(data, list | dict):
        raise UserInputError(f"{folder / 'claims.json'} must hold a claims document or a list of claim rows")
    try:
        return rows_from_document(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserInputError(f"{folder / 'claims.json'}: malformed claim row ({exc})") from exc


def measurements(folder: Path | None) -> list[Measurement]:
    """The Measurements of DIR/measurements.json (none when absent)."""
    if folder is None or not (folder / "measurements.json").exists():
        return []
    data = _load(folder / "measurements.json")
    if not isinstance(data, list):
        raise UserInputError(f"{folder / 'measurements.json'} must hold a list of measurements")
    try:
        out = [measurement_from_dict(d) for d in data]
        for m in out:
            get(m.claim_id)
    except (KeyError, TypeError, ValueError, InternalError) as exc:
        raise UserInputError(f"{folder / 'measurements.json'}: malformed measurement ({exc})") from exc
    return out
