"""Worst-case directions: norm √d, stored as data, and worse than random directions of equal norm."""

from __future__ import annotations

import math

import pytest
import torch

from landscape.directions import DirectionSpec, bind
from landscape.perturb import perturbed
from landscape.worst_case import worst_case_pga, worst_case_tether

ALPHA_REF = 0.05


def _task():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 5, generator=gen)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    params = list(model.parameters())
    for _ in range(30):  # plain gradient descent towards a minimum
        grads = torch.autograd.grad(torch.nn.functional.cross_entropy(model(x), y), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(1.0 * g)

    def surrogate(m: torch.nn.Module) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(m(x), y)

    return model, surrogate


def _loss_along(model, surrogate, spec, alpha):
    with perturbed(model, spec, alpha) as info, torch.no_grad():
        return float(surrogate(model)), info


def _random_losses_at_equal_norm(model, surrogate, k=8):
    d = sum(p.numel() for p in model.parameters())
    out = []
    for seed in range(100, 100 + k):
        spec = DirectionSpec(seed=seed)
        norm = math.sqrt(bind(spec, model).inner(bind(spec, model))[1])
        out.append(_loss_along(model, surrogate, spec, ALPHA_REF * math.sqrt(d) / norm)[0])
    return out


@pytest.mark.parametrize("method", ["pga", "tether"])
def test_worst_case_beats_random_directions_at_equal_norm(method, tmp_path):
    model, surrogate = _task()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    d = sum(p.numel() for p in model.parameters())
    if method == "pga":
        wc = worst_case_pga(model, surrogate, ALPHA_REF, steps=15, seed=3, path=tmp_path / "worst.safetensors")
    else:
        wc = worst_case_tether(model, surrogate, steps=10, lr=0.5, alpha_ref=ALPHA_REF)
    assert all(torch.equal(before[n], p.detach()) for n, p in model.named_parameters())
    assert wc.norm == pytest.approx(math.sqrt(d), rel=1e-6)
    assert wc.direction.kind == "worst" and not wc.direction.is_isotropic
    assert wc.direction.to_key()["meta"]["method"] == wc.method
    worst, info = _loss_along(model, surrogate, wc.direction, ALPHA_REF)
    assert info.intended_norm == pytest.approx(ALPHA_REF * math.sqrt(d), rel=1e-5)
    assert worst > max(_random_losses_at_equal_norm(model, surrogate))
    if method == "pga":
        assert worst == pytest.approx(wc.final_loss, rel=1e-5)
