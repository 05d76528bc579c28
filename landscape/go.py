"""GO, the Gaussian-augmented optimizer: minimises E_ε L(θ + ε), ε ~ N(0, σ_train² I) (σ per coordinate).

Each (micro-)step draws a fresh ε (direction seed derive_seed(seed, "go", draw), so a run is reproducible
and a resumed run continues the same noise stream), computes the gradient at θ + ε inside `noisy()`, and
the wrapped optimizer applies it to the clean θ, restored bitwise from one θ₀ copy (host RAM) on leaving
`noisy()` (landscape.perturb). Outside `noisy()` the model always holds clean weights, so checkpoints of
the model and `state_dict()` (base optimizer state + the noise counter) are clean; `load_state_dict`
restores both exactly. σ_train = 0 reproduces the base optimizer's trajectory bitwise.

    go = GaussianAugmentedOptimizer(torch.optim.AdamW(model.parameters(), lr, weight_decay=0), model,
                                    sigma_train=0.01, seed=0)
    for batch in data:
        for micro in split(batch):          # gradient accumulation: one ε per micro-step
            with go.noisy():
                loss_fn(model, micro).backward()   # backward inside the context
        go.step(); go.zero_grad()
    # or: go.step(closure) with closure() computing the loss and calling backward()

LR schedulers take the base optimizer (`go.base`). rng="cuda" draws ε on the parameters' GPU (fast for
large models); "cpu" (default) is device-independent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from landscape.directions import DirectionSpec
from landscape.evaluate import derive_seed
from landscape.perturb import ProbeInfo, perturbed
from theory.errors import InternalError, UserInputError


class GaussianAugmentedOptimizer:
    """Wraps `base` (any torch optimizer over `model`'s parameters); see module doc."""

    def __init__(self, base: torch.optim.Optimizer, model: torch.nn.Module, sigma_train: float, seed: int,
                 rng: str = "cpu"):
        if not sigma_train >= 0:
            raise UserInputError(f"sigma_train must be >= 0, got {sigma_train}")
        self.base = base
        self.model = model
        self.sigma_train = float(sigma_train)
        self.seed = int(seed)
        self.rng = rng
        self.draws = 0
        self._inside = False

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self.base.param_groups

    @contextmanager
    def noisy(self) -> Iterator[ProbeInfo]:
        """Parameters are θ + ε inside (fresh ε per call); θ restored bitwise on exit, also on errors."""
        if self._inside:
            raise InternalError("GO noisy() contexts cannot be nested")
        spec = DirectionSpec("gaussian", seed=derive_seed(self.seed, "go", self.draws), rng=self.rng)
        self.draws += 1
        self._inside = True
        try:
            with perturbed(self.model, spec, self.sigma_train, warn=False) as info:
                yield info
        finally:
            self._inside = False

    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Apply the accumulated gradient to the clean θ; with a closure, evaluate it (forward + backward)
        at θ + ε first."""
        if self._inside:
            raise InternalError("GO step() inside noisy(): it would update the noisy weights")
        loss = None
        if closure is not None:
            with torch.enable_grad(), self.noisy():
                loss = closure()
        self.base.step()
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.base.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        """Base optimizer state (computed at clean weights) and the GO noise counter."""
        if self._inside:
            raise InternalError("GO state_dict() inside noisy(): checkpoints must hold clean weights")
        return {"base": self.base.state_dict(),
                "go": {"sigma_train": self.sigma_train, "seed": self.seed, "draws": self.draws, "rng": self.rng}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.base.load_state_dict(state["base"])
        go = state["go"]
        self.sigma_train, self.seed, self.draws = float(go["sigma_train"]), int(go["seed"]), int(go["draws"])
        self.rng = str(go.get("rng", "cpu"))
