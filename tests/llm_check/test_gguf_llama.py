"""llm_check.gguf_llama: a llama GGUF read through `gguf` alone gives exactly the weights it was written from,
and the same parameters as transformers' own GGUF loader (llm_check.model_io)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from landscape.hashing import weight_hash
from llm_check.gguf_llama import hf_name, llama_from_gguf, permute_rows, unpermute_rows
from theory.errors import UserInputError


def test_weights_are_the_written_ones_bit_for_bit(tiny_gguf, tiny_model):
    loaded = llama_from_gguf(tiny_gguf)
    mine, theirs = dict(loaded.named_parameters()), dict(tiny_model.named_parameters())
    assert set(mine) == set(theirs)
    for name, p in theirs.items():
        assert torch.equal(mine[name], p), name
    assert loaded.config.tie_word_embeddings and loaded.lm_head.weight is loaded.model.embed_tokens.weight
    ids = torch.tensor([[5, 40, 77, 200, 13, 9]])
    with torch.no_grad():
        assert torch.equal(loaded(ids).logits, tiny_model(ids).logits)


def test_same_parameters_as_the_transformers_loader(tiny_gguf, basin_cache):
    from llm_check.model_io import load_model

    reference = load_model(tiny_gguf)
    assert weight_hash(llama_from_gguf(tiny_gguf)) == reference.weight_hash


@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 5))
def test_unpermute_inverts_the_llama_cpp_permutation(n_head, half, cols):
    w = np.arange(n_head * 2 * half * cols, dtype=np.float32).reshape(n_head * 2 * half, cols)
    p = permute_rows(w, n_head)
    assert np.array_equal(unpermute_rows(p, n_head), w)
    if half > 1:  # the permutation interleaves the two rotary halves of each head
        assert not np.array_equal(p, w)


def test_bad_files_are_user_errors(tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        llama_from_gguf(tmp_path / "none.gguf")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(UserInputError, match="unreadable"):
        llama_from_gguf(junk)
    with pytest.raises(UserInputError, match="unexpected tensor"):
        hf_name("blk.0.attn_qkv.weight")
