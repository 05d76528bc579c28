"""Reading llm_check results given with --llm-results DIR (optional panels and claim rows).

Recognised files: `DIR/claims.json` (a list of ClaimResult dicts) and any `DIR/**/*.json` holding a
1-D landscape (a dict with "alphas" and "curves", as landscape.landscape_1d results are stored).
"""

from __future__ import annotations

import json
from pathlib import Path

from theory.errors import UserInputError
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
        if path.name == "claims.json":
            continue
        data = _load(path)
        if isinstance(data, dict) and "alphas" in data and "curves" in data:
            found.append((str(path.relative_to(folder)), data))
    return found


def claims(folder: Path | None) -> list[ClaimResult]:
    if folder is None or not (folder / "claims.json").exists():
        return []
    data = _load(folder / "claims.json")
    if not isinstance(data, list):
        raise UserInputError(f"{folder / 'claims.json'} must hold a list of claim rows")
    try:
        return [ClaimResult.from_dict(d) for d in data]
    except (KeyError, TypeError, ValueError) as exc:
        raise UserInputError(f"{folder / 'claims.json'}: malformed claim row ({exc})") from exc
