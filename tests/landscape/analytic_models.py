"""Tiny nn.Modules whose scores are known in closed form (shared by the estimator tests).

HalfSpace: logit_i = vᵀθ − b_i, so with ClassificationAccuracy(targets = 1) the outcome of example i is
1{vᵀθ > b_i}; for ‖v‖ = 1 and ε ~ N(0, σ² I): P(vᵀ(θ₀+ε) > b) = Φ((vᵀθ₀ − b)/σ) exactly.
Ball: logit_i = R_i² − ‖θ‖², outcome 1{‖θ‖ < R_i} (a quadratic model).
Parameters are float64, so perturbations are computed and applied in float64.
"""

from __future__ import annotations

import torch

from landscape.scores import ClassificationAccuracy


class HalfSpace(torch.nn.Module):
    def __init__(self, theta0: torch.Tensor, v: torch.Tensor):
        super().__init__()
        self.theta = torch.nn.Parameter(theta0.double().clone())
        self.register_buffer("v", v.double())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.v @ self.theta - x[:, 0]


class Ball(torch.nn.Module):
    def __init__(self, theta0: torch.Tensor):
        super().__init__()
        self.theta = torch.nn.Parameter(theta0.double().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0] - self.theta.square().sum()


def threshold_score(thresholds, name: str = "halfspace") -> ClassificationAccuracy:
    """Examples are thresholds b_i (or radii² R_i²); every target is 1."""
    b = torch.as_tensor(thresholds, dtype=torch.float64).reshape(-1, 1)
    return ClassificationAccuracy(inputs=b, targets=torch.ones(len(b), dtype=torch.long), name=name, chance=0.5)


def param_bits(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A bitwise snapshot of every parameter (compare with torch.equal)."""
    return {n: p.detach().clone().contiguous().reshape(-1).view(torch.uint8) for n, p in model.named_parameters()}


def same_bits(model: torch.nn.Module, bits: dict[str, torch.Tensor]) -> bool:
    now = param_bits(model)
    return now.keys() == bits.keys() and all(torch.equal(now[k], bits[k]) for k in bits)
