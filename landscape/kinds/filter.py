"""filter: per output filter i (dim 0), δ_ti = z_ti·‖θ₀_ti‖/‖z_ti‖; 1-D tensors excluded (Li et al.
2018). α is relative to each filter's norm."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from landscape.kinds.base import DirectionKind, chunk_bounds, compute_dtype, seeded_noise


def _chunks(bound, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
    numel, dev, cd = param.numel(), param.device, compute_dtype(param.dtype)
    flat = param.detach().reshape(-1)
    rows, row_len = param.shape[0], numel // param.shape[0]
    zsq = torch.zeros(rows, dtype=torch.float64, device=dev)
    for (s, e), c in zip(chunk_bounds(numel), seeded_noise(bound, name, param)):
        zsq.index_add_(0, torch.arange(s, e, device=dev) // row_len, c.double().square())
    tnorm = torch.linalg.vector_norm(flat.to(torch.float64).reshape(rows, row_len), dim=1)
    factor = torch.where(zsq > 0, tnorm / zsq.sqrt(), torch.zeros_like(tnorm)).to(cd)
    for (s, e), c in zip(chunk_bounds(numel), seeded_noise(bound, name, param)):
        yield c.to(cd) * factor[torch.arange(s, e, device=dev) // row_len]


KIND = DirectionKind("filter", "per-filter normalised z, 1-D tensors excluded", "alpha (per-filter norm units)",
                     _chunks, seeded=True, parallel=True, selects=lambda model: lambda p: p.dim() >= 2)
