"""The figure registry: every figure, table and the claims table that `python -m paper_figures` produces.

Each entry of MODULES is a module of this package holding `FIGURE = Figure(...)`:
- `data(run)` reads the stored results of the run folder, computes what is missing through landscape/ and
  toymodels/ (the measurement caches of context.FigureRun) and returns plain JSON-able data;
- `plot(data, out)` draws the files under the folder `out` from that data alone (it never trains or
  measures, and imports no torch);
- `work(run)` (optional) the training steps and evaluations its data still needs (cost.Work), for the
  cost estimate printed before the run.
The data is stored as OUT/results/<quick|full>/figures/<id>.json and the plot reads it back from there.
Adding a figure = one new module with its FIGURE plus one line in MODULES.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from landscape.store import to_json_value
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import FigureResult

MODULES = (
    "fig01_most_case",
    "fig02_scale",
    "fig03_worst_case",
    "fig04_sft_case",
    "fig05_strict_basin",
    "fig06_bounds",
    "fig07_training",
    "fig08_go",
    "fig09_enlargement",
    "fig10_nll",
    "fig11_input_robustness",
    "table01_inside_basin",
    "claims",
)


@dataclass(frozen=True)
class Figure:
    """id: the file stem of the outputs; data/plot/work as in the module docstring."""

    id: str
    title: str
    data: Callable[[FigureRun], Any]
    plot: Callable[[Any, Path], FigureResult]
    work: Callable[[FigureRun], Work] | None = None


def figure(module: str) -> Figure:
    """The FIGURE of `paper_figures.<module>`."""
    found = importlib.import_module(f"paper_figures.{module}").FIGURE
    if not isinstance(found, Figure):
        raise TypeError(f"paper_figures.{module}.FIGURE must be a registry.Figure, got {type(found).__name__}")
    return found


def data_path(run: FigureRun, fig: Figure) -> Path:
    return run.results_dir / "figures" / f"{fig.id}.json"


def store_data(run: FigureRun, fig: Figure) -> Path:
    """Run fig.data and store its result as JSON (written atomically); the path."""
    path = data_path(run, fig)
    data = to_json_value(fig.data(run))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, allow_nan=False))
    tmp.replace(path)
    return path


def plot_stored(run: FigureRun, fig: Figure) -> FigureResult:
    """fig.plot on the data stored for it (nothing is computed)."""
    return fig.plot(json.loads(data_path(run, fig).read_text()), run.out)


def produce(run: FigureRun, fig: Figure) -> FigureResult:
    """Data (computed where missing, stored), then the plot from the stored data."""
    store_data(run, fig)
    return plot_stored(run, fig)
