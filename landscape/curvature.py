"""Curvature of a loss at θ₀ by Hessian-vector products: λ_max (Lanczos) and tr H (Hutchinson).

H = ∇²L(θ₀) over all parameters (d coordinates), L a scalar loss (e.g. mean NLL, nats). Hv is computed by
double backward; θ₀ is never modified. Both results are `Estimate`s:
- λ_max: the top Ritz value θ of an m-step Lanczos run with full reorthogonalisation. θ ≤ λ_max always
  (Rayleigh quotient), and some eigenvalue lies within the residual ‖Hy − θy‖ of θ; the interval
  [θ, θ + residual] therefore assumes that eigenvalue is the top one (method says so).
- tr H: Hutchinson's mean of zᵀHz over n Rademacher probes z (unbiased), with a Student-t interval
  (approximate: the probes are i.i.d. but zᵀHz is not Gaussian).
`predicted_edge_ratio` = √(d λ_max / tr H): the quadratic-model ratio of a random direction's edge
(curvature δᵀHδ ≈ tr H for δ ~ N(0, I)) to the worst direction's at the same norm √d (curvature d λ_max).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import t as student_t

from theory.errors import UserInputError
from theory.estimate import Estimate

Loss = Callable[[torch.nn.Module], torch.Tensor]


def _params(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    return [p for p in model.parameters()]


class HessianOperator:
    """v ↦ H v for H = ∇²loss(model) at the current parameters (float64 vectors of length d)."""

    def __init__(self, model: torch.nn.Module, loss: Loss):
        self.model = model
        self.params = _params(model)
        self.d = sum(p.numel() for p in self.params)
        flags = [p.requires_grad for p in self.params]
        try:
            for p in self.params:
                p.requires_grad_(True)
            with torch.enable_grad():
                value = loss(model)
                if value.dim() != 0:
                    raise UserInputError("the loss must return a scalar tensor")
                self._grads = torch.autograd.grad(value, self.params, create_graph=True)
        finally:
            for p, f in zip(self.params, flags):
                p.requires_grad_(f)
        self.n_products = 0

    def __call__(self, v: np.ndarray) -> np.ndarray:
        vt = torch.as_tensor(v, dtype=torch.float64)
        parts, start = [], 0
        for p in self.params:
            parts.append(vt[start:start + p.numel()].reshape(p.shape).to(p.dtype))
            start += p.numel()
        with torch.enable_grad():
            hv = torch.autograd.grad(self._grads, self.params, grad_outputs=parts, retain_graph=True,
                                     allow_unused=True)
        self.n_products += 1
        return torch.cat([(torch.zeros(p.numel(), dtype=torch.float64) if h is None else h.reshape(-1).double())
                          for p, h in zip(self.params, hv)]).numpy()


def lanczos_lambda_max(op: Callable[[np.ndarray], np.ndarray], d: int, steps: int = 30, seed: int = 0,
                       confidence: float = 0.99) -> Estimate:
    """Top Ritz value of `steps` Lanczos iterations (full reorthogonalisation) from a seeded Gaussian start."""
    if steps < 1 or d < 1:
        raise UserInputError(f"need steps >= 1 and d >= 1, got {steps}, {d}")
    m = min(steps, d)
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(d)
    q /= np.linalg.norm(q)
    Q = np.zeros((m, d))
    alphas, betas = [], []
    beta = 0.0
    for j in range(m):
        Q[j] = q
        w = op(q)
        a = float(w @ q)
        w = w - a * q - (beta * Q[j - 1] if j else 0.0)
        w -= Q[: j + 1].T @ (Q[: j + 1] @ w)
        alphas.append(a)
        beta = float(np.linalg.norm(w))
        if j == m - 1 or beta < 1e-12:
            break
        betas.append(beta)
        q = w / beta
    k = len(alphas)
    T = np.diag(alphas) + np.diag(betas[: k - 1], 1) + np.diag(betas[: k - 1], -1)
    evals, evecs = np.linalg.eigh(T)
    top = float(evals[-1])
    residual = abs(beta * float(evecs[-1, -1]))
    return Estimate(estimate=top, ci=(top, top + residual), confidence=confidence, n=k, unit="nats per unit^2",
                    method="lanczos top Ritz value; upper end = Ritz + residual (assumes the nearest "
                           "eigenvalue is the top one)", extra={"residual": residual, "seed": seed})


def hutchinson_trace(op: Callable[[np.ndarray], np.ndarray], d: int, probes: int = 30, seed: int = 0,
                     confidence: float = 0.95) -> Estimate:
    """Mean of zᵀHz over `probes` seeded Rademacher vectors, Student-t interval (approximate)."""
    if probes < 2:
        raise UserInputError(f"Hutchinson needs probes >= 2 for an interval, got {probes}")
    rng = np.random.default_rng(seed)
    samples = np.array([float(z @ op(z)) for z in (rng.choice([-1.0, 1.0], size=d) for _ in range(probes))])
    mean = float(samples.mean())
    half = float(student_t.ppf(0.5 + confidence / 2, probes - 1) * samples.std(ddof=1) / math.sqrt(probes))
    return Estimate(estimate=mean, ci=(mean - half, mean + half), confidence=confidence, n=probes,
                    unit="nats per unit^2 (trace)", method="hutchinson rademacher, student-t (approximate)",
                    extra={"seed": seed})


@dataclass(frozen=True)
class Curvature:
    """λ_max and tr H of the loss at θ₀, d, and the predicted worst/random edge ratio √(d λ_max / tr H)."""

    lambda_max: Estimate
    trace: Estimate
    d: int
    predicted_edge_ratio: Estimate
    n_products: int


def curvature(model: torch.nn.Module, loss: Loss, *, lanczos_steps: int = 30, probes: int = 30, seed: int = 0,
              confidence: float = 0.95) -> Curvature:
    """λ_max, tr H and √(d λ_max / tr H) (interval from the two intervals; NaN when tr H ≤ 0)."""
    op = HessianOperator(model, loss)
    lam = lanczos_lambda_max(op, op.d, lanczos_steps, seed, confidence)
    tr = hutchinson_trace(op, op.d, probes, seed + 1, confidence)

    def ratio(lm: float, t: float) -> float:
        return math.sqrt(op.d * lm / t) if t > 0 and lm >= 0 else math.nan

    lo, hi = ratio(lam.lo, tr.hi), ratio(lam.hi, tr.lo) if tr.lo > 0 else math.inf
    pred = Estimate(estimate=ratio(lam.estimate, tr.estimate), ci=(lo, hi), confidence=confidence, n=tr.n,
                    unit="edge ratio (random / worst)", method="sqrt(d lambda_max / tr H) from both intervals")
    return Curvature(lambda_max=lam, trace=tr, d=op.d, predicted_edge_ratio=pred, n_products=op.n_products)
