"""Registry items on tiny synthetic stored results write PNG + PDF (no model is trained or evaluated)."""

from __future__ import annotations

import pytest
from pf_synthetic import populate

from paper_figures import registry
from paper_figures.context import FigureRun
from paper_figures.figure import PLOTTED

PLOT_ONLY = ("fig01_most_case", "fig02_scale", "fig03_worst_case", "fig04_sft_case", "fig05_strict_basin",
             "fig06_bounds", "fig07_training", "fig08_go", "fig09_enlargement", "fig10_nll",
             "fig11_input_robustness")


@pytest.fixture(scope="module")
def ctx(tmp_path_factory, tiny_sweep):
    out = tmp_path_factory.mktemp("figs")
    populate(out, tiny_sweep[1])
    return FigureRun(out=out, quick=True)


@pytest.mark.parametrize("name", PLOT_ONLY)
def test_figure_from_stored_results(ctx, name):
    result = registry.produce(ctx, registry.figure(name))
    assert result.status == PLOTTED and result.name == name
    assert sorted(p.suffix for p in result.files) == [".pdf", ".png"]
    png, pdf = sorted(result.files, key=lambda p: p.suffix, reverse=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pdf.read_bytes()[:5] == b"%PDF-"


def test_table01_from_fresh_directions(ctx):
    result = registry.produce(ctx, registry.figure("table01_inside_basin"))
    md = (ctx.out / "table01_inside_basin.md").read_text()
    csv = (ctx.out / "table01_inside_basin.csv").read_text().splitlines()
    assert result.status == PLOTTED
    assert len(csv) == 1 + 5 * 4  # header + (5 α multiples × 4 capabilities)
    assert "K′ = 51" in md and "| 1.5 |" in md


def test_minmax_option_plots(ctx, tmp_path, tiny_sweep):
    populate(tmp_path, tiny_sweep[1])
    result = registry.produce(FigureRun(out=tmp_path, quick=True, minmax=True), registry.figure("fig08_go"))
    assert result.status == PLOTTED and all(p.exists() for p in result.files)


def test_no_data_figure_states_the_reason(tmp_path):
    from paper_figures.figure import no_data

    result = no_data(tmp_path, "fig99_x", "title", "upstream module missing: toymodels.claims")
    assert result.status.startswith("no data (upstream module missing")
    assert all(p.stat().st_size > 0 for p in result.files)


def test_fig09_draws_no_go_point_for_not_measured_entries():
    from paper_figures.fig09_enlargement import measured

    rows = [{"width": 32, "verdict": "fails"}, {"width": 64, "verdict": "not-measured (GO clean score collapsed)"},
            {"width": 128, "verdict": "inconclusive"}]
    assert [r["width"] for r in measured(rows)] == [32, 128]
