"""The registry's 5x protocol (theory.claims.protocol) for any model: arms, plateau, gate, units, the test.

`run_enlargement(start, train, tune, score, symmetries, monitor_loss, ...)`:
  0. the start is replaced by its canonical representative, so GO's σ_train (set in canonical raw σ) and
     every raw σ-basin below share coordinates;
  1. control = train(start, tune) with σ_train = 0 to the budget tune.steps, checkpoints every
     protocol.plateau_every steps; τ = tau_fraction · (S(control) − chance).
  2. the anchor σ_b: the sequential raw σ-basin of canonical(control) (landscape.symmetries).
  3. per arm m (primary first): GO from `start` at σ_train = m·σ_b, stopped at its plateau of
     E_ε L(θ + ε) (monitor_loss on fixed rows, `plateau_draws` fixed noise seeds at σ_train); the control is
     its checkpoint at the same step. Both are measured in the deciding unit (raw σ on the canonical copy)
     and the reported one (multiplicative σ); GO's grid is anchored at m·s, s the control's first
     certified-outside σ; landscape.enlargement.enlargement_test decides each unit. The gate is the paired
     TOST on the per-example clean outcomes, GO against that control.
  4. the unit's control (optional): a random function-preserving rescaling of the control (log c ~ N(0, 1)
     per channel) must move its raw σ-basin (ratio interval excluding 1) and keep its canonical one
     (ratio interval containing 1).
σ-basins: a coarse grid (n_coarse draws per σ, its own seed; each draw one (noise, example) pair, or with
coarse_mode="set" one whole-set score) only brackets the edge; the sequential search
(n_trials budget per σ, bracket window and grid ratio protocol.max_grid_ratio, Bonferroni over the grid at
protocol.sigma_basin_confidence) measures it on a geometric grid spanning the bracket.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from landscape.context import ProbeContext
from landscape.enlargement import EnlargementTest, enlargement_test
from landscape.evaluate import derive_seed
from landscape.hashing import weight_hash as hash_weights
from landscape.perturb import gaussian_noise
from landscape.scores import Score
from landscape.sigma_basin import SigmaBasin, sigma_basin
from landscape.store import ResultStore
from landscape.symmetries import ScalingSymmetry, canonicalise, rescaled
from landscape.training import Plateau, TrainConfig, TrainResult, parameter_change, recipe_path, trained_once
from theory.claims import Measurement
from theory.claims.protocol import FIVE_X_PROTOCOL, EnlargementProtocol
from theory.claims.statistics import equivalence_gate
from theory.estimate import Estimate, ratio_estimate
from theory.verdict import FAILS, Region, verdict

COARSE = {"gaussian": np.geomspace(1e-5, 10.0, 13), "multiplicative": np.geomspace(1e-4, 100.0, 13)}
TrainFn = Callable[[nn.Module, TrainConfig, Plateau | None], TrainResult]  # trains the model in place


@dataclass(frozen=True)
class Measured:
    """A sequential σ-basin and the whole grid it was declared on (its `points` list the visited σ only)."""

    basin: SigmaBasin
    grid: tuple[float, ...]


@dataclass(frozen=True)
class BasinMeter:
    """Coarse bracket, then the sequential σ-basin on a geometric grid of ratio `ratio` (module doc)."""

    score: Score
    n_trials: int
    n_coarse: int
    ratio: float
    confidence: float
    seed: int
    store: ResultStore | None
    rng: str = "cpu"
    coarse_mode: str = "pairs"

    def context(self, model: nn.Module, model_id: str, seed: int) -> ProbeContext:
        return ProbeContext.for_model(model, store=self.store, model_id=model_id, seed=seed, rng=self.rng)

    def bracket(self, model: nn.Module, model_id: str, kind: str, tau: float) -> tuple[float, float]:
        coarse = sigma_basin(model, self.score, COARSE[kind], self.context(model, model_id, self.seed + 7919),
                             tau=tau, n=self.n_coarse, mode=self.coarse_mode, kind=kind, confidence=self.confidence,
                             search="grid")
        grid = COARSE[kind]
        step = grid[1] / grid[0]
        inside = [p.sigma for p in coarse.points if p.p_a.estimate >= coarse.threshold]
        lo = max(inside, default=grid[0] / step) / step
        hi = min((p.sigma for p in coarse.points if p.p_a.estimate < coarse.threshold and p.sigma > lo),
                 default=grid[-1] * step) * step
        return lo, hi

    def __call__(self, model: nn.Module, model_id: str, kind: str, tau: float,
                 anchor: float | None = None) -> Measured:
        """The σ-basin and its grid; `anchor`: a σ the geometric grid must contain (GO's m·s)."""
        lo, hi = self.bracket(model, model_id, kind, tau)
        a = math.sqrt(lo * hi) if anchor is None or not math.isfinite(anchor) or anchor <= 0 else anchor
        lo, hi = min(lo, a / self.ratio ** 2), max(hi, a * self.ratio)
        k = np.arange(math.floor(math.log(lo / a, self.ratio)), math.ceil(math.log(hi / a, self.ratio)) + 1)
        grid = a * self.ratio ** k.astype(float)
        basin = sigma_basin(model, self.score, grid, self.context(model, model_id, self.seed), tau=tau,
                            n=self.n_trials, kind=kind, confidence=self.confidence, search="sequential",
                            target_ratio=self.ratio, start=math.sqrt(lo * hi))
        return Measured(basin, tuple(float(g) for g in grid))


def first_outside(m: Measured) -> float:
    return min((p.sigma for p in m.basin.points if p.outside), default=math.nan)


def noisy_loss_monitor(monitor_loss: Callable[[nn.Module], torch.Tensor], sigma: float, draws: int,
                       seed: int, rng: str = "cpu") -> Callable[[nn.Module], float]:
    """E_ε L(θ + ε) over `draws` fixed noise seeds (common random numbers across checks), θ restored bitwise."""
    def value(model: nn.Module) -> float:
        total = 0.0
        for j in range(draws):
            with gaussian_noise(model, sigma, derive_seed(seed, "plateau", j), warn=False, rng=rng):
                total += float(monitor_loss(model))
        return total / draws
    return value


def tensor_norm_ratios(go: nn.Module, control: nn.Module) -> dict[str, float]:
    """‖θ_GO,t‖₂ / ‖θ_control,t‖₂ per parameter tensor t (canonical copies)."""
    c = dict(control.named_parameters())
    return {n: float(p.detach().double().norm() / c[n].detach().double().norm().clamp_min(1e-300))
            for n, p in go.named_parameters()}


def _basin(m: Measured) -> dict[str, Any]:
    b = m.basin
    return {"sigma_basin": b.sigma_basin.to_dict(), "first_outside": first_outside(m), "kind": b.kind,
            "grid": list(m.grid), "points": [{"sigma": p.sigma, "decision": p.decision, "trials": p.trials}
                                             for p in b.points],
            "n_evals": b.n_evals, "wall_time_s": b.wall_time_s}


def _test(t: EnlargementTest) -> dict[str, Any]:
    return {"m": t.m, "s": t.s, "verdict": t.verdict, "go_inside_at": t.go_inside_at, "go_outside_at": t.go_outside_at,
            "control_inside_at": t.control_inside_at, "factor": t.factor.to_dict()}


def run_enlargement(start: nn.Module, train: TrainFn, tune: TrainConfig, score: Score,
                    symmetries: Callable[[nn.Module], Sequence[ScalingSymmetry]],
                    monitor_loss: Callable[[nn.Module], torch.Tensor], *, model_id: str, n_trials: int,
                    n_coarse: int = 8, plateau_draws: int = 4, arms: Sequence[float] | None = None,
                    protocol: EnlargementProtocol = FIVE_X_PROTOCOL, store: ResultStore | None = None,
                    cache: Path | None = None, unit_control: bool = True, unit_control_trials: int | None = None,
                    gate_min_examples: int | None = None, log: Callable[[str], None] = print,
                    on_stage: Callable[[str, dict[str, Any]], None] | None = None,
                    on_trained: Callable[[str, TrainConfig, dict[str, Any]], None] | None = None,
                    rng: str = "cpu", coarse_mode: str = "pairs") -> dict[str, Any]:
    """One entry of the protocol (module doc), as a JSON-ready dict. `cache`: a folder where trained weights
    (and the control's checkpoints) are kept under model_id and a hash of the training recipe, so a rerun
    reloads them; the start model's weights are part of that hash. `unit_control_trials`: the unit control's
    trial budget per σ (default n_trials); it runs once per model family, so it can afford to be conclusive.
    `gate_min_examples`: the gate's pre-registered set size (default the protocol's toy size).
    `on_stage(name, partial)`: called as each stage ends, with the entry so far: "control" (the control
    trained and its anchor σ-basin), then per arm "go_m<m>" (GO trained), "sigma_basins" (the arm's four
    σ-basins), "enlargement" (its gate and tests), and "unit_control". `on_trained(name, cfg, record)`: called
    for every trained model ("control", "go<m>"), trained now or reloaded from the cache, with its record (steps,
    plateau, monitored values, the per-step training losses and landscape.training.parameter_change; a record
    cached before these were kept lacks the last two). `rng`: the noise generator of every
    σ-basin and plateau check ("cpu", or "cuda" on a GPU: landscape.directions); `train` chooses GO's own.
    `coarse_mode`: what one coarse draw is, "pairs" (one (noise, example) pair) or "set" (the whole set under
    one noise draw). The bracket takes the largest coarse σ whose p̂_A reads at or above S − τ, so a σ far
    outside the basin must not read inside by chance: with single pairs that needs n_coarse ≫ p(1 − p)/g², p
    the score far outside (about chance) and g = S − τ − p its gap below the threshold; "set" needs only a
    couple of draws when g is many standard errors of the whole set's score."""
    began = time.perf_counter()
    meter = BasinMeter(score, n_trials, n_coarse, protocol.max_grid_ratio, protocol.sigma_basin_confidence,
                       tune.seed, store, rng, coarse_mode)
    syms = list(symmetries(start))

    def canonical(m: nn.Module) -> nn.Module:
        return canonicalise(m, syms).model

    start = canonical(start)
    start_hash = hash_weights(start)

    def trained(name: str, cfg: TrainConfig, plateau: Plateau | None = None) -> tuple[nn.Module, dict[str, Any]]:
        recipe = [start_hash, asdict(cfg), None if plateau is None else [plateau.every, plateau.rel_tol, plateau_draws]]

        def fit(model: nn.Module) -> dict[str, Any]:
            before = {n: p.detach().clone() for n, p in model.named_parameters()}
            res = train(model, cfg, plateau)
            return {"steps": res.steps, "plateau_step": res.plateau_step,
                    "monitored": [list(x) for x in res.monitored], "losses": [float(x) for x in res.losses],
                    "parameter_change": parameter_change(before, model),
                    "checkpoints": {c.step: c.state for c in res.checkpoints} if cfg.checkpoint_every else {}}

        model = copy.deepcopy(start)
        record = trained_once(recipe_path(cache, f"{model_id}-{name}", recipe), model, fit)
        if on_trained is not None:
            on_trained(name, cfg, record)
        return model, record

    control, control_rec = trained("control", replace(tune, checkpoint_every=protocol.plateau_every))
    s_control = score(control)
    tau = protocol.tau_fraction * max(s_control.value - score.chance, 0.0)
    anchor = meter(canonical(control), f"{model_id}-control-canonical", "gaussian", tau)
    sigma_b = anchor.basin.sigma_basin.estimate
    log(f"{model_id}: control S={s_control.value:.3f} tau={tau:.3g} canonical sigma_b="
        f"{anchor.basin.sigma_basin.brief()}")
    out: dict[str, Any] = {"score": score.name, "chance": score.chance, "tau": tau,
                           "clean_score_control": s_control.value, "n_examples": s_control.n,
                           "anchor": _basin(anchor), "budget_steps": tune.steps, "arms": [],
                           "symmetries": [s.name for s in syms], "unit": protocol.unit,
                           "reported_unit": protocol.reported_unit, "seed": tune.seed}

    def stage(name: str, arm_row: dict[str, Any] | None = None) -> None:
        if on_stage is not None:
            on_stage(name, {**out, "arms": [*out["arms"], *([arm_row] if arm_row is not None else [])],
                            "wall_time_s": time.perf_counter() - began})

    stage("control")

    def arm(m: float) -> dict[str, Any]:
        row: dict[str, Any] = {"m": m, "primary": m == protocol.primary_m}
        sigma_train = m * sigma_b
        if not (sigma_train > 0 and math.isfinite(sigma_train)):
            row.update(sigma_train=None, reason=f"control sigma-basin {anchor.basin.sigma_basin.brief()} is 0 or "
                                                "unbounded on the grid")
            stage(f"go_m{m:g}", row)
            stage("sigma_basins", row)
            return row
        monitor = noisy_loss_monitor(monitor_loss, sigma_train, plateau_draws, tune.seed, rng)
        go, go_rec = trained(f"go{m:g}", replace(tune, sigma_train=sigma_train),
                             Plateau(monitor, protocol.plateau_every, protocol.plateau_rel_tol))
        steps = int(go_rec["steps"])
        row.update(sigma_train=sigma_train, steps=steps, plateau_step=go_rec["plateau_step"],
                   plateau_reached=go_rec["plateau_step"] is not None, monitored=go_rec["monitored"])
        stage(f"go_m{m:g}", row)
        if steps == tune.steps:
            ctl, ctl_basin = control, anchor
        else:
            ctl = copy.deepcopy(start)
            ctl.load_state_dict(control_rec["checkpoints"][steps])
            ctl.eval()
            ctl_basin = meter(canonical(ctl), f"{model_id}-control-at{steps}-canonical", "gaussian", tau)
        s_ctl = score(ctl) if ctl is not control else None
        ctl_outcomes = s_control.outcomes if s_ctl is None else s_ctl.outcomes
        s_go = score(go)
        go_c, ctl_c = canonical(go), canonical(ctl)
        s = first_outside(ctl_basin)
        go_basin = meter(go_c, f"{model_id}-go{m:g}-canonical", "gaussian", tau, anchor=m * s)
        ctl_mult = meter(ctl, f"{model_id}-control-at{steps}", "multiplicative", tau)
        go_mult = meter(go, f"{model_id}-go{m:g}", "multiplicative", tau, anchor=m * first_outside(ctl_mult))
        row.update(clean_score={"go": s_go.value, "control": float(np.mean(ctl_outcomes))},
                   control=_basin(ctl_basin), go=_basin(go_basin), control_multiplicative=_basin(ctl_mult),
                   go_multiplicative=_basin(go_mult))
        stage("sigma_basins", row)
        gate = equivalence_gate(s_go.outcomes, ctl_outcomes, protocol.gate_margin(tau), protocol.gate_alpha,
                                protocol.gate_min_examples_toy if gate_min_examples is None else gate_min_examples)
        test = enlargement_test(ctl_basin.basin, go_basin.basin, m)
        test_mult = enlargement_test(ctl_mult.basin, go_mult.basin, m)
        log(f"{model_id}: GO m={m:g} sigma_train={sigma_train:.3g} steps={steps} plateau={go_rec['plateau_step']} "
            f"S={s_go.value:.3f} gate={'pass' if gate.passed else 'FAIL'} factor={test.factor.brief()} -> {test.verdict}"
            f" (multiplicative {test_mult.factor.brief()} -> {test_mult.verdict})")
        return {**row, "gate": gate.to_dict(), "test": _test(test), "test_multiplicative": _test(test_mult),
                "tensor_norm_ratio": tensor_norm_ratios(go_c, ctl_c)}

    for m in (arms if arms is not None else protocol.arms):
        out["arms"].append(arm(m))
        stage("enlargement")
    if unit_control:
        uc_meter = replace(meter, n_trials=unit_control_trials or n_trials)
        out["unit_control"] = _unit_control(control, syms, uc_meter, canonical, tau, model_id)
        stage("unit_control")
    out["wall_time_s"] = time.perf_counter() - began
    return out


def arm_measurement(arm: dict[str, Any], *, model: str, source: str, entry: str = "",
                    training_seed: int | None = None, subject: str = "toy models") -> Measurement:
    """go-enlarges-5x of one GO arm (a row of run_enlargement's "arms"): its canonical raw factor, with what the
    claim's requirements read (the clean-score gate, the plateau, the test's own verdict)."""
    if arm.get("sigma_train") is None or "test" not in arm:
        return Measurement("go-enlarges-5x", None, model, source, entry=entry, training_seed=training_seed,
                           subject=subject, reason=arm.get("reason", "no GO run"))
    f = Estimate.from_dict(arm["test"]["factor"])
    note = (f"m = {arm['m']:g}, sigma_train = {arm['sigma_train']:.3g}, {arm['steps']} steps; "
            f"{arm['gate']['text']}; test {arm['test']['verdict']}; multiplicative "
            f"{Estimate.from_dict(arm['test_multiplicative']['factor']).brief()}")
    return Measurement("go-enlarges-5x", f, model, source, n=f.n, varied=("noise", "examples"), entry=entry,
                       training_seed=training_seed, subject=subject, note=note,
                       extra={"clean_gate_passed": bool(arm["gate"]["passed"]), "m": arm["m"], "unit_kind": "canonical",
                              "plateau_reached": bool(arm["plateau_reached"]), "test": arm["test"]["verdict"]})


def _unit_control(control, syms, meter, canonical, tau, model_id) -> dict[str, Any]:
    """Raw σ-basins of the control and of a random rescaling of it (may move), and canonical σ-basins of both
    (must stay), all with the unit control's own trial budget."""
    moved = rescaled(control, syms, seed=derive_seed(meter.seed, "unit-control"))
    raw = meter(control, f"{model_id}-control", "gaussian", tau)
    raw_moved = meter(moved, f"{model_id}-control-rescaled", "gaussian", tau)
    canon = meter(canonical(control), f"{model_id}-control-canonical", "gaussian", tau)
    canon_moved = meter(canonical(moved), f"{model_id}-control-rescaled-canonical", "gaussian", tau)
    raw_ratio = ratio_estimate(raw_moved.basin.sigma_basin, raw.basin.sigma_basin)
    canon_ratio = ratio_estimate(canon_moved.basin.sigma_basin, canon.basin.sigma_basin)
    one = Region(1.0, 1.0)
    return {"rescaling": "log c ~ N(0, 1) per channel of every handled symmetry",
            "raw": _basin(raw), "raw_rescaled": _basin(raw_moved), "canonical": _basin(canon),
            "canonical_rescaled": _basin(canon_moved), "n_trials": meter.n_trials,
            "raw_ratio": raw_ratio.to_dict(), "canonical_ratio": canon_ratio.to_dict(),
            "raw_moved": verdict(raw_ratio.ci, one) == FAILS,
            "canonical_stayed": verdict(canon_ratio.ci, one) != FAILS}


__all__ = ["BasinMeter", "Measured", "arm_measurement", "first_outside", "noisy_loss_monitor", "run_enlargement", "tensor_norm_ratios"]
