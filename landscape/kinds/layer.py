"""layer: δ_t = z_t·‖θ₀_t‖/‖z_t‖ per tensor, parameters of normalisation modules excluded (Peng et al.
2024). α is relative to each tensor's norm."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from landscape.kinds.base import DirectionKind, compute_dtype, seeded_noise


def _chunks(bound, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
    cd = compute_dtype(param.dtype)
    flat = param.detach().reshape(-1)
    zsq = sum(float(c.double().square().sum()) for c in seeded_noise(bound, name, param))
    scale = float(torch.linalg.vector_norm(flat.to(torch.float64))) / math.sqrt(zsq) if zsq > 0 else 0.0
    for c in seeded_noise(bound, name, param):
        yield c.to(cd).mul_(scale)


def _not_in_a_norm_module(model: torch.nn.Module):
    norm_ids = {id(p) for m in model.modules() if "norm" in type(m).__name__.lower()
                for p in m.parameters(recurse=False)}
    return lambda param: id(param) not in norm_ids


KIND = DirectionKind("layer", "per-tensor normalised z, norm layers excluded", "alpha (per-tensor norm units)",
                     _chunks, seeded=True, never_zero=True, parallel=True, selects=_not_in_a_norm_module)
