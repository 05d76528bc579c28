"""Function-preserving diagonal rescalings of a transformers Llama (landscape.symmetries), per layer:

- RMSNorm gain ↔ the inputs it feeds: input_layernorm.weight[k] · c_k and column k of q/k/v_proj ÷ c_k
  (RMSNorm(x)·g enters only through those matrices); the same for post_attention_layernorm ↔ gate/up_proj;
- MLP channel: row j of up_proj · c_j and column j of down_proj ÷ c_j, since down(silu(gate x) ⊙ up x) is
  linear in each up row.

Not declared: value ↔ output (with grouped-query attention one value channel feeds several non-adjacent
output columns, which a Factor cannot name), query ↔ key (RoPE mixes each channel with its rotary partner),
and the final norm (its gain meets the tied embedding, which also feeds the input).
"""

from __future__ import annotations

from torch import nn

from landscape.symmetries import Factor, ScalingSymmetry


def llama_symmetries(model: nn.Module) -> list[ScalingSymmetry]:
    """The declared rescalings (module doc) of every layer of a LlamaForCausalLM-like model."""
    names = {n for n, _ in model.named_parameters()}
    cfg = model.config
    out = []
    for i in range(cfg.num_hidden_layers):
        pre = f"model.layers.{i}."

        def linear(part: str, dim: int, power: int, pre: str = pre) -> list[Factor]:
            fs = [Factor(f"{pre}{part}.weight", dim, power)]
            if dim == 0 and f"{pre}{part}.bias" in names:
                fs.append(Factor(f"{pre}{part}.bias", 0, power))
            return fs

        out.append(ScalingSymmetry(f"layer {i} input norm gain <-> q/k/v input", cfg.hidden_size, (
            Factor(f"{pre}input_layernorm.weight", 0, 1),
            *(f for p in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj") for f in linear(p, 1, -1)))))
        out.append(ScalingSymmetry(f"layer {i} post-attention norm gain <-> gate/up input", cfg.hidden_size, (
            Factor(f"{pre}post_attention_layernorm.weight", 0, 1),
            *(f for p in ("mlp.gate_proj", "mlp.up_proj") for f in linear(p, 1, -1)))))
        out.append(ScalingSymmetry(f"layer {i} mlp up row <-> down column", cfg.intermediate_size, (
            *linear("mlp.up_proj", 0, 1), Factor(f"{pre}mlp.down_proj.weight", 1, -1))))
    return out


__all__ = ["llama_symmetries"]
