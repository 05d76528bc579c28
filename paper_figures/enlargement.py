"""The toymodels width sweep (GO vs AdamW σ-basins, the 5× claim): run once, read from OUT/toymodels/<quick|full>/.

`python -m toymodels enlarge` semantics (toymodels.enlarge.run_sweep): one entry per (kind,
parameterisation, width) with params, clean scores, σ-basins before/after in raw σ per coordinate and in
the rescaling-invariant relative unit, the enlargement factors and the reparameterisation control.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from paper_figures.context import RunContext
from theory.errors import UserInputError


def path(ctx: RunContext) -> Path:
    return ctx.out / "toymodels" / ctx.settings / "enlargement.json"


def entries(ctx: RunContext) -> list[dict]:
    """The sweep's enlargement.json entries (computed on first use; resumable through its own store)."""
    folder = path(ctx).parent
    if not path(ctx).exists():
        from toymodels.enlarge import FULL, QUICK, run_sweep

        run_sweep(QUICK if ctx.quick else FULL, folder, log=lambda s: print(s, file=sys.stderr, flush=True))
    try:
        data = json.loads(path(ctx).read_text())
    except ValueError as exc:
        raise UserInputError(f"{path(ctx)}: corrupt enlargement.json ({exc}); delete it to recompute") from exc
    if not isinstance(data, list):
        raise UserInputError(f"{path(ctx)} must hold a list of sweep entries")
    return data


def groups(data: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Entries grouped by (kind, parameterisation), each sorted by parameter count."""
    out: dict[tuple[str, str], list[dict]] = {}
    for e in data:
        out.setdefault((e["kind"], e["parameterisation"]), []).append(e)
    return {k: sorted(v, key=lambda e: e["params"]) for k, v in out.items()}
