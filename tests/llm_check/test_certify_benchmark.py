"""`python -m benchmarks certify --model DIR` on the tiny offline model: both arms run on the LLM path, decide
every far-off σ the same way, and the last line is the RATIOS contract (capped when the budget is lowered)."""

from __future__ import annotations

import re

from llm_runs_support import write_task

from benchmarks import certify


def test_llm_path_prints_the_ratios_line(tmp_path, tiny_hf_dir, capsys):
    task = write_task(tmp_path / "tiny.jsonl")
    assert certify.main(["--model", str(tiny_hf_dir), "--task", str(task), "--edge", "0.05", "--factors", "0.01,40",
                         "--max-trials", "300"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    last = re.fullmatch(r"RATIOS wall=([\d.]+) noise_draws=([\d.]+) evals=([\d.]+) coverage_ok=([01]) capped=1",
                        lines[-1])
    assert last, lines[-1]
    assert last.group(4) == "1"
    arms = [line for line in lines if line.startswith(("a fixed-n", "b paired"))]
    assert len(arms) == 2 and all("0.0005: " in line and "2: " in line for line in arms)
