"""Benchmark of the lm-evaluation-harness backend: per-probe seconds of lm-eval's scorer ÷ our own.

One multiple-choice task written both ways: a BIG-bench task (default general_knowledge, from the cache) as
our MultipleChoiceTask, and the same examples exported to a JSONL file with an lm-eval YAML task over it
(`dataset_path: json`, doc_to_text = our query, doc_to_choice = our choices, metric acc). A probe writes
θ₀ + α·δ (raw Gaussian δ over all parameters, a fresh seed per probe), scores every example and restores
θ₀ bitwise; the two scorers are timed on the same probes in alternating order, and the ratio is the median
of the per-probe ratios. The two must also agree per example on every probe (they implement the same
protocol), which the result reports as `outcomes_equal`.

Model: the default SmolLM2-135M-Instruct (cache, offline) or `--model` (any llm_check model spec).
Last line: RATIOS lm_eval_overhead=<float>
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

import numpy as np

from landscape.directions import DirectionSpec
from landscape.perturb import perturbed
from landscape.theta0 import Theta0


def run(model_spec: str | None, task_spec: str, probes: int, alpha: float, batch_size: int, limit: int | None) -> dict:
    from dataclasses import replace

    from llm_check.lm_eval_backend import LmEvalScore, load_lm_eval_tasks, write_multiple_choice_task
    from llm_check.model_io import load_model
    from llm_check.multiple_choice import MultipleChoiceScore
    from llm_check.tasks import load_task

    lm = load_model(model_spec)
    task = load_task(task_spec)
    task = replace(task, examples=tuple(e for e in task.examples if len(e.gold) == 1)[:limit])
    with tempfile.TemporaryDirectory() as tmp:
        name = write_multiple_choice_task(task, tmp, f"bench_{task.name}")
        start = time.perf_counter()
        [lm_task] = load_lm_eval_tasks([name], tmp)
        build_s = time.perf_counter() - start
        ours = MultipleChoiceScore(task, lm.tokenizer, batch_size=batch_size)
        theirs = LmEvalScore(lm_task, lm.tokenizer, batch_size=batch_size)
        theirs(lm.model, [0])  # HFLM is made on the first call; not part of a probe
        theta0 = Theta0(lm.model)
        per_probe = {"ours": [], "lm_eval": []}
        equal = []
        for i in range(probes):
            spec = DirectionSpec("gaussian", seed=1000 + i)
            order = (("ours", ours), ("lm_eval", theirs)) if i % 2 == 0 else (("lm_eval", theirs), ("ours", ours))
            outcomes = {}
            for label, score in order:
                t = time.perf_counter()
                with perturbed(lm.model, spec, alpha, theta0=theta0):
                    outcomes[label] = score(lm.model).outcomes
                per_probe[label].append(time.perf_counter() - t)
            equal.append(bool(np.array_equal(outcomes["ours"], outcomes["lm_eval"])))
    ratios = [b / a for a, b in zip(per_probe["ours"], per_probe["lm_eval"])]
    return {"model": lm.model_id, "task": task.name, "examples": len(task.examples), "alpha": alpha,
            "probes": probes, "batch_size": batch_size, "lm_eval_task_build_s": build_s,
            "seconds_per_probe": per_probe, "per_probe_ratios": ratios, "outcomes_equal": equal,
            "ratio": statistics.median(ratios)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks lm_eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="default: SmolLM2-135M-Instruct from the cache")
    p.add_argument("--task", default="general_knowledge", help="a multiple-choice task spec of llm_check")
    p.add_argument("--probes", type=int, default=5)
    p.add_argument("--alpha", type=float, default=1e-3, help="per-coordinate step of each probe")
    p.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=16)
    p.add_argument("--limit", type=int, default=None, help="first N single-gold examples")
    args = p.parse_args(argv)
    result = run(args.model, args.task, args.probes, args.alpha, args.batch_size, args.limit)
    print(json.dumps(result, indent=2))
    print(f"RATIOS lm_eval_overhead={result['ratio']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
