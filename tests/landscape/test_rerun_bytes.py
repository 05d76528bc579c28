"""Same seed, same rows: a rerun of a small sweep writes a byte-identical rows.jsonl (effective norms
included), in fresh processes whose allocators place the buffers at other addresses."""

from __future__ import annotations

import subprocess
import sys

_CHILD = r"""
import sys, torch
from landscape.context import ProbeContext
from landscape.landscape_1d import landscape_1d
from landscape.scores import ClassificationAccuracy
from landscape.store import ResultStore

pad = [torch.empty(int(sys.argv[2]) + 17 * i) for i in range(9)]  # shift where later buffers land
torch.set_num_threads(2)  # tensors written by two worker threads
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(40, 300), torch.nn.Tanh(), torch.nn.Linear(300, 6))
x = torch.randn(32, 40, generator=torch.Generator().manual_seed(1))
score = ClassificationAccuracy(x, model(x).argmax(1).detach(), name="toy")
ctx = ProbeContext.for_model(model, store=ResultStore(sys.argv[1]), model_id="toy", seed=5)
landscape_1d(model, score, [-0.2, -0.05, 0.05, 0.2], ctx, k=3)
"""


def test_rerun_writes_byte_identical_rows(tmp_path):
    outputs = []
    for run, pad in ((1, "3"), (2, "1000003")):
        path = tmp_path / f"run{run}" / "rows.jsonl"
        path.parent.mkdir()
        subprocess.run([sys.executable, "-c", _CHILD, str(path), pad], check=True, timeout=120,
                       capture_output=True, text=True)
        outputs.append(path.read_bytes())
    assert outputs[0].count(b"\n") == 3 * 4 + 1  # K directions × 4 alphas, and the baseline
    assert b'"effective_norm"' in outputs[0]
    assert outputs[0] == outputs[1]
