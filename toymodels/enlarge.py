"""Over-parameterization and the "5×" claim: σ-basin after plain training vs after GO, per width.

Per entry (kind, parameterisation, width):
  base  = standard training (AdamW) from a seeded init;
  before = base + M more AdamW steps (the σ_train = 0 control: same data, steps and seed as GO);
  after  = base + M GO steps at σ_train = f × σ_basin(before), f in cfg.sigma_factors.
σ_basin is landscape.sigma_basin at 97.5 % (raw Gaussian noise, σ per coordinate; and the
rescaling-invariant multiplicative noise θ ⊙ (1 + σz), σ relative), τ = tau_fraction × (S(before) − chance),
the same τ for both models of an entry. Factor = σ_after / σ_before with interval
[lo_after / hi_before, hi_after / lo_before] (both 97.5 % intervals hold together with prob. ≥ 95 %).
A GO run counts only if its clean score ≥ S(before) − 1 point. Verdict: "holds" iff the invariant factor's
lower bound ≥ 5; "reparameterisation-explainable" iff only the raw one's is; else "fails" when the
invariant upper bound < 5, otherwise "inconclusive".
Reparameterisation control: θ' = c·θ with the forward pass using θ'/c (c a power of two, so outputs are
bitwise equal): the raw σ-basin moves by c, the invariant one stays.
Tasks: MLPs on gaussian_mixture(d=16, k=4, separation 4) scored by held-out accuracy; transformers on
the synthetic language scored by the basic capability. p_A is estimated from n i.i.d. (noise, example)
pairs (mode "pairs": exact Bernoulli trials, Clopper–Pearson), Bonferroni over the σ grid.
Every evaluation goes through a landscape ResultStore (DIR/store.jsonl) and trained weights are kept in
DIR/models/, so a rerun of the same sweep re-reads instead of recomputing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from landscape.context import ProbeContext
from landscape.scores import Score
from landscape.sigma_basin import SigmaBasin, sigma_basin
from landscape.store import ResultStore
from theory.claims.registry import FIVE_X_REGION
from theory.errors import UserInputError
from theory.estimate import Estimate, ratio_estimate
from theory.verdict import FAILS, HOLDS, INCONCLUSIVE, Region, not_measured, verdict
from toymodels.mlp import MLP, MLPConfig
from toymodels.tasks.classification import gaussian_mixture
from toymodels.tasks.scores import basic_score
from toymodels.train import TrainConfig, classification_loss, mlp_adamw, train, train_on_mixture
from toymodels.transformer import TinyTransformer, TransformerConfig

MLP_SEPARATION = 4.0  # Bayes accuracy ~99 %: a clean score near 1 lets small drops be certified
CLEAN_SCORE_SLACK = 0.01
REPARAMETERISATION_EXPLAINABLE = "reparameterisation-explainable"
# The sweep's σ-basins take a fixed n per σ (search "grid"): its draw counts were sized for that engine; the
# sequential engine needs ≈ 130 trials before it can decide any σ at these levels.
SEARCH = "grid"
COARSE_GRIDS = {"gaussian": np.geomspace(1e-5, 10.0, 13), "multiplicative": np.geomspace(1e-4, 100.0, 13)}


@dataclass(frozen=True)
class SweepConfig:
    """Widths, training budgets and estimator sizes of one sweep (QUICK / FULL below)."""

    mlp_widths: tuple[int, ...] = (32, 64, 128, 256, 512)
    parameterisations: tuple[str, ...] = ("standard",)
    transformer_widths: tuple[int, ...] = (32, 64)
    sigma_factors: tuple[float, ...] = (2.0,)
    mlp_base: TrainConfig = TrainConfig(steps=400, batch_size=128, lr=3e-3)
    mlp_tune: TrainConfig = TrainConfig(steps=300, batch_size=128, lr=3e-3)
    tf_base: TrainConfig = TrainConfig(steps=800, batch_size=64, lr=3e-3)
    tf_tune: TrainConfig = TrainConfig(steps=300, batch_size=64, lr=1e-3)
    mlp_n_eval: int = 1024
    tf_n_eval: int = 256
    n_draws: int = 48
    n_draws_coarse: int = 8
    fine_ratio: float = 2 ** 0.5
    tf_n_draws: int = 48
    tf_fine_ratio: float = 2 ** 0.5
    mode: str = "pairs"
    tau_fraction: float = 0.25
    confidence: float = 0.975
    reparam_factor: float = 4.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.mlp_widths and not self.transformer_widths:
            raise UserInputError("the sweep needs at least one width")
        if any(f <= 0 for f in self.sigma_factors) or not self.sigma_factors:
            raise UserInputError("sigma_factors must be positive and non-empty")
        c = self.reparam_factor
        if not (c > 0 and math.frexp(c)[0] == 0.5):
            raise UserInputError(f"reparam_factor must be a power of two (exact rescaling), got {c}")
        if not 0 < self.tau_fraction < 1:
            raise UserInputError(f"tau_fraction must lie in (0, 1), got {self.tau_fraction}")


QUICK = SweepConfig()
FULL = SweepConfig(mlp_widths=(32, 64, 128, 256, 512, 1024), parameterisations=("standard", "ntk"),
                   transformer_widths=(32, 64, 128), sigma_factors=(2.0, 5.0), n_draws=96, tf_n_draws=64,
                   fine_ratio=2 ** 0.25, tf_fine_ratio=2 ** 0.25, mlp_base=TrainConfig(steps=1000, batch_size=128, lr=3e-3),
                   mlp_tune=TrainConfig(steps=1000, batch_size=128, lr=3e-3),
                   tf_base=TrainConfig(steps=1500, batch_size=64, lr=3e-3),
                   tf_tune=TrainConfig(steps=600, batch_size=64, lr=1e-3))


# ----------------------------------------------------------------------------- reparameterisation control
class _Divide(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = float(factor)

    def forward(self, stored: torch.Tensor) -> torch.Tensor:
        return stored / self.factor

    def right_inverse(self, value: torch.Tensor) -> torch.Tensor:
        return value * self.factor


def reparameterise(model: nn.Module, factor: float) -> nn.Module:
    """A copy computing the same function whose stored parameters are factor·θ (forward uses them ÷ factor).
    Raw noise σ on the copy equals noise σ/factor on θ; multiplicative noise is unchanged. With factor a
    power of two both maps are exact in floating point, so outputs are bitwise equal."""
    out = copy.deepcopy(model)
    targets = [(m, name) for m in out.modules() for name, _ in list(m.named_parameters(recurse=False))]
    for module, name in targets:
        parametrize.register_parametrization(module, name, _Divide(factor))
    return out


# ----------------------------------------------------------------------------- measurement
@dataclass(frozen=True)
class Measurer:
    """σ-basin of one score in two stages: a coarse grid (n_coarse draws, its own seed) only brackets the
    edge; the reported interval comes from a fine geometric grid (ratio `fine_ratio`) around it."""

    score: Score
    n_draws: int
    n_coarse: int
    fine_ratio: float
    confidence: float
    seed: int
    store: ResultStore | None
    mode: str = "pairs"

    def __call__(self, model: nn.Module, model_id: str, kind: str, tau: float,
                 grid: np.ndarray | None = None) -> SigmaBasin:
        """σ-basin at tolerated drop tau; an explicit fine `grid` skips the coarse stage."""
        if grid is not None:
            return sigma_basin(model, self.score, grid, self.context(model, model_id, self.seed), tau=tau,
                               n=self.n_draws, kind=kind, mode=self.mode, confidence=self.confidence,
                               search=SEARCH)
        coarse_grid = COARSE_GRIDS[kind]
        coarse = sigma_basin(model, self.score, coarse_grid, self.context(model, model_id, self.seed + 7919),
                             tau=tau, n=self.n_coarse, kind=kind, mode=self.mode, confidence=self.confidence,
                             search=SEARCH)
        inside = [p.sigma for p in coarse.points if p.p_a.estimate >= coarse.threshold]
        outside = [p.sigma for p in coarse.points if p.p_a.estimate < coarse.threshold]
        step = coarse_grid[1] / coarse_grid[0]
        lo = max(inside, default=coarse_grid[0] / step) / step
        hi = min((s for s in outside if s > lo), default=coarse_grid[-1] * step) * step
        fine = np.exp(np.arange(math.log(lo), math.log(hi) + 1e-9, math.log(self.fine_ratio)))
        return sigma_basin(model, self.score, fine, self.context(model, model_id, self.seed), tau=tau,
                           n=self.n_draws, kind=kind, mode=self.mode, confidence=self.confidence,
                               search=SEARCH)

    def context(self, model: nn.Module, model_id: str, seed: int) -> ProbeContext:
        return ProbeContext.for_model(model, store=self.store, model_id=model_id, seed=seed)


def five_x_verdict(factor: Estimate, factor_invariant: Estimate, clean_ok: bool) -> str:
    """See module doc; a GO run that lost more than one point of clean score is not measured."""
    if not clean_ok:
        return not_measured("GO clean score more than 1 point below the control's")
    region = FIVE_X_REGION
    if verdict(factor_invariant.ci, region) == HOLDS:
        return HOLDS
    if verdict(factor.ci, region) == HOLDS:
        return REPARAMETERISATION_EXPLAINABLE
    if verdict(factor_invariant.ci, region) == FAILS:
        return FAILS
    return INCONCLUSIVE


# ----------------------------------------------------------------------------- models of the sweep
@dataclass(frozen=True)
class Arm:
    """One (kind, parameterisation, width): how to build, train and score its models."""

    kind: str
    parameterisation: str
    width: int
    build: Callable[[], nn.Module]
    train: Callable[[nn.Module, TrainConfig], Any]
    score: Score
    base_cfg: TrainConfig
    tune_cfg: TrainConfig

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.parameterisation}-w{self.width}"


def arms(cfg: SweepConfig) -> list[Arm]:
    out = []
    task = gaussian_mixture(separation=MLP_SEPARATION, seed=cfg.seed, n_test=cfg.mlp_n_eval)
    for p in cfg.parameterisations:
        for w in cfg.mlp_widths:
            mcfg = MLPConfig(input_dim=task.input_dim, width=w, n_classes=task.n_classes, parameterisation=p,
                             seed=cfg.seed)
            out.append(Arm("mlp", p, w, lambda mcfg=mcfg: MLP(mcfg),
                           lambda m, c: train(m, classification_loss(task), len(task.y_train), c, mlp_adamw),
                           task.accuracy(), replace(cfg.mlp_base, seed=cfg.seed),
                           replace(cfg.mlp_tune, seed=cfg.seed + 1)))
    score = basic_score(cfg.tf_n_eval, cfg.seed)
    for w in cfg.transformer_widths:
        tcfg = TransformerConfig(d_model=w, n_heads=max(1, w // 16), seed=cfg.seed)
        out.append(Arm("transformer", "standard", w, lambda tcfg=tcfg: TinyTransformer(tcfg),
                       lambda m, c: train_on_mixture(m, "pretrain", c), score,
                       replace(cfg.tf_base, seed=cfg.seed), replace(cfg.tf_tune, seed=cfg.seed + 1)))
    return out


def _trained(arm: Arm, stage: str, cfg: TrainConfig, start: nn.Module | None, cache: Path | None) -> nn.Module:
    """Trains (or reloads from `cache`) the arm's model of `stage`; training is deterministic given seeds."""
    model = arm.build() if start is None else copy.deepcopy(start)
    recipe = json.dumps([asdict(arm.base_cfg), asdict(cfg), arm.score.name, arm.score.n_examples], sort_keys=True)
    tag = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    path = None if cache is None else cache / f"{arm.name}-{stage}-{tag}.pt"
    if path is not None and path.exists():
        model.load_state_dict(torch.load(path, weights_only=True))
        return model.eval()
    arm.train(model, cfg)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save(model.state_dict(), tmp)
        tmp.replace(path)
    return model.eval()


def _max_output_diff(a: nn.Module, b: nn.Module, score: Score) -> float:
    x = score.inputs[:64] if hasattr(score, "inputs") else score.data.tokens[:64]
    with torch.no_grad():
        return float((a.eval()(x) - b.eval()(x)).abs().max())


def run_arm(arm: Arm, cfg: SweepConfig, store: ResultStore | None, cache: Path | None,
            log: Callable[[str], None] = print) -> dict[str, Any]:
    """One entry of enlargement.json (see module doc for every field)."""
    start = time.perf_counter()
    tf = arm.kind == "transformer"
    measure = Measurer(arm.score, cfg.tf_n_draws if tf else cfg.n_draws, cfg.n_draws_coarse,
                       cfg.tf_fine_ratio if tf else cfg.fine_ratio, cfg.confidence, cfg.seed, store, cfg.mode)
    base = _trained(arm, "base", arm.base_cfg, None, cache)
    before = _trained(arm, "control", arm.tune_cfg, base, cache)
    s_before = arm.score(before).value
    tau = cfg.tau_fraction * max(s_before - arm.score.chance, 0.0)
    raw_b = measure(before, f"{arm.name}-control", "gaussian", tau)
    inv_b = measure(before, f"{arm.name}-control", "multiplicative", tau)
    log(f"{arm.name}: control S={s_before:.3f} sigma_basin={raw_b.sigma_basin.estimate:.3g} "
        f"invariant={inv_b.sigma_basin.estimate:.3g}")
    runs = []
    for f in cfg.sigma_factors:
        sigma_train = f * raw_b.sigma_basin.estimate
        if not (sigma_train > 0 and math.isfinite(sigma_train)):
            runs.append({"sigma_factor": f, "sigma_train": None,
                         "verdict": not_measured("control sigma-basin is 0 or unbounded on the grid")})
            continue
        go_cfg = replace(arm.tune_cfg, sigma_train=sigma_train)
        after = _trained(arm, f"go{f:g}-{sigma_train:.6g}", go_cfg, base, cache)
        s_after = arm.score(after).value
        raw_a = measure(after, f"{arm.name}-go{f:g}", "gaussian", tau)
        inv_a = measure(after, f"{arm.name}-go{f:g}", "multiplicative", tau)
        factor = ratio_estimate(raw_a.sigma_basin, raw_b.sigma_basin)
        factor_inv = ratio_estimate(inv_a.sigma_basin, inv_b.sigma_basin)
        clean_ok = s_after >= s_before - CLEAN_SCORE_SLACK
        runs.append({"sigma_factor": f, "sigma_train": sigma_train, "clean_score": s_after, "clean_score_ok": clean_ok,
                     "sigma_basin": raw_a.sigma_basin.to_dict(), "sigma_basin_invariant": inv_a.sigma_basin.to_dict(),
                     "factor": factor.to_dict(), "factor_invariant": factor_inv.to_dict(),
                     "verdict": five_x_verdict(factor, factor_inv, clean_ok)})
        log(f"{arm.name}: GO x{f:g} S={s_after:.3f} factor={factor.brief()} "
            f"invariant={factor_inv.brief()} -> {runs[-1]['verdict']}")
    chosen = _chosen_run(runs)
    control = _reparameterisation_control(arm, before, raw_b, inv_b, measure, tau, cfg.reparam_factor)
    nan_est = Estimate(math.nan, (math.nan, math.nan), 0.95, 0, "ratio").to_dict()
    return {
        "kind": arm.kind, "parameterisation": arm.parameterisation, "width": arm.width,
        "params": sum(p.numel() for p in before.parameters()), "score": arm.score.name,
        "chance": arm.score.chance, "tau": tau, "tau_fraction": cfg.tau_fraction,
        "sigma_factor": chosen.get("sigma_factor"), "sigma_train": chosen.get("sigma_train"),
        "clean_score": {"before": s_before, "after": chosen.get("clean_score")},
        "sigma_basin": {"before": raw_b.sigma_basin.to_dict(), "after": chosen.get("sigma_basin")},
        "sigma_basin_invariant": {"before": inv_b.sigma_basin.to_dict(), "after": chosen.get("sigma_basin_invariant")},
        "factor": chosen.get("factor", nan_est), "factor_invariant": chosen.get("factor_invariant", nan_est),
        "verdict": chosen["verdict"], "go_runs": runs,
        "control": control,
        "before": "sigma_train = 0 control: same start, data order, steps and seed as the GO run",
        "train": {"base": asdict(arm.base_cfg), "tune": asdict(arm.tune_cfg)},
        "seed": cfg.seed, "wall_time_s": time.perf_counter() - start,
    }


def _chosen_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The admissible GO run (clean score kept) with the largest invariant lower bound, else the last."""
    ok = [r for r in runs if r.get("clean_score_ok")]
    if not ok:
        return runs[-1]
    return max(ok, key=lambda r: Estimate.from_dict(r["factor_invariant"]).lo)


def _reparameterisation_control(arm: Arm, model: nn.Module, raw: SigmaBasin, inv: SigmaBasin, measure: Measurer,
                                tau: float, factor: float) -> dict[str, Any]:
    """Raw and invariant σ-basins of the reparameterised model, on the original's grids (raw grid × factor:
    where the raw basin must move if the invariant unit is right)."""
    rescaled = reparameterise(model, factor)
    name = f"{arm.name}-control-reparam{factor:g}"
    raw_c = measure(rescaled, name, "gaussian", tau, np.array([p.sigma for p in raw.points]) * factor)
    inv_c = measure(rescaled, name, "multiplicative", tau, np.array([p.sigma for p in inv.points]))
    raw_ratio = ratio_estimate(raw_c.sigma_basin, raw.sigma_basin)
    inv_ratio = ratio_estimate(inv_c.sigma_basin, inv.sigma_basin)
    return {"kind": "reparameterisation theta' = c*theta, forward uses theta'/c", "factor_applied": factor,
            "max_abs_output_diff": _max_output_diff(model, rescaled, arm.score),
            "clean_score": arm.score(rescaled).value,
            "sigma_basin": raw_c.sigma_basin.to_dict(), "sigma_basin_invariant": inv_c.sigma_basin.to_dict(),
            "raw_ratio": raw_ratio.to_dict(), "invariant_ratio": inv_ratio.to_dict(),
            "raw_moved_by_factor": verdict(raw_ratio.ci, Region(factor, factor)) != FAILS,
            "invariant_stayed": verdict(inv_ratio.ci, Region(1.0, 1.0)) != FAILS}


def run_sweep(cfg: SweepConfig, out: Path, log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Runs every arm (resuming from out/store.jsonl and out/models/), writes out/enlargement.json."""
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out / "store.jsonl")
    plan = arms(cfg)
    log(f"enlarge: {len(plan)} entries ({', '.join(a.name for a in plan)}); sigma_factors {cfg.sigma_factors}")
    entries = [run_arm(a, cfg, store, out / "models", log) for a in plan]
    (out / "enlargement.json").write_text(json.dumps(entries, indent=1, allow_nan=False))
    return entries

