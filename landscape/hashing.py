"""Canonical parameter names, per-tensor seeds and content hashes of tensors and files (never Python's salted
`hash()`).

canonical_name strips wrapper prefixes (`module.` from DataParallel/DDP, `_orig_mod.` from torch.compile)
and FSDP/checkpoint wrapper segments, so a wrapped and an unwrapped model draw the same noise.
tensor_seed(seed, name) = first 8 bytes (big-endian) of sha256(f"{seed}:{canonical_name}").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import torch

_PREFIXES = ("module.", "_orig_mod.")
_SEGMENTS = ("_fsdp_wrapped_module.", "_checkpoint_wrapped_module.")


def canonical_name(name: str) -> str:
    """Parameter name with wrapper prefixes (`module.`, `_orig_mod.`) and wrapper segments removed."""
    for seg in _SEGMENTS:
        name = name.replace(seg, "")
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix):]
                changed = True
    return name


def tensor_seed(seed: int, name: str) -> int:
    """64-bit generator seed for one tensor: first 8 bytes of sha256(f"{seed}:{canonical_name(name)}")."""
    digest = hashlib.sha256(f"{int(seed)}:{canonical_name(name)}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def file_sha256(path: str | Path) -> str:
    """sha256 (hex) of a file's bytes, read 1 MiB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def hash_named_tensors(names: Iterable[str], get: Callable[[str], torch.Tensor]) -> str:
    """sha256 (hex) over (canonical name, dtype, shape, raw bytes) in sorted canonical-name order,
    fetching one tensor at a time through `get` (so a file-backed source is never loaded whole)."""
    h = hashlib.sha256()
    for canon, name in sorted((canonical_name(n), n) for n in names):
        t = get(name).detach()
        h.update(f"{canon}|{str(t.dtype)}|{tuple(t.shape)}|".encode())
        flat = t.to("cpu").contiguous().reshape(-1)
        if flat.numel():
            h.update(flat.view(torch.uint8).numpy().data)
    return h.hexdigest()


def tensors_hash(tensors: Mapping[str, torch.Tensor] | Iterable[tuple[str, torch.Tensor]]) -> str:
    """hash_named_tensors over a mapping or (name, tensor) pairs."""
    mapping = dict(tensors.items() if isinstance(tensors, Mapping) else tensors)
    return hash_named_tensors(mapping, mapping.__getitem__)


def weight_hash(model: torch.nn.Module) -> str:
    """Content hash of a model's parameters (bitwise; buffers excluded), stable across processes."""
    return tensors_hash(model.named_parameters())
