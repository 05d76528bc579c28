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


def test_index_prints_the_manifest_of_its_folder(tmp_path):
    from landscape.manifest import write_manifest
    from paper_figures.__main__ import write_index
    from paper_figures.context import FigureRun

    out = tmp_path / "out"
    out.mkdir()
    write_manifest(out, ["python -m paper_figures", "--quick", "--out", str(out)])
    text = write_index(FigureRun(out=out, quick=True), [], 1.0).read_text()
    assert "## Produced by" in text and "`python -m paper_figures --quick --out <output>`" in text
    assert str(tmp_path) not in text  # no absolute path of this machine
