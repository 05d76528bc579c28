"""Directions: seeds, moments, per-tensor norms, independence across tensors and processes, keys."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys

import pytest
import torch

import landscape.kinds.base as kinds_base
from landscape.directions import DirectionSpec, bind
from landscape.hashing import canonical_name, tensor_seed
from theory.errors import UserInputError

# Two-sided normal quantile for failure probability 1e-6 per check: z = Φ⁻¹(1 − 5e-7).
Z = 4.8916


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(50, 40), torch.nn.LayerNorm(40), torch.nn.ReLU(),
                               torch.nn.Linear(40, 40), torch.nn.Linear(40, 40))


def _deltas(spec: DirectionSpec, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    b = bind(spec, model)
    return {n: b.delta(n, p) for n, p in b.params}


def test_tensor_seed_is_sha256_of_seed_and_canonical_name():
    expected = int.from_bytes(hashlib.sha256(b"7:layers.0.weight").digest()[:8], "big")
    assert tensor_seed(7, "module._orig_mod.layers.0.weight") == expected
    assert canonical_name("_orig_mod.module.layers.0.weight") == "layers.0.weight"


def test_gaussian_moments():
    p = torch.nn.Parameter(torch.zeros(400, 500))
    model = torch.nn.Module()
    model.register_parameter("w", p)
    z = _deltas(DirectionSpec(seed=1), model)["w"].double().reshape(-1)
    n = z.numel()
    # mean ~ N(0, 1/n); sample variance ~ N(1, 2/n) (n = 2e5, normal approximation); fourth moment 3.
    assert abs(float(z.mean())) <= Z / math.sqrt(n)
    assert abs(float(z.var()) - 1.0) <= Z * math.sqrt(2.0 / n)
    assert abs(float((z**4).mean()) - 3.0) <= Z * math.sqrt(96.0 / n)


def test_no_two_tensors_share_noise():
    model = _model()
    d = _deltas(DirectionSpec(seed=3), model)
    flat = {k: v.reshape(-1)[:1600].double() for k, v in d.items() if v.numel() >= 1600}
    names = sorted(flat)
    assert len(names) >= 3
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            corr = float(torch.dot(flat[a], flat[b]) / (flat[a].norm() * flat[b].norm()))
            assert abs(corr) <= Z / math.sqrt(1600), (a, b, corr)
    other = _deltas(DirectionSpec(seed=4), model)
    assert not any(torch.equal(d[k], other[k]) for k in d)


def test_wrapper_prefix_draws_the_same_noise():
    inner = _model()
    wrapper = torch.nn.Module()
    wrapper.module = inner
    a, b = _deltas(DirectionSpec(seed=2), inner), _deltas(DirectionSpec(seed=2), wrapper)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_layer_kind_matches_tensor_norms_and_skips_norm_layers():
    model = _model()
    d = _deltas(DirectionSpec("layer", seed=1), model)
    assert "1.weight" not in d and "1.bias" not in d  # LayerNorm parameters excluded
    params = dict(model.named_parameters())
    for name, delta in d.items():
        assert float(delta.norm()) == pytest.approx(float(params[name].detach().norm()), rel=1e-5)


@pytest.mark.parametrize("chunk", [1 << 22, 7])
def test_filter_kind_matches_row_norms(monkeypatch, chunk):
    monkeypatch.setattr(kinds_base, "CHUNK", chunk)
    model = _model()
    d = _deltas(DirectionSpec("filter", seed=1), model)
    params = dict(model.named_parameters())
    assert all(params[n].dim() >= 2 for n in d)
    for name, delta in d.items():
        assert torch.allclose(delta.norm(dim=1), params[name].detach().norm(dim=1), rtol=1e-5)
    gauss = _deltas(DirectionSpec("gaussian", seed=1), model)
    for name, delta in d.items():  # each row is a positive multiple of the same Gaussian row
        cos = torch.nn.functional.cosine_similarity(delta, gauss[name], dim=1)
        assert torch.allclose(cos, torch.ones_like(cos), atol=1e-5)


def test_multiplicative_is_theta_times_gaussian():
    model = _model()
    m, g = _deltas(DirectionSpec("multiplicative", seed=8), model), _deltas(DirectionSpec(seed=8), model)
    for name, p in model.named_parameters():
        assert torch.equal(m[name], p.detach() * g[name])


def test_sft_direction_has_norm_sqrt_d_along_the_displacement(tmp_path):
    from landscape.tensorfile import write_safetensors

    model = _model()
    gen = torch.Generator().manual_seed(5)
    sft = {n: p.detach() + 0.01 * torch.randn(p.shape, generator=gen) for n, p in model.named_parameters()}
    write_safetensors(tmp_path / "sft.safetensors", sorted(sft.items()))
    for spec in (DirectionSpec.sft(sft), DirectionSpec.sft(tmp_path / "sft.safetensors")):
        d = _deltas(spec, model)
        total = math.sqrt(sum(float(v.double().square().sum()) for v in d.values()))
        n = sum(p.numel() for p in model.parameters())
        assert total == pytest.approx(math.sqrt(n), rel=1e-6)
        disp = torch.cat([(sft[k] - dict(model.named_parameters())[k].detach()).reshape(-1) for k in d])
        cos = torch.nn.functional.cosine_similarity(torch.cat([v.reshape(-1) for v in d.values()]), disp, dim=0)
        assert float(cos) == pytest.approx(1.0, abs=1e-6)
    assert DirectionSpec.sft(sft).content_hash == DirectionSpec.sft(tmp_path / "sft.safetensors").content_hash is not None


def test_stored_direction_is_used_as_is_and_hash_tracks_content():
    model = _model()
    stored = {n: torch.randn(p.shape, generator=torch.Generator().manual_seed(1)) for n, p in model.named_parameters()}
    spec = DirectionSpec.stored(stored)
    d = _deltas(spec, model)
    assert all(torch.equal(d[k], stored[k]) for k in stored)
    changed = dict(stored)
    changed["0.bias"] = stored["0.bias"] + 1
    assert DirectionSpec.stored(changed).to_key() != spec.to_key()


def test_isotropy_and_keys():
    assert DirectionSpec().is_isotropic
    assert not DirectionSpec(param_filter="0.*").is_isotropic
    for kind in ("layer", "filter", "multiplicative"):
        assert not DirectionSpec(kind).is_isotropic
    key = DirectionSpec(seed=3, param_filter=["0.*"]).to_key()
    assert json.loads(json.dumps(key)) == key
    assert key["torch"] == torch.__version__ and key["rng"] == "cpu" and key["seed"] == 3
    assert DirectionSpec(seed=3).to_key() != DirectionSpec(seed=4).to_key()
    with pytest.raises(UserInputError):
        DirectionSpec("bogus")
    with pytest.raises(UserInputError):
        DirectionSpec("sft")


_CHILD = """
import hashlib, torch
from landscape.directions import DirectionSpec, bind
torch.manual_seed(0)
m = torch.nn.Sequential(torch.nn.Linear(50, 40), torch.nn.LayerNorm(40), torch.nn.ReLU(),
                        torch.nn.Linear(40, 40), torch.nn.Linear(40, 40))
h = hashlib.sha256()
for kind in ("gaussian", "layer", "filter", "multiplicative"):
    b = bind(DirectionSpec(kind, seed=12), m)
    for n, p in b.params:
        h.update(b.delta(n, p).numpy().tobytes())
print(h.hexdigest())
"""


def test_noise_identical_across_processes_with_different_hash_seeds():
    digests = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True,
                             timeout=120, check=True)
        digests.append(out.stdout.strip())
    model = _model()
    h = hashlib.sha256()
    for kind in ("gaussian", "layer", "filter", "multiplicative"):
        for delta in _deltas(DirectionSpec(kind, seed=12), model).values():
            h.update(delta.numpy().tobytes())
    assert digests[0] == digests[1] == h.hexdigest()
