"""The certification engine, side by side in one run on a toy transformer (pre-trained on the basic mixture):

(a) today's fixed-n engine made sequential the only valid way a fixed-n interval can be: raw-outcome
    (noise, example) pairs with Clopper–Pearson, run in blocks of 100 trials until the interval decides the σ
    (inside: lower end above S(θ₀) − τ; outside: upper end below it) or 5,000 trials; each look at α/50
    (so 50 looks cost no more error than the sequence's one level), noise regenerated for every trial;
(b) the paired sequential estimator with noise reuse (landscape.sigma_basin, search="sequential": paired
    drops, betting confidence sequence, one noise draw per trial shared by every pending σ, b examples per
    trial chosen by its cost rule from a pilot of PILOT_DRAWS whole-set draws, counted here).

Both at the same Bonferroni level over the same σ grid (≤ 4 σ around the model's median basin edge). Counted:
wall seconds, noise draws (a: one per trial; b: one per trial, whatever the number of pending σ), scored
evaluations. coverage_ok = 1 when no σ is decided one way by (a) and the other by (b).

`--model default` runs the same comparison on SmolLM2 (or `--model` a GGUF file / HF directory) on one task
(`--task`, general_knowledge by default) at σ = `--factors` × its median edge (`--edge`, or measured with
K = 4 early-stopped directions). `--max-trials` lowers both arms' per-σ budget from 5,000 (on 2 CPU cores
one SmolLM2 raw pair costs ≈ 2 s, so arm (a) at the full budget takes hours); a σ undecided at a lowered
budget is reported as such, and the RATIOS line then says `capped=1`.

Last line: RATIOS wall=<b/a> noise_draws=<b/a> evals=<b/a> coverage_ok=<0|1>.
"""

from __future__ import annotations

import argparse
import time

from landscape.context import ProbeContext
from landscape.edges import basin_edges
from landscape.evaluate import ProbeEvaluator
from landscape.sigma_basin import sigma_basin
from landscape.smoothing import noise_trials
from landscape.trial_size import PILOT_DRAWS
from theory.stats import clopper_pearson
from toymodels.tasks import basic_score
from toymodels.train import TrainConfig, pretrain_transformer

BLOCK, MAX_TRIALS, LOOKS = 100, 5000, 50


def fixed_n_blocks(model, score, sigmas, *, tau: float, confidence: float, seed: int,
                   example_ids: tuple[int, ...] | None = None, max_trials: int = MAX_TRIALS) -> dict:
    """(a): per σ, blocks of BLOCK raw pairs until Clopper–Pearson at level α/(m·LOOKS) decides."""
    ev = ProbeEvaluator(model, score, ProbeContext(seed=seed, example_ids=example_ids))
    clean = ev.baseline().value
    level = 1.0 - (1.0 - confidence) / (len(sigmas) * LOOKS)
    pool = example_ids if example_ids is not None else range(score.n_examples)
    trials = noise_trials(pool, max_trials, seed, mode="pairs")
    decisions, n_trials = {}, {}
    for sigma in sigmas:
        outcomes = []
        decisions[sigma] = "undecided"
        for start in range(0, max_trials, BLOCK):
            outcomes += [ev.at(spec, sigma, example_ids=ids).value for spec, ids in trials[start:start + BLOCK]]
            lo, hi = clopper_pearson(int(sum(outcomes)), len(outcomes), confidence=level)
            if lo > clean - tau or hi < clean - tau:
                decisions[sigma] = "inside" if lo > clean - tau else "outside"
                break
        n_trials[sigma] = len(outcomes)
    total = sum(n_trials.values())
    return {"decisions": decisions, "trials": n_trials, "noise_draws": total, "evals": total}


def paired_sequential(model, score, sigmas, *, tau: float, confidence: float, seed: int,
                      example_ids: tuple[int, ...] | None = None, max_trials: int = MAX_TRIALS) -> dict:
    """(b): the sequential paired engine with noise reuse."""
    res = sigma_basin(model, score, sigmas, ProbeContext(seed=seed, example_ids=example_ids), tau=tau,
                      n=max_trials, confidence=confidence)
    pilot = res.sigma_basin.extra["b_choice"]
    print(f"(b) chose b = {res.examples_per_trial} examples per trial (pilot: noise {pilot['c_noise_s']:.3g} s, "
          f"evaluation of 1 / {score.n_examples} examples {pilot['c_eval_1_s']:.3g} / {pilot['c_eval_set_s']:.3g} s)")
    return {"decisions": {p.sigma: p.decision for p in res.points}, "trials": {p.sigma: p.trials for p in res.points},
            "noise_draws": max(p.trials for p in res.points) + PILOT_DRAWS, "evals": res.n_evals - 1}


def toy_model(tau: float):
    """The toy transformer pre-trained 300 steps, its basic score on 128 examples and its median edge."""
    model, _ = pretrain_transformer(cfg=TrainConfig(steps=300, batch_size=64, lr=3e-3))
    score = basic_score(128)
    edge = basin_edges(model, score, ProbeContext(seed=1000), k=4, tau=tau, alpha_start=1e-3,
                       alpha_max=10.0).median.estimate
    return "toy transformer", model, score, None, edge


def llm_model(spec: str, task: str, limit: int | None, tau: float, edge: float | None):
    """An LLM through llm_check (spec "default": SmolLM2-135M from its wheel), one task (its first `limit`
    examples), and its median edge (given, or K = 4 early-stopped directions)."""
    from llm_check.model_io import load_model
    from llm_check.scores import make_score
    from llm_check.tasks import load_task

    lm = load_model(None if spec == "default" else spec)
    score = make_score(load_task(task), lm.tokenizer)
    ids = None if limit is None else tuple(range(min(limit, score.n_examples)))
    if edge is None:
        edge = basin_edges(lm.model, score, ProbeContext(seed=1000, example_ids=ids), k=4, tau=tau, alpha_start=1e-3,
                           rel_precision=0.1, n_checks=2, stop_early=True, hold=True).median.estimate
    return f"{lm.model_id} / {score.name}", lm.model, score, ids, edge


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks certify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tau", type=float, default=0.05)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="toy", help="toy, or an LLM: default (SmolLM2), a .gguf, an HF dir")
    parser.add_argument("--task", default="general_knowledge", help="the LLM's task")
    parser.add_argument("--limit", type=int, default=None, help="the LLM task's first examples only")
    parser.add_argument("--edge", type=float, default=None, help="the LLM's median edge (else measured)")
    parser.add_argument("--factors", default="0.5,1,2,4", help="sigma = factor x median edge (at most 4)")
    parser.add_argument("--max-trials", type=int, default=MAX_TRIALS, help="each sigma's budget in both arms")
    args = parser.parse_args(argv)
    factors = [float(f) for f in args.factors.split(",")]
    if not 1 <= len(factors) <= 4 or min(factors) <= 0 or not 1 <= args.max_trials <= MAX_TRIALS:
        parser.error(f"need 1 to 4 positive factors and 1 <= --max-trials <= {MAX_TRIALS}")
    if args.model == "toy":
        name, model, score, ids, edge = toy_model(args.tau)
    else:
        name, model, score, ids, edge = llm_model(args.model, args.task, args.limit, args.tau, args.edge)
    sigmas = [edge * f for f in factors]
    clean = ProbeEvaluator(model, score, ProbeContext(example_ids=ids)).baseline().value
    print(f"{name}: S(θ₀) = {clean:.3f} on {score.n_examples if ids is None else len(ids)} examples, median edge "
          f"{edge:.3g}, sigmas {', '.join(f'{s:.3g}' for s in sigmas)}, tau {args.tau}, confidence {args.confidence}, "
          f"at most {args.max_trials} trials per sigma")
    opts = dict(tau=args.tau, confidence=args.confidence, seed=args.seed, example_ids=ids, max_trials=args.max_trials)
    rows = {}
    for name, run in (("a fixed-n CP blocks", fixed_n_blocks), ("b paired sequential", paired_sequential)):
        t0 = time.perf_counter()
        rows[name] = run(model, score, sigmas, **opts)
        rows[name]["wall_s"] = time.perf_counter() - t0
        r = rows[name]
        print(f"{name}: {r['wall_s']:.1f} s, {r['noise_draws']} noise draws, {r['evals']} evaluations; per σ "
              + "; ".join(f"{s:.3g}: {r['decisions'][s]} after {r['trials'][s]}" for s in sigmas
                          if s in r["decisions"]))
    a, b = rows["a fixed-n CP blocks"], rows["b paired sequential"]
    clash = [s for s in sigmas if {a["decisions"].get(s), b["decisions"].get(s)} == {"inside", "outside"}]
    capped = " capped=1" if args.max_trials < MAX_TRIALS else ""
    print(f"RATIOS wall={b['wall_s'] / a['wall_s']:.4f} noise_draws={b['noise_draws'] / a['noise_draws']:.4f} "
          f"evals={b['evals'] / a['evals']:.4f} coverage_ok={int(not clash)}{capped}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
