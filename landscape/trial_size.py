"""b, the examples per trial of the sequential σ-basin (landscape.sigma_basin): the cost rule, the pilot that
measures its costs and variances on the machine, and the betting floor that bounds every σ's trials from
below. The choice is kept as a row (ProbeEvaluator.remembered), so a resumed run uses the same b.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np

from landscape.directions import DirectionSpec
from landscape.evaluate import ProbeEvaluator, derive_seed
from landscape.smoothing import allocate, noise_spec, trial_design
from theory.errors import InternalError
from theory.sequential import betting_interval

PILOT_DRAWS = 6


def choose_examples_per_trial(ev: ProbeEvaluator, pool: Sequence[int], clean: dict[int, float], sigma: float, *,
                              tau: float, level: float, kind: str) -> dict:
    """b, the examples per trial, minimising the expected cost of deciding a σ a margin w = τ/2 from τ:
        cost(b) = (c_noise + c_eval(b)) · max(2 Var(V_b) log(1/α) / w², floor(b)),
    with α = 1 − level, c_noise the seconds of one noise draw (held once per trial), c_eval(b) = c₀ + c₁·b
    fitted to a 1-example and a whole-set evaluation, floor(b) = the trials a sequence of zero drops needs
    to fall below τ within the drop bounds of b's trial design (landscape.smoothing.trial_design), and
        Var(V_b) = Var_j(D̄_j) + Σ_s w_s² E_j[s²_{j,s}] (N_s − b_s)/((N_s − 1) b_s)
    for b_s examples drawn without replacement from each stratum s of N_s examples (w_s = N_s/N; one
    stratum, the whole set, when the design is uniform), D̄_j the set's mean paired drop under pilot draw j
    and s²_{j,s} the variance of its paired drops over stratum s. The pilot: PILOT_DRAWS whole-set draws at
    `sigma` with their own seeds (not reused as trials)."""
    n_pool = len(pool)
    outcomes = np.array([clean[int(x)] for x in pool])
    strata = _strata(pool, outcomes)
    means, within, t_noise, t_set, t_one = [], [], [], [], []
    for spec, subsets in pilot_trials(pool, ev.ctx.seed, whole=ev.example_ids, kind=kind, rng=ev.ctx.rng):
        t0 = time.perf_counter()
        with ev.hold(spec):
            t_noise.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            whole = ev.at(spec, sigma, example_ids=subsets[0])
            t_set.append(time.perf_counter() - t1)
            t2 = time.perf_counter()
            ev.at(spec, sigma, example_ids=subsets[1])
            t_one.append(time.perf_counter() - t2)
        d = outcomes - whole.outcomes
        means.append(float(d.mean()))
        within.append([float(d.var(ddof=1)) if n_pool > 1 else 0.0]
                      + [float(d[m].var(ddof=1)) if m.sum() > 1 else 0.0 for m in strata])
    c_noise, c_one, c_set = (float(np.median(t)) for t in (t_noise, t_one, t_set))
    between = float(np.var(means, ddof=1))
    inside, *by_stratum = (float(v) for v in np.mean(np.array(within), axis=0))
    strata_vars = [(int(m.sum()), v) for m, v in zip(strata, by_stratum)] if len(strata) > 1 else None
    rule = trial_cost_rule(c_noise, c_one, c_set, n_pool, between, inside, tau=tau, level=level, strata=strata_vars)
    return {"b": rule["b"], "c_noise_s": c_noise, "c_eval_1_s": c_one, "c_eval_set_s": c_set,
            "var_between": between, "var_within": inside, "strata": strata_vars,
            "floor_trials": rule["floor_trials"], "pilot_sigma": sigma, "expected_cost_s": rule["expected_cost_s"],
            "expected_trials": rule["expected_trials"], "expected_variance": rule["expected_variance"]}


def _strata(pool: Sequence[int], outcomes: np.ndarray) -> list[np.ndarray]:
    """Masks over `pool` of the strata the trial designs with b ≥ 2 use (landscape.smoothing.trial_design)."""
    design = trial_design(pool, min(2, len(pool)), outcomes)
    return [np.isin(np.asarray(pool), members) for members in design.strata]


def floor_trials(tau: float, level: float, bounds: tuple[float, float] = (-1.0, 1.0)) -> int:
    """The trials (a power of two) a sequence of zero drops in `bounds` needs before its upper end falls
    below τ: no σ can be certified inside with fewer, whatever b is."""
    floor = 1
    while betting_interval(np.zeros(floor), confidence=level, bounds=bounds)[1] >= tau and floor < 10**6:
        floor *= 2
    return floor


def trial_cost_rule(c_noise: float, c_one: float, c_set: float, n_pool: int, between: float, within: float, *,
                    tau: float, level: float, strata: Sequence[tuple[int, float]] | None = None) -> dict:
    """The cost rule of `choose_examples_per_trial` for measured seconds (c_noise; c_one, c_set: a σ's
    evaluation on 1 and on all n_pool examples, the write included) and variances (`within` over the whole
    set; `strata`: (N_s, within-stratum variance) of the correct and the incorrect examples at θ₀ when the
    designs with b ≥ 2 are stratified, None when they are uniform): per candidate b the expected trials
    max(2 Var(V_b) log(1/α)/w², floor(b)) and seconds; "b" the cheapest. b = 1 is uniform, its drops in
    [−1, 1]; a stratified b ≥ 2 has them in [−(1 − S(θ₀)), S(θ₀)], S(θ₀) = N₁/n_pool."""
    slope = max(0.0, (c_set - c_one) / max(1, n_pool - 1))
    w, log_alpha = tau / 2.0, math.log(1.0 / (1.0 - level))
    if strata is not None and (len(strata) != 2 or sum(n_s for n_s, _ in strata) != n_pool):
        raise InternalError(f"strata {strata} do not split the {n_pool} examples in two")
    wide = floor_trials(tau, level)
    if strata is not None:
        s0 = strata[0][0] / n_pool
        narrow = floor_trials(tau, level, (-(1.0 - s0), s0))
    costs, trials, floors, variances = {}, {}, {}, {}
    for b in sorted({1, *(2 ** k for k in range(1, 12) if 2 ** k < n_pool), n_pool}):
        if b == 1 or strata is None:
            var = between + within * (n_pool - b) / max(1, (n_pool - 1) * b)
            floors[b] = wide
        else:
            counts = allocate(b, [n_s for n_s, _ in strata])
            var = between + sum((n_s / n_pool) ** 2 * v * (n_s - b_s) / max(1, (n_s - 1) * b_s)
                                for (n_s, v), b_s in zip(strata, counts))
            floors[b] = narrow
        variances[b] = var
        trials[b] = max(2.0 * var * log_alpha / w ** 2, floors[b])
        costs[b] = (c_noise + c_one + slope * (b - 1)) * trials[b]
    best = min(costs, key=costs.get)
    return {"b": int(best), "floor_trials": floors[best], "expected_cost_s": {str(k): v for k, v in costs.items()},
            "expected_trials": {str(k): v for k, v in trials.items()},
            "expected_variance": {str(k): v for k, v in variances.items()}}


def pilot_trials(pool: Sequence[int], seed: int, *, whole: Sequence[int] | None = None, kind: str = "gaussian",
                 rng: str = "cpu") -> list[tuple[DirectionSpec, tuple[list[int] | None, list[int]]]]:
    """The b pilot's draws: noise direction j (seed derive_seed(seed, "pilot", j)) and the two example sets it
    is scored on: the whole set (`whole`, the evaluator's example ids; None = every example) and the pool's
    first example."""
    ids = None if whole is None else [int(i) for i in whole]
    return [(noise_spec(kind, derive_seed(seed, "pilot", j), rng=rng), (ids, [int(pool[0])]))
            for j in range(PILOT_DRAWS)]


def remembered_choice(ev: ProbeEvaluator, per_example: dict[int, float], grid: Sequence[float], *, tau: float,
                      level: float, kind: str) -> dict:
    """b="auto": `choose_examples_per_trial` at the grid's middle σ, timed on this machine and kept as a row
    (ProbeEvaluator.remembered), so a resumed run uses the same b."""
    key = {"kind": "examples-per-trial", "noise": kind, "sigmas": list(grid), "tau": tau, "level": level,
           "seed": ev.ctx.seed, "rng": ev.ctx.rng}
    pool = list(per_example)
    return ev.remembered(key, lambda: choose_examples_per_trial(ev, pool, per_example, grid[len(grid) // 2], tau=tau,
                                                                level=level, kind=kind))
