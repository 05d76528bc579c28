"""Functional probe mode: parameters are never written and no θ₀ copy is kept.

Each selected parameter is replaced (in its owner's `_parameters`) by cast(θ₀ + α·δ), formed from the
same chunks as landscape.perturb, for the duration of one forward of its owner's parent (the nearest
ancestor that is not a ModuleList/ModuleDict container), then put back (a forward hook with
always_call=True, and again on leaving the context). Using the parent covers modules whose weights are
read by the parent (nn.MultiheadAttention reads out_proj.weight itself). Extra memory: the perturbed
tensors of the sites running now (for a transformer, about one block). Exact when every parameter is
used inside the forward of its owner's parent; a weight read elsewhere stays at θ₀.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from landscape.directions import BoundDirection, DirectionSpec, chunk_bounds, compute_dtype
from landscape.perturb import bind_cached, probe_threads

_CONTAINERS = (torch.nn.ModuleList, torch.nn.ModuleDict)


@torch.no_grad()
def _perturbed_tensor(bound: BoundDirection, name: str, p: torch.Tensor, alpha: float) -> torch.Tensor:
    cd = compute_dtype(p.dtype)
    out = torch.empty(p.numel(), dtype=p.dtype, device=p.device)
    flat = p.detach().reshape(-1)
    for (s, e), step in zip(chunk_bounds(p.numel()), bound.chunks(name, p)):
        out[s:e] = (flat[s:e].to(cd) + step.mul_(alpha)).to(p.dtype)
    return out.reshape(p.shape)


def _sites(model: torch.nn.Module, selected: dict[int, str]) -> dict[torch.nn.Module, list[tuple[torch.nn.Module, str]]]:
    """site module -> [(owner, key)] of the selected parameters it swaps."""
    parent: dict[int, torch.nn.Module] = {}
    for module in model.modules():
        for child in module.children():
            parent.setdefault(id(child), module)
    sites: dict[torch.nn.Module, list[tuple[torch.nn.Module, str]]] = {}
    for owner in model.modules():
        keys = [k for k, p in owner._parameters.items() if p is not None and id(p) in selected]
        if not keys:
            continue
        site = parent.get(id(owner), owner)
        while isinstance(site, _CONTAINERS) and id(site) in parent:
            site = parent[id(site)]
        sites.setdefault(site, []).extend((owner, k) for k in keys)
    return sites


@contextmanager
def functional_perturbation(model: torch.nn.Module, direction: DirectionSpec | BoundDirection,
                            alpha: float) -> Iterator[BoundDirection]:
    """Context manager: forwards of `model` see θ₀ + α·δ; the parameters themselves stay θ₀."""
    bound = bind_cached(model, direction)
    selected = {id(p): name for name, p in bound.params}
    sites = _sites(model, selected)
    swapped: dict[int, list[tuple[torch.nn.Module, str, torch.nn.Parameter]]] = {}

    def put_back(site: torch.nn.Module) -> None:
        for owner, key, param in swapped.pop(id(site), []):
            owner._parameters[key] = param

    def pre(site: torch.nn.Module, args: object) -> None:
        for owner, key in sites[site]:
            param = owner._parameters[key]
            if isinstance(param, torch.nn.Parameter):
                with probe_threads(bound):
                    owner._parameters[key] = _perturbed_tensor(bound, selected[id(param)], param, float(alpha))
                swapped.setdefault(id(site), []).append((owner, key, param))

    def post(site: torch.nn.Module, args: object, output: object) -> None:
        put_back(site)

    handles = []
    try:
        if alpha != 0.0:
            for site in sites:
                handles.append(site.register_forward_pre_hook(pre))
                handles.append(site.register_forward_hook(post, always_call=True))
        yield bound
    finally:
        for handle in handles:
            handle.remove()
        for site in sites:
            put_back(site)
