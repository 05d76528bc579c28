"""`llm-check report DIR`: DIR/report.md with figures (DIR/figures/*.png, *.pdf) from DIR/summary.json.

Only what was measured is shown; a missing stage is stated, never filled in, and a summary with no measured
stage at all is refused (UserInputError). The report opens with the commands that wrote the folder, their
code commit and package versions (DIR/manifest.json). Figures use the shared helpers of landscape.plotting
(raw scores, chance as a dashed line, every α axis in per-coordinate units).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from landscape.manifest import manifest_markdown
from landscape.plotting import (
    SIGMA_LABEL,
    chance_line,
    color,
    error_points,
    finish_axes,
    message_panel,
    new_figure,
    save_figure,
    score_axis,
)
from landscape.scores import RESOLUTION_CONFIDENCE, RESOLUTION_MARGIN
from theory.errors import UserInputError
from theory.estimate import Estimate

REPORT_FILE = "report.md"
GO_CAVEAT = ("θ₀ is the dequantised GGUF model when the default model is used (Q4_1 layers sit ≈ 8 % relative "
             "RMS from the original float weights). Raw-σ basins are not invariant to function-preserving "
             "rescalings; the invariant factor uses relative noise θ ⊙ (1 + σz).")


def _num(x) -> float:
    if x is None:
        return math.nan
    return float(x)


def _fmt(x, digits: int = 4) -> str:
    v = _num(x)
    return "n/a" if math.isnan(v) else f"{v:.{digits}g}"


def _ci(ci) -> str:
    if not ci:
        return "n/a"
    return f"[{_fmt(ci[0])}, {_fmt(ci[1])}]"


def load_summary(directory: str | Path) -> dict:
    path = Path(directory) / "summary.json"
    if not path.is_file():
        raise UserInputError(f"no summary.json in {directory} (run `llm-check run --quick --output-path DIR` first)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{path} is not valid JSON: {exc}") from exc


def edge_figure(summary: dict, out: Path) -> Path:
    """Every (α, score) the edge searches evaluated, per capability (random directions and worst case)."""
    caps = summary.get("capabilities", {})
    fig, axes = new_figure(max(1, len(caps)))
    if not caps:
        message_panel(axes[0], "no capability measured")
    for ax, (name, block) in zip(axes, caps.items()):
        if block.get("below_resolution"):
            message_panel(ax, f"{name}: below resolution (clean score at its floor)")
            continue
        evals = block.get("basin_edge", {}).get("evaluations", [])
        for i, points in enumerate(evals):
            if points:
                a, v = zip(*sorted(points))
                ax.plot(a, v, ".", color=color(0), alpha=0.6, label="random directions" if i == 0 else None)
        worst = block.get("worst_evaluations") or []
        if worst:
            a, v = zip(*sorted(worst))
            ax.plot(a, v, "x", color=color(3), label="worst-case direction")
        if not evals and not worst:
            message_panel(ax, "edges not measured")
            continue
        chance_line(ax, block.get("chance"))
        ax.set_xscale("symlog", linthresh=1e-6)
        score_axis(ax, name)
        finish_axes(ax, title=f"{name}: edge searches", xlabel="α (per-coordinate; sign = ±δ)")
    return save_figure(fig, out, "edges")[0]


def sigma_figure(summary: dict, out: Path) -> Path:
    """p_A(σ) with its Bonferroni-corrected intervals and the threshold S(θ₀) − τ, per capability."""
    caps = summary.get("capabilities", {})
    fig, axes = new_figure(max(1, len(caps)))
    if not caps:
        message_panel(axes[0], "no capability measured")
    for ax, (name, block) in zip(axes, caps.items()):
        if block.get("below_resolution"):
            message_panel(ax, f"{name}: below resolution (clean score at its floor)")
            continue
        points = block.get("sigma_basin_points") or []
        if not points:
            message_panel(ax, "σ-basin not measured")
            continue
        sigmas = [p["sigma"] for p in points]
        error_points(ax, sigmas, [Estimate.from_dict(p["p_a"]) for p in points], label="p_A(σ)")
        clean, tau = block.get("clean_score"), summary.get("config", {}).get("tau")
        if clean is not None and tau is not None:
            ax.axhline(clean - tau, color="0.2", linewidth=1, label=f"S(θ₀) − τ = {clean - tau:.3g}")
        chance_line(ax, block.get("chance"))
        ax.set_xscale("log")
        score_axis(ax, name)
        finish_axes(ax, title=f"{name}: smoothed score", xlabel=SIGMA_LABEL)
    return save_figure(fig, out, "sigma_basin")[0]


def go_figure(go: dict, out: Path) -> Path:
    fig, axes = new_figure(1)
    arms = go.get("arms") or []
    if not arms:
        message_panel(axes[0], f"5× check not measured: {go.get('verdict', 'no data')}")
    else:
        x = [a["sigma_train"] for a in arms]
        error_points(axes[0], x, [Estimate.from_dict(a["factor"]) for a in arms], label="raw σ factor")
        error_points(axes[0], x, [Estimate.from_dict(a["factor_invariant"]) for a in arms],
                     label="invariant factor", color_index=1, marker="s")
        axes[0].axhline(5.0, color="0.3", linestyle=":", label="claimed 5×")
        axes[0].axhline(1.0, color="0.6", linestyle="--", label="no change")
        finish_axes(axes[0], title="σ-basin after / before GO fine-tuning", xlabel="σ_train (per coordinate)")
        axes[0].set_ylabel("factor")
    return save_figure(fig, out, "go_enlargement")[0]


def _capability_section(name: str, block: dict) -> list[str]:
    edge = block.get("basin_edge", {})
    sb = block.get("sigma_basin", {})
    cert = block.get("certificate", {})
    lines = [f"### {name} (task `{block.get('task')}`, {block.get('n_examples')} examples, "
             f"chance {_fmt(block.get('chance'), 3)})", "",
             f"- clean score S(θ₀): {_fmt(block.get('clean_score'), 3)}"]
    if block.get("below_resolution"):
        lines.append(f"- **below resolution**: the upper {RESOLUTION_CONFIDENCE:.0%} bound of S(θ₀) is under chance + "
                     f"{RESOLUTION_MARGIN}; no basin is drawn for it (its curves would only show the floor)")
    if edge:
        lines.append(f"- basin edge (median over K={edge.get('K')} directions, τ={edge.get('tau')}): "
                     f"{_fmt(edge.get('estimate'))} {_ci(edge.get('ci'))} (order-statistic interval, coverage "
                     f"{_fmt(edge.get('coverage'), 3)}); non-monotone directions: {edge.get('n_non_monotone')}")
    else:
        lines.append("- basin edge: not measured")
    if sb:
        lines.append(f"- σ-basin: {_fmt(sb.get('estimate'))} {_ci(sb.get('ci'))} at {_fmt(sb.get('confidence'), 3)} "
                     f"({sb.get('unit')}; {sb.get('method')}; n={sb.get('n')} per σ)")
        extra = sb.get("extra") or {}
        if extra.get("search") == "bisect":
            lines.append(f"  - measured {extra.get('visited')} of the {extra.get('grid_size')} grid σ (binary search, "
                         "then up to a certified-outside σ); unmeasured σ certify nothing")
        if extra.get("search") == "sequential":
            visits = "; ".join(f"σ = {_fmt(t.get('sigma'))}: {t.get('decision')} after {t.get('trials')}"
                               for t in block.get("sigma_basin_trials") or [])
            lines.append(f"  - paired sequential search, b = {extra.get('examples_per_trial')} examples per trial, "
                         f"n = the trial budget per σ; trials per measured σ: {visits}")
        if block.get("sigma_basin_inside_resolvable") is False:
            lines.append("  - **no σ could be certified inside at this n and τ** (the interval's half-width at the "
                         "clean score exceeds τ): the lower end is 0 by construction, not a measured collapse")
    else:
        lines.append("- σ-basin: not measured")
    if "worst_to_most_ratio" in block:
        lines.append(f"- worst-case edge {_fmt(block.get('worst_edge'))}; worst ÷ median most-case edge: "
                     f"{_fmt(block.get('worst_to_most_ratio'), 3)}")
    else:
        lines.append("- worst case: not measured")
    if cert:
        lines.append(f"- certificate at σ={_fmt(cert.get('sigma'))}: p_A ≥ {_fmt(cert.get('p_a_lower'), 3)} "
                     f"({_fmt(cert.get('confidence'), 3)} one-sided, n={cert.get('n_trials')}), floor q="
                     f"{_fmt(cert.get('q'), 3)}, certified radius {_fmt(cert.get('radius'))} in ‖Δθ‖₂")
    else:
        lines.append("- certificate: not measured")
    return lines + [""]


def _basin_cell(block: dict | None) -> str:
    if not block:
        return "–"
    visited = (block.get("extra") or {}).get("visited")
    grid = (block.get("extra") or {}).get("grid_size")
    seen = f" ({visited} of {grid} σ)" if visited is not None and grid is not None else ""
    return f"{_fmt(block.get('estimate'))} {_ci(block.get('ci'))}{seen}"


def _go_table(go: dict) -> list[str]:
    """Per model: clean score and σ-basins before / after fine-tuning (raw σ per coordinate, relative σ)."""
    rows = [("before", go.get("before"))]
    rows += [(f"σ_train = {_fmt(a.get('sigma_train'))} ({a.get('multiplier')}×)", a.get("after"))
             for a in go.get("arms", [])]
    if not any(after for _, after in rows):
        return []
    lines = ["", "| model | clean score | σ-basin (σ per coordinate) | σ-basin (relative σ) | train loss first → last |",
             "|---|---|---|---|---|"]
    for label, m in rows:
        m = m or {}
        loss = (f"{_fmt(m.get('train_loss_first'), 3)} → {_fmt(m.get('train_loss_last'), 3)}"
                if m.get("train_loss_first") is not None else "–")
        lines.append(f"| {label} | {_fmt(m.get('clean_score'), 3)} | {_basin_cell(m.get('sigma_basin'))} | "
                     f"{_basin_cell(m.get('sigma_basin_invariant'))} | {loss} |")
    return lines + [""]


def _go_missing(summary: dict) -> str:
    """Why summary.json has no 5× result: not among the stages run, or the run stopped before it."""
    stages = (summary.get("config") or {}).get("stages")
    if stages is not None and "go" not in stages:
        return "not run (the go stage was not among --stages)"
    return "not measured yet: the run stopped before this stage (rerunning the same command resumes it)"


MEASURED_KEYS = {"basin_edge": "edges", "sigma_basin": "sigma_basin", "worst_edge": "worst_case",
                 "certificate": "certificate"}


def measured_stages(summary: dict) -> list[str]:
    """The stages summary.json holds a result of (per capability, and the 5x check), in order."""
    found = [f"{name}/{stage}" for name, block in (summary.get("capabilities") or {}).items()
             for key, stage in MEASURED_KEYS.items() if key in block]
    return found + (["go"] if (summary.get("go_enlargement") or {}).get("arms") else [])


def write_report(directory: str | Path) -> Path:
    """Write DIR/report.md (and DIR/figures/) from DIR/summary.json; returns the report's path.
    UserInputError when summary.json holds no measured stage (nothing to report)."""
    directory = Path(directory)
    summary = load_summary(directory)
    if not measured_stages(summary):
        raise UserInputError(f"{directory / 'summary.json'} holds no measured stage yet (the run stopped in its "
                             "first stage?); rerun the same `llm-check run` command to resume, then report")
    produced_by = manifest_markdown(directory)
    figures = directory / "figures"
    edge_png = edge_figure(summary, figures)
    sigma_png = sigma_figure(summary, figures)
    go = summary.get("go_enlargement") or {"verdict": _go_missing(summary)}
    go_png = go_figure(go, figures)
    lines = [f"# llm-check report: {summary.get('model')}", "",
             f"Weights sha256 `{summary.get('weight_hash')}`, d = {summary.get('n_params')} parameters, "
             f"seed {summary.get('seed')}.", "", *produced_by, *[f"- {n}" for n in summary.get("notes", [])], "",
             "## Capabilities", ""]
    for name, block in summary.get("capabilities", {}).items():
        lines += _capability_section(name, block)
    lines += [f"![edge searches](figures/{edge_png.name})", "", f"![sigma-basin](figures/{sigma_png.name})", "",
              "## The 5× check (GO fine-tuning)", ""]
    if go.get("arms"):
        lines += [f"- capability {go.get('capability')}; σ_train = {_fmt(go.get('sigma_train'))} "
                  f"({go.get('sigma_train_multiplier')}× the baseline σ-basin {_fmt(go['baseline_sigma_basin']['estimate'])})",
                  f"- factor (raw σ): {_fmt(go.get('factor'), 3)} {_ci(go.get('ci'))} at "
                  f"{_fmt(go.get('confidence'), 3)}; invariant: {_fmt(go.get('factor_invariant'), 3)} "
                  f"{_ci(go.get('ci_invariant'))}",
                  f"- control (σ_train = 0, same steps): factor {_fmt(go.get('control_factor'), 3)} "
                  f"{_ci(go.get('control_factor_ci'))}",
                  f"- clean score change {_fmt(go.get('clean_score_change'), 3)}; {go.get('steps')} steps at batch "
                  f"{go.get('batch_size')}, {go.get('tokens')} tokens seen"]
        lines += _go_table(go)
    if go.get("reason"):
        lines.append(f"- {go['reason']}")
    lines += [f"- verdict: **{go.get('verdict', 'not measured')}**", "", f"![GO](figures/{go_png.name})", "",
              "## Timings", "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in summary.get("timings_s", {}).items()]
    lines += ["", "## Caveats", "", GO_CAVEAT, ""]
    path = directory / REPORT_FILE
    path.write_text("\n".join(lines))
    return path
