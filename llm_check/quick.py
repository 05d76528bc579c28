"""`llm-check run --quick`: the quick check on one model, written to DIR/summary.json.

Stages (per capability, all examples of its task unless --limit): basin edges along K ≥ 6 raw Gaussian
directions (τ = 0.05 drop, both signs, median with an order-statistic interval); the σ-basin on the grid
median-edge × 2^j (j = −3 … 3) from n = 200 (noise, example) pairs per σ (each trial a Bernoulli(p_A),
Clopper–Pearson, Bonferroni over the whole grid), measured at the σ a binary search over the grid needs
(sigma_search="bisect": 3 of 7 σ, plus a step up when the first σ past the boundary is not yet certified
outside; "grid" measures all 7 — landscape.sigma_basin); the worst-case edge along the tethered-ascent direction
(pydoc_data text, rescaled to √d) and worst ÷ median most-case edge; a certificate at σ = the σ-basin
estimate (n = 200 pairs, 99 %, q = chance; p_lower = S(θ₀) − the paired drop's one-sided betting bound,
drawn with fresh noise seeds, since the σ was chosen from the σ-basin's draws). Then the
5× check (llm_check.enlarge) on the first capability. Every evaluation is a row of DIR/rows.jsonl, so a
rerun resumes; summary.json is rewritten after every stage. A stage's `n_evals` is the number of its rows in
DIR/rows.jsonl (the clean baseline included), so a resumed run reports what an uninterrupted one does. The dry run times each unit of work through the
run's own code path (a perturbed full evaluation, a few (noise, example) pairs per noise kind, 1- and 2-step
GO and ascent loops; `measure_unit_costs`) and `estimate_cost` multiplies them by the counts above.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from landscape.directions import DirectionSpec
from landscape.evaluate import ProbeEvaluator
from landscape.sigma_basin import bisect_points
from landscape.smoothing import draw_noise, noise_trials
from landscape.store import canonical_json, row_key, to_json_value
from llm_check.enlarge import enlargement_check, go_finetune
from llm_check.runs import (
    Capability,
    RunContext,
    basin_edge,
    certificate,
    certificate_seed,
    sigma_basin_run,
    sigma_grid,
    sigma_points,
    worst_case,
    worst_case_direction,
)
from theory.errors import UserInputError

SUMMARY_FILE = "summary.json"
STAGES = ("edges", "sigma_basin", "worst_case", "certificate", "go")


@dataclass(frozen=True)
class QuickConfig:
    """Statistics of the quick check (never shrunk to meet a time; see module doc)."""

    k: int = 6
    tau: float = 0.05
    n_noise: int = 200
    edge_confidence: float = 0.95
    certificate_confidence: float = 0.99
    alpha_start: float = 1e-3
    rel_precision: float = 0.1
    n_checks: int = 2
    grid_low: int = 3
    grid_high: int = 3
    sigma_search: str = "bisect"
    worst_steps: int = 10
    worst_lr: float = 1e-3
    worst_tether: float = 1.0
    go_steps: int = 20
    go_batch_size: int = 4
    go_block_size: int = 64
    go_lr: float = 2e-4
    multipliers: tuple[float, ...] = (2.0, 5.0)
    stages: tuple[str, ...] = field(default=STAGES)

    def __post_init__(self) -> None:
        if self.k < 1 or self.n_noise < 1 or self.go_steps < 1 or self.worst_steps < 1:
            raise UserInputError("k, n_noise, go_steps and worst_steps must be >= 1")
        if not 0 <= self.tau <= 1:
            raise UserInputError(f"tau must lie in [0, 1], got {self.tau}")
        if not self.alpha_start > 0:
            raise UserInputError(f"alpha_start must be > 0, got {self.alpha_start}")
        if self.sigma_search not in ("grid", "bisect"):
            raise UserInputError(f"sigma_search must be grid or bisect, got {self.sigma_search!r}")
        unknown = [s for s in self.stages if s not in STAGES]
        if unknown or not self.stages:
            raise UserInputError(f"stages must be a non-empty subset of {','.join(STAGES)}; got "
                                 f"{','.join(self.stages) or 'none'}")

    def search(self) -> dict[str, float]:
        return {"alpha_start": self.alpha_start, "rel_precision": self.rel_precision, "n_checks": self.n_checks}


def _write_summary(out_dir: Path | None, summary: dict) -> None:
    if out_dir is None:
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / (SUMMARY_FILE + ".tmp")
    tmp.write_text(json.dumps(to_json_value(summary), indent=2, sort_keys=True))
    tmp.replace(out_dir / SUMMARY_FILE)


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
    """Rows of an edge search (every α of both half-lines of every direction) plus the clean baseline."""
    points = [_baseline_point(cap)]
    for d in edges.directions:
        points += [(d.direction, a, cap.id_list) for a, _ in d.plus.evaluations]
        points += [(d.direction, -a, cap.id_list) for a, _ in d.minus.evaluations]
    return stored_rows(ctx, cap, points)


def noise_rows(ctx: RunContext, cap: Capability, draws: Sequence[tuple[float, Sequence[int]]], *, mode: str,
               kind: str, seed: int | None = None) -> int:
    """Rows of noise draws: `draws` = (σ, noise seeds drawn at σ) per measured σ, plus the clean baseline;
    `seed`: the base seed they were drawn with (default the run's)."""
    pool = cap.id_list if cap.example_ids is not None else range(cap.score.n_examples)
    points = [_baseline_point(cap)]
    for sigma, seeds in draws:
        trials = noise_trials(pool, len(seeds), ctx.seed if seed is None else seed, mode=mode, kind=kind,
                              rng=ctx.rng)
        assert [spec.seed for spec, _ in trials] == list(seeds), "noise draws differ from the estimator's"
        points += [(spec.to_key(), sigma, cap.id_list if ids is None else ids) for spec, ids in trials]
    return stored_rows(ctx, cap, points)


def edge_block(ctx: RunContext, cap: Capability, edges, k: int) -> dict:
    """The JSON block of a basin-edge run; n_evals: its rows in DIR/rows.jsonl (`edge_rows`)."""
    m = edges.median
    return {"estimate": m.estimate, "ci": list(m.ci), "coverage": m.coverage, "confidence": m.confidence,
            "K": k, "tau": edges.tau, "unit": m.unit, "n_non_monotone": edges.n_non_monotone,
            "per_direction": [d.edge for d in edges.directions], "n_evals": edge_rows(ctx, cap, edges),
            "evaluations": [[[a, v] for a, v in (*d.plus.evaluations, *((-a, v) for a, v in d.minus.evaluations))]
                            for d in edges.directions]}


def certificate_block(ctx: RunContext, cap: Capability, cert) -> dict:
    """The JSON block of a certificate; n_evals: its rows in DIR/rows.jsonl (`noise_rows`)."""
    return {"p_a_lower": cert.p_lower, "p_a": cert.p_a.estimate, "confidence": cert.p_a.confidence,
            "n_trials": cert.p_a.n, "sigma": cert.sigma, "q": cert.q, "radius": cert.radius,
            "radius_unit": "||dtheta||_2", "certified": cert.certified, "mode": cert.mode,
            "noise_seeds": list(cert.noise_seeds), "p_a_method": cert.p_a.method,
            "n_evals": noise_rows(ctx, cap, [(cert.sigma, cert.noise_seeds)], mode=cert.mode, kind="gaussian",
                                  seed=certificate_seed(ctx))}


def run_quick(ctx: RunContext, capabilities: Sequence[Capability], config: QuickConfig = QuickConfig()) -> dict:
    """Run the quick check (module doc); returns the summary dict (also DIR/summary.json)."""
    if not capabilities:
        raise UserInputError("the quick check needs at least one capability")
    summary: dict[str, Any] = {
        "model": ctx.model_id, "weight_hash": ctx.weight_hash, "n_params": ctx.n_params, "seed": ctx.seed,
        "config": asdict(config), "capabilities": {},
        "notes": ["alpha and sigma are per coordinate (raw Gaussian over all d parameters); radii in ||dtheta||_2",
                  "sigma-basin: n (noise, example) pairs per sigma ('pairs' mode: each trial Bernoulli(p_A))"]}
    stage = _Stages(ctx.out_dir, summary)
    results: dict[str, dict] = {}
    worst_dir: list[DirectionSpec] = []
    for cap in capabilities:
        block = summary["capabilities"].setdefault(cap.name, {
            "task": cap.score.name, "n_examples": cap.n_examples, "chance": cap.score.chance})
        res = results.setdefault(cap.name, {})
        if "edges" in config.stages:
            edges = stage(f"{cap.name}/edges", lambda cap=cap: basin_edge(
                ctx, cap, k=config.k, tau=config.tau, confidence=config.edge_confidence, **config.search()))
            res["edges"] = edges
            block["clean_score"] = edges.baseline
            block["basin_edge"] = edge_block(ctx, cap, edges, config.k)
            _write_summary(ctx.out_dir, summary)
        median_edge = res["edges"].median.estimate if "edges" in res else config.alpha_start
        center = median_edge if 0 < median_edge < math.inf else config.alpha_start
        grid = sigma_grid(center, config.grid_low, config.grid_high)
        res["grid"] = grid
        if "sigma_basin" in config.stages:
            basin = stage(f"{cap.name}/sigma_basin", lambda cap=cap, grid=grid: sigma_basin_run(
                ctx, cap, grid, tau=config.tau, n=config.n_noise, confidence=config.edge_confidence,
                search=config.sigma_search))
            res["sigma_basin"] = basin
            block["sigma_basin"] = basin.sigma_basin.to_dict()
            block["sigma_basin_points"] = sigma_points(basin)
            block["sigma_basin_non_monotone"] = basin.non_monotone
            block["sigma_basin_inside_resolvable"] = basin.inside_resolvable
            block["sigma_basin_n_evals"] = noise_rows(ctx, cap, [(p.sigma, p.noise_seeds) for p in basin.points],
                                                      mode=basin.mode, kind=basin.kind)
            if not basin.inside_resolvable:
                summary["notes"].append(
                    f"{cap.name}: n = {config.n_noise} draws cannot certify any sigma inside at tau = {config.tau} "
                    f"(the Clopper-Pearson half-width at the clean score exceeds tau), so the sigma-basin's lower "
                    "end is 0 and the GO factor intervals are unbounded by construction; --n 1000 resolves it")
            _write_summary(ctx.out_dir, summary)
        if "worst_case" in config.stages:
            if not worst_dir:
                worst_dir.append(stage("worst_case/direction", lambda: worst_case_direction(
                    ctx, steps=config.worst_steps, lr=config.worst_lr, tether=config.worst_tether)[0]))
            most = res["edges"].median.estimate if "edges" in res else None
            run = stage(f"{cap.name}/worst_case", lambda cap=cap, most=most: worst_case(
                ctx, cap, most_case_edge=most, tau=config.tau,
                confidence=config.edge_confidence, steps=config.worst_steps, lr=config.worst_lr,
                tether=config.worst_tether, **config.search()))
            block["worst_edge"] = run.worst_edge
            block["worst_to_most_ratio"] = run.worst_to_most_ratio
            block["worst_evaluations"] = edge_block(ctx, cap, run.edges, 1)["evaluations"][0]
            block["worst_n_evals"] = edge_rows(ctx, cap, run.edges)
            _write_summary(ctx.out_dir, summary)
        if "certificate" in config.stages:
            sb = res.get("sigma_basin")
            sigma = sb.sigma_basin.estimate if sb is not None and 0 < sb.sigma_basin.estimate < math.inf else grid[0]
            cert = stage(f"{cap.name}/certificate", lambda cap=cap, sigma=sigma: certificate(
                ctx, cap, sigma, n=config.n_noise, confidence=config.certificate_confidence, fresh_noise=True))
            block["certificate"] = certificate_block(ctx, cap, cert)
            _write_summary(ctx.out_dir, summary)
    if "go" in config.stages:
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
                tau=config.tau, n=config.n_noise, confidence=config.edge_confidence, search=config.sigma_search))
            summary["go_enlargement"] = enl.summary()
    summary["total_s"] = sum(summary["timings_s"].values())
    _write_summary(ctx.out_dir, summary)
    return summary


TIMED_TRIALS = 4  # (noise, example) pairs timed per capability and noise kind; their mean is the unit


@dataclass(frozen=True)
class UnitCosts:
    """Seconds of one unit of work, each timed through the code path the run takes (ProbeEvaluator with
    fresh seeds, nothing stored): `full_eval` a clean evaluation of the capability's examples;
    `probe_full` a perturbed one (bind a new direction, write, evaluate, restore); `trial[cap][kind]` one
    (noise, example) pair of a σ-basin (mean over TIMED_TRIALS draws: their examples differ in length);
    `go_step` one GO training step and `go_fixed` an arm's remaining set-up (model copy, corpus, hash);
    `ascent_step` / `ascent_fixed` the same for the worst-case tethered ascent."""

    full_eval: dict[str, float]
    probe_full: dict[str, float]
    trial: dict[str, dict[str, float]]
    go_step: float = 0.0
    go_fixed: float = 0.0
    ascent_step: float = 0.0
    ascent_fixed: float = 0.0


def measure_unit_costs(ctx: RunContext, capabilities: Sequence[Capability], config: QuickConfig) -> UnitCosts:
    """Time each unit (the dry run's only model work; nothing is written and the model is left as it was)."""

    def clock(fn: Callable[[], Any]) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    full, probe_full, trial = {}, {}, {}
    kinds = {cap.name: ("gaussian",) for cap in capabilities}
    if "go" in config.stages and capabilities:
        kinds[capabilities[0].name] = ("gaussian", "multiplicative")
    for cap in capabilities:
        ev = ProbeEvaluator(ctx.model, cap.score, ctx.probe_for(cap, store=None))
        full[cap.name] = clock(ev.baseline)
        probe_full[cap.name] = clock(lambda ev=ev: ev.at(DirectionSpec("gaussian", seed=ctx.seed, rng=ctx.rng),
                                                         config.alpha_start))
        trial[cap.name] = {kind: clock(lambda ev=ev, kind=kind: draw_noise(
            ev, config.alpha_start, TIMED_TRIALS, mode="pairs", kind=kind)) / TIMED_TRIALS
            for kind in kinds[cap.name]}
    scratch = RunContext(ctx.model, ctx.tokenizer, ctx.model_id, ctx.weight_hash, seed=ctx.seed, rng=ctx.rng)

    def per_step(run: Callable[[int], Any]) -> tuple[float, float]:
        """(per-step, fixed) seconds of a loop, from runs of 1 and 2 steps."""
        one, two = clock(lambda: run(1)), clock(lambda: run(2))
        step = max(two - one, 0.0)
        return step, max(one - step, 0.0)

    go_step = go_fixed = ascent_step = ascent_fixed = 0.0
    if "go" in config.stages:  # on a copy of the model, no checkpoint (scratch has no output directory)
        go_step, go_fixed = per_step(lambda steps: go_finetune(
            scratch, config.alpha_start, steps=steps, batch_size=config.go_batch_size,
            block_size=config.go_block_size, lr=config.go_lr))
    if "worst_case" in config.stages:  # θ₀ is restored bitwise after the ascent; nothing is saved
        ascent_step, ascent_fixed = per_step(lambda steps: worst_case_direction(
            scratch, steps=steps, lr=config.worst_lr, tether=config.worst_tether))
    return UnitCosts(full, probe_full, trial, go_step, go_fixed, ascent_step, ascent_fixed)


def edge_evals_per_direction(config: QuickConfig, growth: float = 4.0) -> int:
    """Expected evaluations of one direction's two half-lines: start + one bracket step + bisections to
    rel_precision + the non-monotonicity checks."""
    bisect = math.ceil(math.log2(math.log(growth) / math.log1p(config.rel_precision)))
    return 2 * (2 + bisect + config.n_checks)


def sigma_points_expected(config: QuickConfig) -> float:
    """σ measured per σ-basin: all m grid points, or the binary search's ⌈log2(m+1)⌉ plus, half the time, one
    step up when the first σ below the threshold is not yet certified outside (n = 200 pairs resolve a drop
    of ≈ 0.1 below the threshold, so either case is common)."""
    m = config.grid_low + config.grid_high + 1
    if config.sigma_search == "grid":
        return float(m)
    return min(float(m), bisect_points(m) + 0.5)


def estimate_cost(costs: UnitCosts, capabilities: Sequence[Capability], config: QuickConfig) -> dict[str, float]:
    """Seconds per stage predicted from unit costs (module doc)."""
    m = sigma_points_expected(config)
    per_edge = edge_evals_per_direction(config)
    out: dict[str, float] = {}
    for cap in capabilities:
        full, probe = costs.full_eval[cap.name], costs.probe_full[cap.name]
        trial = costs.trial[cap.name]["gaussian"]
        if "edges" in config.stages:
            out[f"{cap.name}/edges"] = config.k * per_edge * probe + full
        if "sigma_basin" in config.stages:
            out[f"{cap.name}/sigma_basin"] = m * config.n_noise * trial
        if "worst_case" in config.stages:
            out[f"{cap.name}/worst_case"] = per_edge * probe
        if "certificate" in config.stages:
            out[f"{cap.name}/certificate"] = config.n_noise * trial  # fresh noise: never the σ-basin's rows
    if "worst_case" in config.stages:
        out["worst_case/direction"] = costs.ascent_fixed + config.worst_steps * costs.ascent_step
    if "go" in config.stages and capabilities:
        first = capabilities[0].name
        trial = costs.trial[first]
        arms = len(config.multipliers) + 1
        train = arms * (costs.go_fixed + config.go_steps * costs.go_step)
        # before: the invariant σ-basin (its raw one re-reads the rows); per arm: clean score, raw, invariant
        basins = (trial["multiplicative"] + arms * (trial["gaussian"] + trial["multiplicative"])) * m * config.n_noise
        out["go_enlargement"] = train + basins + arms * costs.full_eval[first]
    return out


def dry_run(ctx: RunContext, capabilities: Sequence[Capability], config: QuickConfig, file=None) -> dict[str, float]:
    """Print the per-stage cost estimate and its total; nothing is evaluated beyond one unit of each."""
    stream = file or sys.stdout
    before, start = _cpu_seconds(), time.perf_counter()
    costs = measure_unit_costs(ctx, capabilities, config)
    busy = busy_machine_warning(other_cpu_share(before, _cpu_seconds(), time.perf_counter() - start))
    est = estimate_cost(costs, capabilities, config)
    print(f"unit costs (s): full eval {_rounded(costs.full_eval)}, perturbed full eval {_rounded(costs.probe_full)}, "
          f"(noise, example) pair {_rounded(costs.trial)}, GO step {costs.go_step:.3g} + {costs.go_fixed:.3g} per arm, "
          f"ascent step {costs.ascent_step:.3g} + {costs.ascent_fixed:.3g}", file=stream)
    for name, seconds in est.items():
        print(f"{name:40s} {seconds:10.1f} s", file=stream)
    total = sum(est.values())
    print(f"{'total':40s} {total:10.1f} s ({total / 60:.1f} min)", file=stream)
    if busy:
        print(busy, file=stream)
    return est


def _rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return round(value, 3)


def _cpu_seconds() -> tuple[float, float] | None:
    """(busy CPU seconds of the whole machine, CPU seconds of this process) so far; None without /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    own = os.times()
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK"), own.user + own.system


def other_cpu_share(before: tuple[float, float] | None, after: tuple[float, float] | None, wall_s: float,
                    cores: int | None = None) -> float | None:
    """Share of the machine's CPU time that other processes used between two _cpu_seconds() readings."""
    if before is None or after is None or wall_s <= 0:
        return None
    cores = (os.cpu_count() or 1) if cores is None else cores
    other = (after[0] - before[0]) - (after[1] - before[1])
    return min(max(other / (wall_s * cores), 0.0), 1.0)


def busy_machine_warning(other_share: float | None, threshold: float = 0.25) -> str | None:
    """A warning when other processes used more than `threshold` of the CPUs while the units were timed:
    the estimate then holds only while the machine stays shared the same way."""
    if other_share is None or other_share <= threshold:
        return None
    return (f"warning: other processes used {other_share:.0%} of the CPUs while the units were timed; the "
            "estimate assumes the run shares the machine the same way")
