"""combination: δ = Σ c_i δ_i of other specs (the axes of 2-D planes); covers the union of their
parameters, a term contributing 0 on parameters it does not select."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from landscape.kinds.base import DirectionKind, chunk_bounds, compute_dtype


def _bind_terms(bound, model: torch.nn.Module) -> None:
    bound.parts = [(c, type(bound)(s, model)) for c, s in bound.spec.terms]  # each term bound like the whole
    seen: dict[str, torch.nn.Parameter] = {}
    for _, part in bound.parts:
        seen.update(part.params)
    bound.params = sorted(seen.items())


def _chunks(bound, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
    cd = compute_dtype(param.dtype)
    gens = [(c, part.chunks(name, param) if name in part.names else None) for c, part in bound.parts]
    for s, e in chunk_bounds(param.numel()):
        acc = torch.zeros(e - s, dtype=cd, device=param.device)
        for c, g in gens:
            if g is not None:
                acc.add_(next(g), alpha=c)
        yield acc


KIND = DirectionKind("combination", "Σ c_i δ_i of other specs", "alpha (combination units)", _chunks,
                     prepare=_bind_terms)
