"""`llm-check` through its main(): bad input exits 2 with one line on stderr before any model loads and
leaves DIR/rows.jsonl byte-identical; --limit above a task's size and a repeated task warn and record what
was used; a killed-and-resumed quick run reports the same n_evals as an uninterrupted one; manifests."""

from __future__ import annotations

import json
import shutil

import pytest
from llm_runs_support import write_task

from llm_check import model_io
from llm_check.cli import main

# A quick run small enough for the test budget: two directions, 8 (noise, example) pairs per sigma.
QUICK = ["run", "--quick", "--stages", "edges,sigma_basin,certificate", "--k", "2", "--n", "8"]


def own_lines(capsys) -> list[str]:
    """llm-check's own stderr lines (transformers may add a weight-loading progress bar)."""
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("llm-check:")]


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("llm-check: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    return write_task(tmp_path_factory.mktemp("task") / "tiny.jsonl")


@pytest.fixture(scope="module")
def quick_dir(tmp_path_factory, tiny_hf_dir, task):
    """An output folder filled by an uninterrupted quick run on the tiny model."""
    out = tmp_path_factory.mktemp("quick") / "out"
    assert main([*QUICK, "--model", str(tiny_hf_dir), "--tasks", str(task), "--output-path", str(out)]) == 0
    return out


@pytest.fixture
def no_model(monkeypatch):
    """Loading a model fails the test: every case below must be refused before that."""
    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the bad input was reported")

    monkeypatch.setattr(model_io, "load_model", refuse)


# every subcommand taking --output-path, with the flags it requires
SUBCOMMANDS = [["score"], ["run", "--quick"], ["curves"], ["edges"], ["sigma-basin", "--sigmas", "0.1"],
               ["strict-basin", "--sigma", "0.1"], ["worst-case"], ["certify", "--sigma", "0.1"],
               ["input-robustness", "--sigma-emb", "0.1", "--sigma", "0.1"], ["enlarge", "--sigmas", "0.1"],
               ["distributed"]]


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: c[0])
def test_output_path_naming_a_file_is_refused_first(command, quick_dir, task, no_model, capsys):
    rows = quick_dir / "rows.jsonl"
    before = rows.read_bytes()
    assert main([*command, "--tasks", str(task), "--output-path", str(rows)]) == 2
    assert "exists and is not a directory" in one_error_line(capsys)
    assert rows.read_bytes() == before


def test_sft_output_path_naming_a_file_is_refused_first(quick_dir, task, no_model, capsys):
    rows = quick_dir / "rows.jsonl"
    before = rows.read_bytes()
    argv = ["sft", "--checkpoint", str(task), "--tasks", str(task), "--output-path", str(rows)]
    assert main(argv) == 2
    assert "exists and is not a directory" in one_error_line(capsys)
    assert rows.read_bytes() == before


@pytest.mark.parametrize("command", [["score"], ["curves"]], ids=lambda c: c[0])
def test_output_path_that_cannot_be_created(command, task, no_model, capsys):
    assert main([*command, "--tasks", str(task), "--output-path", "/proc/llm-check-x"]) == 2
    assert "/proc/llm-check-x: cannot create the folder" in one_error_line(capsys)


@pytest.mark.parametrize("argv, fragment", [
    (["--seed", "-1"], "argument --seed: expected an integer in [0, 4294967295], got -1"),
    (["--seed", "x"], "argument --seed: expected an integer in [0, 4294967295], got 'x'"),
    (["--stages", "bogus"], "stages must be a non-empty subset of edges,sigma_basin,worst_case,certificate,go; "
                            "got bogus"),
    (["--stages", ","], "got none"),
])
def test_bad_run_flags_refused_before_work(argv, fragment, quick_dir, task, no_model, capsys):
    rows = quick_dir / "rows.jsonl"
    before, summary = rows.read_bytes(), (quick_dir / "summary.json").read_bytes()
    assert main(["run", "--quick", "--tasks", str(task), "--output-path", str(quick_dir), *argv]) == 2
    assert fragment in one_error_line(capsys)
    assert rows.read_bytes() == before and (quick_dir / "summary.json").read_bytes() == summary


def test_report_refuses_a_summary_without_measured_stages(tmp_path, capsys):
    summary = {"model": "tiny", "config": {"stages": ["edges"]}, "timings_s": {},
               "capabilities": {"basic": {"task": "t", "n_examples": 5, "chance": 0.3}}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    assert main(["report", str(tmp_path)]) == 2
    assert "holds no measured stage" in one_error_line(capsys)
    assert not (tmp_path / "report.md").exists()


def test_limit_above_task_size_warns_and_records_n(tmp_path, tiny_hf_dir, task, capsys):
    out = tmp_path / "out"
    assert main(["score", "--model", str(tiny_hf_dir), "--tasks", str(task), "--limit", "50",
                 "--output-path", str(out)]) == 0
    assert own_lines(capsys) == ["llm-check: warning: --limit 50 exceeds the 5 examples of task tiny; using 5"]
    row = json.loads((out / "scores.json").read_text())["scores"][0]
    assert (row["n"], row["n_in_task"], row["limit_requested"]) == (5, 5, 50)


def test_limit_recorded_by_a_run_command(tmp_path, tiny_hf_dir, task, capsys):
    out = tmp_path / "out"
    assert main(["strict-basin", "--sigma", "0.01", "--n-directions", "2", "--model", str(tiny_hf_dir),
                 "--tasks", str(task), "--limit", "3", "--output-path", str(out)]) == 0
    assert own_lines(capsys) == []
    record = json.loads((out / "strict_basin.json").read_text())["tasks"]["tiny"]
    assert (record["n"], record["n_in_task"], record["limit_requested"]) == (3, 5, 3)


def test_a_task_listed_twice_is_scored_once(tmp_path, tiny_hf_dir, task, capsys):
    out = tmp_path / "out"
    assert main(["score", "--model", str(tiny_hf_dir), "--tasks", f"{task},{task}", "--output-path", str(out)]) == 0
    assert own_lines(capsys) == [f"llm-check: warning: task '{task}' is listed 2 times in --tasks; it is scored once"]
    assert [r["task"] for r in json.loads((out / "scores.json").read_text())["scores"]] == ["tiny"]


def _n_evals(summary: dict) -> dict[str, int]:
    block = summary["capabilities"]["tiny"]
    return {"edges": block["basin_edge"]["n_evals"], "sigma_basin": block["sigma_basin_n_evals"],
            "certificate": block["certificate"]["n_evals"]}


def test_n_evals_counts_rows_of_the_stage(quick_dir):
    """Each stage's n_evals is its rows in rows.jsonl, counted here from the file: the clean baseline plus
    the edge chunks at the directions and α the stage lists, the σ-basin's trials and pilot, the
    certificate's draws."""
    summary = json.loads((quick_dir / "summary.json").read_text())
    block = summary["capabilities"]["tiny"]
    rows = [json.loads(line)["key"] for line in (quick_dir / "rows.jsonl").read_text().splitlines()]
    probes = [r for r in rows if r["direction"] is not None and r["alpha"] != 0.0]  # not S(θ₀), not b's choice
    edge_seeds = {summary["seed"] + i for i in range(2)}
    edge_alphas = {a for d in block["basin_edge"]["evaluations"] for a, _ in d}
    edge = [r for r in probes if r["direction"]["seed"] in edge_seeds and r["alpha"] in edge_alphas]
    scored = sum(sum(per_direction) for per_direction in block["basin_edge"]["examples_scored"])
    assert sum(len(r["example_ids"]) for r in edge) == scored          # every scored example is one row's
    assert block["basin_edge"]["n_evals"] == 1 + len(edge)
    sigmas = {p["sigma"] for p in block["sigma_basin_points"]}
    seeds = {s for p in block["sigma_basin_points"] for s in p["noise_seeds"]}
    trials = [r for r in probes if r["alpha"] in sigmas and r["direction"]["seed"] in seeds]
    assert len(trials) == sum(t["trials"] for t in block["sigma_basin_trials"])
    pilot_sigma = block["sigma_basin"]["extra"]["b_choice"]["pilot_sigma"]
    cert_seeds = set(block["certificate"]["noise_seeds"])
    pilot = [r for r in probes if r["alpha"] == pilot_sigma
             and r["direction"]["seed"] not in seeds | cert_seeds | edge_seeds]
    assert len(pilot) == 12                                               # 6 pilot draws on the set and 1
    assert block["sigma_basin_n_evals"] == 1 + len(trials) + len(pilot)
    cert = block["certificate"]
    drawn = [r for r in probes if r["alpha"] == cert["sigma"] and r["direction"]["seed"] in set(cert["noise_seeds"])]
    assert block["certificate"]["n_evals"] == 1 + len(drawn) == 1 + cert["n_trials"]


def test_go_arms_are_left_out_of_the_quick_check_with_their_reason(quick_dir):
    go = json.loads((quick_dir / "summary.json").read_text())["go_enlargement"]
    assert go["verdict"] == "not-measured: under-trained"
    assert (go["steps"], go["batch_size"], go["authors_steps"], go["authors_batch_size"]) == (20, 4, 5600, 64)


def test_killed_and_resumed_run_reports_the_same_n_evals(tmp_path, quick_dir, tiny_hf_dir, task):
    lines = (quick_dir / "rows.jsonl").read_bytes().splitlines(keepends=True)
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    (resumed / "rows.jsonl").write_bytes(b"".join(lines[:-5]))  # a kill 5 rows before the end
    assert main([*QUICK, "--model", str(tiny_hf_dir), "--tasks", str(task), "--output-path", str(resumed)]) == 0
    whole = json.loads((quick_dir / "summary.json").read_text())
    again = json.loads((resumed / "summary.json").read_text())
    assert _n_evals(again) == _n_evals(whole)
    assert len((resumed / "rows.jsonl").read_bytes().splitlines()) == len(lines)


def test_manifest_records_the_run_without_machine_paths(quick_dir, tmp_path, capsys):
    text = (quick_dir / "manifest.json").read_text()
    run = json.loads(text)["runs"][0]
    assert run["command"][:2] == ["llm-check", "run"] and "<output>" in run["command"]
    assert str(quick_dir) not in text and str(quick_dir.parent) not in text
    assert set(run["versions"]) == {"python", "numpy", "torch", "transformers"} and run["versions"]["torch"]
    assert run["cpu_capability"] and run["torch_threads"] >= 1 and run["weight_hash"]
    assert run["tasks"]["tiny"] == {"task": "tiny", "n": 5, "n_in_task": 5, "limit_requested": None}
    report_dir = tmp_path / "copy"
    shutil.copytree(quick_dir, report_dir)
    assert main(["report", str(report_dir)]) == 0
    text = (report_dir / "report.md").read_text()
    assert "## Produced by" in text and "`llm-check run --quick" in text and "CPU kernels" in text
    assert "paired sequential search, b = " in text and "trials per measured σ: σ = " in text
    assert "GO arms are not part of the quick check" in text and "not-measured: under-trained" in text
    runs = json.loads((report_dir / "manifest.json").read_text())["runs"]
    assert [r["command"][1] for r in runs] == ["run", "report"]


def test_rerunning_a_stage_writes_byte_identical_rows(tmp_path, tiny_hf_dir, task):
    """Same command, same seed, a fresh folder: the same rows.jsonl, byte for byte (effective norms summed
    in a fixed order, float64). With b fixed: b=auto is timed on the machine (and kept as a row, so that a
    resumed run repeats it, but a fresh folder times it again)."""
    runs = []
    for name in ("first", "again"):
        out = tmp_path / name
        assert main([*QUICK, "--b", "2", "--model", str(tiny_hf_dir), "--tasks", str(task),
                     "--output-path", str(out)]) == 0
        runs.append((out / "rows.jsonl").read_bytes())
    first, second = runs
    assert first.count(b"\n") > 10 and b'"effective_norm"' in first
    assert first == second
