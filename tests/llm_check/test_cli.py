"""CLI: lm-eval flags, one-line errors with exit status 2, a real `score` run on the tiny model."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from llm_check import cli, cli_args


def run_cli(*args: str, cache=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if cache is not None:
        env["BASIN_CACHE"] = str(cache)
    return subprocess.run([sys.executable, "-m", "llm_check", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def assert_user_error(done: subprocess.CompletedProcess, fragment: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in done.stderr


@pytest.fixture
def jsonl(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text("\n".join(json.dumps({"query": f"Q: {i}?\nA:", "choices": ["yes", "no", "maybe"],
                                          "gold": i % 3}) for i in range(5)) + "\n")
    return path


def test_both_flag_spellings_parse():
    parser = cli.build_parser()
    a = parser.parse_args(["score", "--batch_size", "4", "--output_path", "x", "--dry_run"])
    b = parser.parse_args(["score", "--batch-size", "4", "--output-path", "x", "--dry-run"])
    assert (a.batch_size, a.output_path, a.dry_run) == (b.batch_size, b.output_path, b.dry_run)
    assert a.batch_size == 4 and a.dry_run


@pytest.mark.parametrize("argv", [["score", "--limit", "0"], ["score", "--dtype", "int4"], ["nonsense"], []])
def test_bad_flags_exit_2_in_process(argv, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("llm-check: error:")


@pytest.mark.parametrize("argv, message", [
    (["score", "--limit", "0"], "argument --limit: expected an integer >= 1, got 0"),
    (["score", "--limit", "x"], "argument --limit: expected an integer >= 1, got 'x'"),
    (["sigma-basin", "--sigmas", "0.1,0"], "argument --sigmas: every sigma must be a finite number > 0, got 0.0"),
    (["sigma-basin", "--sigmas", "0.1", "--tau", "2"], "argument --tau: expected a number in [0, 1], got 2"),
    (["distributed", "--stage", "sigma-basin"], "llm-check distributed --stage sigma-basin needs --sigmas"),
])
def test_bad_values_say_what_was_expected(argv, message, capsys):
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.strip() == f"llm-check: error: {message}"


@pytest.mark.parametrize("text", ["0", "-1e-3", "nan", "inf", "abc"])
def test_sigma_must_be_positive(text):
    with pytest.raises(argparse.ArgumentTypeError):
        cli_args.positive_float(text)


def test_unknown_task_and_malformed_jsonl_exit_2(tmp_path, jsonl):
    assert_user_error(run_cli("score", "--tasks", "no_such_task", cache=tmp_path), "unknown task")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(jsonl.read_text() + "{oops\n")
    assert_user_error(run_cli("score", "--tasks", str(bad), cache=tmp_path), "bad.jsonl:6")
    assert_user_error(run_cli("score", "--tasks", str(jsonl), "--limit", "0", cache=tmp_path), "--limit")


def test_missing_model_and_unreadable_gguf_exit_2(tmp_path, jsonl, capsys, monkeypatch):
    """In-process (torch is already imported here); the exit-status mapping itself is checked above."""
    monkeypatch.setenv("BASIN_CACHE", str(tmp_path))
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + b"\0" * 8)
    for model, fragment in [(tmp_path / "absent", "not found"), (junk, "unreadable GGUF")]:
        assert cli.main(["score", "--model", str(model), "--tasks", str(jsonl)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and fragment in err[0]


def test_dry_run_counts_without_loading(tmp_path, jsonl):
    done = run_cli("score", "--tasks", str(jsonl), "--limit", "2", "--dry-run", "--model", "/absent",
                   cache=tmp_path)
    assert done.returncode == 0 and "mine: 2 examples, 6 continuations to score" in done.stdout


def test_score_prints_scores_with_intervals(tmp_path, jsonl, tiny_hf_dir, capsys, monkeypatch):
    monkeypatch.setenv("BASIN_CACHE", str(tmp_path))
    out = tmp_path / "out"
    assert cli.main(["score", "--model", str(tiny_hf_dir), "--tasks", str(jsonl), "--limit", "4",
                     "--batch_size", "3", "--output_path", str(out)]) == 0
    summary = json.loads((out / "scores.json").read_text())
    row = summary["scores"][0]
    assert row["task"] == "mine" and row["n"] == 4 and row["chance"] == pytest.approx(1 / 3)
    lo, hi = row["ci"]
    assert 0 <= lo <= row["score"] <= hi <= 1
    assert summary["weight_hash"] and f"mine: {row['score']:.4f}" in capsys.readouterr().out
