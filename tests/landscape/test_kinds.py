"""The direction-kind registry: each kind declares its unit and whether it is isotropic, and a new kind
registered in one place works through the engine, the σ-basin and the certificate checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from analytic_models import HalfSpace, threshold_score

from landscape import kinds
from landscape.certificates import certify
from landscape.directions import DirectionSpec
from landscape.kinds.base import DirectionKind, compute_dtype, seeded_noise
from landscape.perturb import perturbed
from landscape.sigma_basin import sigma_basin
from theory.errors import UserInputError


def test_only_raw_gaussian_is_isotropic_and_every_kind_states_a_unit():
    assert [name for name, k in kinds.REGISTRY.items() if k.isotropic] == ["gaussian"]
    assert all(k.unit and k.description for k in kinds.REGISTRY.values())
    assert set(kinds.noise_kinds()) == {"gaussian", "multiplicative"}
    assert kinds.REGISTRY["gaussian"].unit == "sigma per coordinate"


def _sign_chunks(bound, name: str, param: torch.Tensor) -> Iterator[torch.Tensor]:
    for c in seeded_noise(bound, name, param):
        yield torch.sign(c).to(compute_dtype(param.dtype))


SIGN = DirectionKind("sign", "Rademacher-like sign(z)", "alpha (sign units)", _sign_chunks, noise=True,
                     seeded=True, parallel=True, never_zero=True)


@pytest.fixture
def sign_kind(monkeypatch):
    monkeypatch.setitem(kinds.REGISTRY, "sign", SIGN)
    return SIGN


def test_a_registered_kind_is_probed_exactly_and_labelled_from_the_registry(sign_kind):
    model = HalfSpace(torch.tensor([1.0, -2.0, 0.5]), torch.tensor([1.0, 1.0, 1.0]))
    theta0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    spec = DirectionSpec("sign", seed=3)
    assert spec.to_key()["seed"] == 3  # seeded kinds carry their seed in the key
    with perturbed(model, spec, 0.25):
        for name, p in model.named_parameters():
            step = p.detach() - theta0[name]
            assert torch.equal(step.abs(), torch.full_like(step, 0.25))
    assert all(torch.equal(p.detach(), theta0[n]) for n, p in model.named_parameters())
    basin = sigma_basin(model, threshold_score([-1.0, 0.5, 2.0]), [0.1, 1.0], n=8, kind="sign")
    assert basin.sigma_basin.unit == "alpha (sign units)"
    with pytest.raises(UserInputError, match="isotropic"):
        certify(model, threshold_score([0.5]), 0.1, n=4, kind="sign")


def test_unknown_kind_is_a_user_error():
    with pytest.raises(UserInputError, match="direction kind must be one of"):
        DirectionSpec("sign")
