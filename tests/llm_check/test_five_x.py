"""llm_check.five_x: the staged 5x run's guards and its `llm-check run --full` entry (the whole run at tiny
scale is the device rehearsal, tests/llm_check/test_device_5x.py)."""

from __future__ import annotations

import json
import zipfile

import pytest
import torch
from conftest import write_sdist

from llm_check.five_x import (
    HELD_OUT_BLOCKS_PER_SET,
    FiveXConfig,
    blocks_tensor,
    held_out_sets,
    precision_guard,
)
from theory.claims.protocol import FIVE_X_PROTOCOL, LLM_BASIC_POOL
from theory.errors import UserInputError


def test_precision_guard_refuses_low_precision_master_weights(tiny_model):
    precision_guard(tiny_model)
    half = type(tiny_model)(tiny_model.config).to(torch.bfloat16)
    with pytest.raises(UserInputError, match="float32 master weights"):
        precision_guard(half)


def test_held_out_sets_are_disjoint_and_never_trained_on():
    tokens = torch.arange(32 * 60).numpy()
    train, held = blocks_tensor(tokens, 32, HELD_OUT_BLOCKS_PER_SET * 5)
    assert len(train) == 20 and len(held) == 40 and held.min() > train.max()
    monitor, worst, nll = held_out_sets(held, 3)
    rows = [monitor, *worst, nll]
    assert [len(r) for r in rows] == [HELD_OUT_BLOCKS_PER_SET] * 5
    seen = torch.cat([r.flatten() for r in rows])
    assert len(set(seen.tolist())) == seen.numel()
    with pytest.raises(UserInputError, match="held-out blocks"):
        held_out_sets(held, 4)


def test_config_needs_the_primary_arm_and_a_known_autocast():
    with pytest.raises(UserInputError, match="primary"):
        FiveXConfig(arms=(2.0,))
    with pytest.raises(UserInputError, match="autocast"):
        FiveXConfig(autocast="int8")


def _pool_task(name: str, n: int) -> dict:
    return {"name": name, "examples": [{"input": f"{name} question {i}?", "target_scores": {"yes": 1, "no": 0}}
                                       for i in range(n)]}


def test_run_full_stops_at_the_gate_on_a_model_below_resolution(tmp_path, monkeypatch, tiny_gguf):
    from llm_check import fetch
    from llm_check.cli import main

    cache = tmp_path / "cache"
    (cache / "downloads").mkdir(parents=True)
    per = FIVE_X_PROTOCOL.gate_min_examples_llm // len(LLM_BASIC_POOL) + 5
    tasks = {p: _pool_task(p, per) for p in LLM_BASIC_POOL}
    tasks["training_only"] = {"examples": [{"input": "Is water wet?", "target": "yes"}] * 50}
    write_sdist(cache / "downloads" / fetch.BIGBENCH_SDIST, tasks)
    with zipfile.ZipFile(cache / "downloads" / fetch.DEFAULT_MODEL_WHEEL, "w") as zf:
        zf.write(tiny_gguf, fetch.DEFAULT_MODEL_MEMBER)
    monkeypatch.setenv("BASIN_CACHE", str(cache))
    out = tmp_path / "out"
    rc = main(["run", "--full", "--output-path", str(out), "--train-tokens", "300000", "--block-size", "32",
               "--full-steps", "2", "--full-batch-size", "2", "--seed", "3"])
    assert rc == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stages_done"] == ["load", "gate", "report"]
    gate = summary["stages"]["gate"]
    assert gate["n_examples"] == per * len(LLM_BASIC_POOL) and gate["below_resolution"]
    assert summary["verdicts"]["go-enlarges-5x"].startswith("not-measured")
    load = summary["stages"]["load"]
    assert load["train_tokens"] == load["train_blocks"] * 32 and load["steps"] == 2
    assert "training_only" in summary["provenance"]["training_tasks"]
    assert not set(LLM_BASIC_POOL) & set(summary["provenance"]["training_tasks"])
    assert "below resolution" in (out / "report.md").read_text()


def test_run_full_refuses_a_low_precision_dtype(tmp_path, capsys):
    from llm_check.cli import main

    assert main(["run", "--full", "--output-path", str(tmp_path / "o"), "--dtype", "bfloat16"]) == 2
    assert "float32 master weights" in capsys.readouterr().err
