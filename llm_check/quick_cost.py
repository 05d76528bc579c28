"""The quick check's cost model: `llm-check run --quick --dry-run` times each unit of work through the run's
own code path and multiplies it by the counts each stage needs.

Units (seconds; a ProbeEvaluator with fresh seeds and no store; the model is left bitwise as it was):
  noise      drawing one noise vector for all d parameters and holding it (landscape.directions.HeldDirection)
  write      writing θ₀ + σz from a held vector and restoring θ₀ (the perturbation engine)
  eval(b)    scoring b examples of a capability at fixed weights: the line through one example and the set
  GO / ascent steps, and their fixed set-up, from loops of 1 and 2 steps.
Counts:
  edges      K directions × E evaluations, E = 2(2 + ⌈log₂(log 4 / log(1 + rel_precision))⌉ + n_checks);
             with early stopping each evaluation costs write + f·eval(N), f = (1 + S(θ₀))/2 the expected
             share of the set scored (no-exit evaluations score about the S(θ₀)·N examples correct at θ₀,
             exits nearly all; about half are each), and each direction one noise draw (it is held); without
             it each evaluation costs noise + write + eval(N).
  σ-basin    sequential, one joint search over the capabilities: per capability the b pilot (PILOT_DRAWS ×
             (noise + 2 writes + eval(N) + eval(1))) and T_c trials of two σ-evaluations (the bracket
             window's two ends) of write + eval(b_c), T_c and b_c from the engine's own cost rule
             (landscape.trial_size.trial_cost_rule, stratified at S(θ₀)) under the prior variances below
             (the same within-variance in each stratum), T_c at most the
             budget n; one noise draw per trial for all capabilities (max_c T_c draws); grid / bisect: the σ
             they measure × n × (noise + write + eval(1)), per capability.
  certificate  n_certificate × (noise + Σ_c (write + eval(b_c))): fresh noise, each draw made once for every
             capability.
  worst case the ascent, then one direction's edge evaluations.
  GO         per arm: training, a clean score, the raw and the invariant σ-basin (grid / bisect path).
The prior variances of a trial's paired drop are SmolLM2's, measured on general_knowledge (noise draws
between: sd 0.018–0.044; flip rates 5–18 % within); a run's own pilot replaces them.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from landscape.directions import HeldDirection, bind
from landscape.evaluate import ProbeEvaluator
from landscape.perturb import perturbed
from landscape.progress import median_seconds
from landscape.scores import below_resolution
from landscape.sigma_basin import bisect_points
from landscape.smoothing import noise_spec
from landscape.trial_size import PILOT_DRAWS, trial_cost_rule
from llm_check.enlarge import go_finetune
from llm_check.runs import Capability, RunContext, worst_case_direction

PRIOR_VAR_BETWEEN = 0.001
PRIOR_VAR_WITHIN = 0.12
TIMED_REPEATS = 3  # each unit is the median of this many timings


@dataclass(frozen=True)
class UnitCosts:
    """Seconds of one unit of work (module doc), per capability where the examples matter: `eval_one` and
    `eval_set` score 1 and all of the capability's examples; `clean` is S(θ₀) on them."""

    noise: float
    write: float
    eval_one: dict[str, float]
    eval_set: dict[str, float]
    n_examples: dict[str, int]
    clean: dict[str, float]
    go_step: float = 0.0
    go_fixed: float = 0.0
    ascent_step: float = 0.0
    ascent_fixed: float = 0.0

    def eval(self, cap: str, b: float) -> float:
        """eval(b): the line through (1, eval_one) and (N, eval_set)."""
        n, one, whole = self.n_examples[cap], self.eval_one[cap], self.eval_set[cap]
        return one + (whole - one) * (b - 1) / max(1, n - 1)


def measure_unit_costs(ctx: RunContext, capabilities: Sequence[Capability], config) -> UnitCosts:
    """Time each unit (the dry run's only model work; nothing is written and the model is left as it was).
    Memory: one held noise vector beside θ₀, as the run's held directions."""
    eval_one, eval_set, n_examples, clean = {}, {}, {}, {}
    for cap in capabilities:
        ev = ProbeEvaluator(ctx.model, cap.score, ctx.probe_for(cap, store=None))
        ids = ev.example_ids if ev.example_ids is not None else list(range(cap.score.n_examples))
        clean[cap.name], n_examples[cap.name] = ev.baseline().value, len(ids)
        eval_set[cap.name] = ev.eval_seconds  # the clean baseline just scored the whole set
        eval_one[cap.name] = median_seconds(lambda cap=cap, ids=ids: cap.score(ctx.model, ids[:1]), TIMED_REPEATS)
    spec = noise_spec("gaussian", seed=ctx.seed, rng=ctx.rng)
    start = time.perf_counter()
    held = HeldDirection(bind(spec, ctx.model))
    noise = time.perf_counter() - start
    first = capabilities[0]
    theta0 = ctx.probe_for(first, store=None).theta0.get(ctx.model)

    def write() -> None:
        with perturbed(ctx.model, held, config.alpha_start, theta0=theta0):
            pass

    write_s = median_seconds(write, TIMED_REPEATS)
    held = None  # free the noise vector before the GO and ascent timings
    scratch = RunContext(ctx.model, ctx.tokenizer, ctx.model_id, ctx.weight_hash, seed=ctx.seed, rng=ctx.rng)

    def per_step(run: Callable[[int], Any]) -> tuple[float, float]:
        """(per-step, fixed) seconds of a loop, from runs of 1 and 2 steps."""
        one, two = median_seconds(lambda: run(1), 1), median_seconds(lambda: run(2), 1)
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
    return UnitCosts(noise, write_s, eval_one, eval_set, n_examples, clean, go_step, go_fixed, ascent_step,
                     ascent_fixed)


def edge_evals_per_direction(config, growth: float = 4.0) -> int:
    """Expected evaluations of one direction's two half-lines: start + one bracket step + bisections to
    rel_precision + the non-monotonicity checks."""
    bisect = math.ceil(math.log2(math.log(growth) / math.log1p(config.rel_precision)))
    return 2 * (2 + bisect + config.n_checks)


def sigma_points_expected(config, search: str | None = None) -> float:
    """σ measured per fixed-n σ-basin (`search`, default the config's): all m grid points, or the binary
    search's ⌈log2(m+1)⌉ plus, half the time, one step up when the first σ below the threshold is not yet
    certified outside."""
    m = config.grid_low + config.grid_high + 1
    if (search or config.sigma_search) == "grid":
        return float(m)
    return min(float(m), bisect_points(m) + 0.5)


def sequential_plan(costs: UnitCosts, cap: str, config) -> dict[str, float]:
    """b, the expected trials T and the pilot's seconds of one capability's sequential σ-basin (module doc)."""
    m = config.grid_low + config.grid_high + 1
    level = 1.0 - (1.0 - config.edge_confidence) / m
    n = costs.n_examples[cap]
    correct = round(n * costs.clean[cap])
    strata = [(correct, PRIOR_VAR_WITHIN), (n - correct, PRIOR_VAR_WITHIN)] if 0 < correct < n else None
    rule = trial_cost_rule(costs.noise, costs.write + costs.eval(cap, 1), costs.write + costs.eval(cap, n), n,
                           PRIOR_VAR_BETWEEN, PRIOR_VAR_WITHIN, tau=config.tau, level=level, strata=strata)
    b = rule["b"] if config.examples_per_trial == "auto" else int(config.examples_per_trial)
    trials = min(float(config.n_noise), rule["expected_trials"].get(str(b), rule["floor_trials"]))
    pilot = PILOT_DRAWS * (costs.noise + 2 * costs.write + costs.eval(cap, n) + costs.eval(cap, 1)) \
        if config.examples_per_trial == "auto" else 0.0
    return {"b": b, "trials": trials, "pilot": pilot}


def sigma_basin_cost(costs: UnitCosts, caps: Sequence[str], config) -> float:
    """The σ-basin stage: sequential, one joint search (each trial's noise drawn once for every capability:
    max_c T_c draws, and per capability its pilot and 2·T_c σ-evaluations); fixed-n, one search each."""
    if config.sigma_search != "sequential":
        return sum(sigma_points_expected(config) * config.n_noise * (costs.noise + costs.write + costs.eval(c, 1))
                   for c in caps)
    plans = {c: sequential_plan(costs, c, config) for c in caps}
    draws = max(p["trials"] for p in plans.values()) * costs.noise
    return draws + sum(p["pilot"] + 2 * p["trials"] * (costs.write + costs.eval(c, p["b"])) for c, p in plans.items())


def estimate_cost(costs: UnitCosts, capabilities: Sequence[Capability], config) -> dict[str, float]:
    """Seconds per stage predicted from unit costs (module doc)."""
    per_edge = edge_evals_per_direction(config)
    out: dict[str, float] = {}
    for cap in (c.name for c in capabilities):
        full = costs.eval(cap, costs.n_examples[cap])
        if config.edge_stop_early:
            share = (1.0 + costs.clean[cap]) / 2.0
            direction = costs.noise + per_edge * (costs.write + share * full)
        else:
            direction = per_edge * (costs.noise + costs.write + full)
        if "edges" in config.stages:
            out[f"{cap}/edges"] = config.k * direction + full
        if "worst_case" in config.stages:
            out[f"{cap}/worst_case"] = direction
    if "sigma_basin" in config.stages and capabilities:
        out["sigma_basin"] = sigma_basin_cost(costs, [c.name for c in capabilities], config)
    if "certificate" in config.stages and capabilities:  # one noise draw per trial for every capability
        bs = {c.name: (sequential_plan(costs, c.name, config)["b"] if config.sigma_search == "sequential" else 1)
              for c in capabilities}
        out["certificate"] = config.n_certificate * (costs.noise + sum(costs.write + costs.eval(c, b)
                                                                       for c, b in bs.items()))
    if "worst_case" in config.stages:
        out["worst_case/direction"] = costs.ascent_fixed + config.worst_steps * costs.ascent_step
    if "go" in config.stages and capabilities:
        first = capabilities[0].name
        trial = costs.noise + costs.write + costs.eval(first, 1)
        arms = len(config.multipliers) + 1
        train = arms * (costs.go_fixed + config.go_steps * costs.go_step)
        m = sigma_points_expected(config, "bisect" if config.sigma_search == "sequential" else None)  # GO: fixed-n
        basins = (1 + 2 * arms) * m * config.n_noise * trial  # before: invariant; per arm: raw and invariant
        out["go_enlargement"] = train + basins + arms * costs.eval(first, costs.n_examples[first])
    return out


def dry_run(ctx: RunContext, capabilities: Sequence[Capability], config, file=None) -> dict[str, float]:
    """Print the per-stage cost estimate and its total; nothing is evaluated beyond the units."""
    stream = file or sys.stdout
    before, start = _cpu_seconds(), time.perf_counter()
    costs = measure_unit_costs(ctx, capabilities, config)
    busy = busy_machine_warning(other_cpu_share(before, _cpu_seconds(), time.perf_counter() - start))
    floor = [c for c in capabilities if below_resolution(costs.clean[c.name] * costs.n_examples[c.name],
                                                         costs.n_examples[c.name], c.score.chance)]
    for cap in floor:
        print(f"{cap.name}: S(θ₀) = {costs.clean[cap.name]:.3f}, below resolution; its stages are skipped", file=stream)
    measured = [c for c in capabilities if c not in floor]
    est = estimate_cost(costs, measured, config)
    print(f"unit costs (s): noise draw {costs.noise:.3g}, write + restore {costs.write:.3g}, eval of 1 example "
          f"{_rounded(costs.eval_one)}, of the set {_rounded(costs.eval_set)}, GO step {costs.go_step:.3g} + "
          f"{costs.go_fixed:.3g} per arm, ascent step {costs.ascent_step:.3g} + {costs.ascent_fixed:.3g}", file=stream)
    mib = 4 * ctx.n_params / 2**20
    print(f"memory plan: the model, one θ₀ copy and at most one held direction or noise vector beside it "
          f"(≈ {mib:.0f} MiB each in float32); a vector that does not fit is drawn again at every σ", file=stream)
    for cap in capabilities:
        tokens = getattr(cap.score, "max_new_tokens", None) or getattr(getattr(cap.score, "task", None),
                                                                       "max_new_tokens", None)
        if tokens:
            print(f"{cap.name}: generation {costs.eval_set[cap.name] / costs.n_examples[cap.name]:.3g} s per "
                  f"example (measured on its clean set of {costs.n_examples[cap.name]}, {tokens} new tokens)",
                  file=stream)
    if config.sigma_search == "sequential":
        for cap in measured:
            plan = sequential_plan(costs, cap.name, config)
            print(f"{cap.name}: sigma-basin b = {plan['b']} (prior variances), about {plan['trials']:.0f} trials",
                  file=stream)
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
