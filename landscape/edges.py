"""Per-direction basin edges: α_edge(δ) = inf{α > 0 : S(θ₀ + α·δ) < S(θ₀) − τ}.

Searched separately along +δ and −δ (one direction, two half-lines; never counted as two directions):
bracket by factors of `growth` from `alpha_start`, bisect in log α until hi/lo ≤ 1 + rel_precision, then
check `n_checks` log-spaced points below the bracket (lo·span^{−j/n_checks}, j = 1..n_checks); an exit
there flags the direction non-monotone (the edge as defined is then at most that point). α is in the
direction's own unit (per-coordinate σ for raw Gaussian directions). For a loss (`higher_is_better` False)
an exit is a rise above S(θ₀) + τ. The median edge over K directions carries an order-statistic interval.

stop_early (0–1 scores whose value is the mean of per-example outcomes): an evaluation only has to say
whether S(θ₀ + αδ) < t = S(θ₀) − τ, so its examples are scored in chunks, those correct at θ₀ first (only
they can be lost), and scoring stops as soon as the answer is certain whatever the unscored examples do:
with C the correct count so far, u the examples not yet scored and N the set size, "exit" once
(C + u)/N < t and "no exit" once C/N ≥ t. Every decision, and so every edge, bracket and non-monotonicity
flag, is exactly the one scoring the whole set gives (no statistics are involved); the value recorded for
a stopped evaluation is the bound that decided it ((C + u)/N for an exit, C/N otherwise). hold: each
direction is drawn once for all its α (landscape.directions.HeldDirection, one copy beside θ₀).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np

from landscape.context import ProbeContext
from landscape.directions import DirectionSpec
from landscape.evaluate import ProbeEvaluator, default_directions
from landscape.progress import progress
from landscape.scores import Score, higher_is_better
from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.stats import median_interval


@dataclass(frozen=True)
class EdgeSearch:
    """One half-line's edge. The edge lies in (lo, hi]; `estimate` = √(lo·hi).

    censored: None, "above" (no exit up to alpha_max: lo = alpha_max, hi = inf) or "below" (exit already
    at alpha_min: lo = 0, hi = alpha_min). evaluations: every (alpha, value) evaluated, in order (with
    stop_early the value of a stopped evaluation is the bound that decided it; module doc);
    examples_scored: how many examples each of them scored (empty: every evaluation scored the whole set).
    """

    estimate: float
    lo: float
    hi: float
    censored: str | None
    non_monotone: bool
    first_exit_below: float | None
    n_evals: int
    evaluations: tuple[tuple[float, float], ...]
    examples_scored: tuple[int, ...] = ()


def search_edge(value_at: Callable[[float], float], baseline: float, tau: float = 0.0, *,
                higher_is_better: bool = True, alpha_start: float = 1e-3, alpha_min: float = 1e-7,
                alpha_max: float = 1.0, growth: float = 4.0, rel_precision: float = 0.05,
                n_checks: int = 5, check_span: float = 100.0) -> EdgeSearch:
    """Locate inf{α > 0 : value_at(α) exits} by bracketing and bisection in log α (see module doc)."""
    if not 0 < alpha_min <= alpha_start <= alpha_max:
        raise UserInputError(f"need 0 < alpha_min <= alpha_start <= alpha_max, got "
                             f"{alpha_min}, {alpha_start}, {alpha_max}")
    if growth <= 1 or rel_precision <= 0 or check_span <= 1 or n_checks < 0 or tau < 0:
        raise UserInputError("need growth > 1, rel_precision > 0, check_span > 1, n_checks >= 0, tau >= 0")
    seen: dict[float, float] = {}
    order: list[tuple[float, float]] = []

    def exits(alpha: float) -> bool:
        if alpha not in seen:
            seen[alpha] = float(value_at(alpha))
            order.append((alpha, seen[alpha]))
        v = seen[alpha]
        return v < baseline - tau if higher_is_better else v > baseline + tau

    censored = None
    alpha = alpha_start
    if exits(alpha):
        hi = alpha
        while True:
            alpha = max(alpha / growth, alpha_min)
            if not exits(alpha):
                lo = alpha
                break
            hi = alpha
            if alpha <= alpha_min:
                lo, censored = 0.0, "below"
                break
    else:
        lo = alpha
        while True:
            alpha = min(alpha * growth, alpha_max)
            if exits(alpha):
                hi = alpha
                break
            lo = alpha
            if alpha >= alpha_max:
                hi, censored = math.inf, "above"
                break
    if censored is None:
        while hi / lo > 1.0 + rel_precision:
            mid = math.sqrt(lo * hi)
            if exits(mid):
                hi = mid
            else:
                lo = mid
    first_exit = None
    if lo > 0:
        for j in range(1, n_checks + 1):
            a = lo * check_span ** (-j / n_checks)
            if exits(a):
                first_exit = a if first_exit is None else min(first_exit, a)
    estimate = math.sqrt(lo * hi) if censored is None else (math.inf if censored == "above" else 0.0)
    return EdgeSearch(estimate=estimate, lo=lo, hi=hi, censored=censored, non_monotone=first_exit is not None,
                      first_exit_below=first_exit, n_evals=len(order), evaluations=tuple(order))


@dataclass(frozen=True)
class DirectionEdge:
    """Edges of one direction along +δ and −δ; `edge` = min of the two (the basin edge of the line)."""

    direction: dict
    plus: EdgeSearch
    minus: EdgeSearch

    @property
    def edge(self) -> float:
        return min(self.plus.estimate, self.minus.estimate)

    @property
    def non_monotone(self) -> bool:
        return self.plus.non_monotone or self.minus.non_monotone


@dataclass(frozen=True)
class BasinEdges:
    """Median edges over K directions (n = K, not 2K) with order-statistic intervals.

    median: of min(edge+, edge−) per direction; median_plus / median_minus: of each half-line.
    """

    score: str
    tau: float
    baseline: float
    directions: tuple[DirectionEdge, ...]
    median: Estimate
    median_plus: Estimate
    median_minus: Estimate
    n_non_monotone: int
    n_evals: int
    seeds: tuple[int, ...]
    wall_time_s: float
    chunks: tuple[tuple[int, ...], ...] = ()  # stop_early: the scoring order, chunk by chunk
    examples_scored: int = 0  # examples scored over every evaluation (the clean baseline excluded)


def scoring_chunks(clean_outcomes: Sequence[float], ids: Sequence[int], chunk: int) -> tuple[tuple[int, ...], ...]:
    """The stop_early order (module doc): the example ids correct at θ₀ first, then the others, each group
    in the set's order, cut into chunks of `chunk`."""
    right = [int(i) for i, o in zip(ids, clean_outcomes) if o == 1.0]
    wrong = [int(i) for i, o in zip(ids, clean_outcomes) if o != 1.0]
    return tuple(tuple(group[s:s + chunk]) for group in (right, wrong) for s in range(0, len(group), chunk))


def stops_early(clean_value: float, clean_outcomes: np.ndarray) -> bool:
    """True when the score is a plain mean of 0–1 outcomes (the condition of the exact early stop)."""
    out = np.asarray(clean_outcomes, dtype=np.float64)
    return bool(out.size > 0 and np.all((out == 0.0) | (out == 1.0))
                and clean_value == float(out.sum()) / out.size)


def decided_value(ev: ProbeEvaluator, spec: DirectionSpec, alpha: float, chunks: Sequence[Sequence[int]],
                  threshold: float) -> tuple[float, int]:
    """(value, examples scored) of an early-stopped evaluation at θ₀ + α·δ against `threshold` (exit iff
    S < threshold): scores chunk after chunk until the answer is certain (module doc)."""
    total = sum(len(c) for c in chunks)
    state = {"correct": 0.0, "scored": 0}

    def certain(values) -> bool:
        last = values[-1]
        state["correct"] += float(np.sum(last.outcomes))
        state["scored"] += len(last.outcomes)
        unscored = total - state["scored"]
        return (state["correct"] + unscored) / total < threshold or state["correct"] / total >= threshold

    ev.at_until(spec, alpha, chunks, certain)
    correct, unscored = state["correct"], total - state["scored"]
    upper = (correct + unscored) / total
    return (upper if upper < threshold else correct / total), state["scored"]


def basin_edges(model, score: Score, ctx: ProbeContext | None = None, *,
                directions: Sequence[DirectionSpec] | None = None, tau: float = 0.0, k: int = 8,
                alpha_start: float = 1e-3, alpha_min: float = 1e-7, alpha_max: float = 1.0,
                growth: float = 4.0, rel_precision: float = 0.05, n_checks: int = 5,
                check_span: float = 100.0, confidence: float = 0.95, stop_early: bool = False,
                chunk: int = 8, hold: bool = False) -> BasinEdges:
    """Edge per direction (default: K raw Gaussian directions with seeds ctx.seed..ctx.seed+K−1, on
    ctx.rng), both signs, on ctx's examples, rows through ctx's store. stop_early: score each evaluation in
    chunks of `chunk` examples only until its exit decision is certain (module doc; needs a mean of 0–1
    outcomes where higher is better, else every evaluation scores the whole set). hold: draw each direction
    once for all its α (one more copy of the perturbed parameters in memory; saves a draw per evaluation)."""
    start = time.perf_counter()
    ctx = ProbeContext() if ctx is None else ctx
    specs = list(directions) if directions is not None else default_directions(k, ctx.seed, ctx.rng)
    if chunk < 1:
        raise UserInputError(f"chunk must be >= 1 example, got {chunk}")
    ev = ProbeEvaluator(model, score, ctx)
    clean = ev.baseline()
    baseline = clean.value
    hib = higher_is_better(score)
    opts = dict(higher_is_better=hib, alpha_start=alpha_start, alpha_min=alpha_min, alpha_max=alpha_max,
                growth=growth, rel_precision=rel_precision, n_checks=n_checks, check_span=check_span)
    early = stop_early and hib and stops_early(baseline, clean.outcomes)
    ids = ev.example_ids if ev.example_ids is not None else list(range(len(clean.outcomes)))
    chunks = scoring_chunks(clean.outcomes, ids, chunk) if early else ()
    per_direction = int(2 * (3 + math.log2(math.log(growth) / math.log1p(rel_precision)) + n_checks))
    ev.announce("basin edges (about)", per_direction, len(specs))
    results = []
    for spec in progress(specs, total=len(specs), desc="basin edges"):
        with ev.hold(spec) if hold else nullcontext():
            plus, minus = (_half_line(ev, spec, sign, baseline, tau, chunks, opts) for sign in (1.0, -1.0))
        results.append(DirectionEdge(direction=spec.to_key(), plus=plus, minus=minus))
    unit = "alpha (direction units; per-coordinate sigma for raw Gaussian)"
    searches = [s for r in results for s in (r.plus, r.minus)]
    return BasinEdges(
        score=score.name, tau=tau, baseline=baseline, directions=tuple(results),
        median=median_interval([r.edge for r in results], confidence, unit),
        median_plus=median_interval([r.plus.estimate for r in results], confidence, unit),
        median_minus=median_interval([r.minus.estimate for r in results], confidence, unit),
        n_non_monotone=sum(r.non_monotone for r in results),
        n_evals=sum(s.n_evals for s in searches),
        seeds=tuple(int(s.seed) for s in specs), wall_time_s=time.perf_counter() - start, chunks=chunks,
        examples_scored=sum(sum(s.examples_scored) if s.examples_scored else s.n_evals * len(ids)
                            for s in searches))


def _half_line(ev: ProbeEvaluator, spec: DirectionSpec, sign: float, baseline: float, tau: float,
               chunks: tuple[tuple[int, ...], ...], opts: dict) -> EdgeSearch:
    if not chunks:
        return search_edge(lambda a: ev.at(spec, sign * a).value, baseline, tau, **opts)
    scored: dict[float, int] = {}

    def value_at(a: float) -> float:
        value, scored[a] = decided_value(ev, spec, sign * a, chunks, baseline - tau)
        return value

    found = search_edge(value_at, baseline, tau, **opts)
    return replace(found, examples_scored=tuple(scored[a] for a, _ in found.evaluations))
