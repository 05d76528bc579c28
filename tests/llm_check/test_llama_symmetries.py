"""llm_check.llama_symmetries: every declared rescaling of a Llama leaves its function unchanged (up to float32
rounding), a wrongly declared one does not, and canonicalisation sends rescaled copies to one point."""

from __future__ import annotations

import torch

from landscape.symmetries import Factor, ScalingSymmetry, canonicalise, rescaled
from llm_check.llama_symmetries import llama_symmetries

IDS = torch.tensor([[3, 70, 101, 32, 8, 200, 44, 9], [250, 1, 17, 90, 33, 4, 61, 120]])
# float32 rounding: each rescaled product is exact up to a few ulps (eps = 1.2e-7) per layer, so 1e-5 of the
# logits' scale (≈ 80 ulps) bounds it with room; a wrong declaration moves logits by O(1e-2) or more.
ROUNDING = 1e-5


def _logits(model):
    with torch.no_grad():
        return model(IDS).logits


def test_declared_rescalings_preserve_the_function(tiny_model):
    syms = llama_symmetries(tiny_model)
    assert len(syms) == 3 * tiny_model.config.num_hidden_layers
    base = _logits(tiny_model)
    moved = rescaled(tiny_model, syms, seed=11)
    assert any(not torch.equal(a, b) for a, b in zip(moved.parameters(), tiny_model.parameters()))
    assert (_logits(moved) - base).abs().max() <= ROUNDING * (1 + base.abs().max())


def test_a_wrong_declaration_changes_the_function(tiny_model):
    wrong = [ScalingSymmetry("down rows (wrong)", tiny_model.config.hidden_size,
                             (Factor("model.layers.0.mlp.down_proj.weight", 0, 1),
                              Factor("model.layers.0.mlp.up_proj.weight", 1, -1)))]
    base = _logits(tiny_model)
    assert (_logits(rescaled(tiny_model, wrong, seed=11)) - base).abs().max() > 1e3 * ROUNDING * (1 + base.abs().max())


def test_canonical_form_is_shared_by_rescaled_copies(tiny_model):
    syms = llama_symmetries(tiny_model)
    a = canonicalise(tiny_model, syms)
    b = canonicalise(rescaled(tiny_model, syms, seed=5), syms)
    assert a.converged and b.converged and b.norm_after < b.norm_before
    with torch.no_grad():
        worst = max(float((p - q).abs().max() / (1 + q.abs().max()))
                    for p, q in zip(a.model.parameters(), b.model.parameters()))
    assert worst < 1e-5
