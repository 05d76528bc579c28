"""Batched greedy decoding for causal LMs (left padding), shared by the generation and safety scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from landscape.scores import eval_mode, model_device
from llm_check.multiple_choice import pad_token_id


def left_padded(seqs: Sequence[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask, position_ids) with every sequence ending in the last column; positions
    count real tokens from 0, so each row sees the positions it would see unpadded."""
    width = max(len(s) for s in seqs)
    input_ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for b, seq in enumerate(seqs):
        input_ids[b, width - len(seq):] = torch.as_tensor(seq)
        mask[b, width - len(seq):] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return input_ids, mask, positions


def greedy_generate(model: torch.nn.Module, tokenizer: Any, prompts: Sequence[list[int]],
                    max_new_tokens: int, batch_size: int) -> list[str]:
    """Greedy continuations (decoded, special tokens skipped) of tokenised prompts, left-padded batches."""
    device = model_device(model)
    pad = pad_token_id(tokenizer)
    texts = []
    with eval_mode(model):
        for start in range(0, len(prompts), batch_size):
            batch = prompts[start:start + batch_size]
            input_ids, mask, _ = left_padded(batch, pad)
            width = input_ids.shape[1]
            out = model.generate(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                                 max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad,
                                 temperature=None, top_p=None, top_k=None)
            texts += tokenizer.batch_decode(out[:, width:].cpu(), skip_special_tokens=True)
    return texts
