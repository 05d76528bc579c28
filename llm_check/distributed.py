"""Multi-process sweeps: (direction, α) jobs of a 1-D landscape sharded across torch.distributed ranks.

Job list (identical on every rank): the clean baseline, then every (direction, α ≠ 0) of K raw Gaussian
directions (seeds seed … seed+K−1) × the α grid; rank r evaluates jobs r, r + W, r + 2W, … and appends its
rows to its own shard (landscape.store: DIR/rows.rank<r>.jsonl). After a barrier rank 0 merges the shards
into DIR/rows.jsonl (sorted by key), and every rank assembles the Landscape1D from the merged rows without
evaluating again. Rows are keyed exactly as a 1-process run keys them, so the merged file holds the rows a
1-process run writes. Launch with `torchrun --nproc-per-node N -m llm_check distributed …` (gloo on CPU,
nccl on GPUs), or `launch_local` (spawned processes, gloo; used by the tests).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.distributed as dist

from landscape.directions import DirectionSpec
from landscape.evaluate import ProbeEvaluator, default_directions
from landscape.landscape_1d import Landscape1D, landscape_1d
from landscape.store import ResultStore, merge_shards
from llm_check.runs import Capability, RunContext
from theory.errors import UserInputError


def job_list(directions: Sequence[DirectionSpec], alphas: Sequence[float]) -> list[tuple[DirectionSpec | None, float]]:
    """Baseline first, then (direction, α) for every direction and every non-zero α (sorted grid)."""
    grid = sorted({float(a) for a in alphas} | {0.0})
    return [(None, 0.0)] + [(spec, a) for spec in directions for a in grid if a != 0.0]


def shard(jobs: Sequence, rank: int, world_size: int) -> list:
    """Round-robin share of `jobs` for `rank` of `world_size`."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise UserInputError(f"need 0 <= rank < world_size, got rank {rank}, world size {world_size}")
    return list(jobs[rank::world_size])


def sharded_landscape(ctx: RunContext, cap: Capability, alphas: Sequence[float], *, k: int, rank: int,
                      world_size: int, barrier: Callable[[], None] = lambda: None) -> Landscape1D:
    """Evaluate this rank's jobs into its shard, merge on rank 0, assemble the landscape from the rows."""
    if ctx.store is None:
        raise UserInputError("a sharded sweep needs an output directory (its result store)")
    path = ctx.store.path
    directions = default_directions(k, ctx.seed, ctx.rng)
    ids = None if cap.example_ids is None else list(cap.example_ids)
    ev = ProbeEvaluator(ctx.model, cap.score, example_ids=ids, store=ResultStore(path, rank=rank),
                        model_id=ctx.model_id, weight_hash=ctx.weight_hash, theta0=ctx.shared_theta0())
    for spec, alpha in shard(job_list(directions, alphas), rank, world_size):
        ev.at(spec, alpha)
    barrier()
    if rank == 0:
        merge_shards(path)
    barrier()
    return landscape_1d(ctx.model, cap.score, alphas, directions, example_ids=ids, store=ResultStore(path),
                        model_id=ctx.model_id, weight_hash=ctx.weight_hash, theta0=ctx.shared_theta0())


def _summary(land: Landscape1D) -> dict:
    return {"alphas": list(land.alphas), "values": land.values.tolist(), "baseline": land.baseline,
            "median": [m.to_dict() for m in land.median], "n_evals": land.n_evals}


def run_from_env(args: argparse.Namespace) -> int:
    """`llm-check distributed` under torchrun (RANK / WORLD_SIZE / MASTER_ADDR from the environment)."""
    from landscape.landscape_1d import symmetric_grid
    from llm_check.commands import load_context

    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    backend = "nccl" if args.device == "cuda" else "gloo"
    if world > 1:
        dist.init_process_group(backend)
    try:
        ctx, caps = load_context(args)
        out = {}
        for cap in caps:
            land = sharded_landscape(ctx, cap, symmetric_grid(args.alpha_max, args.points), k=args.k, rank=rank,
                                     world_size=world, barrier=dist.barrier if world > 1 else lambda: None)
            out[cap.name] = _summary(land)
        if rank == 0:
            path = Path(ctx.out_dir) / "distributed.json"
            path.write_text(json.dumps({"model": ctx.model_id, "world_size": world, "curves": out}, indent=2))
            print(f"wrote {path}")
    finally:
        if world > 1:
            dist.destroy_process_group()
    return 0


def _local_worker(rank: int, world_size: int, init_file: str, model_dir: str, task: str, out_dir: str,
                  alphas: list[float], k: int, seed: int) -> None:
    """One spawned rank: gloo over a shared file, the model loaded from a local directory, one task."""
    from llm_check.model_io import load_model
    from llm_check.scores import make_score
    from llm_check.tasks import load_task

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        lm = load_model(model_dir)
        score = make_score(load_task(task), lm.tokenizer)
        ctx = RunContext.from_loaded(lm, out_dir, seed=seed)
        sharded_landscape(ctx, Capability(score.name, score), alphas, k=k, rank=rank, world_size=world_size,
                          barrier=dist.barrier)
    finally:
        dist.destroy_process_group()


def launch_local(world_size: int, model_dir: str | Path, task: str, out_dir: str | Path, alphas: Sequence[float],
                 *, k: int, seed: int = 0) -> Path:
    """Run a sharded 1-D landscape in `world_size` spawned CPU processes (gloo); returns DIR/rows.jsonl."""
    import tempfile

    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as tmp:
        init_file = str(Path(tmp) / "rendezvous")
        mp.spawn(_local_worker, args=(world_size, init_file, str(model_dir), task, str(out_dir),
                                      [float(a) for a in alphas], k, seed), nprocs=world_size, join=True)
    return Path(out_dir) / "rows.jsonl"
