"""`ProbeContext`: everything an estimator needs besides the model and the Score, made once per model.

Every estimator of this room takes (model, score, ctx): the result store and the row identity (model id,
weight hash), the holder of the one θ₀ copy that exact restore needs, the noise RNG backend, the seed and
the example ids. Toy and LLM code build it once per model and pass it on; `ctx.replace(...)` derives a
variant (another seed, other examples) that shares the same θ₀ holder.

Noise is a function of (ctx.seed, ctx.rng) only, never of the model: contexts of several models built with
the same seed and rng draw the same noise vectors (common random numbers across models of one experiment).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from landscape.hashing import canonical_name
from landscape.hashing import weight_hash as hash_weights
from landscape.kinds.base import RNG_BACKENDS
from landscape.store import ResultStore
from landscape.theta0 import Theta0, same_bits
from theory.errors import InternalError, UserInputError


class Theta0Holder:
    """Holds the one θ₀ copy of a model, made at the first perturbed probe (host RAM, or a safetensors
    snapshot when `snapshot` is set) and shared by every estimator that probes that model."""

    def __init__(self, theta0: Theta0 | None = None, snapshot: str | Path | None = None):
        self.theta0 = theta0
        self.snapshot = snapshot

    def get(self, model: torch.nn.Module) -> Theta0:
        if self.theta0 is None:
            self.theta0 = Theta0(model, snapshot=self.snapshot)
        return self.theta0

    def check(self, model: torch.nn.Module) -> None:
        """Raise StaleTheta0 unless the held θ₀ (if any) is `model`'s and equals its current parameters bit
        for bit: a context outliving a training step would otherwise "restore" the old weights."""
        if self.theta0 is None:
            return
        current = dict((canonical_name(n), p) for n, p in model.named_parameters())
        for name, _ in self.theta0.params:
            if name not in current or not same_bits(self.theta0.get(name), current[name]):
                raise StaleTheta0(f"the context's θ₀ no longer matches parameter {name!r}: the model changed "
                                  "after the context was made (build a new ProbeContext for the new weights)")


class StaleTheta0(InternalError):
    """A ProbeContext was reused after its model's weights changed (a misuse by calling code, not a user's)."""


@dataclass(frozen=True, eq=False)
class ProbeContext:
    """store: rows are read from and appended to it (None: nothing stored); model_id, weight_hash: the
    model's part of each row key (weight_hash None is computed from the weights when a store is given);
    theta0: the θ₀ holder; rng: "cpu" (device-independent noise) or "cuda"; seed: the base of every seed an
    estimator derives; example_ids: the examples scored (None: the score's whole set)."""

    store: ResultStore | None = None
    model_id: str = "model"
    weight_hash: str | None = None
    theta0: Theta0Holder = field(default_factory=Theta0Holder)
    rng: str = "cpu"
    seed: int = 0
    example_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.theta0, Theta0):
            object.__setattr__(self, "theta0", Theta0Holder(self.theta0))
        elif self.theta0 is None:
            object.__setattr__(self, "theta0", Theta0Holder())
        if self.rng not in RNG_BACKENDS:
            raise UserInputError(f"rng must be one of {RNG_BACKENDS}, got {self.rng!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise UserInputError(f"seed must be an integer >= 0, got {self.seed!r}")
        if self.example_ids is not None:
            object.__setattr__(self, "example_ids", tuple(int(i) for i in self.example_ids))

    @classmethod
    def for_model(cls, model: torch.nn.Module, *, store: ResultStore | None = None, model_id: str = "model",
                  weight_hash: str | None = None, theta0: Theta0 | Theta0Holder | None = None, rng: str = "cpu",
                  seed: int = 0, example_ids: Sequence[int] | None = None) -> ProbeContext:
        """A context for `model`, hashing its weights once when rows are stored and no hash is given."""
        if weight_hash is None and store is not None:
            weight_hash = hash_weights(model)
        return cls(store=store, model_id=model_id, weight_hash=weight_hash, theta0=theta0, rng=rng, seed=int(seed),
                   example_ids=None if example_ids is None else tuple(example_ids))

    def replace(self, **changes) -> ProbeContext:
        """A copy with `changes` (same θ₀ holder unless one is given)."""
        return dataclasses.replace(self, **changes)
