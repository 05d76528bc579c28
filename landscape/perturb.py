"""The exact perturbation engine: θ = θ₀ + α·δ for one probe, then θ₀ restored bitwise.

θ₀ + α·δ is computed in float32 (float64 for float64 parameters) chunk by chunk and cast once to the
parameter dtype; each probe starts from θ₀ (no accumulation along a grid). On exit (normal, exception,
KeyboardInterrupt) the parameters are copied back from the single θ₀ copy (see landscape.theta0).
Memory: that copy plus chunk-sized temporaries (landscape.kinds.base.CHUNK elements); no stored directions.
"""

from __future__ import annotations

import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from landscape.directions import (
    BoundDirection,
    DirectionSpec,
    HeldDirection,
    bind,
    chunk_bounds,
    compute_dtype,
)
from landscape.theta0 import Theta0
from theory.errors import InternalError, UserInputError

DROPPED_WARN = 0.5
# Intra-op threads while writing/restoring CPU parameters: these are many short memory-bound passes that
# gain little from threads and lose much to thread-pool synchronisation on a busy machine (measured
# 1.1 s vs 5-7 s per probe of 27.6 M parameters on 2 oversubscribed cores). None leaves torch's setting.
CPU_PROBE_THREADS: int | None = 1
# Instead, noise directions are written one tensor per worker thread (each tensor has its own generator,
# so the bits do not depend on the schedule): up to torch's intra-op thread count, at most this many.
CPU_PROBE_WORKERS_MAX = 4
_CACHE_SIZE = 8
_bound_cache: dict[tuple[int, DirectionSpec], tuple[weakref.ref, BoundDirection, tuple]] = {}


def _versions(model: torch.nn.Module, bound: BoundDirection) -> tuple:
    return tuple(id(p) for p in model.parameters()), tuple(p._version for _, p in bound.params)


def bind_cached(model: torch.nn.Module, direction: DirectionSpec | BoundDirection) -> BoundDirection:
    """bind(), reusing the last binding of (model, spec) while no parameter was modified in place since
    our own restore (torch's per-tensor version counters), so global statistics (SFT norm) are computed
    once per sweep; any other in-place change (an optimizer step) invalidates the entry."""
    if isinstance(direction, BoundDirection):
        return direction
    hit = _bound_cache.get((id(model), direction))
    if hit is not None and hit[0]() is model and hit[2] == _versions(model, hit[1]):
        return hit[1]
    return bind(direction, model)


def _remember(model: torch.nn.Module, direction: DirectionSpec | BoundDirection, bound: BoundDirection) -> None:
    if isinstance(direction, BoundDirection):
        return
    if len(_bound_cache) >= _CACHE_SIZE:
        _bound_cache.pop(next(iter(_bound_cache)))
    _bound_cache[(id(model), direction)] = (weakref.ref(model), bound, _versions(model, bound))


@dataclass(frozen=True)
class ProbeInfo:
    """One probe. alpha: step along δ (σ per coordinate for raw Gaussian δ); intended_norm = ‖α·δ‖₂
    in compute precision; effective_norm = ‖cast(θ₀+α·δ) − θ₀‖₂ actually applied; n_params = d perturbed
    coordinates; dropped_fraction = share of coordinates with α·δ ≠ 0 left unchanged by the cast
    (below half an ulp); wall_s = seconds spent writing the perturbation."""

    alpha: float
    effective_norm: float
    intended_norm: float
    n_params: int
    dropped_fraction: float
    wall_s: float


def _squared_norm(x: torch.Tensor, scratch: torch.Tensor) -> float:
    """Σ x² of one chunk: the squares into `scratch`, then ATen's float32 cascade sum (its order is fixed by
    the length and the CPU's vector width; relative error ≈ 1e-7, about 2e-8 measured on 2²¹ normals), as a
    Python float. Two passes over the chunk, against four for a float64 accumulation; BLAS dot products are
    avoided because their result may depend on the buffer's alignment."""
    torch.mul(x, x, out=scratch)
    return float(scratch.sum())


_scratch = threading.local()


def _buffers(dtype: torch.dtype, device: torch.device, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Three reusable buffers of this thread, at least n long (so a probe allocates nothing per chunk)."""
    key = (dtype, device)
    cache = getattr(_scratch, "buffers", None)
    if cache is None:
        cache = _scratch.buffers = {}
    if key not in cache or cache[key][0].numel() < n:
        cache[key] = tuple(torch.empty(n, dtype=dtype, device=device) for _ in range(3))
    return tuple(b[:n] for b in cache[key])


@torch.no_grad()  # grad mode is per thread: the workers need their own no_grad
def _apply_tensor(bound: BoundDirection, name: str, p: torch.Tensor, alpha: float,
                  noise_never_zero: bool) -> tuple[list, list, list, list]:
    """Write θ₀ + α·δ into one tensor, chunk by chunk; per-chunk (eff², want², nonzero diff, zero steps).

    The step α·δ is formed in the compute dtype, added to the chunk of θ₀ and cast once to the parameter
    dtype; want² = Σ (α·δ)², eff² = Σ (cast − θ₀)², the perturbation actually applied. A held direction's
    chunks are read in place, never copied."""
    eff, want, nonzero_diff, zero_step = [], [], [], []
    cd = compute_dtype(p.dtype)
    work = p if p.is_contiguous() else p.detach().contiguous()
    flat = work.view(-1)
    held = bound.held_chunks(name) if isinstance(bound, HeldDirection) else None
    source = held if held is not None else bound.chunks(name, p)
    for (s, e), chunk in zip(chunk_bounds(flat.numel()), source):
        step, new, scratch = _buffers(cd, flat.device, e - s)
        torch.mul(chunk, alpha, out=step)
        want.append(_squared_norm(step, scratch))
        if not noise_never_zero:
            zero_step.append(step.numel() - torch.count_nonzero(step))
        old = flat[s:e]
        if cd == p.dtype:
            cast = torch.add(old, step, out=new)
            diff = torch.sub(cast, old, out=step)
        else:
            torch.add(old.to(cd), step, out=new)
            cast = new.to(p.dtype)
            diff = step.copy_(cast).sub_(old)
        eff.append(_squared_norm(diff, scratch))
        nonzero_diff.append(torch.count_nonzero(diff))
        old.copy_(cast)
    if work is not p:
        p.copy_(work)
    return eff, want, nonzero_diff, zero_step


@torch.no_grad()
def _apply(bound: BoundDirection, alpha: float, workers: int = 1) -> ProbeInfo:
    t0 = time.perf_counter()
    noise_never_zero = bound.spec.definition.never_zero
    if workers > 1 and len(bound.params) > 1:
        pool = ThreadPoolExecutor(max_workers=workers)
        try:  # largest tensors first for balance; partial sums are combined in parameter order below
            order = sorted(range(len(bound.params)), key=lambda i: -bound.params[i][1].numel())
            futures = {i: pool.submit(_apply_tensor, bound, *bound.params[i], alpha, noise_never_zero)
                       for i in order}
            parts = [futures[i].result() for i in range(len(bound.params))]
        finally:  # never let the caller restore θ₀ while a worker is still writing
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        parts = [_apply_tensor(bound, name, p, alpha, noise_never_zero) for name, p in bound.params]
    eff = [x for part in parts for x in part[0]]
    want = [x for part in parts for x in part[1]]
    nonzero_diff = [x for part in parts for x in part[2]]
    zero_step = [x for part in parts for x in part[3]]
    n_zero_diff = bound.d - sum(int(x) for x in nonzero_diff)
    n_zero_step = sum(int(x) for x in zero_step)
    moved = bound.d - n_zero_step
    return ProbeInfo(
        alpha=float(alpha),
        effective_norm=float(sum(float(x) for x in eff)) ** 0.5,
        intended_norm=float(sum(float(x) for x in want)) ** 0.5,
        n_params=bound.d,
        dropped_fraction=(n_zero_diff - n_zero_step) / moved if moved else 0.0,
        wall_s=time.perf_counter() - t0,
    )


@contextmanager
def probe_threads(bound: BoundDirection) -> Iterator[int]:
    """Set torch's intra-op threads to CPU_PROBE_THREADS while touching CPU parameters, then restore;
    yields the number of tensor-level worker threads to write the direction with (1 = serial)."""
    before = torch.get_num_threads()
    on_cpu = any(p.device.type == "cpu" for _, p in bound.params)
    change = CPU_PROBE_THREADS is not None and before != CPU_PROBE_THREADS and on_cpu
    workers = 1
    if on_cpu and bound.spec.definition.parallel and all(p.device.type == "cpu" for _, p in bound.params):
        workers = max(1, min(before, CPU_PROBE_WORKERS_MAX))
    if change:
        torch.set_num_threads(CPU_PROBE_THREADS)
    try:
        yield workers
    finally:
        if change:
            torch.set_num_threads(before)


@contextmanager
def perturbed(model: torch.nn.Module, direction: DirectionSpec | BoundDirection, alpha: float, *,
              theta0: Theta0 | None = None, warn: bool = True) -> Iterator[ProbeInfo]:
    """Context manager: parameters are θ₀ + α·δ inside, θ₀ (bitwise) after; yields a ProbeInfo.

    `theta0`: a Theta0 made once for a sweep (else one is made for this probe and freed after).
    Warns when more than half the moved coordinates are lost below half an ulp (e.g. bf16 weights).
    """
    alpha = float(alpha)
    if alpha != alpha or abs(alpha) == float("inf"):
        raise UserInputError(f"alpha must be finite, got {alpha}")
    bound = bind_cached(model, direction)
    if theta0 is None:
        theta0 = Theta0(model, names=bound.names)
    elif not theta0.covers(bound.names):
        raise InternalError("theta0 does not hold every parameter the direction perturbs")
    try:
        if alpha == 0.0:
            info = ProbeInfo(0.0, 0.0, 0.0, bound.d, 0.0, 0.0)
        else:
            with probe_threads(bound) as workers:
                info = _apply(bound, alpha, workers)
        if warn and info.dropped_fraction > DROPPED_WARN:
            warnings.warn(
                f"{info.dropped_fraction:.0%} of the perturbation at alpha={alpha:g} fell below half an ulp "
                f"of the weights (effective ||dtheta||={info.effective_norm:.3g} vs intended "
                f"{info.intended_norm:.3g})", RuntimeWarning, stacklevel=3)
        yield info
    finally:
        with probe_threads(bound) as workers:
            theta0.restore(bound.params, workers=workers)
    _remember(model, direction, bound)


def gaussian_noise(model: torch.nn.Module, sigma: float, seed: int, *, theta0: Theta0 | None = None,
                   warn: bool = True, rng: str = "cpu"):
    """perturbed(model, DirectionSpec("gaussian", seed=seed, rng=rng), sigma): per-coordinate N(0, sigma²)
    noise."""
    if not sigma >= 0:
        raise UserInputError(f"sigma must be >= 0, got {sigma}")
    return perturbed(model, DirectionSpec("gaussian", seed=seed, rng=rng), sigma, theta0=theta0, warn=warn)
