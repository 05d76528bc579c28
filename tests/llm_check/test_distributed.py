"""Sharded sweeps: the job split covers every job once, and a 2-rank gloo run (spawned CPU processes)
merges into exactly the rows a 1-process run writes."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st
from llm_runs_support import write_task

from landscape.store import ResultStore, canonical_json
from llm_check.distributed import job_list, launch_local, shard
from llm_check.model_io import load_model
from llm_check.runs import Capability, RunContext, most_case_curves
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
    assert jobs[0] == (None, 0.0) and len(jobs) == 1 + 2 * 2


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
