"""Curvature by Hessian-vector products (landscape.curvature) on quadratics with known spectra."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from landscape.curvature import curvature, hutchinson_trace, lanczos_lambda_max


class Quadratic(torch.nn.Module):
    def __init__(self, a: np.ndarray):
        super().__init__()
        self.theta = torch.nn.Parameter(torch.zeros(a.shape[0], dtype=torch.float64))
        self.register_buffer("a", torch.as_tensor(a))

    def loss(self) -> torch.Tensor:
        return 0.5 * self.theta @ self.a @ self.theta


def _spd(d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (q * rng.uniform(0.1, 5.0, d)) @ q.T


def test_lanczos_and_hutchinson_on_a_known_quadratic():
    a = _spd(30, 0)
    model = Quadratic(a)
    eig = np.linalg.eigvalsh(a)
    c = curvature(model, lambda m: m.loss(), lanczos_steps=30, probes=60, seed=1, confidence=0.999)
    assert c.lambda_max.lo <= eig[-1] * (1 + 1e-9) and eig[-1] <= c.lambda_max.hi + 1e-6
    assert c.lambda_max.estimate == pytest.approx(eig[-1], rel=1e-6)
    assert c.trace.lo <= np.trace(a) <= c.trace.hi
    pred = math.sqrt(30 * eig[-1] / np.trace(a))
    assert c.predicted_edge_ratio.lo <= pred <= c.predicted_edge_ratio.hi


def test_lanczos_ritz_value_never_exceeds_lambda_max():
    a = _spd(60, 3)
    est = lanczos_lambda_max(lambda v: a @ v, 60, steps=5, seed=0)
    assert est.estimate <= np.linalg.eigvalsh(a)[-1] + 1e-9


def test_hutchinson_is_exact_for_a_diagonal_matrix():
    """zᵀDz = tr D for every Rademacher z, so every probe is exact and the interval collapses."""
    diag = np.arange(1.0, 11.0)
    est = hutchinson_trace(lambda v: diag * v, 10, probes=5, seed=0)
    assert est.estimate == pytest.approx(55.0) and est.ci == pytest.approx((55.0, 55.0))
