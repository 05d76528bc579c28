"""Stored kinds, read per tensor from a safetensors file/directory or a state_dict (identity: the content
hash, never the path):
  tensor  a saved direction, used as is;
  worst   a saved worst-case direction (landscape.worst_case), used as is;
  sft     δ = (θ_sft − θ₀)·√d/‖θ_sft − θ₀‖, the stored tensors being θ_sft."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from landscape.kinds.base import DirectionKind, chunk_bounds, compute_dtype
from landscape.tensorfile import TensorSource
from theory.errors import UserInputError


def _open(bound, model: torch.nn.Module) -> None:
    spec = bound.spec
    bound.source = TensorSource(spec.tensors if spec.tensors is not None else spec.source)
    for name, p in bound.params:
        if name not in bound.source:
            raise UserInputError(f"direction source lacks parameter {name!r}")
        if tuple(bound.source.get(name).shape) != tuple(p.shape):
            raise UserInputError(f"direction source shape mismatch for {name!r}")


def _sft_diff(bound, name: str, p: torch.Tensor) -> torch.Tensor:
    cd = compute_dtype(p.dtype)
    return bound.source.get(name).to(p.device, cd) - p.detach().to(cd)


def _open_sft(bound, model: torch.nn.Module) -> None:
    _open(bound, model)
    sq = sum(float(_sft_diff(bound, n, p).double().square().sum()) for n, p in bound.params)
    if sq == 0.0:
        raise UserInputError("SFT direction: θ_sft equals θ₀ on the selected parameters")
    bound.scale = math.sqrt(bound.d) / math.sqrt(sq)


def _as_stored(bound, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
    stored, cd = bound.source.get(name).reshape(-1), compute_dtype(param.dtype)
    for s, e in chunk_bounds(param.numel()):
        yield stored[s:e].to(param.device, cd, copy=True)


def _sft(bound, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
    flat, cd = param.detach().reshape(-1), compute_dtype(param.dtype)
    for (s, e), part in zip(chunk_bounds(param.numel()), _as_stored(bound, name, param)):
        yield (part - flat[s:e].to(cd)).mul_(bound.scale)


TENSOR = DirectionKind("tensor", "a stored direction, used as is", "alpha (stored direction units)",
                       _as_stored, stored=True, prepare=_open)
WORST = DirectionKind("worst", "a stored worst-case direction (norm √d)", "alpha (per coordinate, norm √d)",
                      _as_stored, stored=True, prepare=_open)
SFT = DirectionKind("sft", "(θ_sft − θ₀) rescaled to norm √d", "alpha (per coordinate, norm √d)",
                    _sft, stored=True, prepare=_open_sft)
