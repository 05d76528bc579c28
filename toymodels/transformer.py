"""A small decoder-only transformer (nanoGPT-style, pre-norm RMSNorm), in one readable file.

x_0 = E[tokens] + P[positions]                       (E: token embedding [V, d], P: learned positions)
x_{l+1} = x_l + Attn(RMSNorm(x_l)); x_{l+1} += MLP(RMSNorm(x_{l+1}))   (causal multi-head attention,
                                                                        GELU MLP of width mlp_ratio·d)
logits = RMSNorm(x_L) · Hᵀ, with H = E (tied_embeddings=True) or a separate head [V, d].
`token_embeddings(tokens)` and `forward_embeddings(z)` split the forward pass so noise can be put on the
input embeddings z (Thm 4.5, embedding-noise version). Tying is done by reading E in the head, not by
sharing a Parameter object, so every parameter has one name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from landscape.symmetries import Factor, ScalingSymmetry
from theory.errors import UserInputError
from toymodels.tasks import vocab


@dataclass(frozen=True)
class TransformerConfig:
    vocab_size: int = vocab.VOCAB_SIZE
    seq_len: int = vocab.SEQ_LEN
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    mlp_ratio: int = 4
    tied_embeddings: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.d_model <= 256:
            raise UserInputError(f"d_model must lie in [1, 256], got {self.d_model}")
        if self.d_model % self.n_heads:
            raise UserInputError(f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        if min(self.vocab_size, self.seq_len, self.n_layers, self.mlp_ratio) < 1:
            raise UserInputError(f"transformer sizes must be >= 1, got {self}")

    @property
    def n_params(self) -> int:
        d, v = self.d_model, self.vocab_size
        per_block = 2 * d + 4 * d * d + 2 * self.mlp_ratio * d * d
        return v * d + self.seq_len * d + self.n_layers * per_block + d + (0 if self.tied_embeddings else v * d)


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x²) + eps) ⊙ g."""

    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=2)
        q, k, v = (z.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class FeedForward(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.up = nn.Linear(cfg.d_model, cfg.mlp_ratio * cfg.d_model, bias=False)
        self.down = nn.Linear(cfg.mlp_ratio * cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.norm1 = RMSNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.norm2 = RMSNorm(cfg.d_model)
        self.mlp = FeedForward(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class TinyTransformer(nn.Module):
    """forward(tokens [B, T] long) -> logits [B, T, V]."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.d_model)
        self.pos_emb = nn.Parameter(torch.zeros(config.seq_len, config.d_model))
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm_f = RMSNorm(config.d_model)
        self.head = None if config.tied_embeddings else nn.Linear(config.d_model, config.vocab_size, bias=False)
        self._init_weights(config.seed)

    def _init_weights(self, seed: int) -> None:
        """N(0, 0.02²) everywhere, residual output projections N(0, (0.02/√(2L))²), norms 1 (nanoGPT)."""
        g = torch.Generator().manual_seed(seed)
        resid_std = 0.02 / math.sqrt(2 * self.config.n_layers)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm_f.weight":
                    p.fill_(1.0)
                else:
                    std = resid_std if name.endswith(("attn.proj.weight", "mlp.down.weight")) else 0.02
                    p.normal_(0.0, std, generator=g)

    def token_embeddings(self, tokens: torch.Tensor) -> torch.Tensor:
        """z = E[tokens], [B, T, d] (positions are added in forward_embeddings)."""
        return self.tok_emb(tokens)

    def forward_embeddings(self, z: torch.Tensor) -> torch.Tensor:
        """Logits from input embeddings z [B, T, d]."""
        t = z.shape[1]
        if t > self.config.seq_len:
            raise UserInputError(f"sequence of {t} tokens exceeds seq_len={self.config.seq_len}")
        x = z + self.pos_emb[:t]
        for block in self.blocks:
            x = block(x)
        x = self.norm_f(x)
        return F.linear(x, self.tok_emb.weight) if self.head is None else self.head(x)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.forward_embeddings(self.token_embeddings(tokens))

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def transformer_symmetries(model: TinyTransformer) -> list[ScalingSymmetry]:
    """The function-preserving diagonal rescalings handled (landscape.symmetries), per block l:
      norm1 gain i ↑ c, qkv input column i ↓ c        (the linear after a norm reads g ⊙ x̂)
      norm2 gain i ↑ c, mlp.up input column i ↓ c
      query row i ↑ c, key row i ↓ c                    (q·k unchanged; no rotary embedding here)
      value row i ↑ c, proj input column i ↓ c          (attention is linear in v)
    and, with an untied head, norm_f gain i ↑ c, head column i ↓ c. With tied embeddings, the residual scale:
    every write to the residual stream (tok_emb, pos_emb, each attn.proj and mlp.down) ↑ c and norm_f's gain
    ↓ c (the blocks read the stream through RMSNorm, and the tied head reads E·c after the gain) — exact up
    to RMSNorm's eps, a relative output change ≤ eps / (2 mean x²) · |1 − c⁻²|.
    Not handled (see NOT_HANDLED): the GELU MLP's neurons, non-diagonal mixings within Q/K and V/O,
    norm_f ↔ a tied head, the residual scale with an untied head (no minimum-norm point)."""
    d = model.config.d_model
    out = []
    for i in range(len(model.blocks)):
        b = f"blocks.{i}"
        out += [ScalingSymmetry(f"{b} norm1 gain <-> qkv input", d,
                                (Factor(f"{b}.norm1.weight", 0, 1), Factor(f"{b}.attn.qkv.weight", 1, -1))),
                ScalingSymmetry(f"{b} norm2 gain <-> mlp.up input", d,
                                (Factor(f"{b}.norm2.weight", 0, 1), Factor(f"{b}.mlp.up.weight", 1, -1))),
                ScalingSymmetry(f"{b} query <-> key", d, (Factor(f"{b}.attn.qkv.weight", 0, 1),
                                                         Factor(f"{b}.attn.qkv.weight", 0, -1, offset=d))),
                ScalingSymmetry(f"{b} value <-> proj input", d, (Factor(f"{b}.attn.qkv.weight", 0, 1, offset=2 * d),
                                                                Factor(f"{b}.attn.proj.weight", 1, -1)))]
    if model.head is not None:
        out.append(ScalingSymmetry("norm_f gain <-> head input", d,
                                   (Factor("norm_f.weight", 0, 1), Factor("head.weight", 1, -1))))
    else:
        writes = ["tok_emb.weight", "pos_emb"] + [f"blocks.{i}.{w}.weight" for i in range(len(model.blocks))
                                                  for w in ("attn.proj", "mlp.down")]
        out.append(ScalingSymmetry("residual scale <-> norm_f gain", 1,
                                   tuple(Factor(n, None, 1) for n in writes) + (Factor("norm_f.weight", None, -1),)))
    return out


NOT_HANDLED = ("GELU MLP neurons (GELU is not positively homogeneous: no scaling symmetry)",
               "non-diagonal mixings W_q -> A W_q, W_k -> A^-T W_k and W_v -> B W_v, W_o -> W_o B^-1 within a head",
               "neuron and head permutations (isotropic noise is blind to them)",
               "norm_f gain <-> a tied head (E is also the input embedding)",
               "the residual scale with an untied head (RMSNorm makes it a symmetry with no minimum-norm point)")
