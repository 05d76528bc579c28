"""Multi-process sweeps: evaluation jobs sharded across torch.distributed ranks.

Two job lists (identical on every rank), each starting with the clean baseline:
  curves       every (direction, α ≠ 0) of K raw Gaussian directions (seeds seed … seed+K−1) × the α grid;
  sigma-basin  every (noise draw j, σ, example of draw j) of n (noise, example) pairs at each σ of the grid
               (landscape.smoothing.noise_trials: the draws a 1-process σ-basin makes; all σ are measured,
               i.e. the "grid" search — with W ranks it costs m·n/W pairs per rank).
Rank r evaluates jobs r, r + W, r + 2W, … and appends its rows to its own shard (landscape.store:
DIR/rows.rank<r>.jsonl). After a barrier rank 0 merges the shards into DIR/rows.jsonl (sorted by key), and
every rank assembles the Landscape1D / SigmaBasin from the merged rows without evaluating again. Rows are
keyed exactly as a 1-process run keys them, so the merged file holds the rows a 1-process run writes.
Launch with `torchrun --nproc-per-node N -m llm_check distributed …` (gloo on CPU, nccl on GPUs), or
`launch_local` (spawned processes, gloo; used by the tests).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.distributed as dist

from landscape.directions import DirectionSpec
from landscape.evaluate import ProbeEvaluator, default_directions
from landscape.landscape_1d import Landscape1D, landscape_1d
from landscape.sigma_basin import SigmaBasin, check_sigma_grid, sigma_basin
from landscape.smoothing import noise_trials
from landscape.store import ResultStore, merge_shards
from llm_check.quick import noise_rows, stored_rows
from llm_check.runs import Capability, RunContext, sigma_points
from theory.errors import UserInputError

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
                        barrier: Callable[[], None] = lambda: None) -> SigmaBasin:
    """σ-basin (grid search, "pairs" mode) with its (noise, σ, example) trials sharded over the ranks; the
    same rows and the same SigmaBasin as llm_check.runs.sigma_basin_run(..., search="grid") in one process."""
    check_sigma_grid(sigmas, tau)
    pool = cap.id_list if cap.example_ids is not None else range(cap.score.n_examples)
    jobs = sigma_job_list(pool, sigmas, n=n, seed=ctx.seed, kind=kind, rng=ctx.rng)
    path = _evaluate_shard(ctx, cap, jobs, rank=rank, world_size=world_size, barrier=barrier)
    return sigma_basin(ctx.model, cap.score, sigmas, ctx.probe_for(cap, store=ResultStore(path)), tau=tau, n=n,
                       mode="pairs", kind=kind, confidence=confidence, search="grid")


def _summary(ctx: RunContext, cap: Capability, land: Landscape1D) -> dict:
    """n_evals: the stage's rows in DIR/rows.jsonl (every rank's, and any earlier run's)."""
    points = [(None, 0.0, cap.id_list)] + [(c.direction, a, cap.id_list) for c in land.curves
                                           for a in land.alphas if a != 0.0]
    return {"alphas": list(land.alphas), "values": land.values.tolist(), "baseline": land.baseline,
            "median": [m.to_dict() for m in land.median], "n_evals": stored_rows(ctx, cap, points)}


def _sigma_summary(ctx: RunContext, cap: Capability, basin: SigmaBasin) -> dict:
    return {"sigma_basin": basin.sigma_basin.to_dict(), "baseline": basin.baseline, "threshold": basin.threshold,
            "points": sigma_points(basin),
            "n_evals": noise_rows(ctx, cap, [(p.sigma, p.noise_seeds) for p in basin.points], mode=basin.mode,
                                  kind=basin.kind)}


def _run_stage(ctx: RunContext, cap: Capability, opts: dict, *, rank: int, world_size: int,
               barrier: Callable[[], None]) -> dict:
    if opts["stage"] == "sigma-basin":
        return _sigma_summary(ctx, cap, sharded_sigma_basin(ctx, cap, opts["sigmas"], n=opts["n"], tau=opts["tau"],
                                                  kind=opts["kind"], rank=rank, world_size=world_size,
                                                  barrier=barrier))
    return _summary(ctx, cap, sharded_landscape(ctx, cap, opts["alphas"], k=opts["k"], rank=rank, world_size=world_size,
                                      barrier=barrier))


def stage_options(args: argparse.Namespace) -> dict:
    """The sharded stage and its grid from the CLI arguments (checked before any process group starts)."""
    from landscape.landscape_1d import symmetric_grid

    if args.stage == "sigma-basin":
        if not args.sigmas:
            raise UserInputError("llm-check distributed --stage sigma-basin needs --sigmas")
        return {"stage": "sigma-basin", "sigmas": list(args.sigmas), "n": args.n, "tau": args.tau, "kind": args.kind}
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
                 n: int = 200, tau: float = 0.05, kind: str = "gaussian") -> Path:
    """Run a sharded 1-D landscape (or, with `sigmas`, a σ-basin) in `world_size` spawned CPU processes
    (gloo); returns DIR/rows.jsonl."""
    import tempfile

    import torch.multiprocessing as mp

    if sigmas:
        opts = {"stage": "sigma-basin", "sigmas": [float(s) for s in sigmas], "n": n, "tau": tau, "kind": kind}
    else:
        opts = {"stage": "curves", "alphas": [float(a) for a in alphas], "k": k}
    with tempfile.TemporaryDirectory() as tmp:
        init_file = str(Path(tmp) / "rendezvous")
        mp.spawn(_local_worker, args=(world_size, init_file, str(model_dir), task, str(out_dir), opts, seed),
                 nprocs=world_size, join=True)
    return Path(out_dir) / "rows.jsonl"
