"""Functional probe mode: same outputs as the writing engine, parameters never touched."""

from __future__ import annotations

import pytest
import torch

from landscape.directions import DirectionSpec
from landscape.functional import functional_perturbation
from landscape.perturb import perturbed


class _Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = torch.nn.MultiheadAttention(8, 2, batch_first=True)  # reads out_proj.weight itself
        self.mlp = torch.nn.ModuleList([torch.nn.Linear(8, 8), torch.nn.Linear(8, 8)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x, x, x, need_weights=False)[0]
        return x + self.mlp[1](torch.tanh(self.mlp[0](x)))


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    emb = torch.nn.Embedding(20, 8)
    head = torch.nn.Linear(8, 20, bias=False)
    head.weight = emb.weight  # tied, owned by two modules
    return torch.nn.Sequential(emb, torch.nn.LayerNorm(8), _Block(), torch.nn.GELU(), head)


@pytest.mark.parametrize("kind", ["gaussian", "layer", "multiplicative"])
def test_functional_mode_matches_writing_engine_and_never_writes(kind):
    model, x = _model(), torch.arange(12).reshape(3, 4)
    versions = [p._version for p in model.parameters()]
    params = [p.detach().clone() for p in model.parameters()]
    spec = DirectionSpec(kind, seed=4)
    with torch.no_grad():
        with functional_perturbation(model, spec, 0.2):
            got = model(x)
        assert [p._version for p in model.parameters()] == versions  # never written
        assert all(torch.equal(a, b.detach()) for a, b in zip(params, model.parameters()))
        assert not torch.equal(got, model(x))
        with perturbed(model, spec, 0.2):
            want = model(x)
    assert torch.equal(got, want)


def test_functional_mode_puts_parameters_back_after_an_exception():
    model, x = _model(), torch.arange(12).reshape(3, 4)
    originals = [(m, k, p) for m in model.modules() for k, p in m._parameters.items()]
    with pytest.raises(RuntimeError):
        with torch.no_grad(), functional_perturbation(model, DirectionSpec(seed=1), 0.5):
            model[2].mlp[1].register_forward_pre_hook(lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
            model(x)
    assert all(m._parameters[k] is p for m, k, p in originals)
    assert isinstance(model[2].mlp[1].weight, torch.nn.Parameter)
