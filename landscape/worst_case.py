"""Worst-case directions at norm √d (d = selected coordinates), stored as data (kind "worst").

(a) `worst_case_pga`: projected gradient ascent on the sphere ‖δ‖ = √d against a differentiable
    surrogate L (callable model -> scalar tensor, larger = worse), evaluated at θ₀ + α_ref·δ; the
    direction is found once at the stated α_ref and reused for every α (recorded in the key).
(b) `worst_case_tether`: the authors' recipe: K steps of gradient ascent on L(θ) − λ·mean((θ − θ₀)²)
    from θ₀, then δ = (θ_K − θ₀)·√d/‖θ_K − θ₀‖.
Both restore θ₀ bitwise on exit (also on exceptions) and hold δ, its best iterate and gradients
(parameter size, float32) while they run; the result is one safetensors file or an in-memory map.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from landscape.directions import DirectionSpec, bind, compute_dtype
from landscape.progress import announce_cost, progress
from landscape.tensorfile import write_safetensors
from landscape.theta0 import Theta0
from theory.errors import UserInputError

Surrogate = Callable[[torch.nn.Module], torch.Tensor]


@dataclass(frozen=True)
class WorstCase:
    """direction: the stored spec (norm √d); losses: surrogate per step (at α_ref for "pga", along the
    ascent path for "tether"); final_loss: surrogate at θ₀ + α_ref·direction (NaN when no α_ref)."""

    direction: DirectionSpec
    method: str
    alpha_ref: float | None
    final_loss: float
    losses: tuple[float, ...]
    norm: float
    steps: int
    seed: int
    wall_s: float


def _norm(tensors: dict[str, torch.Tensor]) -> float:
    return math.sqrt(sum(float(t.double().square().sum()) for t in tensors.values()))


@torch.no_grad()
def _write(params: list[tuple[str, torch.nn.Parameter]], theta0: Theta0, delta: dict[str, torch.Tensor],
           scale: float) -> None:
    for name, p in params:
        cd = compute_dtype(p.dtype)
        p.copy_((theta0.get(name).to(p.device, cd) + scale * delta[name].to(cd)).to(p.dtype))


def _loss_and_grad(model: torch.nn.Module, surrogate: Surrogate,
                   params: list[tuple[str, torch.nn.Parameter]]) -> tuple[float, dict[str, torch.Tensor]]:
    flags = [p.requires_grad for _, p in params]
    try:
        for _, p in params:
            p.requires_grad_(True)
        with torch.enable_grad():
            loss = surrogate(model)
            if loss.dim() != 0:
                raise UserInputError("the surrogate must return a scalar tensor")
            grads = torch.autograd.grad(loss, [p for _, p in params], allow_unused=True)
    finally:
        for (_, p), flag in zip(params, flags):
            p.requires_grad_(flag)
    out = {n: (torch.zeros(p.shape, device=p.device) if g is None else g.float()) for (n, p), g in zip(params, grads)}
    return float(loss.detach()), out


def _finish(delta: dict[str, torch.Tensor], path: str | Path | None, meta: dict) -> DirectionSpec:
    cpu = {n: t.detach().to("cpu", torch.float32).contiguous() for n, t in delta.items()}
    if path is None:
        return DirectionSpec.stored(cpu, kind="worst", meta=meta)
    write_safetensors(path, sorted(cpu.items()))
    return DirectionSpec.stored(path, kind="worst", meta=meta)


def worst_case_pga(model: torch.nn.Module, surrogate: Surrogate, alpha_ref: float, *, steps: int = 20,
                   step_size: float = 0.5, seed: int = 0, param_filter: tuple[str, ...] | None = None,
                   path: str | Path | None = None) -> WorstCase:
    """Projected gradient ascent on ‖δ‖ = √d maximising surrogate(θ₀ + α_ref·δ).

    Start: the Gaussian direction `seed` projected to the sphere. Step k: δ ← P(δ + η_k·√d·g/‖g‖) with
    η_k = step_size/√(k+1) and P the radial projection; the best iterate seen is returned.
    """
    if not (alpha_ref > 0 and math.isfinite(alpha_ref)) or steps < 1:
        raise UserInputError(f"worst_case_pga needs alpha_ref > 0 and steps >= 1 (got {alpha_ref}, {steps})")
    t0 = time.perf_counter()
    start = bind(DirectionSpec("gaussian", seed=seed, param_filter=param_filter), model)
    params = start.params
    radius = math.sqrt(start.d)
    delta = {n: start.delta(n, p).float() for n, p in params}
    theta0 = Theta0(model, names=[n for n, _ in params])
    losses: list[float] = []
    best: tuple[float, dict[str, torch.Tensor]] = (-math.inf, {})
    try:
        for k in progress(range(steps + 1), desc="worst-case PGA"):
            scale = radius / _norm(delta)
            delta = {n: t * scale for n, t in delta.items()}
            t_step = time.perf_counter()
            _write(params, theta0, delta, alpha_ref)
            loss, grad = _loss_and_grad(model, surrogate, params)
            theta0.restore(params)
            if k == 0:
                announce_cost("worst-case PGA (surrogate + gradient)", steps + 1, 1, time.perf_counter() - t_step)
            losses.append(loss)
            if loss > best[0]:
                best = (loss, {n: t.clone() for n, t in delta.items()})
            if k == steps:
                break
            gnorm = _norm(grad)
            if gnorm == 0.0:
                break
            eta = step_size / math.sqrt(k + 1) * radius / gnorm
            delta = {n: delta[n] + eta * grad[n].to(delta[n].device) for n in delta}
    finally:
        theta0.restore(params)
    meta = {"method": "pga-sphere", "alpha_ref": float(alpha_ref), "steps": steps, "step_size": step_size,
            "seed": seed, "param_filter": None if param_filter is None else list(param_filter)}
    return WorstCase(_finish(best[1], path, meta), "pga-sphere", float(alpha_ref), best[0], tuple(losses),
                     _norm(best[1]), steps, seed, time.perf_counter() - t0)


def worst_case_tether(model: torch.nn.Module, loss_fn: Surrogate, *, steps: int = 10, lr: float = 1e-3,
                      tether: float = 1.0, alpha_ref: float | None = None,
                      param_filter: tuple[str, ...] | None = None, path: str | Path | None = None) -> WorstCase:
    """K steps of ascent θ ← θ + lr·∇[L(θ) − tether·mean((θ−θ₀)²)] from θ₀, rescaled to ‖δ‖ = √d.

    `alpha_ref`, if given, is only where the final loss is reported (the direction does not depend on it).
    """
    if steps < 1 or not lr > 0 or tether < 0:
        raise UserInputError(f"worst_case_tether needs steps >= 1, lr > 0, tether >= 0 (got {steps}, {lr}, {tether})")
    t0 = time.perf_counter()
    sel = bind(DirectionSpec("gaussian", seed=0, param_filter=param_filter), model)
    params, d = sel.params, sel.d
    theta0 = Theta0(model, names=[n for n, _ in params])
    disp = {n: torch.zeros(p.shape, dtype=torch.float32, device=p.device) for n, p in params}
    losses: list[float] = []
    final = math.nan
    try:
        for k in progress(range(steps), desc="worst-case ascent"):
            t_step = time.perf_counter()
            _write(params, theta0, disp, 1.0)
            loss, grad = _loss_and_grad(model, loss_fn, params)
            if k == 0:
                announce_cost("worst-case ascent (loss + gradient)", steps, 1, time.perf_counter() - t_step)
            losses.append(loss)
            disp = {n: disp[n] + lr * (grad[n] - tether * 2.0 / d * disp[n]) for n in disp}
        size = _norm(disp)
        if size == 0.0:
            raise UserInputError("worst_case_tether: the loss has zero gradient at theta0; no direction found")
        delta = {n: t * (math.sqrt(d) / size) for n, t in disp.items()}
        if alpha_ref is not None:
            _write(params, theta0, delta, alpha_ref)
            with torch.no_grad():
                final = float(loss_fn(model))
    finally:
        theta0.restore(params)
    meta = {"method": "ascent-tether", "steps": steps, "lr": lr, "tether": tether,
            "param_filter": None if param_filter is None else list(param_filter)}
    return WorstCase(_finish(delta, path, meta), "ascent-tether", alpha_ref, final, tuple(losses),
                     _norm(delta), steps, 0, time.perf_counter() - t0)
