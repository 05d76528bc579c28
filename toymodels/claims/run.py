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
                log: Callable[[str], None] = print, seeds: Sequence[int] | None = None) -> list[Measurement]:
    """Every claim's Measurements, per training seed (default: the settings' seeds), each seed in its own
    workspace out_dir/seed-<n>/; writes out_dir/measurements.json. `enlargement`: path of enlargement.json
    (default: out_dir/enlargement.json), whose entries name their own seeds."""
    cfg = QUICK if quick else FULL
    start = time.perf_counter()
    out: list[Measurement] = []
    seeds = cfg.seeds if seeds is None else tuple(seeds)
    for seed in seeds:
        ws = Workspace(Path(out_dir) / f"seed-{seed}", replace(cfg, seed=seed, seeds=seeds))
        out += [replace(x, training_seed=seed) for x in _measure_seed(ws, start, log)]
    out += claim_go_enlarges(Path(enlargement) if enlargement else Path(out_dir) / "enlargement.json")
    Workspace(out_dir, cfg).dump("measurements", [measurement_to_dict(x) for x in out])
    log(f"[claims] done: {len(out)} measurements ({time.perf_counter() - start:.0f} s)")
    return out


def _measure_seed(ws: Workspace, start: float, log: Callable[[str], None]) -> list[Measurement]:
    out: list[Measurement] = []

    def stage(label: str) -> None:
        log(f"[claims] seed {ws.cfg.seed}: {label} ({time.perf_counter() - start:.0f} s)")

    stage("MLP width sweep")
    points = measure_widths(ws)
    out += [claim_worst_narrower(points), claim_widen_with_size(points)]
    stage("training checkpoints")
    out.append(claim_widen_with_training(ws))
    stage("theorems")
    out += theorem_claims(ws, points)
    stage("forgetting")
    out.append(claim_go_forgets_less(ws, points))
    stage("transformer")
    m = measure_transformer(ws)
    out += [claim_flat_then_collapse(m), claim_nll_smooth(m), *claim_nested(m), claim_benign(m),
            claim_adversarial_safety_first(m), claim_adversarial_near_worst(m), claim_strict_basin(ws)]
    return out


def measure_all_claims(out_dir: str | Path, quick: bool = True, enlargement: str | Path | None = None,
                       log: Callable[[str], None] = print, seeds: Sequence[int] | None = None) -> list[ClaimResult]:
    """measure_all, judged by the registry (theory.claims.judge_all); writes out_dir/claims.json."""
    rows = judge_all(measure_all(out_dir, quick, enlargement, log, seeds))
    (Path(out_dir) / "claims.json").write_text(json.dumps(to_json_value(document(rows)), indent=1, allow_nan=False))
    return rows


def summary_lines(results: Sequence[ClaimResult]) -> list[str]:
    """One line per claim: id, verdict, value [ci] unit."""
    def num(x):
        return "nan" if x is None else f"{x:.4g}"
    return [f"{r.id:38s} {r.verdict:28s} {num(r.value)} [{num(r.ci[0]) if r.ci else ''}, "
            f"{num(r.ci[1]) if r.ci else ''}] {r.unit}" for r in results]

