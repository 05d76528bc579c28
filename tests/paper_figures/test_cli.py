"""CLI input errors: one line on stderr, exit status 2, nothing computed."""

from __future__ import annotations

import pytest

from paper_figures.__main__ import main, select
from paper_figures.registry import MODULES


@pytest.mark.parametrize("argv", [
    ["--only", "fig99"],                         # unknown figure
    ["--only", "fig"],                           # ambiguous prefix
    ["--llm-results", "/nonexistent/llm-results"],
    ["--threads", "0"],
    ["--bogus"],
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv):
    assert main(["--out", str(tmp_path / "out")] + argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


def test_out_must_be_a_folder(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["--out", str(f)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_missing_out_exits_2(capsys):
    assert main([]) == 2


def test_only_selects_in_pipeline_order():
    assert select(["table01", "fig03"]) == ["fig03_worst_case", "table01_inside_basin"]
    assert select(None) == list(MODULES) and "claims" in MODULES  # every registry item, registry order
