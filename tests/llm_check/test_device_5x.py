"""scripts/device_5x.py: the GPU runbook rehearsed end to end on CPU at tiny scale (a tiny llama GGUF split
over two payload folders, the wheel installed with --target, stage1 then stage2 on --device cpu with bf16
autocast, the same stage2 again resuming, and the refusals of a cold machine and a damaged part), plus the
payload cut. The real payload's sizes are measured by the README's `--rehearse` step, not here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from llm_check.five_x import STAGES

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import device_5x  # noqa: E402


def test_rehearsal_runs_every_stage_and_refuses_a_cold_machine(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "device_5x.py"), "--rehearse",
                           "--skip-real-payload", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == f"REHEARSAL ok stages={','.join(STAGES)} carried_mib=skipped"
    assert any(x.startswith("STAGE1 ok files=4 ") for x in lines)
    assert "without the first half: exit 2" in done.stdout and "damaged second half: exit 2" in done.stdout
    assert "rerun resumed in" in done.stdout
    files = sorted(p.name for p in out.iterdir())
    assert files == ["loss_curves.json", "loss_curves.png", "ratios.json", "report.md", "rows.jsonl", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert tuple(summary["stages_done"]) == STAGES and summary["rng"] == "cpu"
    assert summary["config"]["autocast"] == "bfloat16"  # the GPU run's numerics
    load = summary["stages"]["load"]
    assert load["steps"] == 4 and load["step_probe"]["seconds_per_step"] > 0
    arm = summary["enlargement"]["arms"][0]
    # the rehearsal's GO stops at its plateau, so the control is measured again at that step
    assert arm["plateau_reached"] and arm["steps"] < load["steps"]
    assert f"control-at{arm['steps']}-canonical" in (out / "rows.jsonl").read_text()
    assert arm["primary"] and arm["m"] == 5 and arm["test"]["verdict"] and arm["gate"]["min_examples"] == 500 and arm["gate"]["difference"]["n"] >= 500
    curves = json.loads((out / "loss_curves.json").read_text())
    assert sorted(len(v) for v in curves.values()) == [arm["steps"], 4]
    change = summary["stages"]["enlargement"]["training"]["parameter_change"]
    assert all(c["delta_norm"] > 0 and 0 < c["moved_share"] <= 1 for c in change.values())
    worst = summary["stages"]["worst_case"]
    assert len(worst["worst_edges"]) == 3 and len(worst["nll_control"]["worst"]) == 3
    report = (out / "report.md").read_text()
    assert "go-enlarges-5x" in report and "worst-much-narrower" in report
    assert set(summary["verdicts"]) == {"go-enlarges-5x", "worst-much-narrower"}


def test_payload_cut_fills_the_second_command_and_fits_the_first(tmp_path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(np.random.default_rng(0).integers(0, 256, 6 * 2**20, dtype=np.uint8).tobytes())
    wheel = tmp_path / "w.whl"
    wheel.write_bytes(b"x" * 1000)
    tokens = np.random.default_rng(1).integers(0, 50_000, 2_000_000).astype(np.uint16)  # ≈ 3.8 MiB compressed
    old = device_5x.LIMIT_MIB, device_5x.MARGIN_MIB
    device_5x.LIMIT_MIB, device_5x.MARGIN_MIB = 5.0, 0.5  # a small limit, so both cuts bite
    try:
        manifest = device_5x.build_payload(tmp_path / "dev", gguf, {"examples": []}, tokens, wheel, 0.25, {})
    finally:
        device_5x.LIMIT_MIB, device_5x.MARGIN_MIB = old
    c1, c2 = manifest["carried_mib"]
    # c2 is filled to the limit less the margin, less the 4 KiB the cut reserves for the manifest
    assert c1 <= 4.5 and 4.5 - 4096 / 2**20 <= c2 <= 4.5
    assert 0 < manifest["train_tokens"] < len(tokens)
    parts = manifest["gguf"]["parts"]
    assert sum(p["size"] for p in parts) == gguf.stat().st_size
