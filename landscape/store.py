"""Append-only JSONL results store: one row = one evaluation, keyed, resumable after a kill.

Row line: {"key": {...}, "values": {...}} as canonical JSON (sorted keys, no NaN: NaN → null,
±inf → "inf"/"-inf"), so equal inputs give equal bytes in every process whatever PYTHONHASHSEED.
Appends are one write(2) on an O_APPEND descriptor followed by fsync; a truncated last line (a kill
mid-write) is discarded when the file is opened. Per-rank shards (`<stem>.rank<r><suffix>`) are merged
by `merge_shards` into the main file sorted by key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theory.errors import InternalError, UserInputError

MAX_LISTED_IDS = 32


def to_json_value(obj: Any) -> Any:
    """Plain JSON value: NaN → None, ±inf → "inf"/"-inf", numpy/torch scalars and arrays → Python,
    tuples → lists, sets → sorted lists, objects with to_dict()/to_key() or dataclasses → dicts."""
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        x = float(obj)
        if math.isnan(x):
            return None
        return ("inf" if x > 0 else "-inf") if math.isinf(x) else x
    if isinstance(obj, Mapping):
        return {str(k): to_json_value(v) for k, v in obj.items()}
    if isinstance(obj, set | frozenset):
        return sorted((to_json_value(v) for v in obj), key=canonical_json)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f" and np.isfinite(obj).all():  # per-example outcomes: no per-element walk
            return obj.astype(np.float64).tolist()
        return to_json_value(obj.tolist())
    if isinstance(obj, list) and all(type(v) is float for v in obj) and all(map(math.isfinite, obj)):
        return list(obj)  # finite Python floats are already plain JSON
    if isinstance(obj, Sequence):
        return [to_json_value(v) for v in obj]
    for method in ("to_key", "to_dict"):
        if callable(getattr(obj, method, None)):
            return to_json_value(getattr(obj, method)())
    if hasattr(obj, "tolist"):
        return to_json_value(obj.tolist())
    if dataclasses.is_dataclass(obj):
        return to_json_value(dataclasses.asdict(obj))
    raise UserInputError(f"cannot store a value of type {type(obj).__name__} in a result row")


def canonical_json(obj: Any) -> str:
    """Deterministic JSON text of `obj` (sorted keys, compact separators, no NaN)."""
    return json.dumps(to_json_value(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def example_ids_key(example_ids: Sequence[int] | None) -> Any:
    """Example ids for a key: None (all), the list when short, else {"n", "sha256"} of the list."""
    if example_ids is None:
        return None
    ids = [int(i) for i in example_ids]
    if len(ids) <= MAX_LISTED_IDS:
        return ids
    return {"n": len(ids), "sha256": hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()}


def row_key(model_id: str, weight_hash: str, score_id: str, direction: Any, *, alpha: float | None = None,
            noise_seed: int | None = None, example_ids: Sequence[int] | None = None, **extra: Any) -> dict:
    """The key of one row: model id, weight hash, score id, direction key, α or noise seed, example ids."""
    if (alpha is None) == (noise_seed is None):
        raise InternalError("a row key needs exactly one of alpha or noise_seed")
    key = {"model": model_id, "weights": weight_hash, "score": score_id, "direction": to_json_value(direction),
           "example_ids": example_ids_key(example_ids)}
    key.update({"alpha": float(alpha)} if alpha is not None else {"noise_seed": int(noise_seed)})
    key.update(to_json_value(extra))
    return key


@dataclass(frozen=True)
class Row:
    key: dict
    values: dict


def _read_rows(path: Path) -> list[Row]:
    """Rows of one JSONL file; a last line without its newline (a kill mid-append) is cut off the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
        os.truncate(path, keep)
        data = data[:keep]
    rows = []
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            obj = json.loads(line)
            rows.append(Row(obj["key"], obj["values"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise UserInputError(f"{path}:{number}: corrupt result row ({exc})") from exc
    return rows


def shard_path(path: str | Path, rank: int) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.rank{int(rank):05d}{path.suffix}")


class ResultStore:
    """Resumable append-only store. With `rank`, writes go to that rank's shard (reads see both)."""

    def __init__(self, path: str | Path, rank: int | None = None):
        self.path = Path(path)
        self.file = self.path if rank is None else shard_path(self.path, rank)
        self.file.parent.mkdir(parents=True, exist_ok=True)
        self._rows: list[Row] = []
        self._index: dict[str, int] = {}
        for file in dict.fromkeys([self.path, self.file]):
            for row in _read_rows(file):
                self._remember(row)

    def _remember(self, row: Row) -> None:
        k = canonical_json(row.key)
        if k not in self._index:
            self._index[k] = len(self._rows)
            self._rows.append(row)

    def has(self, key: Mapping[str, Any]) -> bool:
        return canonical_json(key) in self._index

    def get(self, key: Mapping[str, Any]) -> dict | None:
        """The stored values for `key` (NaN read back as None), or None when absent."""
        i = self._index.get(canonical_json(key))
        return None if i is None else self._rows[i].values

    def append(self, key: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
        """Append one row atomically (single write + fsync); False (nothing written) if the key exists."""
        if self.has(key):
            return False
        row = Row(to_json_value(key), to_json_value(values))
        line = (canonical_json({"key": row.key, "values": row.values}) + "\n").encode()
        fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(f"short write to {self.file}: {written} of {len(line)} bytes")
            os.fsync(fd)
        finally:
            os.close(fd)
        self._remember(row)
        return True

    def rows(self) -> list[Row]:
        """All rows seen (main file, then this rank's shard), in append order."""
        return list(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def merge_shards(path: str | Path) -> int:
    """Merge `path` and its rank shards into `path`, one row per key (first seen in main-then-rank
    order), sorted by canonical key; deterministic whatever order the ranks wrote in. Returns rows."""
    path = Path(path)
    shards = sorted(path.parent.glob(f"{path.stem}.rank*{path.suffix}"))
    merged: dict[str, Row] = {}
    for file in [path, *shards]:
        for row in _read_rows(file):
            merged.setdefault(canonical_json(row.key), row)
    tmp = path.with_name(path.name + ".merge.tmp")
    with open(tmp, "wb") as f:
        for k in sorted(merged):
            f.write((canonical_json({"key": merged[k].key, "values": merged[k].values}) + "\n").encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    for shard in shards:
        shard.unlink()
    return len(merged)
