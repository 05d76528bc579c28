"""Sharded sweeps: the job split covers every job once, and a 2-rank gloo run (spawned CPU processes)
merges into exactly the rows a 1-process run writes."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st
from llm_runs_support import write_task

from landscape.store import ResultStore, canonical_json
from llm_check import distributed
from llm_check.distributed import job_list, launch_local, shard, sigma_job_list
from llm_check.model_io import load_model
from llm_check.runs import Capability, RunContext, most_case_curves, sigma_basin_run
from llm_check.scores import make_score
from llm_check.tasks import load_task

ALPHAS = [-0.05, 0.05]


@given(n=st.integers(0, 40), world=st.integers(1, 6))
def test_shards_partition_the_jobs(n, world):
    jobs = list(range(n))
    parts = [shard(jobs, r, world) for r in range(world)]
    assert sorted(j for p in parts for j in p) == jobs


def test_job_list_matches_grid():
    from landscape.evaluate import default_directions

    jobs = job_list(default_directions(2, 0), [0.1, -0.1, 0.0])
    assert jobs[0] == (None, 0.0, None) and len(jobs) == 1 + 2 * 2


def test_sigma_job_list_is_the_one_process_draws():
    """Every σ gets the same n (noise seed, example) trials as landscape.smoothing.draw_noise makes."""
    from landscape.evaluate import derive_seed

    jobs = sigma_job_list([10, 11, 12], [0.2, 0.1], n=5, seed=3)
    assert jobs[0] == (None, 0.0, None) and len(jobs) == 1 + 2 * 5
    low, high = jobs[1:6], jobs[6:]
    assert {s for _, s, _ in low} == {0.1} and {s for _, s, _ in high} == {0.2}
    assert [spec.seed for spec, _, _ in low] == [derive_seed(3, "noise", j) for j in range(5)]
    assert [(spec, ids) for spec, _, ids in low] == [(spec, ids) for spec, _, ids in high]
    assert all(len(ids) == 1 and ids[0] in (10, 11, 12) for _, _, ids in low)


def _rows(path):
    return sorted(canonical_json({"key": r.key, "values": r.values}) for r in ResultStore(path).rows())


def test_two_rank_gloo_rows_equal_one_process(tmp_path, tiny_hf_dir):
    task = str(write_task(tmp_path / "tiny.jsonl"))
    merged = launch_local(2, tiny_hf_dir, task, tmp_path / "two", ALPHAS, k=2)
    assert not list((tmp_path / "two").glob("rows.rank*"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        lm = load_model(tiny_hf_dir)
        score = make_score(load_task(task), lm.tokenizer)
        most_case_curves(RunContext.from_loaded(lm, tmp_path / "one"), Capability(score.name, score), ALPHAS, k=2)
    finally:
        torch.set_num_threads(threads)
    one = _rows(tmp_path / "one" / "rows.jsonl")
    assert len(one) == 1 + 2 * 2
    assert _rows(merged) == one


def test_two_rank_gloo_sigma_basin_equals_one_process(tmp_path, tiny_hf_dir):
    """Sharded fixed-n (noise, σ, example) trials: merged rows and the σ-basin equal a 1-process grid σ-basin's."""
    task = str(write_task(tmp_path / "tiny.jsonl"))
    sigmas, n = [0.02, 0.2], 6
    merged = launch_local(2, tiny_hf_dir, task, tmp_path / "two", sigmas=sigmas, n=n, search="grid")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        lm = load_model(tiny_hf_dir)
        score = make_score(load_task(task), lm.tokenizer)
        cap = Capability(score.name, score)
        one_basin = sigma_basin_run(RunContext.from_loaded(lm, tmp_path / "one"), cap, sigmas, n=n, search="grid")
        two = RunContext.from_loaded(lm, tmp_path / "two")
        again = sigma_basin_run(two, cap, sigmas, n=n, search="grid")
        summary = distributed._sigma_summary(two, cap, again)
    finally:
        torch.set_num_threads(threads)
    one = _rows(tmp_path / "one" / "rows.jsonl")
    assert len(one) == 1 + len(sigmas) * n
    assert _rows(merged) == one
    assert again.n_evals == 0  # everything came from the merged rows
    assert summary["n_evals"] == len(one)  # the summary counts the stage's rows, whichever process made them
    assert again.sigma_basin.to_dict() == one_basin.sigma_basin.to_dict()


def _one_process(tiny_hf_dir, task, out, sigmas, **kw):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each spawned rank runs
    try:
        lm = load_model(tiny_hf_dir)
        score = make_score(load_task(task), lm.tokenizer)
        cap = Capability(score.name, score)
        ctx = RunContext.from_loaded(lm, out)
        return ctx, cap, sigma_basin_run(ctx, cap, sigmas, search="sequential", **kw)
    finally:
        torch.set_num_threads(threads)


def test_two_rank_gloo_sequential_sigma_basin_equals_one_process(tmp_path, tiny_hf_dir):
    """The sequential engine with its rounds' trials split over 2 ranks: the merged rows, the decisions and
    the σ-basin are those of one process (the drops enter each σ's sequence in trial order on every rank)."""
    task = str(write_task(tmp_path / "tiny.jsonl"))
    sigmas, kw = [0.02, 0.2, 2.0], dict(n=30, b=2, look_every=10)
    merged = launch_local(2, tiny_hf_dir, task, tmp_path / "two", sigmas=sigmas, n=kw["n"], b=kw["b"])
    assert not list((tmp_path / "two").glob("rows.rank*"))
    _, _, alone = _one_process(tiny_hf_dir, task, tmp_path / "one", sigmas, **kw)
    one = _rows(tmp_path / "one" / "rows.jsonl")
    assert len(one) == 1 + sum(p.trials for p in alone.points) and len(alone.points) == len(sigmas)
    assert _rows(merged) == one
    ctx, cap, again = _one_process(tiny_hf_dir, task, tmp_path / "two", sigmas, **kw)
    assert again.n_evals == 0                                  # every trial came from the merged rows
    assert [(p.sigma, p.trials, p.decision, p.drop.ci) for p in again.points] == \
           [(p.sigma, p.trials, p.decision, p.drop.ci) for p in alone.points]
    assert again.sigma_basin.to_dict() == alone.sigma_basin.to_dict()
    assert distributed._sigma_summary(ctx, cap, again)["n_evals"] == len(one)


def test_two_rank_auto_b_is_chosen_once_for_every_rank(tmp_path, tiny_hf_dir):
    import json

    task = str(write_task(tmp_path / "tiny.jsonl"))
    merged = launch_local(2, tiny_hf_dir, task, tmp_path / "two", sigmas=[0.02, 2.0], n=10)
    rows = [json.loads(line) for line in merged.read_text().splitlines()]
    choices = [r for r in rows if (r["key"]["direction"] or {}).get("kind") == "examples-per-trial"]
    assert len(choices) == 1
    b = choices[0]["values"]["b"]
    pilot_sigma = choices[0]["values"]["pilot_sigma"]
    trials = [r for r in rows if r["key"]["direction"] and r["key"]["direction"]["kind"] == "gaussian"
              and r["key"]["alpha"] in (0.02, 2.0) and r["key"]["alpha"] != pilot_sigma]
    assert trials and {len(r["key"]["example_ids"]) for r in trials} == {b}
