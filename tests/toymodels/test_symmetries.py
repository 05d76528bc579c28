"""Every symmetry the toy models declare is function-preserving on its own (a wrong power or slice would
change the outputs), and the transformer's canonical form keeps its function."""

import pytest
import torch

from landscape.symmetries import apply_scaling, canonicalise
from toymodels.mlp import MLP, MLPConfig, relu_symmetries
from toymodels.transformer import TinyTransformer, TransformerConfig, transformer_symmetries

TOKENS = torch.randint(0, 20, (3, 12), generator=torch.Generator().manual_seed(1))
INPUTS = torch.randn(16, 16, generator=torch.Generator().manual_seed(1))


def exact_transformer(tied: bool) -> TinyTransformer:
    """Trained-scale weights (std 0.3) and RMSNorm eps 0, so the residual scale is an exact symmetry too."""
    model = TinyTransformer(TransformerConfig(d_model=32, n_heads=2, tied_embeddings=tied, seed=3))
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p + 0.3 * torch.randn(p.shape, generator=g))
    for m in model.modules():
        if hasattr(m, "eps"):
            m.eps = 0.0
    return model.eval()


CASES = [(MLP(MLPConfig(width=24, seed=1)), relu_symmetries, INPUTS),
         (MLP(MLPConfig(width=24, depth=3, parameterisation="ntk", seed=2)), relu_symmetries, INPUTS),
         (exact_transformer(True), transformer_symmetries, TOKENS),
         (exact_transformer(False), transformer_symmetries, TOKENS)]


# Tolerance: the rescaled weights are rounded once to float32 (relative error ≤ 2⁻²⁴ ≈ 6e-8 each); through these
# ≤ 4-layer models that stays orders of magnitude below 1e-4 of the output scale, while a wrong power or slice
# changes the outputs by O(1) (the Q/K and residual-scale mutants each fail here).
@pytest.mark.parametrize("case", range(len(CASES)))
def test_each_declared_symmetry_keeps_the_function(case):
    model, declare, x = CASES[case]
    syms = declare(model)
    with torch.no_grad():
        y = model(x)
        for k, sym in enumerate(syms):
            moved = type(model)(model.config)
            moved.load_state_dict(model.state_dict())
            for m in moved.modules():
                if hasattr(m, "eps"):
                    m.eps = 0.0
            g = torch.Generator().manual_seed(k)
            scales = torch.exp(torch.randn(sym.channels, generator=g, dtype=torch.float64))
            apply_scaling(dict(moved.named_parameters()), sym, scales)
            assert torch.allclose(moved.eval()(x), y, rtol=1e-4, atol=1e-4 * float(y.abs().max())), sym.name
            changed = any(not torch.equal(p, q) for p, q in zip(moved.parameters(), model.parameters()))
            assert changed, f"{sym.name} moved no parameter"


def test_the_transformer_declares_the_residual_scale_only_with_tied_embeddings():
    tied, untied = (transformer_symmetries(exact_transformer(t)) for t in (True, False))
    assert any(s.name.startswith("residual scale") for s in tied)
    assert not any(s.name.startswith("residual scale") for s in untied)
    assert any(s.name.startswith("norm_f gain") for s in untied)


def test_canonical_transformer_keeps_its_function():
    model = exact_transformer(True)
    canon = canonicalise(model, transformer_symmetries(model))
    with torch.no_grad():
        y = model(TOKENS)
        assert torch.allclose(canon.model(TOKENS), y, rtol=1e-4, atol=1e-4 * float(y.abs().max()))
    assert canon.converged and canon.norm_after < canon.norm_before
