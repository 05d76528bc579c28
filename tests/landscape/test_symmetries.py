"""The canonical form of landscape.symmetries on a small ReLU network declared here: the function is kept,
every channel ends balanced, the result is a fixed point, and two rescalings of one network reach the same
canonical weights (so a raw σ-basin measured there cannot be moved by rescaling)."""

import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from landscape.symmetries import Factor, ScalingSymmetry, apply_scaling, canonicalise, rescaled, total_sq_norm


def net(seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 6), nn.ReLU(), nn.Linear(6, 3))


def relu_symmetries() -> list[ScalingSymmetry]:
    return [ScalingSymmetry(f"relu {i}", width, (Factor(f"{i}.weight", 0, 1), Factor(f"{i}.bias", 0, 1),
                                                 Factor(f"{i + 2}.weight", 1, -1)))
            for i, width in ((0, 7), (2, 6))]


X = torch.randn(32, 5, generator=torch.Generator().manual_seed(0))


def sq(params, sym, power):
    total = torch.zeros(sym.channels, dtype=torch.float64)
    for f in sym.factors:
        if f.power == power:
            x = params[f.name].detach().double().movedim(f.dim, 0)
            total += x.reshape(sym.channels, -1).pow(2).sum(1)
    return total


# Tolerances: weights are rescaled in float64 and rounded once to float32 (≈ 6e-8 relative), and canonicalise
# stops when every scale it would apply is within 1e-7 of 1, so two canonical forms of one orbit agree to far
# better than 1e-4; a non-balanced or wrongly scaled result differs by the rescaling itself (factors e^±1).
@given(st.integers(0, 10_000), st.floats(0.1, 2.0))
def test_rescaling_and_canonical_form_keep_the_function(seed, spread):
    model = net(seed % 7)
    moved = rescaled(model, relu_symmetries(), seed=seed, spread=spread)
    canon = canonicalise(moved, relu_symmetries())
    with torch.no_grad():
        y = model(X)
        scale = float(y.abs().max())
        assert torch.allclose(moved(X), y, atol=1e-5 * scale, rtol=1e-4)
        assert torch.allclose(canon.model(X), y, atol=1e-5 * scale, rtol=1e-4)
    assert canon.converged and canon.norm_after <= canon.norm_before * (1 + 1e-9)


@given(st.integers(0, 10_000))
def test_two_rescalings_reach_one_balanced_fixed_point(seed):
    model = net(seed % 5)
    a = canonicalise(rescaled(model, relu_symmetries(), seed=seed), relu_symmetries())
    b = canonicalise(rescaled(model, relu_symmetries(), seed=seed + 1, spread=1.5), relu_symmetries())
    for (name, p), q in zip(a.model.named_parameters(), b.model.parameters()):
        assert torch.allclose(p, q, rtol=1e-4, atol=1e-6 * float(p.detach().abs().max())), name
    params = dict(a.model.named_parameters())
    for sym in relu_symmetries():  # balanced: each neuron's incoming and outgoing squared norms are equal
        assert torch.allclose(sq(params, sym, 1), sq(params, sym, -1), rtol=1e-4)
    again = canonicalise(a.model, relu_symmetries())
    assert again.rounds == 1 and abs(again.norm_after - a.norm_after) <= 1e-6 * a.norm_after


def test_the_minimum_is_below_every_other_rescaling():
    canon = canonicalise(net(3), relu_symmetries()).model
    best = total_sq_norm(canon)
    for seed in range(20):
        other = rescaled(canon, relu_symmetries(), seed=seed, spread=0.05)
        assert total_sq_norm(other) >= best * (1 - 1e-9)


def test_apply_scaling_scales_the_named_slices_only():
    model = net(0)
    params = dict(model.named_parameters())
    before = {k: v.detach().clone() for k, v in params.items()}
    sym = ScalingSymmetry("q/k", 2, (Factor("2.weight", 0, 1, group=2, offset=1), Factor("4.weight", 1, -1, group=2,
                                                                                          offset=1)))
    apply_scaling(params, sym, torch.tensor([2.0, 4.0]))
    w2, w4 = params["2.weight"].detach(), params["4.weight"].detach()
    assert torch.equal(w2[0], before["2.weight"][0]) and torch.equal(w2[5], before["2.weight"][5])
    assert torch.allclose(w2[1:3], 2 * before["2.weight"][1:3]) and torch.allclose(w2[3:5], 4 * before["2.weight"][3:5])
    assert torch.allclose(w4[:, 1:3], before["4.weight"][:, 1:3] / 2)
    assert torch.allclose(w4[:, 3:5], before["4.weight"][:, 3:5] / 4)
    assert torch.equal(w4[:, 0], before["4.weight"][:, 0])
