"""multiplicative: δ_t = θ₀_t ⊙ z_t, so θ₀ + αδ = θ₀ ⊙ (1 + α z): α is a relative σ, invariant to
rescalings that multiply a tensor by a constant (it is not isotropic: no certificate)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from landscape.kinds.base import DirectionKind, chunk_bounds, compute_dtype, seeded_noise


def _chunks(bound, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
    cd = compute_dtype(param.dtype)
    flat = param.detach().reshape(-1)
    for (s, e), c in zip(chunk_bounds(param.numel()), seeded_noise(bound, name, param)):
        yield flat[s:e].to(cd) * c


KIND = DirectionKind("multiplicative", "θ₀ ⊙ z (rescaling-invariant)", "relative sigma (theta * (1 + sigma z))",
                     _chunks, noise=True, seeded=True, parallel=True)
