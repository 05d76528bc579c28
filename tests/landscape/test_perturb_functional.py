"""Functional probe mode: same outputs as the writing engine, parameters never touched."""

from __future__ import annotations

import pytest
import torch

from landscape.directions import DirectionSpec, bind
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


def _seen_weights(model: torch.nn.Module, sink: dict[str, torch.Tensor]) -> list:
    """Pre-hooks (registered after the functional ones, so they run after the swap) that copy every
    selected weight as the forward of each module sees it, by canonical parameter name."""
    names = {id(p): n for n, p in model.named_parameters()}
    handles = []
    for module in model.modules():
        def record(mod, args, module=module):
            for sub in module.modules():
                for key, value in sub._parameters.items():
                    if value is not None and not isinstance(value, torch.nn.Parameter):
                        sink.setdefault(key_of[(id(sub), key)], value.detach().clone())
        handles.append(module.register_forward_pre_hook(record))
    key_of = {(id(m), k): names[id(p)] for m in model.modules() for k, p in m._parameters.items()
              if p is not None}
    return handles


@pytest.mark.parametrize("kind", ["gaussian", "layer", "multiplicative"])
def test_functional_mode_feeds_the_written_weights_and_never_writes(kind):
    """What is guaranteed on every CPU: each forward sees, bit for bit, the weights the writing engine
    writes (an independent path to cast(θ₀ + α·δ)), and the parameters are never written. The outputs of the
    two modes are not compared bitwise: a swapped plain tensor and a Parameter may take different kernels
    (AVX2 and AVX-512 differ here by ≈ 1e-6), so they are compared to float32 rounding only."""
    model, x = _model(), torch.arange(12).reshape(3, 4)
    versions = [p._version for p in model.parameters()]
    params = [p.detach().clone() for p in model.parameters()]
    spec = DirectionSpec(kind, seed=4)
    seen: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        with functional_perturbation(model, spec, 0.2):
            handles = _seen_weights(model, seen)
            try:
                got = model(x)
            finally:
                for h in handles:
                    h.remove()
        assert [p._version for p in model.parameters()] == versions  # never written
        assert all(torch.equal(a, b.detach()) for a, b in zip(params, model.parameters()))
        assert not torch.equal(got, model(x))
        with perturbed(model, spec, 0.2):
            written = {n: p.detach().clone() for n, p in model.named_parameters()}
            want = model(x)
    selected = set(bind(spec, model).names)
    assert selected and set(seen) == selected  # every selected parameter (the tied one once) was swapped
    for name in selected:
        assert torch.equal(seen[name], written[name]), name
    # Two float32 paths may sum in other orders: a dot product of length n errs by ≤ n·eps·Σ|terms| (Higham),
    # here n ≤ 24 (the attention's in-projection, 3 × 8) in each of 5 layers; a first-order bound taken
    # relative to the outputs' size (the nonlinearities here are 1-Lipschitz-like; observed ≈ 1e-6 < 9e-5).
    bound = 5 * 24 * torch.finfo(torch.float32).eps * float(want.abs().max())
    assert float((got - want).abs().max()) <= bound


def test_functional_mode_puts_parameters_back_after_an_exception():
    model, x = _model(), torch.arange(12).reshape(3, 4)
    originals = [(m, k, p) for m in model.modules() for k, p in m._parameters.items()]
    with pytest.raises(RuntimeError):
        with torch.no_grad(), functional_perturbation(model, DirectionSpec(seed=1), 0.5):
            model[2].mlp[1].register_forward_pre_hook(lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
            model(x)
    assert all(m._parameters[k] is p for m, k, p in originals)
    assert isinstance(model[2].mlp[1].weight, torch.nn.Parameter)
