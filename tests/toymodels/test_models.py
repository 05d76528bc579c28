"""Model shapes, parameter counts and the exact parameterisation equivalences."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.errors import UserInputError
from toymodels.mlp import MLP, PARAMETERISATIONS, MLPConfig, rescale_relu_neurons, to_standard
from toymodels.tasks import vocab as V
from toymodels.transformer import TinyTransformer, TransformerConfig


def test_mlp_parameter_count_and_shapes():
    m = MLP(MLPConfig(input_dim=3, width=8, depth=2, n_classes=2))
    assert m.n_params() == (3 * 8 + 8) + (8 * 8 + 8) + (8 * 2 + 2) == m.config.n_params
    assert m(torch.zeros(5, 3)).shape == (5, 2)
    with pytest.raises(UserInputError):
        MLPConfig(parameterisation="muP")


@settings(max_examples=10)
@given(width=st.integers(2, 64), depth=st.integers(1, 3), seed=st.integers(0, 2**31 - 1),
       p=st.sampled_from(PARAMETERISATIONS))
def test_to_standard_is_the_same_function(width, depth, seed, p):
    m = MLP(MLPConfig(width=width, depth=depth, parameterisation=p, seed=seed))
    with torch.no_grad():  # move off the init so the check is not about initialisation
        for q in m.parameters():
            q.add_(0.1 * torch.randn(q.shape, generator=torch.Generator().manual_seed(seed)))
    x = torch.randn(7, 16)
    s = to_standard(m)
    assert torch.equal(s(x), m(x))
    if p != "standard":
        assert not torch.equal(s.layers[0].weight, m.layers[0].weight)


def test_ntk_and_standard_share_the_function_at_init():
    x = torch.randn(9, 16)
    std, ntk = (MLP(MLPConfig(width=32, parameterisation=p, seed=4)) for p in ("standard", "ntk"))
    assert torch.allclose(std(x), ntk(x), rtol=1e-5, atol=1e-6)
    assert ntk.layers[1].weight.std() > 3 * std.layers[1].weight.std()


def test_relu_neuron_rescaling_preserves_outputs_but_moves_parameters():
    m = MLP(MLPConfig(width=16, seed=1))
    scale = torch.linspace(0.25, 4.0, 16)
    r = rescale_relu_neurons(m, 0, scale)
    x = torch.randn(11, 16)
    assert torch.allclose(r(x), m(x), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(r.layers[0].weight, m.layers[0].weight)
    with pytest.raises(UserInputError):
        rescale_relu_neurons(m, 0, -scale)


@pytest.mark.parametrize("tied", [True, False])
def test_transformer_parameter_count_shapes_and_tying(tied):
    d, v, t, L = 32, V.VOCAB_SIZE, V.SEQ_LEN, 2
    m = TinyTransformer(TransformerConfig(d_model=d, n_layers=L, n_heads=4, tied_embeddings=tied))
    per_block = 2 * d + 3 * d * d + d * d + 4 * d * d + 4 * d * d
    expected = v * d + t * d + L * per_block + d + (0 if tied else v * d)
    assert m.n_params() == expected == m.config.n_params
    tokens = torch.randint(0, v, (3, t), generator=torch.Generator().manual_seed(0))
    assert m(tokens).shape == (3, t, v)
    assert torch.equal(m(tokens), m.forward_embeddings(m.token_embeddings(tokens)))
    assert ("head.weight" in dict(m.named_parameters())) != tied  # tied: the head reads tok_emb.weight


def test_transformer_is_causal_and_seeded():
    m = TinyTransformer(TransformerConfig(d_model=32, seed=3))
    tokens = torch.randint(0, V.VOCAB_SIZE, (2, V.SEQ_LEN), generator=torch.Generator().manual_seed(1))
    changed = tokens.clone()
    changed[:, 10:] = (changed[:, 10:] + 1) % V.VOCAB_SIZE
    with torch.no_grad():
        assert torch.allclose(m(tokens)[:, :10], m(changed)[:, :10], atol=1e-6)
        assert not torch.allclose(m(tokens)[:, 10:], m(changed)[:, 10:])
    again = TinyTransformer(TransformerConfig(d_model=32, seed=3))
    assert all(torch.equal(a, b) for a, b in zip(m.parameters(), again.parameters()))
    with pytest.raises(UserInputError):
        TransformerConfig(d_model=512)
