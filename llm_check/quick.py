"""`llm-check run --quick`: the quick check on one model, written to DIR/summary.json.

Stages (per capability, all examples of its task unless --limit):
- edges: basin edges along K ≥ 6 raw Gaussian directions (τ = 0.05 drop, both signs, median with an
  order-statistic interval); each direction is held for all its α and each evaluation stops scoring as soon
  as its exit decision is certain (landscape.edges, stop_early: the same edges as whole-set scoring).
- sigma_basin: the paired sequential engine (landscape.sigma_basin) on the grid median-edge × 2^j
  (j = −3 … 3), two-sided betting confidence sequences at the Bonferroni level over the 7 σ, each σ's
  budget n = 300 trials of b examples (b by the cost rule from a pilot), the bracket window started at the
  median edge and stopped at the declared resolution hi/lo ≤ 4; "grid"/"bisect" keep the fixed-n
  raw-outcome path.
- worst_case: the edge along the tethered-ascent direction (pydoc_data text, rescaled to √d) and
  worst ÷ median most-case edge.
- certificate at σ = the σ-basin estimate: 64 fresh-noise draws of the σ-basin's b examples, one noise plan
  for every capability (a σ chosen from data is never certified on the draws that chose it), 99 %,
  q = chance, p_lower = S(θ₀) − the paired drop's one-sided betting bound.
- go (opt-in, `--stages ...,go`): the 5× check (llm_check.enlarge) on the first capability. Without it the
  summary says "not-measured: under-trained" with the step counts (a CPU cannot train GO arms to the
  authors' scale).
Every evaluation is a row of DIR/rows.jsonl, so a rerun resumes; summary.json is rewritten after every
stage. A stage's `n_evals` is the number of its rows in DIR/rows.jsonl (the clean baseline included), so a
resumed run reports what an uninterrupted one does. The dry run's cost model is llm_check.quick_cost.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from landscape.directions import DirectionSpec
from landscape.evaluate import ProbeEvaluator
from landscape.scores import below_resolution, resolution_text
from landscape.sigma_basin import (
    LOOK_EVERY,
    SEARCHES,
    SigmaTask,
    joint_sigma_basins,
)
from landscape.smoothing import TrialDesign, noise_trials, trial_design, trial_plan
from landscape.store import canonical_json, row_key, to_json_value
from landscape.trial_size import pilot_trials
from llm_check.enlarge import AUTHORS_BATCH, AUTHORS_STEPS, enlargement_check
from llm_check.measurements import quick_measurements
from llm_check.runs import (
    Capability,
    RunContext,
    basin_edge,
    certificate_seed,
    certificates,
    sigma_basin_run,
    sigma_grid,
    sigma_points,
    sigma_trials,
    worst_case,
    worst_case_direction,
)
from theory.claims.document import measurement_to_dict
from theory.errors import UserInputError

SUMMARY_FILE = "summary.json"
MEASUREMENTS_FILE = "measurements.json"
STAGES = ("edges", "sigma_basin", "worst_case", "certificate", "go")
QUICK_STAGES = ("edges", "sigma_basin", "worst_case", "certificate")  # GO arms are opt-in (--stages ...,go)


@dataclass(frozen=True)
class QuickConfig:
    """Statistics of the quick check (never shrunk to meet a time; see module doc). n_noise: each σ's trial
    budget (sequential search) or the draws per σ (grid, bisect); n_certificate: the certificate's draws;
    examples_per_trial: b of the sequential σ-basin ("auto": the cost rule); target_ratio: the σ-basin's
    declared resolution hi/lo (the sequential search stops there); edge_stop_early: exact early-stopped
    edge evaluations with each direction held (landscape.edges)."""

    k: int = 6
    tau: float = 0.05
    n_noise: int = 300
    n_certificate: int = 64
    examples_per_trial: int | str = "auto"
    target_ratio: float = 4.0
    edge_confidence: float = 0.95
    certificate_confidence: float = 0.99
    alpha_start: float = 1e-3
    rel_precision: float = 0.1
    n_checks: int = 2
    grid_low: int = 3
    grid_high: int = 3
    sigma_search: str = "sequential"
    edge_stop_early: bool = True
    worst_steps: int = 10
    worst_lr: float = 1e-3
    worst_tether: float = 1.0
    go_steps: int = 20
    go_batch_size: int = 4
    go_block_size: int = 64
    go_lr: float = 2e-4
    multipliers: tuple[float, ...] = (2.0, 5.0)
    stages: tuple[str, ...] = field(default=QUICK_STAGES)

    def __post_init__(self) -> None:
        if min(self.k, self.n_noise, self.n_certificate, self.go_steps, self.worst_steps) < 1:
            raise UserInputError("k, n_noise, n_certificate, go_steps and worst_steps must be >= 1")
        if not 0 <= self.tau <= 1:
            raise UserInputError(f"tau must lie in [0, 1], got {self.tau}")
        if not self.alpha_start > 0:
            raise UserInputError(f"alpha_start must be > 0, got {self.alpha_start}")
        if not self.target_ratio > 1:
            raise UserInputError(f"target_ratio must be > 1, got {self.target_ratio}")
        if self.examples_per_trial != "auto" and not (isinstance(self.examples_per_trial, int)
                                                      and self.examples_per_trial >= 1):
            raise UserInputError(f"examples per trial must be auto or >= 1, got {self.examples_per_trial!r}")
        if self.sigma_search not in SEARCHES:
            raise UserInputError(f"sigma_search must be one of {','.join(SEARCHES)}, got {self.sigma_search!r}")
        unknown = [s for s in self.stages if s not in STAGES]
        if unknown or not self.stages:
            raise UserInputError(f"stages must be a non-empty subset of {','.join(STAGES)}; got "
                                 f"{','.join(self.stages) or 'none'}")

    def search(self) -> dict[str, Any]:
        """The edge searches' options (most-case and worst-case)."""
        return {"alpha_start": self.alpha_start, "rel_precision": self.rel_precision, "n_checks": self.n_checks,
                "stop_early": self.edge_stop_early, "hold": self.edge_stop_early}


def _write_summary(out_dir: Path | None, summary: dict) -> None:
    """DIR/summary.json, and beside it DIR/measurements.json: the claims registry's measurements the stages
    so far make (llm_check.measurements), for `python -m paper_figures --llm-results DIR`."""
    if out_dir is None:
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = to_json_value(summary)
    measurements = [measurement_to_dict(m) for m in quick_measurements(summary)]
    for name, payload in ((SUMMARY_FILE, summary), (MEASUREMENTS_FILE, measurements)):
        tmp = out_dir / (name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
        tmp.replace(out_dir / name)


def _previous_timings(out_dir: Path | None) -> dict[str, float]:
    """Stage seconds recorded in an existing DIR/summary.json (a resumed run), else {}."""
    path = None if out_dir is None else out_dir / SUMMARY_FILE
    try:
        timings = json.loads(path.read_text()).get("timings_s", {}) if path is not None and path.is_file() else {}
    except (OSError, ValueError, AttributeError):
        return {}
    return {str(k): float(v) for k, v in timings.items() if isinstance(v, (int, float))}


class _Stages:
    """Times each stage, prints it to stderr, and rewrites summary.json after it. `timings_s` sums a stage's
    seconds over every run into the folder (a resumed stage costs what all its runs spent; a run killed inside
    a stage records nothing for it); `timings_s_this_run` is this invocation's alone."""

    def __init__(self, out_dir: Path | None, summary: dict):
        self.out_dir = out_dir
        self.summary = summary
        self.previous = _previous_timings(out_dir)
        summary.setdefault("timings_s", {})
        summary.setdefault("timings_s_this_run", {})

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        print(f"[quick] stage {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
        self.summary["timings_s_this_run"][name] = seconds
        self.summary["timings_s"][name] = self.previous.get(name, 0.0) + seconds
        print(f"[quick] stage {name}: {seconds:.1f} s", file=sys.stderr, flush=True)
        _write_summary(self.out_dir, self.summary)
        return value


def stored_rows(ctx: RunContext, cap: Capability, points: Sequence[tuple[dict | None, float, Any]]) -> int:
    """How many of `points` ((direction key or None, alpha, example ids) of the capability's score at the
    context's weights) are rows of DIR/rows.jsonl: the evaluations a stage's result rests on, whether
    this process or an earlier (killed) run made them. Without a store: the number of distinct points."""
    keys = {canonical_json(row_key(ctx.model_id, ctx.weight_hash or "", cap.score.name, d, alpha=float(a),
                                   example_ids=ids)) for d, a, ids in points}
    if ctx.store is None:
        return len(keys)
    return sum(ctx.store.has(json.loads(k)) for k in keys)


def _baseline_point(cap: Capability) -> tuple[None, float, Any]:
    return (None, 0.0, cap.id_list)


def edge_rows(ctx: RunContext, cap: Capability, edges) -> int:
    """Rows of an edge search (every α of both half-lines of every direction; with early stopping, the
    chunks each evaluation scored) plus the clean baseline."""
    points = [_baseline_point(cap)]
    for d in edges.directions:
        for sign, search in ((1.0, d.plus), (-1.0, d.minus)):
            for j, (a, _) in enumerate(search.evaluations):
                if not search.examples_scored:
                    points.append((d.direction, sign * a, cap.id_list))
                    continue
                left = search.examples_scored[j]
                for chunk in edges.chunks:
                    if left <= 0:
                        break
                    points.append((d.direction, sign * a, list(chunk)))
                    left -= len(chunk)
    return stored_rows(ctx, cap, points)


def sequential_rows(ctx: RunContext, cap: Capability, basin) -> int:
    """Rows of a sequential σ-basin: each σ's trials (noise j and its b examples, landscape.sigma_basin's
    trial plan), the b pilot's draws (when b was chosen here), plus the clean baseline."""
    pool = cap.id_list if cap.example_ids is not None else list(range(cap.score.n_examples))
    wanted = {p.sigma: set(p.noise_seeds) for p in basin.points}
    remaining = set().union(*wanted.values()) if wanted else set()
    points = [_baseline_point(cap)]
    design = basin.design if basin.design is not None else trial_design(pool, basin.examples_per_trial or len(pool))
    plan = trial_plan(design, ctx.seed, mode=basin.mode, kind=basin.kind, rng=ctx.rng)
    rounds = -(-basin.sigma_basin.n * basin.sigma_basin.extra["grid_size"] // LOOK_EVERY)  # the engine's bound
    for spec, ids in itertools.islice(plan, rounds * LOOK_EVERY):
        if not remaining:
            break
        if spec.seed in remaining:
            remaining.discard(spec.seed)
            points += [(spec.to_key(), sigma, cap.id_list if ids is None else ids)
                       for sigma, seeds in wanted.items() if spec.seed in seeds]
    assert not remaining, "trial seeds outside the sequential trial plan"
    choice = basin.sigma_basin.extra.get("b_choice") or {}
    if "pilot_sigma" in choice:
        for spec, (whole, one) in pilot_trials(pool, ctx.seed, whole=cap.id_list, kind=basin.kind, rng=ctx.rng):
            points += [(spec.to_key(), choice["pilot_sigma"], whole), (spec.to_key(), choice["pilot_sigma"], one)]
    return stored_rows(ctx, cap, points)


def noise_rows(ctx: RunContext, cap: Capability, draws: Sequence[tuple[float, Sequence[int]]], *, mode: str,
               kind: str, seed: int | None = None, b: int = 1, design: TrialDesign | None = None) -> int:
    """Rows of noise draws: `draws` = (σ, noise seeds drawn at σ) per measured σ, plus the clean baseline;
    `seed`: the base seed they were drawn with (default the run's); b: examples per draw ("pairs"), drawn by
    `design` when b > 1 (the estimator's landscape.smoothing.TrialDesign)."""
    pool = cap.id_list if cap.example_ids is not None else range(cap.score.n_examples)
    points = [_baseline_point(cap)]
    base = ctx.seed if seed is None else seed
    for sigma, seeds in draws:
        if b > 1 and mode == "pairs" and design is not None:
            trials = list(itertools.islice(trial_plan(design, base, mode=mode, kind=kind, rng=ctx.rng), len(seeds)))
        else:
            trials = noise_trials(pool, len(seeds), base, mode=mode, kind=kind, rng=ctx.rng, b=b)
        assert [spec.seed for spec, _ in trials] == list(seeds), "noise draws differ from the estimator's"
        points += [(spec.to_key(), sigma, cap.id_list if ids is None else ids) for spec, ids in trials]
    return stored_rows(ctx, cap, points)


def sigma_rows(ctx: RunContext, cap: Capability, basin) -> int:
    """Rows of a σ-basin of either engine: `sequential_rows` for the sequential search, else `noise_rows` of
    the fixed-n draws at each measured σ."""
    if basin.sigma_basin.extra.get("search") == "sequential":
        return sequential_rows(ctx, cap, basin)
    return noise_rows(ctx, cap, [(p.sigma, p.noise_seeds) for p in basin.points], mode=basin.mode, kind=basin.kind)


def edge_block(ctx: RunContext, cap: Capability, edges, k: int) -> dict:
    """The JSON block of a basin-edge run; n_evals: its rows in DIR/rows.jsonl (`edge_rows`)."""
    m = edges.median
    return {"estimate": m.estimate, "ci": list(m.ci), "coverage": m.coverage, "confidence": m.confidence,
            "K": k, "tau": edges.tau, "unit": m.unit, "n_non_monotone": edges.n_non_monotone,
            "per_direction": [d.edge for d in edges.directions], "n_evals": edge_rows(ctx, cap, edges),
            "evaluations": [[[a, v] for a, v in (*d.plus.evaluations, *((-a, v) for a, v in d.minus.evaluations))]
                            for d in edges.directions],
            "examples_scored": [[*_scored(d.plus, cap), *_scored(d.minus, cap)] for d in edges.directions],
            "stop_early": bool(edges.chunks)}


def _scored(search, cap: Capability) -> list[int]:
    """Examples each evaluation of a half-line scored (the whole set unless it stopped early)."""
    return list(search.examples_scored) or [cap.n_examples] * len(search.evaluations)


def certificate_block(ctx: RunContext, cap: Capability, cert) -> dict:
    """The JSON block of a certificate; n_evals: its rows in DIR/rows.jsonl (`noise_rows`)."""
    return {"p_a_lower": cert.p_lower, "p_a": cert.p_a.estimate, "confidence": cert.p_a.confidence,
            "n_trials": cert.p_a.n, "sigma": cert.sigma, "q": cert.q, "radius": cert.radius,
            "radius_unit": "||dtheta||_2", "certified": cert.certified, "mode": cert.mode,
            "noise_seeds": list(cert.noise_seeds), "p_a_method": cert.p_a.method,
            "examples_per_trial": cert.examples_per_trial,
            "n_evals": noise_rows(ctx, cap, [(cert.sigma, cert.noise_seeds)], mode=cert.mode, kind="gaussian",
                                  seed=certificate_seed(ctx), b=max(1, cert.examples_per_trial),
                                  design=cert.design)}


def _sigma_basins(ctx: RunContext, capabilities: Sequence[Capability], results: dict[str, dict],
                  config: QuickConfig) -> list:
    """Every capability's σ-basin: with the sequential engine one joint search (each trial's noise drawn
    once for all capabilities, each on its own grid, window and examples); else one fixed-n search each."""
    if config.sigma_search != "sequential":
        return [sigma_basin_run(ctx, cap, results[cap.name]["grid"], tau=config.tau, n=config.n_noise,
                                confidence=config.edge_confidence, search=config.sigma_search) for cap in capabilities]
    tasks = [SigmaTask(ctx.model, cap.score, ctx.probe_for(cap), results[cap.name]["grid"],
                       results[cap.name]["start"], config.examples_per_trial) for cap in capabilities]
    return joint_sigma_basins(tasks, tau=config.tau, n=config.n_noise, confidence=config.edge_confidence,
                              target_ratio=config.target_ratio)


def _certificates(ctx: RunContext, capabilities: Sequence[Capability], results: dict[str, dict],
                  config: QuickConfig) -> list:
    """Each capability's certificate at its σ-basin estimate (else its grid's lowest σ), on b examples per
    draw (its σ-basin's b), with fresh noise seeds: one noise plan, each draw made once for every capability."""
    items = []
    for cap in capabilities:
        sb = results[cap.name].get("sigma_basin")
        found = sb is not None and 0 < sb.sigma_basin.estimate < math.inf
        sigma = sb.sigma_basin.estimate if found else results[cap.name]["grid"][0]
        b = sb.examples_per_trial if sb is not None and sb.examples_per_trial else 1
        items.append((cap, sigma, b))
    return certificates(ctx, items, n=config.n_certificate, confidence=config.certificate_confidence)


def _sigma_block(ctx: RunContext, cap: Capability, basin) -> dict:
    """The summary keys of one capability's σ-basin; n_evals: its rows in DIR/rows.jsonl."""
    return {"sigma_basin": basin.sigma_basin.to_dict(), "sigma_basin_points": sigma_points(basin),
            "sigma_basin_trials": sigma_trials(basin), "sigma_basin_non_monotone": basin.non_monotone,
            "sigma_basin_inside_resolvable": basin.inside_resolvable,
            "sigma_basin_n_evals": sigma_rows(ctx, cap, basin)}


def _at_floor(ctx: RunContext, cap: Capability, block: dict, summary: dict) -> bool:
    """Score S(θ₀) (one stored row, which the edge search reuses) and mark the capability below resolution
    when its upper bound is within RESOLUTION_MARGIN of chance (llm_check.scores.below_resolution): its
    stages are skipped, since a basin measured on a floor is a line of floor values."""
    clean = ProbeEvaluator(ctx.model, cap.score, ctx.probe_for(cap)).baseline()
    successes, n = float(np.sum(clean.outcomes)), len(clean.outcomes)
    block["below_resolution"] = below_resolution(successes, n, cap.score.chance)
    if block["below_resolution"]:
        block["clean_score"] = clean.value
        summary["notes"].append(f"{cap.name}: {resolution_text(successes, n, cap.score.chance)} (S(theta0) = "
                                f"{clean.value:.3f} on {n} examples); its stages were skipped")
    return block["below_resolution"]


def run_quick(ctx: RunContext, capabilities: Sequence[Capability], config: QuickConfig = QuickConfig()) -> dict:
    """Run the quick check (module doc); returns the summary dict (also DIR/summary.json)."""
    if not capabilities:
        raise UserInputError("the quick check needs at least one capability")
    summary: dict[str, Any] = {
        "model": ctx.model_id, "weight_hash": ctx.weight_hash, "n_params": ctx.n_params, "seed": ctx.seed,
        "config": asdict(config), "capabilities": {},
        "notes": ["alpha and sigma are per coordinate (raw Gaussian over all d parameters); radii in ||dtheta||_2",
                  ("sigma-basin: paired sequential trials (one noise draw, b examples; drop S(theta0) - p_A), "
                   "betting confidence sequences, Bonferroni over the grid" if config.sigma_search == "sequential"
                   else "sigma-basin: n (noise, example) pairs per sigma ('pairs' mode: each trial Bernoulli(p_A))")]}
    stage = _Stages(ctx.out_dir, summary)
    blocks = {cap.name: summary["capabilities"].setdefault(cap.name, {
        "task": cap.score.name, "n_examples": cap.n_examples, "chance": cap.score.chance}) for cap in capabilities}
    capabilities = [cap for cap in capabilities if not _at_floor(ctx, cap, blocks[cap.name], summary)]
    if not capabilities:
        summary["total_s"] = sum(summary.get("timings_s", {}).values())
        _write_summary(ctx.out_dir, summary)
        return summary
    results: dict[str, dict] = {cap.name: {} for cap in capabilities}
    for cap in capabilities:
        block, res = blocks[cap.name], results[cap.name]
        if "edges" in config.stages:
            edges = stage(f"{cap.name}/edges", lambda cap=cap: basin_edge(
                ctx, cap, k=config.k, tau=config.tau, confidence=config.edge_confidence, **config.search()))
            res["edges"] = edges
            block["clean_score"] = edges.baseline
            block["basin_edge"] = edge_block(ctx, cap, edges, config.k)
            _write_summary(ctx.out_dir, summary)
        median_edge = res["edges"].median.estimate if "edges" in res else math.nan
        found = 0 < median_edge < math.inf
        res["grid"] = sigma_grid(median_edge if found else config.alpha_start, config.grid_low, config.grid_high)
        res["start"] = median_edge if found else None
    if "sigma_basin" in config.stages:
        basins = stage("sigma_basin", lambda: _sigma_basins(ctx, capabilities, results, config))
        for cap, basin in zip(capabilities, basins):
            results[cap.name]["sigma_basin"] = basin
            blocks[cap.name].update(_sigma_block(ctx, cap, basin))
            if not basin.inside_resolvable:
                summary["notes"].append(
                    f"{cap.name}: {config.n_noise} trials per sigma cannot certify any sigma inside at tau = "
                    f"{config.tau} (even a zero drop keeps the interval's upper end above tau), so the "
                    "sigma-basin's lower end is 0 by construction; raise --n")
        _write_summary(ctx.out_dir, summary)
    worst_dir: list[DirectionSpec] = []
    for cap in capabilities if "worst_case" in config.stages else ():
        block, res = blocks[cap.name], results[cap.name]
        if not worst_dir:
            worst_dir.append(stage("worst_case/direction", lambda: worst_case_direction(
                ctx, steps=config.worst_steps, lr=config.worst_lr, tether=config.worst_tether)[0]))
        most = res["edges"].median.estimate if "edges" in res else None
        run = stage(f"{cap.name}/worst_case", lambda cap=cap, most=most: worst_case(
            ctx, cap, most_case_edge=most, tau=config.tau,
            confidence=config.edge_confidence, steps=config.worst_steps, lr=config.worst_lr,
            tether=config.worst_tether, **config.search()))
        block["worst_edge"] = run.worst_edge
        line = run.edges.directions[0]  # the line's edge is the first exit on either half-line
        block["worst_edge_bracket"] = [min(line.plus.lo, line.minus.lo), min(line.plus.hi, line.minus.hi)]
        block["worst_to_most_ratio"] = run.worst_to_most_ratio
        block["worst_evaluations"] = edge_block(ctx, cap, run.edges, 1)["evaluations"][0]
        block["worst_n_evals"] = edge_rows(ctx, cap, run.edges)
        _write_summary(ctx.out_dir, summary)
    if "certificate" in config.stages:
        certs = stage("certificate", lambda: _certificates(ctx, capabilities, results, config))
        for cap, cert in zip(capabilities, certs):
            blocks[cap.name]["certificate"] = certificate_block(ctx, cap, cert)
        _write_summary(ctx.out_dir, summary)
    if "go" not in config.stages:
        summary["go_enlargement"] = {
            "verdict": "not-measured: under-trained",
            "reason": (f"GO arms are not part of the quick check: on CPU they get {config.go_steps} steps at batch "
                       f"{config.go_batch_size}, against the authors' ~{AUTHORS_STEPS} steps at batch "
                       f"{AUTHORS_BATCH}; run them with --stages ...,go or on a GPU"),
            "steps": config.go_steps, "batch_size": config.go_batch_size,
            "authors_steps": AUTHORS_STEPS, "authors_batch_size": AUTHORS_BATCH}
    else:
        first = capabilities[0]
        res = results[first.name]
        sb = res.get("sigma_basin")
        if sb is None or not 0 < sb.sigma_basin.estimate < math.inf:
            summary["go_enlargement"] = {"verdict": "not-measured (no finite, positive baseline sigma-basin on "
                                                    f"{first.name}; widen the sigma grid)"}
        else:
            enl = stage("go_enlargement", lambda: enlargement_check(
                ctx, first, sb.sigma_basin, res["grid"], multipliers=config.multipliers, steps=config.go_steps,
                batch_size=config.go_batch_size, block_size=config.go_block_size, lr=config.go_lr,
                tau=config.tau, n=config.n_noise, confidence=config.edge_confidence,
                search="bisect" if config.sigma_search == "sequential" else config.sigma_search))
            summary["go_enlargement"] = enl.summary()
    summary["total_s"] = sum(summary["timings_s"].values())
    _write_summary(ctx.out_dir, summary)
    return summary
