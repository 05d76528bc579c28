"""The σ-basin of Def. 4.1: the largest σ with S(θ₀) − E_ε S(θ₀ + ε) ≤ τ, ε ~ N(0, σ² I).

For each tested σ (per coordinate), n draws (see landscape.smoothing: whole-set draws or i.i.d.
(noise, example) pairs) give p_A(σ) with a two-sided interval at confidence 1 − (1 − confidence)/m
(Bonferroni over the m σ values, so all m intervals hold together with probability ≥ confidence).
With threshold t = S(θ₀) − τ, the σ-basin interval is
    [largest σ with lower(p_A) ≥ t,  smallest σ with upper(p_A) < t]
(0 and +inf when no σ qualifies); the point estimate is the largest σ with p̂_A ≥ t, clipped into the
interval. Reading it as an interval assumes p_A(σ) decreasing in σ; a certified-inside σ above a
certified-outside one is flagged `non_monotone`. kind="multiplicative" gives the rescaling-invariant
variant θ ⊙ (1 + σz), σ relative.

search="sequential" (the default) is the paired, anytime-valid engine. A trial j draws one noise vector
z_j and b examples (mode "pairs"; mode "set": every example) and records the paired drop V_j, the clean
score minus the score under noise σ z_j as the trial design estimates them on those examples
(landscape.smoothing.TrialDesign: with 0–1 outcomes the examples correct and incorrect at θ₀ are sampled
as two strata, else b uniformly without replacement). E V_j = S(θ₀) − p_A(σ) exactly, the variance that
comes from *which* example was drawn cancels in D = O(θ₀, x) − O(θ₀ + σ z_j, x), and V_j lies in the
design's drop bounds: [−(1 − S(θ₀)), S(θ₀)] stratified (or whole-set), a range of 1 instead of the uniform
subset's [−1, 1], which about halves the trials a σ near τ needs. Per σ, a betting confidence sequence
(theory.sequential, hedged capital with predictable plug-in bets) on the drop, two-sided at level
(1 − confidence)/m (Bonferroni over the whole grid, fixed before any draw, since the σ are visited
adaptively), is looked at every `look_every` trials; σ is certified inside when the sequence lies below τ
and outside when it lies above τ, and stops there (anytime-valid: stopping when it decides costs no
coverage), or at the budget of n trials. Noise reuse: z_j is drawn once and used at every pending σ (common
random numbers; landscape.directions.HeldDirection, one copy of z beside θ₀), and a σ stops being pending
once it is decided or once, under the monotonicity reading, it can no longer move the interval (it lies
at or below the largest σ certified inside, or at or above the smallest certified outside). p_A's interval
is S(θ₀) − the drop's interval (S(θ₀) is the exact clean score of the set). b="auto" picks the examples per
trial from a short pilot by the cost rule of landscape.trial_size. n is each σ's trial budget: a σ
still undecided after n trials is left "undecided".

The bracket window (target_ratio R, start σ₀; both declared before any draw): instead of every pending σ,
each trial scores only the window's two ends, i = the grid point nearest σ₀ (seeking "inside") and the
largest grid point ≤ R·σ_i (seeking "outside"). An end decided the other way, or left undecided at its
budget, moves one grid point outward (the lower end down, the upper end up). Once both ends are settled
(a certified-inside σ_lo and a certified-outside σ_hi) with σ_hi/σ_lo > R, the σ still pending between them
are scored, the lowest and the highest first, to narrow the interval. The search stops once σ_hi/σ_lo ≤ R,
or when no σ is left to score. Which σ a trial scores depends only on earlier decisions, and the noise of
trial j is drawn independently of them, so each σ's sequence stays a valid confidence sequence; the
Bonferroni level is still over the whole grid.

search="grid" measures every σ with n raw draws and a fixed-n interval on p_A (the engine before the
sequential one, kept as the comparison baseline). search="bisect" (for models where one draw costs seconds) measures
only the σ needed under the same monotonicity reading: a binary search over the sorted grid for the last
σ with p̂_A ≥ t (⌈log₂(m + 1)⌉ points), then upward from the first σ with p̂_A < t until one is certified
outside (or the grid ends). Unvisited σ are never certified, so the interval can only be wider than the
full grid's; the Bonferroni correction is still over all m grid points (fixed before any draw), so the
joint coverage argument is unchanged, and every visited σ gets exactly the draws (and rounding seed) it
would get in the full grid. `points` lists the visited σ only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from landscape.context import ProbeContext
from landscape.directions import HeldDirection
from landscape.evaluate import ProbeEvaluator, derive_seed
from landscape.kinds import kind as direction_kind
from landscape.progress import progress
from landscape.scores import Score, is_bounded_score
from landscape.smoothing import MODES, TrialDesign, draw_noise, smoothed_estimate, trial_design, trial_plan
from landscape.trial_size import remembered_choice
from theory.errors import InternalError, UserInputError
from theory.estimate import Estimate
from theory.sequential import betting_interval
from theory.stats import clopper_pearson, hoeffding_interval

SEARCHES = ("sequential", "grid", "bisect")
LOOK_EVERY = 10


@dataclass(frozen=True)
class SigmaPoint:
    """p_A at one σ (interval at the Bonferroni-corrected level) and what it certifies against t."""

    sigma: float
    p_a: Estimate
    inside: bool
    outside: bool
    noise_seeds: tuple[int, ...]
    drop: Estimate | None = None  # sequential search: the paired drop S(θ₀) − p_A with its interval
    trials: int = 0
    decision: str = ""  # sequential search: "inside", "outside" or "undecided" (budget reached)


@dataclass(frozen=True)
class SigmaBasin:
    score: str
    tau: float
    baseline: float
    threshold: float
    kind: str
    mode: str
    points: tuple[SigmaPoint, ...]
    sigma_basin: Estimate
    non_monotone: bool
    seed: int
    n_evals: int
    wall_time_s: float
    inside_resolvable: bool = True
    examples_per_trial: int | None = None  # b of the sequential search
    design: TrialDesign | None = None  # the sequential search's trial design (mode "pairs")


def sigma_basin(model, score: Score, sigmas: Sequence[float], ctx: ProbeContext | None = None, *,
                tau: float = 0.05, n: int = 64, mode: str = "pairs", kind: str = "gaussian", bound: str = "auto",
                confidence: float = 0.95, search: str = "sequential", b: int | str = "auto",
                look_every: int = LOOK_EVERY, target_ratio: float | None = None,
                start: float | None = None) -> SigmaBasin:
    """σ-basin interval from at most n trials at each σ in `sigmas` (module doc: search "sequential" stops
    each σ when it decides; "grid"/"bisect" take n raw draws at each σ they visit); noise seeds derive from
    ctx.seed, so every σ shares the same draws (common random numbers). `b`: examples per trial of the
    sequential search in mode "pairs" ("auto": chosen by `choose_examples_per_trial`, recorded in the
    estimate's extra["b_choice"])."""
    started = time.perf_counter()
    ctx = ProbeContext() if ctx is None else ctx
    seed = ctx.seed
    grid = check_sigma_grid(sigmas, tau)
    if search not in SEARCHES:
        raise UserInputError(f"search must be one of {SEARCHES}, got {search!r}")
    if search == "sequential":
        return sigma_basins([(model, ctx)], score, grid, tau=tau, n=n, mode=mode, kind=kind, confidence=confidence,
                            b=b, look_every=look_every, target_ratio=target_ratio, start=start)[0]
    ev = ProbeEvaluator(model, score, ctx)
    baseline = ev.baseline().value
    threshold = baseline - tau
    per_sigma = 1.0 - (1.0 - confidence) / len(grid)
    ev.announce("sigma-basin", len(grid) if search == "grid" else bisect_points(len(grid)), n)
    measured: dict[int, SigmaPoint] = {}

    def measure(i: int) -> SigmaPoint:
        if i not in measured:
            draws = draw_noise(ev, grid[i], n, mode=mode, kind=kind)
            p_a = smoothed_estimate(draws.values, per_sigma, sided="two", bound=bound,
                                    rounding_seed=derive_seed(seed, "rounding", i))
            measured[i] = SigmaPoint(sigma=grid[i], p_a=p_a, inside=p_a.lo >= threshold,
                                     outside=p_a.hi < threshold, noise_seeds=draws.noise_seeds)
        return measured[i]

    if search == "grid":
        for i in range(len(grid)):
            measure(i)
    else:
        below, above = -1, len(grid)  # p̂_A ≥ t at `below` (or none), p̂_A < t at `above` (or none)
        while above - below > 1:
            mid = (below + above) // 2
            if measure(mid).p_a.estimate >= threshold:
                below = mid
            else:
                above = mid
        for i in range(above, len(grid)):
            if measure(i).outside:
                break
    points = [measured[i] for i in sorted(measured)]
    resolvable = inside_resolvable(baseline, threshold, n, per_sigma, bound)
    point, lo, hi, non_monotone = _interval(points, threshold)
    unit = direction_kind(kind).unit
    estimate = Estimate(estimate=point, ci=(lo, hi), confidence=confidence, n=n, unit=unit,
                        method=f"{points[0].p_a.method}, bonferroni over {len(grid)} sigmas",
                        extra={"mode": mode, "kind": kind, "search": search, "visited": len(points),
                               "grid_size": len(grid), "inside_resolvable": resolvable})
    return SigmaBasin(score=score.name, tau=tau, baseline=baseline, threshold=threshold, kind=kind, mode=mode,
                      points=tuple(points), sigma_basin=estimate,
                      non_monotone=non_monotone, seed=seed, n_evals=ev.n_evals,
                      wall_time_s=time.perf_counter() - started, inside_resolvable=resolvable)


def _interval(points: Sequence[SigmaPoint], threshold: float) -> tuple[float, float, float, bool]:
    """(point, lo, hi, non_monotone) of the σ-basin from the measured points (module doc)."""
    hi = min((p.sigma for p in points if p.outside), default=math.inf)
    inside_all = [p.sigma for p in points if p.inside]
    lo = max((s for s in inside_all if s < hi), default=0.0)
    point = max((p.sigma for p in points if p.p_a.estimate >= threshold), default=0.0)
    return min(max(point, lo), hi), lo, hi, any(s > hi for s in inside_all)


class _SequentialState:
    """One model's side of the sequential search: its evaluator, clean outcomes, drops and decisions per σ."""

    def __init__(self, model, score: Score, ctx: ProbeContext, grid: list[float], tau: float, per_sigma: float,
                 budget: int, window: tuple[int, int] | None = None, target_ratio: float | None = None):
        self.ev = ProbeEvaluator(model, score, ctx)
        self.clean = self.ev.baseline()
        self.pool = self.ev.example_ids if self.ev.example_ids is not None else list(range(score.n_examples))
        self.per_example = dict(zip(self.pool, (float(x) for x in self.clean.outcomes)))
        self.grid, self.tau, self.per_sigma = grid, tau, per_sigma
        self.drops: dict[int, list[float]] = {i: [] for i in range(len(grid))}
        self.seeds: dict[int, list[int]] = {i: [] for i in range(len(grid))}
        self.decided: dict[int, str] = {}
        self.checked: dict[int, tuple[float, float]] = {}
        self.budget, self.window, self.target_ratio = budget, window, target_ratio
        self.exhausted: set[int] = set()

    def pending(self) -> list[int]:
        inside = max((i for i, d in self.decided.items() if d == "inside"), default=-1)
        outside = min((i for i, d in self.decided.items() if d == "outside"), default=len(self.grid))
        return [i for i in range(inside + 1, outside) if i not in self.decided and i not in self.exhausted]

    def active(self) -> list[int]:
        """The σ to score at the next trial: every pending σ, or with a bracket window only its two ends
        (module doc), once the ends have moved past σ decided the other way or left undecided at budget."""
        pending = self.pending()
        if self.window is None:
            return pending
        m = len(self.grid)
        w0, w1 = self.window
        while w0 >= 0 and (self.decided.get(w0) == "outside" or w0 in self.exhausted):
            w0 -= 1
        while w1 < m and (self.decided.get(w1) == "inside" or w1 in self.exhausted):
            w1 += 1
        self.window = (w0, w1)
        inside = max((i for i, d in self.decided.items() if d == "inside"), default=-1)
        outside = min((i for i, d in self.decided.items() if d == "outside"), default=m)
        if 0 <= inside < outside < m and self.grid[outside] <= self.target_ratio * self.grid[inside] * (1 + 1e-12):
            return []
        ends = [i for i in (w0, w1) if i in pending]
        if ends or not (0 <= inside < outside < m):
            return ends
        return pending[:1] + pending[-1:] if len(pending) > 1 else pending  # narrow from between the ends

    def use_design(self, size: int, mode: str) -> None:
        """The trial design for b = `size` (landscape.smoothing.TrialDesign; stratified by the clean outcome
        when it is 0–1), and the range of its paired drops: (S(θ₀) − 1, S(θ₀)) for whole-set trials."""
        self.size = size
        self.design = trial_design(self.pool, size, [self.per_example[x] for x in self.pool])
        self.drop_bounds = ((self.clean.value - 1.0, self.clean.value) if mode == "set"
                            else self.design.drop_bounds)

    def drops_at(self, spec, ids: list[int] | None, todo: Sequence[int], held: HeldDirection | None
                 ) -> tuple[list[float], HeldDirection]:
        """The paired drops of one trial at every σ in `todo` (one noise draw, held; `held`: another model's
        copy to re-bind); returns them and the held noise (for the next model)."""
        lo, hi = self.drop_bounds
        with self.ev.hold(spec, held) as mine:
            if ids is None:
                values = [min(hi, max(lo, self.clean.value - self.ev.at(spec, self.grid[i]).value)) for i in todo]
            else:
                clean = [self.per_example[x] for x in ids]
                values = [self.design.drop(ids, clean, self.ev.at(spec, self.grid[i], example_ids=ids).outcomes)
                          for i in todo]
        return values, mine

    def record(self, seed: int, todo: Sequence[int], values: Sequence[float]) -> None:
        for i, v in zip(todo, values):
            self.drops[i].append(float(v))
            self.seeds[i].append(seed)

    def look(self, i: int) -> None:
        lo, hi = betting_interval(self.drops[i], confidence=self.per_sigma, bounds=self.drop_bounds)
        self.checked[i] = (lo, hi)
        if hi < self.tau:
            self.decided[i] = "inside"
        elif lo > self.tau:
            self.decided[i] = "outside"
        elif len(self.drops[i]) >= self.budget:
            self.exhausted.add(i)

    def result(self, score: Score, kind: str, mode: str, n: int, confidence: float, size: int, choice: dict,
               start: float) -> SigmaBasin:
        m, points = len(self.grid), []
        for i in range(m):
            if not self.drops[i]:
                continue
            if i not in self.decided:  # a last look with every trial this σ got
                self.look(i)
            lo, hi = self.checked[i]
            clean, mean = self.clean.value, float(np.mean(self.drops[i]))
            variance = float(np.var(self.drops[i], ddof=1)) if len(self.drops[i]) > 1 else float("nan")
            drop = Estimate(estimate=mean, ci=(lo, hi), confidence=self.per_sigma, n=len(self.drops[i]),
                            unit="drop S(θ₀) − p_A",
                            method="paired drop, betting confidence sequence (hedged capital), two-sided",
                            extra={"variance": variance})  # Var(V_b) observed, beside the pilot's prediction
            p_a = Estimate(estimate=clean - mean, ci=(max(0.0, clean - hi), min(1.0, clean - lo)),
                           confidence=self.per_sigma, n=len(self.drops[i]), unit="smoothed score",
                           method=drop.method)
            verdict = self.decided.get(i, "undecided")
            points.append(SigmaPoint(sigma=self.grid[i], p_a=p_a, inside=verdict == "inside",
                                     outside=verdict == "outside", noise_seeds=tuple(self.seeds[i]), drop=drop,
                                     trials=len(self.drops[i]), decision=verdict))
        threshold = self.clean.value - self.tau
        estimate, lo, hi, non_monotone = _interval(points, threshold)
        resolvable = bool(betting_interval(np.zeros(n), confidence=self.per_sigma, bounds=self.drop_bounds)[1]
                          < self.tau)
        result = Estimate(estimate=estimate, ci=(lo, hi), confidence=confidence, n=n, unit=direction_kind(kind).unit,
                          method=f"paired sequential betting CS, bonferroni over {m} sigmas",
                          extra={"mode": mode, "kind": kind, "search": "sequential", "visited": len(points),
                                 "grid_size": m, "inside_resolvable": resolvable, "examples_per_trial": size,
                                 "b_choice": choice, "stratified": mode == "pairs" and self.design.stratified,
                                 "drop_bounds": list(self.drop_bounds)})
        return SigmaBasin(score=score.name, tau=self.tau, baseline=self.clean.value, threshold=threshold, kind=kind,
                          mode=mode, points=tuple(points), sigma_basin=result, non_monotone=non_monotone,
                          seed=self.ev.ctx.seed, n_evals=self.ev.n_evals, wall_time_s=time.perf_counter() - start,
                          inside_resolvable=resolvable, examples_per_trial=size,
                          design=self.design if mode == "pairs" else None)


@dataclass(frozen=True)
class SigmaTask:
    """One σ-basin of a joint sequential search: a model, its score and context, its σ grid, the bracket
    window's start σ and its b (int, "auto", or a choice already made)."""

    model: torch.nn.Module
    score: Score
    ctx: ProbeContext
    sigmas: Sequence[float]
    start: float | None = None
    b: int | str | dict = "auto"


def sigma_basins(models: Sequence[tuple[torch.nn.Module, ProbeContext]], score: Score, sigmas: Sequence[float], *,
                 tau: float = 0.05, n: int = 64, mode: str = "pairs", kind: str = "gaussian",
                 confidence: float = 0.95, b: int | str | dict = "auto", look_every: int = LOOK_EVERY,
                 target_ratio: float | None = None, start: float | None = None,
                 run_block: BlockRunner | None = None) -> list[SigmaBasin]:
    """The sequential σ-basins of several models (a control and GO arms) of one score on shared noise, paired
    draw by draw (`joint_sigma_basins` with one task per model): trial j draws z_j once, and every model
    scores it at each of its pending σ, on the examples its own trial design draws. The models' contexts
    must share seed, rng and the example set; b ("auto") is chosen on the first model (b may also be such a
    choice, a dict, made elsewhere). Each model's result is the one `sigma_basin(..., search="sequential")`
    gives it alone."""
    if len({ctx.example_ids for _, ctx in models}) > 1:
        raise UserInputError("the models' contexts must share seed, rng and example ids (one noise plan)")
    return joint_sigma_basins([SigmaTask(model, score, ctx, sigmas, start, b) for model, ctx in models], tau=tau,
                              n=n, mode=mode, kind=kind, confidence=confidence, look_every=look_every,
                              target_ratio=target_ratio, run_block=run_block)


def joint_sigma_basins(tasks: Sequence[SigmaTask], *, tau: float = 0.05, n: int = 64, mode: str = "pairs",
                       kind: str = "gaussian", confidence: float = 0.95, look_every: int = LOOK_EVERY,
                       target_ratio: float | None = None, run_block: BlockRunner | None = None) -> list[SigmaBasin]:
    """Sequential σ-basins of several tasks (models, or scores of one model: capabilities) on one noise plan:
    trial j's noise z_j is drawn once, held, and re-bound to every task's model (when the kind does not read
    θ₀), and each task scores it on its own b examples at each of its active σ. Each task keeps its own
    grid, Bonferroni level (over its grid), bracket window and decisions, so its result is the one it gets
    alone. Tasks with the same score and example set share b (the first one's choice); each draws its
    examples by its own design (stratified by its own clean outcomes), from the same picker seed. The
    contexts must share seed and rng. n: the trial budget of each σ. target_ratio: the bracket window of the
    module doc (None: every pending σ is scored at every trial). Rounds of `look_every` trials: the σ each
    trial scores are fixed at the round's start (from the decisions so far), every σ scored in the round is
    looked at after it, and the drops enter each σ's sequence in
    trial-index order; `run_block` evaluates a round's trials (default `run_trials`, in this process;
    llm_check.distributed shards them over ranks), so decisions do not depend on who evaluated which trial."""
    start_time = time.perf_counter()
    if mode not in MODES:
        raise UserInputError(f"mode must be one of {MODES}, got {mode!r}")
    if n < 1 or look_every < 1:
        raise UserInputError(f"n and look_every must be >= 1, got {n} and {look_every}")
    if target_ratio is not None and not target_ratio > 1:
        raise UserInputError(f"target_ratio must be > 1, got {target_ratio}")
    if not tasks:
        raise UserInputError("at least one model is needed")
    if len({(t.ctx.seed, t.ctx.rng) for t in tasks}) != 1:
        raise UserInputError("the models' contexts must share seed, rng and example ids (one noise plan)")
    states, chosen = [], {}
    for task in tasks:
        grid = check_sigma_grid(task.sigmas, tau)
        if task.start is not None and not 0 < task.start < math.inf:
            raise UserInputError(f"start must be a positive sigma, got {task.start}")
        if not is_bounded_score(task.score):
            raise UserInputError(f"score {task.score.name!r} is not bounded in [0, 1]; smoothing needs one")
        per_sigma = 1.0 - (1.0 - confidence) / len(grid)
        window = None if target_ratio is None else bracket_window(grid, target_ratio, task.start)
        state = _SequentialState(task.model, task.score, task.ctx, grid, tau, per_sigma, n, window, target_ratio)
        group = (id(task.score), task.ctx.example_ids)
        if group not in chosen:
            chosen[group] = _examples_per_trial(state, task.b, mode=mode, kind=kind)
        state.choice, size = chosen[group]
        state.use_design(size, mode)
        state.plan = trial_plan(state.design, task.ctx.seed, mode=mode, kind=kind, rng=task.ctx.rng)
        states.append(state)
    m = max(len(state.grid) for state in states)
    states[0].ev.announce("sigma-basin (sequential, at most)", sum(len(st.grid) for st in states), n)
    shareable = not direction_kind(kind).reads_theta0
    max_rounds = -(-n * m * len(states) // look_every)  # every round gives each active σ trials: a bound
    for _ in progress(range(max_rounds), total=max_rounds, desc=f"sigma-basin rounds of {look_every} trials (at most)"):
        todo = [state.active() for state in states]
        if not any(todo):
            break
        block = []
        for _k in range(look_every):
            draws = [next(state.plan) for state in states]
            if len({spec.seed for spec, _ in draws}) != 1:
                raise InternalError("the tasks' trial plans drew different noise for one trial")
            block.append((draws[0][0], [ids for _, ids in draws]))
        work = [[[i for i in active if len(state.drops[i]) + k < n] for state, active in zip(states, todo)]
                for k in range(look_every)]
        results = (run_block or run_trials)(states, block, work, shareable)
        for (spec, _), per_state, values in zip(block, work, results):
            for state, active, drops in zip(states, per_state, values):
                state.record(spec.seed, active, drops)
        for state, active in zip(states, todo):
            for i in active:
                state.look(i)
    return [state.result(state.ev.score, kind, mode, n, confidence, state.size, state.choice, start_time)
            for state in states]


def _examples_per_trial(state: _SequentialState, b: int | str | dict, *, mode: str, kind: str) -> tuple[dict, int]:
    """(the recorded choice, b) for a task: the whole set in mode "set", a choice made elsewhere (dict), the
    cost rule's b="auto" (timed here and kept as a row), or b itself."""
    pool = state.pool
    if mode == "set":
        return {}, len(pool)
    if isinstance(b, dict):
        choice, size = dict(b), int(b["b"])
    elif b == "auto":
        choice = remembered_choice(state.ev, state.per_example, state.grid, tau=state.tau, level=state.per_sigma,
                                   kind=kind)
        size = int(choice["b"])
    else:
        choice, size = {}, int(b)
    if not 1 <= size <= len(pool):
        raise UserInputError(f"b must lie in [1, {len(pool)}] (the example set), got {b}")
    return choice, size


BlockRunner = Callable[[Sequence["_SequentialState"], Sequence[tuple], Sequence[Sequence[Sequence[int]]], bool],
                       list[list[list[float]]]]


def run_trials(states: Sequence[_SequentialState], block: Sequence[tuple], tasks: Sequence[Sequence[Sequence[int]]],
               shareable: bool) -> list[list[list[float]]]:
    """Evaluate a round's trials in this process: per trial (noise spec, each task's examples) and per task
    the σ indices it scores; returns the paired drops in the same nesting. Each trial's noise is drawn once
    and re-bound to every model when shareable."""
    out = []
    for (spec, ids_per_state), per_state in zip(block, tasks):
        held, values = None, []
        for state, ids, todo in zip(states, ids_per_state, per_state):
            if todo:
                drops, mine = state.drops_at(spec, ids, todo, held if shareable else None)
                held = mine if shareable else None
            else:
                drops = []
            values.append(drops)
        out.append(values)
    return out


def bracket_window(grid: Sequence[float], target_ratio: float, start: float | None = None) -> tuple[int, int]:
    """The bracket window's first ends (i, j): i the grid index nearest `start` (default the middle one),
    j the largest index with grid[j] ≤ target_ratio·grid[i] (at least i + 1; len(grid) when i is the last)."""
    m = len(grid)
    i = m // 2 if start is None else min(range(m), key=lambda k: abs(math.log(grid[k] / start)))
    j = max((k for k in range(i + 1, m) if grid[k] <= target_ratio * grid[i] * (1 + 1e-12)), default=i + 1)
    return i, j


def check_sigma_grid(sigmas: Sequence[float], tau: float) -> list[float]:
    """The σ grid sorted, after checking it holds distinct positive numbers and that τ lies in [0, 1]."""
    grid = sorted(float(s) for s in sigmas)
    if not grid or grid[0] <= 0 or len(set(grid)) != len(grid):
        raise UserInputError("sigmas must be distinct positive numbers")
    if not 0 <= tau <= 1:
        raise UserInputError(f"tau must lie in [0, 1], got {tau}")
    return grid


def bisect_points(m: int) -> int:
    """σ values the binary search of search="bisect" measures on an m-point grid (⌈log₂(m + 1)⌉), before
    the upward walk to a certified-outside σ (0 to m − 1 more; usually 0 or 1)."""
    return max(1, math.ceil(math.log2(m + 1)))


def inside_resolvable(baseline: float, threshold: float, n: int, confidence: float, bound: str = "auto") -> bool:
    """Can n draws certify any σ inside at all? True iff draws whose mean equals the clean score (no drop)
    would give a lower bound ≥ threshold. False means the σ-basin's lower end is 0 whatever the model
    does (e.g. n = 200 pairs, τ = 0.05, score ≈ 0.45: Clopper–Pearson half-width ≈ 0.09 > τ)."""
    if bound == "hoeffding":
        lo, _ = hoeffding_interval(baseline, n, confidence=confidence, sided="two")
    else:
        lo, _ = clopper_pearson(int(round(baseline * n)), n, confidence=confidence, sided="two")
    return bool(lo >= threshold)
