"""DIR/manifest.json: portable command lines, one entry appended per command, a corrupt file refused."""

from __future__ import annotations

import json

import pytest

from landscape.manifest import portable_command, read_manifest, write_manifest
from theory.errors import UserInputError


def test_paths_become_machine_independent(tmp_path):
    out, cwd, home = tmp_path / "runs" / "a", tmp_path / "work", tmp_path / "home" / "me"
    argv = ["llm-check", "run", "--output-path", str(out), f"--tasks={cwd}/data/t.jsonl", str(out / "rows.jsonl"),
            "--model", str(home / "models" / "m.gguf"), "/opt/other", "0.5", "--seed=3"]
    assert portable_command(argv, out, cwd=cwd, home=home) == [
        "llm-check", "run", "--output-path", "<output>", "--tasks=data/t.jsonl", "<output>/rows.jsonl",
        "--model", "~/models/m.gguf", "/opt/other", "0.5", "--seed=3"]


def test_entries_are_appended_and_hold_versions(tmp_path):
    out = tmp_path / "out"
    write_manifest(out, ["prog", "first", str(out / "x")], model="m")
    write_manifest(out, ["prog", "second"])
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    assert [r["command"] for r in runs] == [["prog", "first", "<output>/x"], ["prog", "second"]]
    assert runs[0]["model"] == "m" and "model" not in runs[1]
    assert runs[0]["versions"]["python"].count(".") == 2 and runs[0]["torch_threads"] >= 1
    assert set(runs[0]["git"]) == {"commit", "dirty"}
    commit = runs[0]["git"]["commit"]
    assert commit is None or (len(commit) == 40 and int(commit, 16) >= 0)


def test_a_corrupt_manifest_is_a_user_error(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(UserInputError, match="not valid JSON"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"entries": []}))
    with pytest.raises(UserInputError, match="no 'runs' list"):
        write_manifest(tmp_path, ["prog"])
