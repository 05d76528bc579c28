"""The 5× check: does GO fine-tuning enlarge the σ-basin (Def. 4.1) by about five times?

GO (landscape.go: gradient at θ + ε, ε ~ N(0, σ_train² I), AdamW step on the clean θ, weight decay 0; the
suite's one training loop, landscape.training, in epochs over the corpus blocks) fine-tunes a copy of θ₀ on
next-token NLL of Python's pydoc_data text (disjoint from the BIG-bench evaluation tasks) with
σ_train = m × (measured baseline σ-basin) for m in `multipliers` (default 2, 5), plus a control with
σ_train = 0 and the same steps, batches and seed. Before and after, the σ-basin is measured on the same σ
grid with the same noise seeds (common random numbers) in two units:
  raw        σ per coordinate, ε ~ N(0, σ² I)
  invariant  relative σ, θ ⊙ (1 + σz) (invariant to function-preserving rescalings of weights)
factor = σ_basin(after) / σ_basin(before); interval [lo_a/hi_b, hi_a/lo_b] from the two σ-basin
intervals, each at level c, so it holds with probability ≥ 1 − 2(1 − c) (Bonferroni).
The label is "inconclusive (under-trained: …)" below the authors' scale (≈ 5,600 steps at batch 64,
Qwen2.5-0.5B, lr 2e-4) and "not judged" above it: the registry judges go-enlarges-5x only through its
protocol (canonical units, plateau, gate), which `llm-check run --full` (llm_check.five_x) runs.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from landscape.hashing import weight_hash
from landscape.scores import causal_lm_nll
from landscape.sigma_basin import SigmaBasin
from landscape.tensorfile import TensorSource, write_safetensors
from landscape.training import TrainConfig, train
from llm_check.five_x import authors_adamw
from llm_check.runs import Capability, RunContext, corpus_blocks, sigma_basin_run
from llm_check.tasks import text_corpus
from theory.errors import UserInputError
from theory.estimate import Estimate, ratio_estimate

AUTHORS_STEPS = 5600
AUTHORS_BATCH = 64
MIN_BLOCKS = 64
CHARS_PER_TOKEN_MARGIN = 8  # tokenise only a prefix of the corpus: ≥ 8 characters per needed token


@dataclass(frozen=True)
class GORun:
    """One fine-tuning run: σ_train per coordinate, steps × batch_size blocks of block_size tokens."""

    sigma_train: float
    steps: int
    batch_size: int
    block_size: int
    lr: float
    seed: int
    tokens: int
    losses: tuple[float, ...]
    weight_hash: str
    checkpoint: str | None
    wall_time_s: float


def rms_parameter(model: torch.nn.Module) -> float:
    """√(mean θ²) over all parameters: converts a per-coordinate σ into a relative σ (σ / rms θ)."""
    sq, n = 0.0, 0
    for p in model.parameters():
        sq += float(p.detach().double().square().sum())
        n += p.numel()
    return math.sqrt(sq / n)


def _tag(sigma_train: float) -> str:
    return f"{sigma_train:.6g}".replace(".", "p").replace("-", "m")


def go_finetune(ctx: RunContext, sigma_train: float, *, steps: int, batch_size: int = 4, block_size: int = 64,
                lr: float = 2e-4, seed: int | None = None) -> tuple[torch.nn.Module, GORun]:
    """A GO-fine-tuned copy of ctx.model (ctx.model itself is not changed). The clean checkpoint is saved
    to DIR/go/sigma_<σ>…safetensors (its training losses beside it, …losses.json) and reloaded instead of
    retraining when present."""
    if not (sigma_train >= 0 and math.isfinite(sigma_train)):
        raise UserInputError(f"sigma_train must be a finite number >= 0, got {sigma_train}")
    if steps < 1 or batch_size < 1:
        raise UserInputError(f"steps and batch_size must be >= 1, got {steps}, {batch_size}")
    start = time.perf_counter()
    seed = ctx.seed if seed is None else seed
    model = copy.deepcopy(ctx.model)
    path = None
    if ctx.out_dir is not None:
        name = f"sigma_{_tag(sigma_train)}_steps{steps}_b{batch_size}_seed{seed}_epochs.safetensors"
        path = ctx.out_dir / "go" / name
    losses: list[float] = []
    if path is not None and path.is_file():
        source = TensorSource(path)
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(source.get(name))
        sidecar = path.with_suffix(".losses.json")
        if sidecar.is_file():
            losses = [float(x) for x in json.loads(sidecar.read_text())]
    else:
        needed = max(MIN_BLOCKS, steps * batch_size)
        text = text_corpus()[:needed * block_size * CHARS_PER_TOKEN_MARGIN]
        blocks = corpus_blocks(ctx.tokenizer, block_size=block_size, max_blocks=needed, text=text)
        device = next(model.parameters()).device
        for p in model.parameters():
            p.requires_grad_(True)
        cfg = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, weight_decay=0.0, sigma_train=sigma_train,
                          seed=seed, grad_clip=None, sampling="epochs")
        result = train(model, lambda m, rows: causal_lm_nll(m, blocks[rows].to(device)).mean(), len(blocks), cfg,
                       make_optimizer=authors_adamw)
        losses = list(result.losses)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_safetensors(path, [(n, p.detach()) for n, p in model.named_parameters()])
            path.with_suffix(".losses.json").write_text(json.dumps(losses))
    return model, GORun(sigma_train=float(sigma_train), steps=steps, batch_size=batch_size, block_size=block_size,
                        lr=lr, seed=seed, tokens=steps * batch_size * block_size, losses=tuple(losses),
                        weight_hash=weight_hash(model), checkpoint=None if path is None else str(path),
                        wall_time_s=time.perf_counter() - start)


@dataclass(frozen=True)
class ModelBasin:
    """σ-basins of one model (raw and invariant) on the capability, and its clean score."""

    label: str
    raw: SigmaBasin
    invariant: SigmaBasin
    go: GORun | None

    @property
    def clean_score(self) -> float:
        return self.raw.baseline

    def summary(self) -> dict:
        """Clean score, both σ-basins (with the σ each measured) and, after fine-tuning, the run's scale."""
        out = {"label": self.label, "clean_score": self.clean_score,
               "sigma_basin": self.raw.sigma_basin.to_dict(),
               "sigma_basin_invariant": self.invariant.sigma_basin.to_dict()}
        if self.go is not None:
            out.update(tokens=self.go.tokens, checkpoint=self.go.checkpoint, weight_hash=self.go.weight_hash,
                       train_loss_first=self.go.losses[0] if self.go.losses else None,
                       train_loss_last=self.go.losses[-1] if self.go.losses else None)
        return out


@dataclass(frozen=True)
class EnlargementArm:
    sigma_train: float
    multiplier: float
    basin: ModelBasin
    factor: Estimate
    factor_invariant: Estimate
    clean_score_change: float


@dataclass(frozen=True)
class Enlargement:
    """The 5× check. `arms`: one per multiplier; `control`: σ_train = 0, same steps. Headline fields
    (factor, …) are those of the largest multiplier."""

    capability: str
    baseline_sigma_basin: Estimate
    before: ModelBasin
    arms: tuple[EnlargementArm, ...]
    control: EnlargementArm
    steps: int
    batch_size: int
    tokens: int
    verdict: str
    wall_time_s: float

    @property
    def headline(self) -> EnlargementArm:
        return max(self.arms, key=lambda a: a.multiplier)

    def summary(self) -> dict:
        """The `go_enlargement` block of summary.json (interface contract)."""
        h = self.headline
        return {"capability": self.capability, "factor": h.factor.estimate,
                "factor_invariant": h.factor_invariant.estimate, "ci": list(h.factor.ci),
                "ci_invariant": list(h.factor_invariant.ci), "confidence": h.factor.confidence,
                "clean_score_change": h.clean_score_change, "sigma_train": h.sigma_train,
                "sigma_train_multiplier": h.multiplier, "steps": self.steps, "batch_size": self.batch_size,
                "tokens": self.tokens, "control_factor": self.control.factor.estimate,
                "control_factor_ci": list(self.control.factor.ci),
                "control_factor_invariant": self.control.factor_invariant.estimate,
                "baseline_sigma_basin": self.baseline_sigma_basin.to_dict(),
                "before": self.before.summary(),
                "arms": [{"multiplier": a.multiplier, "sigma_train": a.sigma_train, "factor": a.factor.to_dict(),
                          "factor_invariant": a.factor_invariant.to_dict(),
                          "clean_score_change": a.clean_score_change, "after": a.basin.summary()}
                         for a in (*self.arms, self.control)],
                "verdict": self.verdict}


def enlargement_verdict(factor: Estimate, steps: int, batch_size: int) -> str:
    """A label, never a verdict on go-enlarges-5x: "inconclusive (under-trained …)" below the authors' scale,
    else "not judged": the registry judges the claim only through its protocol (`llm-check run --full`,
    llm_check.five_x), which this raw-factor fixed-n path is not."""
    if steps < AUTHORS_STEPS or batch_size < AUTHORS_BATCH:
        return (f"inconclusive (under-trained: {steps} steps at batch {batch_size} vs the authors' "
                f"≈ {AUTHORS_STEPS:,} at batch {AUTHORS_BATCH})")
    return (f"not judged (raw factor {factor.brief()}; the registry's 5x protocol runs as llm-check run --full)")


def _basins(ctx: RunContext, cap: Capability, label: str, grid: Sequence[float], invariant_grid: Sequence[float],
            *, tau: float, n: int, confidence: float, search: str, go: GORun | None) -> ModelBasin:
    raw = sigma_basin_run(ctx, cap, grid, tau=tau, n=n, confidence=confidence, search=search)
    inv = sigma_basin_run(ctx, cap, invariant_grid, tau=tau, n=n, kind="multiplicative", confidence=confidence,
                          search=search)
    return ModelBasin(label=label, raw=raw, invariant=inv, go=go)


def enlargement_check(ctx: RunContext, cap: Capability, baseline_sigma_basin: Estimate, grid: Sequence[float], *,
                      multipliers: Sequence[float] = (2.0, 5.0), steps: int = 20, batch_size: int = 4,
                      block_size: int = 64, lr: float = 2e-4, tau: float = 0.05, n: int = 200,
                      confidence: float = 0.95, search: str = "grid") -> Enlargement:
    """GO fine-tuning at σ_train = m·σ_basin (and 0), σ-basins before/after on `grid` (σ per coordinate;
    the invariant grid is grid / rms(θ₀)). Each σ-basin at level 1 − (1 − confidence)/2."""
    start = time.perf_counter()
    base = baseline_sigma_basin.estimate
    if not (base > 0 and math.isfinite(base)):
        raise UserInputError(f"the baseline sigma-basin must be finite and > 0 to set sigma_train, got {base} "
                             "(widen the sigma grid)")
    if not multipliers or any(m <= 0 for m in multipliers):
        raise UserInputError(f"multipliers must be > 0, got {list(multipliers)}")
    level = 1.0 - (1.0 - confidence) / 2.0
    inv_grid = [s / rms_parameter(ctx.model) for s in grid]
    opts = dict(tau=tau, n=n, confidence=level, search=search)
    before = _basins(ctx, cap, "before", grid, inv_grid, go=None, **opts)

    def arm(multiplier: float) -> EnlargementArm:
        sigma_train = multiplier * base
        model, run = go_finetune(ctx, sigma_train, steps=steps, batch_size=batch_size, block_size=block_size,
                                 lr=lr)
        sub = RunContext.create(model, ctx.tokenizer, f"{ctx.model_id} + GO(sigma_train={sigma_train:.4g})",
                                run.weight_hash, ctx.out_dir, seed=ctx.seed, rng=ctx.rng)
        basin = _basins(sub, cap, f"GO sigma_train={sigma_train:.3g}", grid, inv_grid, go=run, **opts)
        return EnlargementArm(
            sigma_train=sigma_train, multiplier=multiplier, basin=basin,
            factor=ratio_estimate(basin.raw.sigma_basin, before.raw.sigma_basin, "sigma-basin ratio (raw)"),
            factor_invariant=ratio_estimate(basin.invariant.sigma_basin, before.invariant.sigma_basin,
                                            "sigma-basin ratio (relative sigma)"),
            clean_score_change=basin.clean_score - before.clean_score)

    control = arm(0.0)
    arms = tuple(arm(float(m)) for m in multipliers)
    headline = max(arms, key=lambda a: a.multiplier)
    return Enlargement(capability=cap.name, baseline_sigma_basin=baseline_sigma_basin, before=before, arms=arms,
                       control=control, steps=steps, batch_size=batch_size,
                       tokens=steps * batch_size * block_size,
                       verdict=enlargement_verdict(headline.factor, steps, batch_size),
                       wall_time_s=time.perf_counter() - start)
