"""Directions δ as seeded specs, materialised per tensor (in fixed-size chunks) on demand.

The kinds of direction (raw Gaussian, layer- and filter-normalised, multiplicative, SFT, stored and
worst-case, combinations) live in the registry landscape.kinds, one module each, with their unit and
whether they are isotropic. θ₀ the parameters, z_t ~ N(0, I) drawn per tensor t, d = number of selected
coordinates. Noise: torch.randn float32 in chunks of CHUNK elements from one generator per tensor, seeded by
landscape.hashing.tensor_seed(seed, canonical name); on the CPU generator ("cpu", device-independent) or
on the parameter's own CUDA device ("cuda"). Both backends and the torch version are part of the key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import torch

from landscape.hashing import canonical_name
from landscape.kinds import KINDS, kind
from landscape.kinds.base import CHUNK, RNG_BACKENDS, DirectionKind, chunk_bounds, compute_dtype, noise_chunks
from landscape.tensorfile import content_hash
from theory.errors import InternalError, UserInputError

__all__ = ["CHUNK", "KINDS", "RNG_BACKENDS", "BoundDirection", "DirectionSpec", "HeldDirection", "bind",
           "chunk_bounds", "compute_dtype", "noise_chunks"]


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True)
class DirectionSpec:
    """A direction as data: kind, seed, parameter filter (fnmatch globs on canonical names; None = all),
    RNG backend, torch version; `source`/`tensors` + `content_hash` for stored kinds; `meta` (recorded in
    the key, e.g. how a worst-case direction was found); `terms` ((coef, spec), ...) for combinations."""

    kind: str = "gaussian"
    seed: int = 0
    param_filter: tuple[str, ...] | None = None
    rng: str = "cpu"
    source: str | None = None
    content_hash: str | None = None
    meta: tuple[tuple[str, Any], ...] = ()
    terms: tuple[tuple[float, DirectionSpec], ...] = ()
    torch_version: str = field(default_factory=lambda: torch.__version__)
    tensors: Mapping[str, torch.Tensor] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        kind(self.kind)
        if self.rng not in RNG_BACKENDS:
            raise UserInputError(f"direction rng must be one of {RNG_BACKENDS}, got {self.rng!r}")
        if isinstance(self.param_filter, str):
            object.__setattr__(self, "param_filter", (self.param_filter,))
        elif self.param_filter is not None:
            object.__setattr__(self, "param_filter", tuple(self.param_filter))
        if isinstance(self.meta, Mapping):
            object.__setattr__(self, "meta", _freeze(self.meta))
        object.__setattr__(self, "seed", int(self.seed))
        if self.source is not None:
            object.__setattr__(self, "source", str(self.source))
        if self.definition.stored:
            if self.source is None and self.tensors is None:
                raise UserInputError(f"direction kind {self.kind!r} needs a source path or tensors")
            if self.content_hash is None:
                src = self.tensors if self.tensors is not None else self.source
                object.__setattr__(self, "content_hash", content_hash(src))
        if self.kind == "combination":
            if not self.terms:
                raise UserInputError("a combination direction needs terms ((coef, spec), ...)")
            object.__setattr__(self, "terms", tuple((float(c), s) for c, s in self.terms))

    @classmethod
    def sft(cls, theta_sft: str | Path | Mapping[str, torch.Tensor], **kw: Any) -> DirectionSpec:
        """SFT displacement direction from a safetensors file/directory or an in-memory state_dict."""
        if isinstance(theta_sft, Mapping):
            return cls("sft", tensors=dict(theta_sft), **kw)
        return cls("sft", source=str(theta_sft), **kw)

    @classmethod
    def stored(cls, direction: str | Path | Mapping[str, torch.Tensor], kind: str = "tensor",
               **kw: Any) -> DirectionSpec:
        """A saved direction (kind "tensor" or "worst"), used as is (no rescaling)."""
        if isinstance(direction, Mapping):
            return cls(kind, tensors=dict(direction), **kw)
        return cls(kind, source=str(direction), **kw)

    @property
    def definition(self) -> DirectionKind:
        """This spec's entry in the direction-kind registry."""
        return kind(self.kind)

    @property
    def is_isotropic(self) -> bool:
        """True only for an isotropic kind over all parameters (what certificates need)."""
        return self.definition.isotropic and self.param_filter is None

    def to_key(self) -> dict[str, Any]:
        """Stable JSON-able identity of the direction (no paths for stored kinds: their content hash)."""
        key: dict[str, Any] = {
            "kind": self.kind, "param_filter": None if self.param_filter is None else list(self.param_filter),
            "torch": self.torch_version,
        }
        if self.definition.seeded:
            key.update(seed=self.seed, rng=self.rng, noise=f"randn float32 chunk={CHUNK}")
        if self.definition.stored:
            key["content_hash"] = self.content_hash
        if self.meta:
            key["meta"] = {k: _thaw(v) for k, v in self.meta}
        if self.terms:
            key["terms"] = [[c, s.to_key()] for c, s in self.terms]
        return key


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) for v in value):
            return {k: _thaw(v) for k, v in value}
        return [_thaw(v) for v in value]
    return value


def _selected(spec: DirectionSpec, model: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
    selects = spec.definition.selects
    allowed = selects(model) if selects is not None else (lambda p: True)
    out = []
    for name, p in model.named_parameters():
        canon = canonical_name(name)
        if spec.param_filter is not None and not any(fnmatchcase(canon, pat) for pat in spec.param_filter):
            continue
        if not allowed(p):
            continue
        if p.is_meta:
            raise UserInputError(f"parameter {name!r} is on the meta device (offloaded); cannot perturb it")
        out.append((canon, p))
    if not out:
        raise UserInputError(f"direction {spec.kind!r} selects no parameters (param_filter={spec.param_filter})")
    return out


class BoundDirection:
    """A spec bound to one model: the selected parameters, d, and any global statistics (SFT norm).

    `chunks(name, param)` yields δ_t chunk by chunk (compute dtype, on the parameter's device). It must be
    called while `param` holds θ₀; statistics of θ₀ are read before the first chunk is yielded and chunk
    k reads only chunk k of θ₀ before it is yielded, so the caller may overwrite chunk k after receiving it.
    Every chunk is a fresh tensor the caller may modify in place.
    """

    def __init__(self, spec: DirectionSpec, model: torch.nn.Module):
        self.spec = spec
        self.key = spec.to_key()
        self.params = [] if spec.kind == "combination" else _selected(spec, model)
        self._prepare_and_count(model)

    def _prepare_and_count(self, model: torch.nn.Module) -> None:
        definition = self.spec.definition
        self.d = sum(p.numel() for _, p in self.params)
        if definition.prepare is not None:  # may set params (combination) and read statistics (SFT norm)
            definition.prepare(self, model)
        self.names = [n for n, _ in self.params]
        self.d = sum(p.numel() for _, p in self.params)

    def chunks(self, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
        return self.spec.definition.chunks(self, name, param)

    def delta(self, name: str, param: torch.Tensor) -> torch.Tensor:
        """The whole δ_t (compute dtype, shaped like `param`); for tests and small tensors."""
        return torch.cat(list(self.chunks(name, param))).reshape(param.shape)

    def inner(self, other: BoundDirection) -> tuple[float, float, float]:
        """(⟨δ,δ'⟩, ‖δ‖², ‖δ'‖²) over all parameters, one tensor chunk at a time (model must hold θ₀)."""
        dot = nn = oo = 0.0
        params = dict(self.params) | dict(other.params)
        for name, p in sorted(params.items()):
            mine = self.chunks(name, p) if name in self.names else None
            theirs = other.chunks(name, p) if name in other.names else None
            for _ in chunk_bounds(p.numel()):
                a = next(mine).double() if mine is not None else None
                b = next(theirs).double() if theirs is not None else None
                if a is not None:
                    nn += float(a.square().sum())
                if b is not None:
                    oo += float(b.square().sum())
                if a is not None and b is not None:
                    dot += float((a * b).sum())
        return dot, nn, oo


class HeldDirection(BoundDirection):
    """A bound direction whose chunks were materialised once and are served again for every α (common random
    numbers across σ without regenerating the noise): the same bits as drawing them anew, so rows keep their
    keys and values. Memory: d numbers in the compute dtype (4 bytes each for float32 parameters) beside θ₀.
    Made while the model holds θ₀ (kinds that read θ₀, such as multiplicative, read it then)."""

    def __init__(self, bound: BoundDirection):
        self.spec, self.key, self.params, self.names, self.d = bound.spec, bound.key, bound.params, bound.names, bound.d
        self._held = {name: list(bound.chunks(name, p)) for name, p in bound.params}

    def chunks(self, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
        for chunk in self._held[name]:
            yield chunk.clone()  # callers may scale their chunk in place

    def held_chunks(self, name: str) -> list[torch.Tensor]:
        """The stored chunks themselves, to be read, never written (the perturbation engine scales them into
        its own buffers)."""
        return self._held[name]

    def rebind(self, model: torch.nn.Module) -> HeldDirection:
        """The same held chunks for another model with the same parameter names and shapes (noise shared
        across the models of one experiment); only for kinds whose chunks do not read θ₀."""
        if self.spec.definition.reads_theta0:
            raise InternalError(f"a held {self.spec.kind!r} direction reads θ₀ and cannot serve another model")
        other = HeldDirection.__new__(HeldDirection)
        other.spec, other.key, other._held = self.spec, self.key, self._held
        other.params = _selected(self.spec, model)
        other.names, other.d = [n for n, _ in other.params], sum(p.numel() for _, p in other.params)
        if other.names != self.names or any(tuple(p.shape) != tuple(q.shape)
                                            for (_, p), (_, q) in zip(other.params, self.params)):
            raise UserInputError("noise can be shared only between models with the same parameter names and shapes")
        return other


HOLD_HEADROOM = 1.5  # a held direction is made only when free memory exceeds its size by this factor


def held_bytes(bound: BoundDirection) -> int:
    """Bytes a HeldDirection of `bound` takes: d numbers in each parameter's compute dtype."""
    return sum(p.numel() * torch.empty((), dtype=compute_dtype(p.dtype)).element_size() for _, p in bound.params)


def free_bytes(device: torch.device) -> int | None:
    """Free memory on `device`: MemAvailable of /proc/meminfo for the CPU, the CUDA allocator's free memory
    for a GPU; None when it cannot be read (then a direction is held)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def hold_or_regenerate(bound: BoundDirection) -> BoundDirection:
    """A HeldDirection of `bound` when it fits in free memory with HOLD_HEADROOM to spare, else `bound`
    itself: its chunks are then drawn again at every α (the same bits, only slower)."""
    devices = {p.device for _, p in bound.params}
    need = held_bytes(bound) * HOLD_HEADROOM
    free = [free_bytes(d) for d in devices]
    if any(f is not None and f < need for f in free):
        return bound
    return HeldDirection(bound)


def bind(direction: DirectionSpec | BoundDirection, model: torch.nn.Module) -> BoundDirection:
    """Bind a spec to a model (selects parameters, computes global statistics once)."""
    if isinstance(direction, BoundDirection):
        return direction
    if not isinstance(direction, DirectionSpec):
        raise TypeError(f"direction must be a DirectionSpec, got {type(direction).__name__}")
    return BoundDirection(direction, model)
