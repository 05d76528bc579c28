"""Multi-process sweeps: evaluation jobs sharded across torch.distributed ranks.

Stages:
  curves       every (direction, α ≠ 0) of K raw Gaussian directions (seeds seed … seed+K−1) × the α grid, a
               job list identical on every rank and starting with the clean baseline; rank r evaluates jobs
               r, r + W, r + 2W, …, then rank 0 merges and every rank assembles the Landscape1D from the
               merged rows without evaluating again.
  sigma-basin  the paired sequential engine (landscape.sigma_basin.sigma_basins, the default `--search
               sequential`): in each round of look_every trials, trial k of the round is evaluated on rank
               k mod W (its noise drawn once there, for every σ the round scores), the paired drops are
               gathered on every rank (all_gather_object) and enter each σ's sequence in trial-index order,
               so every rank makes the decisions a 1-process run makes, whatever W is; b="auto" is timed on
               rank 0 and shared. `--search grid`: every (noise draw j, σ, example of draw j) of n fixed-n
               pairs at each σ, as jobs like the curves' (landscape.smoothing.noise_trials).
Each rank appends its rows to its own shard (landscape.store: DIR/rows.rank<r>.jsonl); after a barrier rank
0 merges the shards into DIR/rows.jsonl (sorted by key, one row per key). Rows are keyed exactly as a
1-process run keys them, so the merged file holds the rows a 1-process run writes.
Launch with `torchrun --nproc-per-node N -m llm_check distributed …` (gloo on CPU, nccl on GPUs), or
`launch_local` (spawned processes, gloo; used by the tests).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from landscape.directions import DirectionSpec
from landscape.evaluate import ProbeEvaluator, default_directions
from landscape.landscape_1d import Landscape1D, landscape_1d
from landscape.sigma_basin import (
    BlockRunner,
    SigmaBasin,
    check_sigma_grid,
    run_trials,
    sigma_basin,
    sigma_basins,
)
from landscape.smoothing import noise_trials
from landscape.store import ResultStore, merge_shards
from landscape.trial_size import remembered_choice
from llm_check.quick import sigma_rows, stored_rows
from llm_check.runs import Capability, RunContext, sigma_points, sigma_trials
from theory.errors import InternalError, UserInputError

Job = tuple  # (direction or None, α or σ, example ids or None = the capability's examples)


def job_list(directions: Sequence[DirectionSpec], alphas: Sequence[float]) -> list[Job]:
    """Baseline first, then (direction, α, None) for every direction and every non-zero α (sorted grid)."""
    grid = sorted({float(a) for a in alphas} | {0.0})
    return [(None, 0.0, None)] + [(spec, a, None) for spec in directions for a in grid if a != 0.0]


def sigma_job_list(pool: Sequence[int], sigmas: Sequence[float], *, n: int, seed: int, kind: str = "gaussian",
                   rng: str = "cpu") -> list[Job]:
    """Baseline first, then (noise draw j, σ, [example of draw j]) for every σ of the sorted grid and j < n."""
    trials = noise_trials(pool, n, seed, mode="pairs", kind=kind, rng=rng)
    return [(None, 0.0, None)] + [(spec, float(s), ids) for s in sorted(sigmas) for spec, ids in trials]


def shard(jobs: Sequence, rank: int, world_size: int) -> list:
    """Round-robin share of `jobs` for `rank` of `world_size`."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise UserInputError(f"need 0 <= rank < world_size, got rank {rank}, world size {world_size}")
    return list(jobs[rank::world_size])


def _evaluate_shard(ctx: RunContext, cap: Capability, jobs: Sequence[Job], *, rank: int, world_size: int,
                    barrier: Callable[[], None]) -> Path:
    """Evaluate this rank's share of `jobs` into its row shard, merge the shards on rank 0; DIR/rows.jsonl."""
    if ctx.store is None:
        raise UserInputError("a sharded sweep needs an output directory (its result store)")
    path = ctx.store.path
    ev = ProbeEvaluator(ctx.model, cap.score, ctx.probe_for(cap, store=ResultStore(path, rank=rank)))
    for spec, alpha, ids in shard(jobs, rank, world_size):
        ev.at(spec, alpha, example_ids=ids)
    barrier()
    if rank == 0:
        merge_shards(path)
    barrier()
    return path


def sharded_landscape(ctx: RunContext, cap: Capability, alphas: Sequence[float], *, k: int, rank: int,
                      world_size: int, barrier: Callable[[], None] = lambda: None) -> Landscape1D:
    """Evaluate this rank's jobs into its shard, merge on rank 0, assemble the landscape from the rows."""
    directions = default_directions(k, ctx.seed, ctx.rng)
    path = _evaluate_shard(ctx, cap, job_list(directions, alphas), rank=rank, world_size=world_size,
                           barrier=barrier)
    return landscape_1d(ctx.model, cap.score, alphas, ctx.probe_for(cap, store=ResultStore(path)),
                        directions=directions)


def sharded_sigma_basin(ctx: RunContext, cap: Capability, sigmas: Sequence[float], *, n: int, rank: int,
                        world_size: int, tau: float = 0.05, kind: str = "gaussian", confidence: float = 0.95,
                        barrier: Callable[[], None] = lambda: None, search: str = "sequential",
                        gather: Gather | None = None, **sequential: Any) -> SigmaBasin:
    """σ-basin with its trials sharded over the ranks (module doc); the same rows and the same SigmaBasin as
    llm_check.runs.sigma_basin_run(..., search=search) in one process. `sequential`: b, target_ratio,
    start, look_every of the sequential engine; `gather(obj)` returns every rank's obj in rank order."""
    grid = check_sigma_grid(sigmas, tau)
    if ctx.store is None:
        raise UserInputError("a sharded sweep needs an output directory (its result store)")
    if search == "grid":
        pool = cap.id_list if cap.example_ids is not None else range(cap.score.n_examples)
        jobs = sigma_job_list(pool, grid, n=n, seed=ctx.seed, kind=kind, rng=ctx.rng)
        path = _evaluate_shard(ctx, cap, jobs, rank=rank, world_size=world_size, barrier=barrier)
        return sigma_basin(ctx.model, cap.score, grid, ctx.probe_for(cap, store=ResultStore(path)), tau=tau, n=n,
                           mode="pairs", kind=kind, confidence=confidence, search="grid")
    if search != "sequential":
        raise UserInputError(f"a sharded sigma-basin searches 'sequential' or 'grid', got {search!r}")
    gather = gather or (lambda obj: [obj])
    path = ctx.store.path
    probe = ctx.probe_for(cap, store=ResultStore(path, rank=rank))
    b = sequential.pop("b", "auto")
    if b == "auto":  # timed once, on rank 0 (its row lands in rank 0's shard), and used by every rank
        level = 1.0 - (1.0 - confidence) / len(grid)
        mine = None
        if rank == 0:
            ev = ProbeEvaluator(ctx.model, cap.score, probe)
            ids = ev.example_ids if ev.example_ids is not None else list(range(cap.score.n_examples))
            per_example = dict(zip(ids, (float(x) for x in ev.baseline().outcomes)))
            mine = remembered_choice(ev, per_example, grid, tau=tau, level=level, kind=kind)
        b = gather(mine)[0]
    basin = sigma_basins([(ctx.model, probe)], cap.score, grid, tau=tau, n=n, mode="pairs", kind=kind,
                         confidence=confidence, b=b, run_block=sharded_rounds(rank, world_size, gather),
                         **sequential)[0]
    barrier()
    if rank == 0:
        merge_shards(path)
    barrier()
    return basin


Gather = Callable[[Any], list]


def sharded_rounds(rank: int, world_size: int, gather: Gather) -> BlockRunner:
    """The sequential engine's round runner for one rank: trial k of a round on rank k mod W (its noise drawn
    once there, re-bound to every model), every rank's drops gathered and put back in trial order."""
    def run(states, block, tasks, shareable):
        mine = [k for k in range(len(block)) if k % world_size == rank]
        values = run_trials(states, [block[k] for k in mine], [tasks[k] for k in mine], shareable)
        out: list = [None] * len(block)
        for part in gather(list(zip(mine, values))):
            for k, v in part:
                out[k] = v
        if any(v is None for v in out):
            raise InternalError("a trial of the round was evaluated on no rank")
        return out
    return run


def all_gather(obj: Any) -> list:
    """Every rank's `obj`, in rank order (torch.distributed.all_gather_object)."""
    out: list = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def _summary(ctx: RunContext, cap: Capability, land: Landscape1D) -> dict:
    """n_evals: the stage's rows in DIR/rows.jsonl (every rank's, and any earlier run's)."""
    points = [(None, 0.0, cap.id_list)] + [(c.direction, a, cap.id_list) for c in land.curves
                                           for a in land.alphas if a != 0.0]
    return {"alphas": list(land.alphas), "values": land.values.tolist(), "baseline": land.baseline,
            "median": [m.to_dict() for m in land.median], "n_evals": stored_rows(ctx, cap, points)}


def _sigma_summary(ctx: RunContext, cap: Capability, basin: SigmaBasin) -> dict:
    return {"sigma_basin": basin.sigma_basin.to_dict(), "baseline": basin.baseline, "threshold": basin.threshold,
            "points": sigma_points(basin), "sigma_basin_trials": sigma_trials(basin),
            "n_evals": sigma_rows(ctx, cap, basin)}


def _run_stage(ctx: RunContext, cap: Capability, opts: dict, *, rank: int, world_size: int,
               barrier: Callable[[], None]) -> dict:
    if opts["stage"] == "sigma-basin":
        gather = all_gather if world_size > 1 else None
        extra = {k: opts[k] for k in ("b", "target_ratio", "start") if opts.get(k) is not None}
        return _sigma_summary(ctx, cap, sharded_sigma_basin(
            ctx, cap, opts["sigmas"], n=opts["n"], tau=opts["tau"], kind=opts["kind"], rank=rank,
            world_size=world_size, barrier=barrier, search=opts.get("search", "sequential"), gather=gather,
            **(extra if opts.get("search", "sequential") == "sequential" else {})))
    return _summary(ctx, cap, sharded_landscape(ctx, cap, opts["alphas"], k=opts["k"], rank=rank, world_size=world_size,
                                      barrier=barrier))


def stage_options(args: argparse.Namespace) -> dict:
    """The sharded stage and its grid from the CLI arguments (checked before any process group starts)."""
    from landscape.landscape_1d import symmetric_grid

    if args.stage == "sigma-basin":
        if not args.sigmas:
            raise UserInputError("llm-check distributed --stage sigma-basin needs --sigmas")
        return {"stage": "sigma-basin", "sigmas": list(args.sigmas), "n": args.n, "tau": args.tau, "kind": args.kind,
                "search": args.search, "b": args.examples_per_trial, "target_ratio": args.target_ratio}
    return {"stage": "curves", "alphas": symmetric_grid(args.alpha_max, args.points), "k": args.k}


def run_from_env(args: argparse.Namespace) -> int:
    """`llm-check distributed` under torchrun (RANK / WORLD_SIZE / MASTER_ADDR from the environment)."""
    from llm_check.loading import load_context, write_json

    opts = stage_options(args)
    rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    backend = "nccl" if args.device == "cuda" else "gloo"
    if world > 1:
        dist.init_process_group(backend)
    try:
        ctx, caps = load_context(args, record=rank == 0)  # one manifest entry per launch
        barrier = dist.barrier if world > 1 else (lambda: None)
        out = {cap.name: _run_stage(ctx, cap, opts, rank=rank, world_size=world, barrier=barrier) for cap in caps}
        if rank == 0:
            name = "distributed" if opts["stage"] == "curves" else "distributed_sigma_basin"
            key = "curves" if opts["stage"] == "curves" else "sigma_basin"
            write_json(Path(ctx.out_dir), name, {"model": ctx.model_id, "world_size": world, key: out})
    finally:
        if world > 1:
            dist.destroy_process_group()
    return 0


def _local_worker(rank: int, world_size: int, init_file: str, model_dir: str, task: str, out_dir: str,
                  opts: dict, seed: int) -> None:
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
        _run_stage(ctx, Capability(score.name, score), opts, rank=rank, world_size=world_size, barrier=dist.barrier)
    finally:
        dist.destroy_process_group()


def launch_local(world_size: int, model_dir: str | Path, task: str, out_dir: str | Path,
                 alphas: Sequence[float] = (), *, k: int = 8, seed: int = 0, sigmas: Sequence[float] = (),
                 n: int = 200, tau: float = 0.05, kind: str = "gaussian", search: str = "sequential",
                 b: int | str = "auto", target_ratio: float | None = None) -> Path:
    """Run a sharded 1-D landscape (or, with `sigmas`, a σ-basin) in `world_size` spawned CPU processes
    (gloo); returns DIR/rows.jsonl."""
    import tempfile

    import torch.multiprocessing as mp

    if sigmas:
        opts = {"stage": "sigma-basin", "sigmas": [float(s) for s in sigmas], "n": n, "tau": tau, "kind": kind,
                "search": search, "b": b, "target_ratio": target_ratio}
    else:
        opts = {"stage": "curves", "alphas": [float(a) for a in alphas], "k": k}
    with tempfile.TemporaryDirectory() as tmp:
        init_file = str(Path(tmp) / "rendezvous")
        mp.spawn(_local_worker, args=(world_size, init_file, str(model_dir), task, str(out_dir), opts, seed),
                 nprocs=world_size, join=True)
    return Path(out_dir) / "rows.jsonl"
