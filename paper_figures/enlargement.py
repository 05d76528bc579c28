"""The toymodels width sweep (GO vs AdamW σ-basins, the 5× claim): run once, read from OUT/toymodels/<quick|full>/.

`python -m toymodels enlarge` semantics (toymodels.enlarge.run_sweep): one entry per (kind,
parameterisation, width, training seed) with params, the primary arm's σ-basins before/after in canonical raw
σ and in multiplicative σ, its factors and verdict, and the protocol's whole record (gate, plateau, every
arm, the unit control).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from paper_figures.context import FigureRun
from theory.errors import UserInputError


def path(ctx: FigureRun) -> Path:
    return ctx.out / "toymodels" / ctx.settings / "enlargement.json"


def entries(ctx: FigureRun) -> list[dict]:
    """The sweep's enlargement.json entries (computed on first use; resumable through its own store)."""
    folder = path(ctx).parent
    if not path(ctx).exists():
        from toymodels.enlarge import FULL, QUICK, run_sweep

        run_sweep(QUICK if ctx.quick else FULL, folder, log=lambda s: print(s, file=sys.stderr, flush=True))
    try:
        data = json.loads(path(ctx).read_text())
    except ValueError as exc:
        raise UserInputError(f"{path(ctx)}: corrupt enlargement.json ({exc}); delete it to recompute") from exc
    if not isinstance(data, list):
        raise UserInputError(f"{path(ctx)} must hold a list of sweep entries")
    return data


def groups(data: list[dict]) -> dict[tuple[str, str, int], list[dict]]:
    """Entries grouped by (kind, parameterisation, training seed), each sorted by parameter count."""
    out: dict[tuple[str, str, int], list[dict]] = {}
    for e in data:
        out.setdefault((e["kind"], e["parameterisation"], e["seed"]), []).append(e)
    return {k: sorted(v, key=lambda e: e["params"]) for k, v in out.items()}


SEQUENTIAL_POINTS = 3  # ≈ σ points a sequential σ-basin runs to its budget (those near the edge)


def sweep_work(run: FigureRun):
    """Training steps and (noise, example) trials of the sweep (none once enlargement.json is stored): per
    entry a base model, the control and each GO arm to the budget; per σ-basin a coarse bracket plus about
    SEQUENTIAL_POINTS σ run to the trial budget; four σ-basins per arm (control and GO, two units) and four
    for the unit control where it runs (at its own trial budget)."""
    from landscape.enlargement_protocol import COARSE
    from paper_figures import cost
    from toymodels.enlarge import FULL, QUICK, arms, runs_unit_control

    if path(run).exists():
        return cost.NONE
    cfg = QUICK if run.quick else FULL
    train: dict[str, tuple[str, int]] = {}
    evals: dict[str, tuple[str, int]] = {}
    timers = {}
    per_basin = len(COARSE["gaussian"]) * cfg.n_coarse + SEQUENTIAL_POINTS * cfg.n_trials
    for arm in arms(cfg):
        step, trial = f"step {arm.name}", f"trial {arm.name}"
        timers[step], timers[trial] = _step_timer(arm), _trial_timer(arm)
        train[f"sweep-{arm.name}"] = (step, arm.base_cfg.steps + (1 + len(cfg.arms)) * arm.tune_cfg.steps)
        unit = len(COARSE["gaussian"]) * cfg.n_coarse + SEQUENTIAL_POINTS * cfg.unit_control_trials
        evals[f"sweep-{arm.name}"] = (trial, 4 * len(cfg.arms) * per_basin + (4 * unit if runs_unit_control(arm, cfg)
                                                                               else 0))
    return cost.Work(train, evals, timers)


def _step_timer(arm):
    """Seconds per training step of the arm's own model and training function (after a warm-up)."""
    from dataclasses import replace

    from paper_figures import cost

    def timer() -> float:
        model, steps = arm.build(), 4
        return cost.time_per_call(lambda: arm.train(model, replace(arm.base_cfg, steps=steps), None), 2) / steps
    return timer


def _trial_timer(arm):
    """Seconds per (noise, example) trial on the arm's model: noise written into every parameter, one
    example scored, θ₀ restored."""
    from paper_figures import cost

    def timer() -> float:
        return cost.time_per_call(cost.probe_timer(arm.build(), arm.score, [0]), 5)
    return timer
