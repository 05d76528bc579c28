"""What a direction kind is: the one protocol every entry of the kind registry implements.

A kind turns a DirectionSpec bound to a model into δ_t, tensor t by tensor t, in fixed-size chunks
(`CHUNK` elements, flat order), in the compute dtype on the parameter's device. It declares:
  isotropic   δ ~ N(0, I_d) over the selected coordinates, so σ = α is the noise std per coordinate and the
              randomized-smoothing certificates apply (only raw Gaussian noise);
  unit        the unit α (and a σ-basin measured with this kind as noise) is in;
  noise       usable as the noise of a smoothed score p_A(σ) = E S(θ₀ + σ δ) (seeded, drawn afresh per draw);
  seeded      drawn from the per-tensor generator (the seed is part of its identity);
  stored      read from data (a safetensors file or a state_dict; the content hash is its identity);
  never_zero  a nonzero α moves every coordinate (randn is exactly 0 with probability ~0), so a coordinate
              left unchanged by the cast was lost below half an ulp;
  parallel    its chunks for one tensor depend only on that tensor, so tensors may be written by worker
              threads;
  reads_theta0  its chunks depend on θ₀ (a held copy of them serves only the model it was drawn for);
  chunks      the generator of δ_t's chunks (see landscape.directions.BoundDirection.chunks for the contract);
  prepare     optional: statistics of the whole model read once at bind time (stored sources, SFT norm);
  selects     optional: given the model, a predicate on its parameters that the kind may perturb (applied
              after the spec's parameter filter).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from landscape.hashing import tensor_seed
from theory.errors import UserInputError

CHUNK = 1 << 21
RNG_BACKENDS = ("cpu", "cuda")

ChunkFn = Callable[[Any, str, torch.Tensor], Iterator[torch.Tensor]]


@dataclass(frozen=True)
class DirectionKind:
    name: str
    description: str
    unit: str
    chunks: ChunkFn
    isotropic: bool = False
    noise: bool = False
    seeded: bool = False
    stored: bool = False
    never_zero: bool = False
    parallel: bool = False
    reads_theta0: bool = True
    prepare: Callable[[Any, torch.nn.Module], None] | None = None
    selects: Callable[[torch.nn.Module], Callable[[torch.nn.Parameter], bool]] | None = None


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Arithmetic dtype for θ₀ + αδ: float64 for float64 parameters, else float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def chunk_bounds(numel: int) -> list[tuple[int, int]]:
    """Flat index ranges [start, end) of the fixed-size chunks a tensor's noise is drawn in."""
    return [(s, min(s + CHUNK, numel)) for s in range(0, numel, CHUNK)]


def noise_chunks(seed: int, name: str, numel: int, device: torch.device, rng: str = "cpu") -> Iterator[torch.Tensor]:
    """z_t ~ N(0, I) for one tensor as float32 chunks on `device`: one torch.Generator per tensor, seeded by
    landscape.hashing.tensor_seed(seed, canonical name), on the CPU ("cpu": the same bits on every device)
    or on the parameter's own CUDA device ("cuda")."""
    gen_device = torch.device("cpu") if rng == "cpu" else device
    if rng == "cuda" and gen_device.type != "cuda":
        raise UserInputError(f"rng='cuda' needs parameters on a CUDA device, {name!r} is on {device}")
    gen = torch.Generator(device=gen_device)
    gen.manual_seed(tensor_seed(seed, name))
    for s, e in chunk_bounds(numel):
        yield torch.randn(e - s, generator=gen, dtype=torch.float32, device=gen_device).to(device)


def seeded_noise(bound: Any, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
    """z_t's chunks for a bound seeded spec."""
    return noise_chunks(bound.spec.seed, name, param.numel(), param.device, bound.spec.rng)
