"""The toymodels width sweep (GO vs AdamW σ-basins, the 5× claim): run once, read from OUT/toymodels/<quick|full>/.

`python -m toymodels enlarge` semantics (toymodels.enlarge.run_sweep): one entry per (kind,
parameterisation, width) with params, clean scores, σ-basins before/after in raw σ per coordinate and in
the rescaling-invariant relative unit, the enlargement factors and the reparameterisation control.
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


def groups(data: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Entries grouped by (kind, parameterisation), each sorted by parameter count."""
    out: dict[tuple[str, str], list[dict]] = {}
    for e in data:
        out.setdefault((e["kind"], e["parameterisation"]), []).append(e)
    return {k: sorted(v, key=lambda e: e["params"]) for k, v in out.items()}


FINE_POINTS = 8  # ≈ fine σ points between the coarse bracket ends (two coarse steps wide, ratio √2)


def sweep_work(run: FigureRun):
    """Training steps and (noise, example) trials of the sweep (none once enlargement.json is stored): per
    arm a base model, the σ_train = 0 control and one GO run per σ factor, each measured in the raw and
    the invariant unit on a coarse then a fine grid, plus the reparameterisation control."""
    from paper_figures import cost
    from toymodels.enlarge import COARSE_GRIDS, FULL, QUICK

    if path(run).exists():
        return cost.NONE
    from toymodels.enlarge import arms

    cfg = QUICK if run.quick else FULL
    tunes = 1 + len(cfg.sigma_factors)
    train: dict[str, tuple[str, int]] = {}
    evals: dict[str, tuple[str, int]] = {}
    timers = {}
    coarse = len(COARSE_GRIDS["gaussian"]) * cfg.n_draws_coarse
    for arm in arms(cfg):
        draws = cfg.tf_n_draws if arm.kind == "transformer" else cfg.n_draws
        step, trial = f"step {arm.name}", f"trial {arm.name}"
        timers[step], timers[trial] = _step_timer(arm), _trial_timer(arm)
        train[f"sweep-{arm.name}"] = (step, arm.base_cfg.steps + tunes * arm.tune_cfg.steps)
        measured_models = tunes + 1  # control, GO runs, reparameterised control
        evals[f"sweep-{arm.name}"] = (trial, measured_models * 2 * (coarse + FINE_POINTS * draws))
    return cost.Work(train, evals, timers)


def _step_timer(arm):
    """Seconds per training step of the arm's own model and training function (after a warm-up)."""
    from dataclasses import replace

    from paper_figures import cost

    def timer() -> float:
        model, steps = arm.build(), 4
        return cost.time_per_call(lambda: arm.train(model, replace(arm.base_cfg, steps=steps)), 2) / steps
    return timer


def _trial_timer(arm):
    """Seconds per (noise, example) trial on the arm's model: noise written into every parameter, one
    example scored, θ₀ restored."""
    from paper_figures import cost

    def timer() -> float:
        return cost.time_per_call(cost.probe_timer(arm.build(), arm.score, [0]), 5)
    return timer
