"""A llama-architecture GGUF as a transformers LlamaForCausalLM, built from its config and filled through `gguf`.

transformers' own GGUF path (`from_pretrained(gguf_file=…)`, used by llm_check.model_io) needs a transformers
release and a tokenizer conversion that a bare GPU image may not have; this one needs only the `gguf` package
(pure Python, one wheel) and `LlamaConfig` / `LlamaForCausalLM`. Each tensor is dequantised by
`gguf.quants.dequantize` to float32, exactly as transformers does, and llama.cpp's q/k row permutation (the
rotary halves interleaved per head) is undone, so the parameters are bitwise those of the model_io path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from theory.errors import UserInputError

_LAYER_TENSORS = {
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm", "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
}


def _field(reader: Any, key: str, default: Any = None) -> Any:
    field = reader.fields.get(key)
    return default if field is None else field.contents()


def unpermute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of llama.cpp's q/k permutation: per head, rows (pairs interleaved) back to (first half, second half)."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(2, 1).reshape(w.shape)


def llama_config(reader: Any) -> Any:
    """LlamaConfig from the GGUF's llama.* metadata (tied embeddings when the file has no output.weight)."""
    from transformers import LlamaConfig

    if _field(reader, "general.architecture") != "llama":
        raise UserInputError(f"not a llama GGUF (architecture {_field(reader, 'general.architecture')!r})")
    names = {t.name for t in reader.tensors}
    heads = int(_field(reader, "llama.attention.head_count"))
    hidden = int(_field(reader, "llama.embedding_length"))
    vocab = _field(reader, "llama.vocab_size")
    if vocab is None:
        vocab = next(t for t in reader.tensors if t.name == "token_embd.weight").shape[1]
    return LlamaConfig(
        vocab_size=int(vocab), hidden_size=hidden, intermediate_size=int(_field(reader, "llama.feed_forward_length")),
        num_hidden_layers=int(_field(reader, "llama.block_count")), num_attention_heads=heads,
        num_key_value_heads=int(_field(reader, "llama.attention.head_count_kv", heads)),
        max_position_embeddings=int(_field(reader, "llama.context_length", 2048)),
        rms_norm_eps=float(_field(reader, "llama.attention.layer_norm_rms_epsilon", 1e-5)),
        rope_parameters={"rope_type": "default", "rope_theta": float(_field(reader, "llama.rope.freq_base", 10000.0))},
        tie_word_embeddings="output.weight" not in names,
        bos_token_id=_field(reader, "tokenizer.ggml.bos_token_id"),
        eos_token_id=_field(reader, "tokenizer.ggml.eos_token_id"),
        pad_token_id=_field(reader, "tokenizer.ggml.padding_token_id"))


def hf_name(gguf_name: str) -> str:
    """The transformers parameter name of a llama GGUF tensor name."""
    if gguf_name == "token_embd.weight":
        return "model.embed_tokens.weight"
    if gguf_name == "output_norm.weight":
        return "model.norm.weight"
    if gguf_name == "output.weight":
        return "lm_head.weight"
    parts = gguf_name.split(".")
    if len(parts) == 4 and parts[0] == "blk" and parts[2] in _LAYER_TENSORS:
        return f"model.layers.{parts[1]}.{_LAYER_TENSORS[parts[2]]}.{parts[3]}"
    raise UserInputError(f"unexpected tensor {gguf_name!r} in a llama GGUF")


def llama_from_gguf(path: str | Path, *, dtype: torch.dtype = torch.float32, device: str = "cpu") -> torch.nn.Module:
    """LlamaForCausalLM with the GGUF's weights, dequantised to float32 then cast to `dtype`, in eval mode."""
    from gguf import GGUFReader
    from gguf.quants import dequantize
    from transformers import LlamaForCausalLM

    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"GGUF file not found: {path}")
    try:
        reader = GGUFReader(str(path))
    except Exception as exc:  # the gguf reader raises assorted types on corrupt files
        raise UserInputError(f"unreadable GGUF file {path}: {exc}") from exc
    config = llama_config(reader)
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    state: dict[str, torch.Tensor] = {}
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
        name = hf_name(t.name)
        if t.name.endswith("attn_q.weight"):
            w = unpermute_rows(w, config.num_attention_heads)
        elif t.name.endswith("attn_k.weight"):
            w = unpermute_rows(w, config.num_key_value_heads)
        state[name] = torch.from_numpy(np.array(w, dtype=np.float32, order="C")).to(dtype)
    expected = {n for n, _ in model.named_parameters()}
    if set(state) != expected:
        raise UserInputError(f"{path}: tensors do not match a llama of its config (missing "
                             f"{sorted(expected - set(state))[:3]}, extra {sorted(set(state) - expected)[:3]})")
    model.load_state_dict(state, assign=True, strict=False)
    if config.tie_word_embeddings:
        model.tie_weights()
    model.model.rotary_emb = type(model.model.rotary_emb)(config=config)  # its buffers were built on meta
    return model.to(device).eval()


def permute_rows(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's q/k row permutation (rotary halves interleaved per head); `unpermute_rows` undoes it."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_llama_gguf(model: torch.nn.Module, path: str | Path, *, tokens: list[str] | None = None,
                     merges: list[str] | None = None, eos_token_id: int | None = None) -> Path:
    """A llama-architecture GGUF of `model` (F32 tensors, q/k rows permuted as llama.cpp writes them), with a
    gpt2-style tokenizer in its metadata when `tokens` is given; the inverse of llama_from_gguf."""
    import gguf

    cfg = model.config
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(getattr(cfg, "name_or_path", "") or "llama")
    w.add_context_length(cfg.max_position_embeddings)
    w.add_embedding_length(cfg.hidden_size)
    w.add_block_count(cfg.num_hidden_layers)
    w.add_feed_forward_length(cfg.intermediate_size)
    w.add_head_count(cfg.num_attention_heads)
    w.add_head_count_kv(cfg.num_key_value_heads)
    w.add_rope_dimension_count(cfg.hidden_size // cfg.num_attention_heads)
    w.add_rope_freq_base(float(cfg.rope_parameters["rope_theta"]))
    w.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    w.add_vocab_size(cfg.vocab_size)
    if tokens is not None:
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("default")
        w.add_token_list(tokens)
        w.add_token_types([3 if i == eos_token_id else 1 for i in range(len(tokens))])
        w.add_token_merges(list(merges or []))
    if eos_token_id is not None:
        w.add_eos_token_id(eos_token_id)
        w.add_pad_token_id(eos_token_id)
    sd = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    back = {hf: gg for gg, hf in _LAYER_TENSORS.items()}
    w.add_tensor("token_embd.weight", sd["model.embed_tokens.weight"])
    w.add_tensor("output_norm.weight", sd["model.norm.weight"])
    if not cfg.tie_word_embeddings:
        w.add_tensor("output.weight", sd["lm_head.weight"])
    for i in range(cfg.num_hidden_layers):
        pre = f"model.layers.{i}."
        for hf, gg in back.items():
            x = sd[pre + hf + ".weight"]
            if gg == "attn_q":
                x = permute_rows(x, cfg.num_attention_heads)
            elif gg == "attn_k":
                x = permute_rows(x, cfg.num_key_value_heads)
            w.add_tensor(f"blk.{i}.{gg}.weight", x)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return Path(path)


__all__ = ["hf_name", "llama_config", "llama_from_gguf", "permute_rows", "unpermute_rows", "write_llama_gguf"]
