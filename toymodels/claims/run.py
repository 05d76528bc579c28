"""Running every claim family through one workspace, writing measurements.json and claims.json."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from landscape.store import to_json_value
from theory.claims import Measurement, judge_all
from theory.claims.document import document, measurement_to_dict
from theory.verdict import ClaimResult
from toymodels.claims.common import FULL, QUICK, Workspace
from toymodels.claims.theorem_claims import claim_go_enlarges, theorem_claims
from toymodels.claims.transformer_claims import (
    claim_adversarial_near_worst,
    claim_adversarial_safety_first,
    claim_benign,
    claim_flat_then_collapse,
    claim_nested,
    claim_nll_smooth,
    claim_strict_basin,
    measure_transformer,
)
from toymodels.claims.width_claims import (
    claim_go_forgets_less,
    claim_widen_with_size,
    claim_widen_with_training,
    claim_worst_narrower,
    measure_widths,
)

# ----------------------------------------------------------------------------------------- all


def measure_all(out_dir: str | Path, quick: bool = True, enlargement: str | Path | None = None,
                log: Callable[[str], None] = print) -> list[Measurement]:
    """Every claim's Measurements; writes out_dir/measurements.json and the records listed in the module doc.
    `enlargement`: path of enlargement.json (default: out_dir/enlargement.json)."""
    ws = Workspace(out_dir, QUICK if quick else FULL)
    start = time.perf_counter()
    out: list[Measurement] = []

    def stage(label: str) -> None:
        log(f"[claims] {label} ({time.perf_counter() - start:.0f} s)")

    stage("MLP width sweep")
    points = measure_widths(ws)
    out += [claim_worst_narrower(points), claim_widen_with_size(points)]
    stage("training checkpoints")
    out.append(claim_widen_with_training(ws))
    stage("theorems")
    out += theorem_claims(ws, points)
    stage("forgetting")
    out.append(claim_go_forgets_less(ws, points))
    out += claim_go_enlarges(Path(enlargement) if enlargement else ws.out / "enlargement.json")
    stage("transformer")
    m = measure_transformer(ws)
    out += [claim_flat_then_collapse(m), claim_nll_smooth(m), *claim_nested(m), claim_benign(m),
            claim_adversarial_safety_first(m), claim_adversarial_near_worst(m), claim_strict_basin(ws)]
    out = [replace(x, training_seed=ws.cfg.seed) for x in out]
    ws.dump("measurements", [measurement_to_dict(x) for x in out])
    stage(f"done: {len(out)} measurements")
    return out


def measure_all_claims(out_dir: str | Path, quick: bool = True, enlargement: str | Path | None = None,
                       log: Callable[[str], None] = print) -> list[ClaimResult]:
    """measure_all, judged by the registry (theory.claims.judge_all); writes out_dir/claims.json."""
    rows = judge_all(measure_all(out_dir, quick, enlargement, log))
    (Path(out_dir) / "claims.json").write_text(json.dumps(to_json_value(document(rows)), indent=1, allow_nan=False))
    return rows


def summary_lines(results: Sequence[ClaimResult]) -> list[str]:
    """One line per claim: id, verdict, value [ci] unit."""
    def num(x):
        return "nan" if x is None else f"{x:.4g}"
    return [f"{r.id:38s} {r.verdict:28s} {num(r.value)} [{num(r.ci[0]) if r.ci else ''}, "
            f"{num(r.ci[1]) if r.ci else ''}] {r.unit}" for r in results]

