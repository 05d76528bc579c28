"""What a real-model run carries to a machine with no network and a per-command byte limit.

- A large file crosses in parts (`split_file`), each in its own folder, and is put together again with its
  sha256 checked (`reassemble`).
- Token streams travel as lzma-compressed little-endian uint16 (`write_tokens` / `read_tokens`; vocabularies
  ≤ 65,536), so no tokenizer has to run there.
- A multiple-choice task travels pre-tokenised (`freeze_task` / `thaw_task`): its records plus every string's
  token ids, read back through `FrozenTokenizer`, which answers exactly those strings. The score built on the
  thawed task tokenises nothing, so it is the same Score on both machines.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llm_check.multiple_choice import MultipleChoiceExample, MultipleChoiceTask
from theory.errors import UserInputError

MIB = 2 ** 20
_CHUNK = 1 << 20


def folder_mib(paths: Iterable[Path]) -> float:
    """Total size in MiB of the files under `paths` (files or folders)."""
    total = 0
    for p in paths:
        p = Path(p)
        total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size
    return total / MIB


@dataclass(frozen=True)
class Part:
    path: Path
    offset: int
    size: int
    sha256: str


def split_file(path: Path, targets: Sequence[Path], first_sizes: Sequence[int]) -> list[Part]:
    """Cut `path` into len(targets) parts: part i (bytes [offset_i, offset_i + first_sizes[i])) goes to
    targets[i]/<name>.part<i>; the last part takes the rest."""
    path = Path(path)
    total = path.stat().st_size
    if len(first_sizes) != len(targets) - 1 or sum(first_sizes) > total or any(s < 0 for s in first_sizes):
        raise ValueError(f"cannot cut {total} bytes into {len(targets)} parts at {list(first_sizes)}")
    sizes = [*first_sizes, total - sum(first_sizes)]
    parts, offset = [], 0
    with open(path, "rb") as src:
        for i, (folder, size) in enumerate(zip(targets, sizes)):
            Path(folder).mkdir(parents=True, exist_ok=True)
            out = Path(folder) / f"{path.name}.part{i}"
            h = hashlib.sha256()
            with open(out, "wb") as dst:
                left = size
                while left:
                    chunk = src.read(min(_CHUNK, left))
                    h.update(chunk)
                    dst.write(chunk)
                    left -= len(chunk)
            parts.append(Part(out, offset, size, h.hexdigest()))
            offset += size
    return parts


def reassemble(parts: Sequence[Path], target: Path, sha256: str) -> Path:
    """Concatenate `parts` into `target` and check the whole file's sha256 (UserInputError, target removed,
    when a part is missing or the hash differs)."""
    missing = [str(p) for p in parts if not Path(p).is_file()]
    if missing:
        raise UserInputError(f"missing part(s) {', '.join(missing)}: the first command's files are gone "
                             "(the machine went cold); run the first command again")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    with open(target, "wb") as dst:
        for p in parts:
            with open(p, "rb") as src:
                while chunk := src.read(_CHUNK):
                    h.update(chunk)
                    dst.write(chunk)
    if h.hexdigest() != sha256:
        target.unlink()
        raise UserInputError(f"reassembled {target.name} has sha256 {h.hexdigest()[:16]}…, expected {sha256[:16]}…")
    return target


def write_tokens(path: Path, tokens: np.ndarray, *, preset: int = 6) -> Path:
    """An lzma-compressed .npy of uint16 tokens (any integer array whose values fit)."""
    tokens = np.asarray(tokens)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= 2 ** 16):
        raise ValueError("token ids do not fit in uint16")
    buf = io.BytesIO()
    np.save(buf, tokens.astype("<u2"), allow_pickle=False)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(lzma.compress(buf.getvalue(), preset=preset))
    return Path(path)


def read_tokens(path: Path) -> np.ndarray:
    return np.load(io.BytesIO(lzma.decompress(Path(path).read_bytes())), allow_pickle=False)


@dataclass(frozen=True)
class _Ids:
    input_ids: list[int]


class FrozenTokenizer:
    """A tokenizer stand-in that knows a fixed table of strings: `tok(text, add_special_tokens=True)`
    returns the ids recorded for (text, add_special_tokens), and raises KeyError for any other string."""

    def __init__(self, table: dict[str, list[int]], plain: dict[str, list[int]], pad_token_id: int | None,
                 eos_token_id: int | None) -> None:
        self._special, self._plain = table, plain
        self.pad_token_id, self.eos_token_id = pad_token_id, eos_token_id

    def __call__(self, text: str, add_special_tokens: bool = True) -> _Ids:
        return _Ids(list((self._special if add_special_tokens else self._plain)[text]))


def freeze_task(task: MultipleChoiceTask, tokenizer: Any) -> dict[str, Any]:
    """A JSON-ready record of a multiple-choice task and the token ids its Score needs (llm_check.scores:
    the query with special tokens, each " " + choice without)."""
    queries = {ex.query: list(tokenizer(ex.query).input_ids) for ex in task.examples}
    conts = {" " + c: list(tokenizer(" " + c, add_special_tokens=False).input_ids)
             for ex in task.examples for c in ex.choices}
    return {"name": task.name, "source": getattr(task, "source", ""),
            "examples": [{"query": ex.query, "choices": list(ex.choices), "gold": list(ex.gold)}
                         for ex in task.examples],
            "queries": queries, "continuations": conts,
            "pad_token_id": getattr(tokenizer, "pad_token_id", None),
            "eos_token_id": getattr(tokenizer, "eos_token_id", None)}


def thaw_task(record: dict[str, Any]) -> tuple[MultipleChoiceTask, FrozenTokenizer]:
    examples = tuple(MultipleChoiceExample(e["query"], tuple(e["choices"]), tuple(e["gold"]))
                     for e in record["examples"])
    task = MultipleChoiceTask(record["name"], examples, record.get("source", ""))
    return task, FrozenTokenizer(record["queries"], record["continuations"], record["pad_token_id"],
                                 record["eos_token_id"])


def write_json_xz(path: Path, payload: Any) -> Path:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(lzma.compress(json.dumps(payload).encode()))
    return Path(path)


def read_json_xz(path: Path) -> Any:
    return json.loads(lzma.decompress(Path(path).read_bytes()))


__all__ = ["FrozenTokenizer", "MIB", "Part", "folder_mib", "freeze_task", "read_json_xz", "read_tokens", "reassemble",
           "split_file", "thaw_task", "write_json_xz", "write_tokens"]
