"""The 5× check's pieces: the ratio interval, the verdict wording, GO fine-tuning on a copy (θ₀ untouched,
reproducible, resumed from its checkpoint)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from landscape.hashing import weight_hash
from llm_check.enlarge import enlargement_verdict, go_finetune, rms_parameter
from llm_check.runs import RunContext
from theory.errors import UserInputError
from theory.estimate import Estimate


def est(x, lo, hi, confidence=0.95):
    return Estimate(estimate=x, ci=(lo, hi), confidence=confidence, n=10, unit="sigma")


def test_verdict_under_and_at_scale():
    small = enlargement_verdict(est(6.0, 5.5, 7.0), 20, 4)
    assert small == "inconclusive (under-trained: 20 steps at batch 4 vs the authors' ≈ 5,600 at batch 64)"
    for factor in (est(6.0, 5.5, 7.0), est(2.0, 1.5, 3.0)):  # this path never judges the claim
        assert enlargement_verdict(factor, 5600, 64).startswith("not judged (raw factor ")


def test_rms_parameter(tiny_model):
    total = sum(float(p.detach().double().square().sum()) for p in tiny_model.parameters())
    n = sum(p.numel() for p in tiny_model.parameters())
    assert rms_parameter(tiny_model) == pytest.approx(math.sqrt(total / n))


def test_go_finetune_copy_reproducible_and_resumed(tmp_path, tiny_model, tiny_tokenizer):
    h0 = weight_hash(tiny_model)
    ctx = RunContext.create(tiny_model, tiny_tokenizer, "tiny", h0, tmp_path / "a")
    model, run = go_finetune(ctx, 0.01, steps=2, batch_size=2, block_size=16, lr=1e-3)
    assert weight_hash(tiny_model) == h0
    assert run.weight_hash != h0 and len(run.losses) == 2 and run.tokens == 2 * 2 * 16
    written = Path(run.checkpoint).stat().st_mtime_ns
    resumed, again = go_finetune(ctx, 0.01, steps=2, batch_size=2, block_size=16, lr=1e-3)
    assert Path(run.checkpoint).stat().st_mtime_ns == written  # reloaded, not retrained and rewritten
    assert again.losses == run.losses and again.weight_hash == run.weight_hash  # losses from the sidecar
    other = RunContext.create(tiny_model, tiny_tokenizer, "tiny", h0, tmp_path / "b")
    _, fresh = go_finetune(other, 0.01, steps=2, batch_size=2, block_size=16, lr=1e-3)
    assert fresh.weight_hash == run.weight_hash and fresh.losses == run.losses
    _, control = go_finetune(other, 0.0, steps=2, batch_size=2, block_size=16, lr=1e-3)
    assert control.weight_hash != run.weight_hash


@pytest.mark.parametrize("sigma", [-0.1, math.nan, math.inf])
def test_go_finetune_rejects_bad_sigma(tmp_path, tiny_model, tiny_tokenizer, sigma):
    ctx = RunContext.create(tiny_model, tiny_tokenizer, "tiny", "h", None)
    with pytest.raises(UserInputError):
        go_finetune(ctx, sigma, steps=1)
