"""Directions δ as seeded specs, materialised per tensor (in fixed-size chunks) on demand.

Kinds (θ₀ the parameters, z_t ~ N(0, I) drawn per tensor t, d = number of selected coordinates):
  gaussian        δ_t = z_t (default; raw, all parameters: α is σ per coordinate, ‖αδ‖ ≈ α√d)
  layer           δ_t = z_t·‖θ₀_t‖/‖z_t‖, norm-layer parameters excluded (Peng et al. 2024)
  filter          per output filter i (dim 0): δ_ti = z_ti·‖θ₀_ti‖/‖z_ti‖; 1-D tensors excluded (Li et al. 2018)
  multiplicative  δ_t = θ₀_t ⊙ z_t (invariant to rescaling symmetries)
  sft             δ = (θ_sft − θ₀)·√d/‖θ_sft − θ₀‖ (θ_sft from a safetensors file/dir or a state_dict)
  tensor, worst   a stored direction (data, not a seed), read per tensor; key holds its content hash
  combination     Σ c_i δ_i of other specs (2-D planes)
Noise: torch.randn float32 in chunks of CHUNK elements from one generator per tensor, seeded by
landscape.hashing.tensor_seed(seed, canonical name); on the CPU generator ("cpu", device-independent) or
on the parameter's own CUDA device ("cuda"). Both backends and the torch version are part of the key.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import torch

from landscape.hashing import canonical_name, tensor_seed
from landscape.tensorfile import TensorSource, content_hash
from theory.errors import UserInputError

CHUNK = 1 << 21
KINDS = ("gaussian", "layer", "filter", "multiplicative", "sft", "worst", "tensor", "combination")
RNG_BACKENDS = ("cpu", "cuda")
_STORED = ("sft", "worst", "tensor")


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
        if self.kind not in KINDS:
            raise UserInputError(f"direction kind must be one of {KINDS}, got {self.kind!r}")
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
        if self.kind in _STORED:
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
    def is_isotropic(self) -> bool:
        """True only for raw Gaussian noise over all parameters (what certificates and σ-basins need)."""
        return self.kind == "gaussian" and self.param_filter is None

    def to_key(self) -> dict[str, Any]:
        """Stable JSON-able identity of the direction (no paths for stored kinds: their content hash)."""
        key: dict[str, Any] = {
            "kind": self.kind, "param_filter": None if self.param_filter is None else list(self.param_filter),
            "torch": self.torch_version,
        }
        if self.kind in ("gaussian", "layer", "filter", "multiplicative"):
            key.update(seed=self.seed, rng=self.rng, noise=f"randn float32 chunk={CHUNK}")
        if self.kind in _STORED:
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


def _norm_module_param_ids(model: torch.nn.Module) -> set[int]:
    ids: set[int] = set()
    for module in model.modules():
        if "norm" in type(module).__name__.lower():
            ids.update(id(p) for p in module.parameters(recurse=False))
    return ids


def _selected(spec: DirectionSpec, model: torch.nn.Module) -> list[tuple[str, torch.nn.Parameter]]:
    excluded = _norm_module_param_ids(model) if spec.kind == "layer" else set()
    out = []
    for name, p in model.named_parameters():
        canon = canonical_name(name)
        if spec.param_filter is not None and not any(fnmatchcase(canon, pat) for pat in spec.param_filter):
            continue
        if id(p) in excluded or (spec.kind == "filter" and p.dim() < 2):
            continue
        if p.is_meta:
            raise UserInputError(f"parameter {name!r} is on the meta device (offloaded); cannot perturb it")
        out.append((canon, p))
    if not out:
        raise UserInputError(f"direction {spec.kind!r} selects no parameters (param_filter={spec.param_filter})")
    return out


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Arithmetic dtype for θ₀ + αδ: float64 for float64 parameters, else float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def chunk_bounds(numel: int) -> list[tuple[int, int]]:
    """Flat index ranges [start, end) of the fixed-size chunks a tensor's noise is drawn in."""
    return [(s, min(s + CHUNK, numel)) for s in range(0, numel, CHUNK)]


def noise_chunks(seed: int, name: str, numel: int, device: torch.device, rng: str = "cpu") -> Iterator[torch.Tensor]:
    """z_t ~ N(0, I) for one tensor as float32 chunks on `device` (generator per tensor, see module doc)."""
    gen_device = torch.device("cpu") if rng == "cpu" else device
    if rng == "cuda" and gen_device.type != "cuda":
        raise UserInputError(f"rng='cuda' needs parameters on a CUDA device, {name!r} is on {device}")
    gen = torch.Generator(device=gen_device)
    gen.manual_seed(tensor_seed(seed, name))
    for s, e in chunk_bounds(numel):
        yield torch.randn(e - s, generator=gen, dtype=torch.float32, device=gen_device).to(device)


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
        if spec.kind == "combination":
            self._parts = [(c, bind(s, model)) for c, s in spec.terms]
            seen: dict[str, torch.nn.Parameter] = {}
            for _, part in self._parts:
                seen.update(part.params)
            self.params = sorted(seen.items())
        else:
            self.params = _selected(spec, model)
        self.names = [n for n, _ in self.params]
        self.d = sum(p.numel() for _, p in self.params)
        self._source = None
        self._scale = 1.0
        if spec.kind in _STORED:
            self._source = TensorSource(spec.tensors if spec.tensors is not None else spec.source)
            for name, p in self.params:
                if name not in self._source:
                    raise UserInputError(f"direction source lacks parameter {name!r}")
                if tuple(self._source.get(name).shape) != tuple(p.shape):
                    raise UserInputError(f"direction source shape mismatch for {name!r}")
        if spec.kind == "sft":
            sq = sum(float(self._sft_diff(n, p).double().square().sum()) for n, p in self.params)
            if sq == 0.0:
                raise UserInputError("SFT direction: θ_sft equals θ₀ on the selected parameters")
            self._scale = math.sqrt(self.d) / math.sqrt(sq)

    def _sft_diff(self, name: str, p: torch.Tensor) -> torch.Tensor:
        cd = compute_dtype(p.dtype)
        return self._source.get(name).to(p.device, cd) - p.detach().to(cd)

    def chunks(self, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
        spec, numel, dev = self.spec, param.numel(), param.device
        cd = compute_dtype(param.dtype)
        flat = param.detach().reshape(-1)
        if spec.kind == "combination":
            gens = [(c, part.chunks(name, param) if name in part.names else None) for c, part in self._parts]
            for s, e in chunk_bounds(numel):
                acc = torch.zeros(e - s, dtype=cd, device=dev)
                for c, g in gens:
                    if g is not None:
                        acc.add_(next(g), alpha=c)
                yield acc
            return
        if spec.kind in _STORED:
            stored = self._source.get(name).reshape(-1)
            for s, e in chunk_bounds(numel):
                part = stored[s:e].to(dev, cd, copy=True)
                if spec.kind == "sft":
                    part = (part - flat[s:e].to(cd)).mul_(self._scale)
                yield part
            return
        z = lambda: noise_chunks(spec.seed, name, numel, dev, spec.rng)  # noqa: E731
        if spec.kind == "gaussian":
            for c in z():
                yield c.to(cd)
        elif spec.kind == "multiplicative":
            for (s, e), c in zip(chunk_bounds(numel), z()):
                yield flat[s:e].to(cd) * c
        elif spec.kind == "layer":
            zsq = sum(float(c.double().square().sum()) for c in z())
            scale = float(torch.linalg.vector_norm(flat.to(torch.float64))) / math.sqrt(zsq) if zsq > 0 else 0.0
            for c in z():
                yield c.to(cd).mul_(scale)
        elif spec.kind == "filter":
            rows, row_len = param.shape[0], numel // param.shape[0]
            zsq = torch.zeros(rows, dtype=torch.float64, device=dev)
            for (s, e), c in zip(chunk_bounds(numel), z()):
                zsq.index_add_(0, torch.arange(s, e, device=dev) // row_len, c.double().square())
            tnorm = torch.linalg.vector_norm(flat.to(torch.float64).reshape(rows, row_len), dim=1)
            factor = torch.where(zsq > 0, tnorm / zsq.sqrt(), torch.zeros_like(tnorm)).to(cd)
            for (s, e), c in zip(chunk_bounds(numel), z()):
                yield c.to(cd) * factor[torch.arange(s, e, device=dev) // row_len]

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


def bind(direction: DirectionSpec | BoundDirection, model: torch.nn.Module) -> BoundDirection:
    """Bind a spec to a model (selects parameters, computes global statistics once)."""
    if isinstance(direction, BoundDirection):
        return direction
    if not isinstance(direction, DirectionSpec):
        raise UserInputError(f"direction must be a DirectionSpec, got {type(direction).__name__}")
    return BoundDirection(direction, model)
