"""2-D planes: the second direction is orthogonalised (cosine ~ 0 after, norm kept)."""

from __future__ import annotations

import math

import pytest
import torch

from landscape.directions import DirectionSpec, bind
from landscape.perturb import perturbed
from landscape.planes import make_plane


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 12), torch.nn.Tanh(), torch.nn.Linear(12, 3))


def _flat(spec, model):
    b = bind(spec, model)
    params = dict(model.named_parameters())
    return torch.cat([b.delta(n, params[n]).reshape(-1).double() if n in b.names else
                      torch.zeros(params[n].numel(), dtype=torch.float64) for n in sorted(params)])


@pytest.mark.parametrize("second", [DirectionSpec("multiplicative", seed=1), DirectionSpec(seed=2)])
def test_plane_second_direction_is_orthogonal_with_kept_norm(second):
    model = _model()
    first = DirectionSpec(seed=1)
    # make the pair strongly correlated so the test fails without orthogonalisation
    second = DirectionSpec("combination", terms=((1.0, second), (0.8, first)))
    plane = make_plane(model, first, second)
    u, v, w = _flat(first, model), _flat(second, model), _flat(plane.second_orthogonal, model)
    assert plane.cosine_before == pytest.approx(float(u @ v / (u.norm() * v.norm())), rel=1e-6)
    assert abs(plane.cosine_before) > 0.3
    cos_after = float(u @ w / (u.norm() * w.norm()))
    assert abs(cos_after) < 1e-6 and abs(plane.cosine_after) < 1e-6
    assert float(w.norm()) == pytest.approx(float(v.norm()), rel=1e-6)


def test_plane_point_moves_by_alpha_u_plus_beta_w():
    model = _model()
    plane = make_plane(model, DirectionSpec(seed=1), DirectionSpec(seed=2))
    u, w = _flat(plane.first, model), _flat(plane.second_orthogonal, model)
    theta0 = torch.cat([p.detach().reshape(-1).double() for _, p in sorted(model.named_parameters())])
    with perturbed(model, plane.at(0.3, -0.2), 1.0) as info:
        theta = torch.cat([p.detach().reshape(-1).double() for _, p in sorted(model.named_parameters())])
    assert torch.allclose(theta - theta0, 0.3 * u - 0.2 * w, atol=1e-6)
    assert info.effective_norm == pytest.approx(math.hypot(0.3 * float(u.norm()), 0.2 * float(w.norm())), rel=1e-5)
