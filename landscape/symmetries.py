"""Diagonal rescaling symmetries of a network and its canonical (minimum-norm) representative.

A `ScalingSymmetry` has `channels` positive scales c_1..c_k. Each of its `Factor`s names a parameter, an
axis and a power p = ±1: along that axis, entries offset + j·group … offset + (j+1)·group − 1 are multiplied
by c_j^p (dim None: the whole tensor, one channel). The model room that declares a symmetry guarantees
that the rescaled parameters compute the same function (e.g. relu(c·z) = c·relu(z) for a ReLU neuron's
in-weights ↑ c, out-weights ↓ c); `tests/` check each declared symmetry that way.

Raw Gaussian noise θ + σz is not invariant to these maps, so a raw σ-basin can be moved by rescaling alone.
The canonical form fixes them: among all rescalings of θ by the declared symmetries it takes the one of
least ‖θ‖₂². Per channel j of one symmetry, with A_j = Σ_{p=+1} ‖slice‖² and
B_j = Σ_{p=−1} ‖slice‖²,
c²A + B/c² is least at c⁴ = B/A, which sets both sums to √(A_j B_j). `canonicalise` applies that per
symmetry in turn (block coordinate descent on a function convex in log c) until every scale it would apply
lies within `tol` of 1. The minimiser over the whole group is unique when the objective is strictly convex
in log c (generic weights), so two function-equal rescalings of one θ reach the same canonical θ up to the
tolerance: a raw σ-basin measured there is a property of the function's orbit, not of the coordinates.
Channels with A_j = 0 or B_j = 0 (a dead unit) are left unscaled. Computed in float64, written back in the
parameters' dtype. Multiplicative noise θ ⊙ (1 + σz) commutes with every diagonal rescaling, so it needs no
canonical form.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from theory.errors import InternalError, UserInputError


@dataclass(frozen=True)
class Factor:
    """Entries of parameter `name` along axis `dim` (None: the whole tensor), channel j covering
    [offset + j·group, offset + (j+1)·group), multiplied by c_j ** power."""

    name: str
    dim: int | None
    power: int
    group: int = 1
    offset: int = 0

    def __post_init__(self) -> None:
        if self.power not in (1, -1) or self.group < 1 or self.offset < 0:
            raise InternalError(f"invalid scaling factor {self}")


@dataclass(frozen=True)
class ScalingSymmetry:
    name: str
    channels: int
    factors: tuple[Factor, ...]


@dataclass(frozen=True)
class Canonical:
    """The canonical copy and its diagnostics: rounds of coordinate descent, the largest |log c| of the last
    round, ‖θ‖₂ before and after."""

    model: nn.Module
    rounds: int
    last_max_log_scale: float
    norm_before: float
    norm_after: float
    converged: bool


def _slices(param: torch.Tensor, f: Factor, channels: int) -> torch.Tensor:
    """A [channels, …] float64 view-copy of the entries each channel scales."""
    if f.dim is None:
        if channels != 1:
            raise InternalError(f"a whole-tensor factor ({f.name}) needs a one-channel symmetry")
        return param.detach().double().reshape(1, -1)
    x = param.detach().double().movedim(f.dim, 0)
    end = f.offset + channels * f.group
    if end > x.shape[0]:
        raise InternalError(f"{f.name}: channels run to {end} along dim {f.dim}, which has {x.shape[0]}")
    return x[f.offset:end].reshape(channels, -1)


def _sq_norms(params: dict[str, torch.Tensor], sym: ScalingSymmetry) -> tuple[torch.Tensor, torch.Tensor]:
    up = torch.zeros(sym.channels, dtype=torch.float64)
    down = torch.zeros(sym.channels, dtype=torch.float64)
    for f in sym.factors:
        s = _slices(params[f.name], f, sym.channels).pow(2).sum(1)
        if f.power == 1:
            up += s
        else:
            down += s
    return up, down


def apply_scaling(params: dict[str, torch.Tensor], sym: ScalingSymmetry, scales: torch.Tensor) -> None:
    """In place: each factor's channel slices × scales[j] ** power (float64 arithmetic, one rounding)."""
    scales = torch.as_tensor(scales, dtype=torch.float64)
    if scales.shape != (sym.channels,) or not bool((scales > 0).all()):
        raise UserInputError(f"{sym.name}: scales must be {sym.channels} positive numbers")
    with torch.no_grad():
        for f in sym.factors:
            p = params[f.name]
            c = scales if f.power == 1 else 1.0 / scales
            if f.dim is None:
                p.copy_((p.double() * c[0]).to(p.dtype))
                continue
            x = p.movedim(f.dim, 0)
            end = f.offset + sym.channels * f.group
            block = x[f.offset:end]
            shape = (sym.channels,) + (1,) * block.dim()
            scaled = block.double().reshape(sym.channels, f.group, *block.shape[1:]) * c.reshape(shape)
            block.copy_(scaled.reshape(block.shape).to(p.dtype))


def _parameters(model: nn.Module, symmetries: Sequence[ScalingSymmetry]) -> dict[str, torch.Tensor]:
    params = dict(model.named_parameters())
    missing = {f.name for s in symmetries for f in s.factors} - set(params)
    if missing:
        raise InternalError(f"symmetries name parameters the model does not have: {sorted(missing)}")
    return params


def rescaled(model: nn.Module, symmetries: Sequence[ScalingSymmetry], seed: int, spread: float = 1.0) -> nn.Module:
    """A copy rescaled by every symmetry in turn, log c ~ N(0, spread²) per channel (seeded): the same
    function in other coordinates."""
    out = copy.deepcopy(model)
    params = _parameters(out, symmetries)
    g = torch.Generator().manual_seed(seed)
    for sym in symmetries:
        apply_scaling(params, sym, torch.exp(spread * torch.randn(sym.channels, generator=g, dtype=torch.float64)))
    return out


def total_sq_norm(model: nn.Module) -> float:
    return float(sum(p.detach().double().pow(2).sum() for p in model.parameters()))


def canonicalise(model: nn.Module, symmetries: Sequence[ScalingSymmetry], tol: float = 1e-7,
                 max_rounds: int = 500) -> Canonical:
    """The minimum-norm representative of `model` under `symmetries` (module doc), as a copy."""
    out = copy.deepcopy(model)
    params = _parameters(out, symmetries)
    before = total_sq_norm(out)
    worst, rounds = math.inf, 0
    while rounds < max_rounds and worst > tol:
        rounds += 1
        worst = 0.0
        for sym in symmetries:
            up, down = _sq_norms(params, sym)
            live = (up > 0) & (down > 0)
            scales = torch.ones(sym.channels, dtype=torch.float64)
            scales[live] = (down[live] / up[live]).pow(0.25)
            worst = max(worst, float(scales.log().abs().max()))
            apply_scaling(params, sym, scales)
    return Canonical(out.eval(), rounds, worst, math.sqrt(before), math.sqrt(total_sq_norm(out)), worst <= tol)
