"""What every figure module returns, and the honest placeholder for a figure without data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from landscape.plotting import message_panel, new_figure, save_figure

PLOTTED = "plotted"


@dataclass(frozen=True)
class FigureResult:
    """name: file stem (figNN_<slug>); status: "plotted", "no data (reason)" or "failed (error)";
    summary: one line on what the figure shows (or why it is empty)."""

    name: str
    title: str
    files: tuple[Path, ...]
    status: str
    summary: str


def no_data(out: Path, name: str, title: str, reason: str) -> FigureResult:
    """A figure that says in words why it has no data (never fake data)."""
    fig, (ax,) = new_figure(1, width_per_panel=7.0, height=3.0)
    message_panel(ax, f"{title}\n\nno data: {reason}")
    files = save_figure(fig, out, name)
    return FigureResult(name, title, tuple(files), f"no data ({reason})", reason)
