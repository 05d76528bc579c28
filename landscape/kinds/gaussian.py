"""gaussian: δ_t = z_t, raw, over all selected parameters (the default). α is σ per coordinate and
‖αδ‖₂ ≈ α√d; the only isotropic kind, so the only one certificates accept."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from landscape.kinds.base import DirectionKind, compute_dtype, seeded_noise


def _chunks(bound, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
    cd = compute_dtype(param.dtype)
    for c in seeded_noise(bound, name, param):
        yield c.to(cd)


KIND = DirectionKind("gaussian", "raw Gaussian δ ~ N(0, I_d)", "sigma per coordinate", _chunks,
                     isotropic=True, noise=True, seeded=True, never_zero=True, parallel=True, reads_theta0=False)
