"""Per-tensor access to stored tensors: safetensors files (read one tensor at a time) or in-memory maps.

`write_safetensors` streams tensors to disk one at a time, so writing a snapshot never holds a second
copy of the model; `TensorSource` reads them back one tensor at a time (names are canonical).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from safetensors import safe_open

from landscape.hashing import canonical_name, hash_named_tensors
from theory.errors import UserInputError

_DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}


def write_safetensors(path: str | Path, items: Iterable[tuple[str, torch.Tensor]]) -> None:
    """Write (name, tensor) pairs as a safetensors file, one tensor in host memory at a time.

    Two passes over `items` (it must be re-iterable): the header needs every shape first. Written to a
    temporary file and renamed, so a killed write never leaves a truncated file under `path`.
    """
    items = list(items)
    header: dict[str, object] = {}
    offset = 0
    for name, t in items:
        if t.dtype not in _DTYPES:
            raise UserInputError(f"write_safetensors: unsupported dtype {t.dtype} for {name!r}")
        nbytes = t.numel() * t.element_size()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _, t in items:
            flat = t.detach().to("cpu").contiguous().reshape(-1)
            if flat.numel():
                f.write(flat.view(torch.uint8).numpy().data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _safetensors_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.safetensors"))
        if not files:
            raise UserInputError(f"no *.safetensors files in directory {path}")
        return files
    if not path.is_file():
        raise UserInputError(f"tensor file not found: {path}")
    return [path]


class TensorSource:
    """Tensors by canonical name, from a safetensors file/directory (lazy, per tensor) or a mapping."""

    def __init__(self, source: str | Path | Mapping[str, torch.Tensor]):
        self._mapping: dict[str, torch.Tensor] | None = None
        self._where: dict[str, object] = {}
        if isinstance(source, Mapping):
            self._mapping = {canonical_name(k): v for k, v in source.items()}
            self.path: str | None = None
        else:
            self.path = str(source)
            for file in _safetensors_files(Path(source)):
                handle = safe_open(str(file), framework="pt")
                for key in handle.keys():  # noqa: SIM118 (safe_open is not a dict)
                    self._where[canonical_name(key)] = (handle, key)

    def names(self) -> list[str]:
        return sorted(self._mapping) if self._mapping is not None else sorted(self._where)

    def __contains__(self, name: str) -> bool:
        name = canonical_name(name)
        return name in self._mapping if self._mapping is not None else name in self._where

    def get(self, name: str) -> torch.Tensor:
        """The tensor stored under canonical `name` (CPU tensor for files)."""
        name = canonical_name(name)
        if self._mapping is not None:
            if name not in self._mapping:
                raise UserInputError(f"tensor {name!r} missing from the in-memory source")
            return self._mapping[name]
        if name not in self._where:
            raise UserInputError(f"tensor {name!r} missing from {self.path}")
        handle, key = self._where[name]
        return handle.get_tensor(key)


def content_hash(source: str | Path | Mapping[str, torch.Tensor]) -> str:
    """Content hash of a tensor source, identical for a mapping and a file holding the same tensors."""
    src = TensorSource(source)
    return hash_named_tensors(src.names(), src.get)
