"""Results store: resumable, atomic, NaN-free, deterministic across processes and rank shards."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from landscape.directions import DirectionSpec
from landscape.store import ResultStore, canonical_json, merge_shards, row_key, shard_path
from theory.errors import InternalError, UserInputError


def _key(i: int) -> dict:
    return row_key("toy", "abc123", "acc", DirectionSpec(seed=1), alpha=0.001 * i, example_ids=range(i % 3))


def test_roundtrip_skip_and_nan_to_null(tmp_path):
    path = tmp_path / "rows.jsonl"
    store = ResultStore(path)
    assert store.append(_key(1), {"score": float("nan"), "n": 5, "hi": float("inf")})
    assert not store.append(_key(1), {"score": 0.5})  # present: skipped
    again = ResultStore(path)
    assert again.has(_key(1)) and not again.has(_key(2))
    assert again.get(_key(1)) == {"score": None, "n": 5, "hi": "inf"}
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and "NaN" not in lines[0]
    assert json.loads(lines[0])["values"]["score"] is None


def test_row_key_needs_exactly_one_of_alpha_or_seed():
    with pytest.raises(InternalError):
        row_key("m", "w", "s", {}, alpha=0.1, noise_seed=1)
    with pytest.raises(InternalError):
        row_key("m", "w", "s", {})
    long_ids = row_key("m", "w", "s", {}, noise_seed=1, example_ids=range(1000))["example_ids"]
    assert long_ids["n"] == 1000 and long_ids != row_key("m", "w", "s", {}, noise_seed=1,
                                                          example_ids=range(1, 1001))["example_ids"]


def test_truncated_last_line_is_discarded(tmp_path):
    path = tmp_path / "rows.jsonl"
    store = ResultStore(path)
    for i in range(3):
        store.append(_key(i), {"score": i})
    whole = path.read_bytes()
    path.write_bytes(whole[:-7])  # kill during the third append
    store = ResultStore(path)
    assert [r.values["score"] for r in store.rows()] == [0, 1]
    store.append(_key(2), {"score": 2})
    assert path.read_bytes() == whole


def test_corrupt_middle_line_is_an_error(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"key": {}, "values": {}}\nnot json\n{"key": {"a": 1}, "values": {}}\n')
    with pytest.raises(UserInputError, match=":2:"):
        ResultStore(path)


def test_rank_shards_merge_deterministically(tmp_path):
    outputs = []
    for order in ([0, 1, 2, 3, 4, 5], [5, 3, 1, 4, 2, 0]):
        d = tmp_path / str(len(outputs))
        stores = {r: ResultStore(d / "rows.jsonl", rank=r) for r in (0, 1)}
        for i in order:
            stores[i % 2].append(_key(i), {"score": i / 7})
        assert shard_path(d / "rows.jsonl", 1).exists()
        assert merge_shards(d / "rows.jsonl") == 6
        assert not shard_path(d / "rows.jsonl", 1).exists()
        outputs.append((d / "rows.jsonl").read_bytes())
    assert outputs[0] == outputs[1]
    keys = [canonical_json(json.loads(line)["key"]) for line in outputs[0].splitlines()]
    assert keys == sorted(keys)


def write_rows(path: str, n: int, pause: float = 0.0) -> None:
    """Score a tiny model under noise seeds 0..n-1, one stored row each, skipping rows already stored."""
    import time

    import torch

    from landscape.perturb import gaussian_noise

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x = torch.linspace(-1, 1, 12).reshape(3, 4)
    store = ResultStore(path)
    for seed in range(n):
        key = row_key("mlp", "w0", "mean-out", DirectionSpec(seed=0), noise_seed=seed,
                      tags={"b", "a", "c"}, extra={"z": 1, "y": [1, 2]})
        if store.has(key):
            continue
        with gaussian_noise(model, 0.05, seed), torch.no_grad():
            out = float(model(x).mean())
        store.append(key, {"score": out, "nan": float("nan")})
        print(seed, flush=True)
        time.sleep(pause)  # an evaluation's worth of time for the kill to land in


_WRITER = """
import sys
sys.path.insert(0, sys.argv[1])
from test_store import write_rows
write_rows(sys.argv[2], int(sys.argv[3]), pause=0.05)
"""


def _run_writer(path, n, hash_seed, kill_after=None):
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, os.path.dirname(__file__), str(path), str(n)], env=env,
                            stdout=subprocess.PIPE, text=True)
    seen = 0
    for _ in proc.stdout:
        seen += 1
        if kill_after is not None and seen == kill_after:
            proc.kill()  # SIGKILL
            break
    proc.wait(timeout=120)
    return seen


def test_sigkilled_run_resumes_to_the_rows_of_an_uninterrupted_run(tmp_path):
    n = 12
    kill_after = random.Random(20250517).randint(1, n - 2)
    reference, resumed = tmp_path / "ref.jsonl", tmp_path / "resumed.jsonl"
    write_rows(str(reference), n)  # uninterrupted, in this process (its own hash seed)
    assert _run_writer(resumed, n, hash_seed=2, kill_after=kill_after) == kill_after
    done = len(ResultStore(resumed))
    assert kill_after <= done < n
    assert _run_writer(resumed, n, hash_seed=3) == n - done
    assert resumed.read_bytes() == reference.read_bytes()
