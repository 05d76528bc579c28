"""The registry's 5× protocol on a real causal LM, as one staged run (`llm-check run --full`, scripts/device_5x.py).

Stages, in order; summary.json and report.md are rewritten as each ends, and a rerun resumes every stage from
its rows (σ-basin and edge rows in rows.jsonl, trained weights in the weight cache):
  load          θ₀ (float32 master weights: the precision guard refuses anything else), the pooled basic set,
                the training blocks, and the run's stated budget (tokens, epochs);
  gate          the pooled basic set named by the registry (theory.claims.protocol.LLM_BASIC_POOL, ≥
                gate_min_examples_llm examples) is scored at θ₀; a set below resolution (llm_check.scores)
                ends the run "not-measured". The clean-score equivalence gate of GO against its control is
                decided on this same set in the enlargement stage;
  control       σ_train = 0 fine-tuning to the step budget, its canonical raw σ-basin σ_b (the anchor);
  go_m5         GO at σ_train = 5·σ_b (and the secondary arms, when asked) to its plateau or the budget;
  sigma_basins  the four σ-basins of each arm (GO and its same-step control, canonical raw and multiplicative);
  enlargement   the paired TOST gate and the intersection–union test (landscape.enlargement_protocol), judged by
                the registry as go-enlarges-5x;
  worst_case    K tethered-ascent directions at θ₀ (one per disjoint set of held-out blocks) against K_most raw
                Gaussian directions: the most ÷ worst edge ratio (theory.estimate.ratio_estimate of the two
                medians' order-statistic intervals; what varies: the directions), judged as worst-much-narrower;
                and the NLL control, the held-out NLL at ¼, ½, 1 and 2 × each direction's own edge;
  report        report.md, the loss curves (loss_curves.json, loss_curves.png), and the verdicts.
With a budget, the worst_case stage is skipped (and says so) when the budget is already spent.

Training (the authors' settings): AdamW, constant lr 2e-4, weight decay 0, no clipping, next-token NLL on
`train_blocks` in epochs (landscape.training, sampling "epochs"), batch 64 × 256 tokens by default. The
master weights stay float32; `autocast="bfloat16"` runs forward and backward under torch.autocast (a
pure-bf16 AdamW step of 2e-4 is rounded away for |w| ≥ 0.0625, since bf16 keeps 8 significant bits). Each
trained model reports its effective ‖Δθ‖₂ and the share of coordinates that moved, and its loss curve: both
are kept in its training record, so a run resumed from the weight cache reports them too. Evaluation is float32.
`budget_s` cuts the step budget before any training, from a timed probe of a few GO steps, so the run ends
inside it instead of overrunning; the budget actually used is stated in the summary.

Noise: rng "cuda" on a GPU (each tensor's N(0, I) drawn by its own seeded CUDA generator), "cpu" elsewhere.
The CPU equivalent of rng="cuda" is rng="cpu": the same per-tensor seeds, chunking, kinds and estimators,
a different generator, so the same distribution but other bits (landscape.directions). The CPU rehearsal
runs rng="cpu" on the code path the GPU run uses.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from landscape.edges import basin_edges
from landscape.enlargement_protocol import arm_measurement, run_enlargement
from landscape.evaluate import default_directions, derive_seed
from landscape.landscape_1d import landscape_1d
from landscape.scores import NLLScore, below_resolution, causal_lm_nll
from landscape.store import ResultStore, to_json_value
from landscape.training import Plateau, TrainConfig, TrainResult, train
from landscape.worst_case import worst_case_tether
from llm_check.llama_symmetries import llama_symmetries
from theory.claims import Measurement
from theory.claims.judge import judge
from theory.claims.protocol import FIVE_X_PROTOCOL
from theory.errors import UserInputError
from theory.estimate import ratio_estimate
from theory.stats import clopper_pearson

STAGES = ("load", "gate", "control", "go_m5", "sigma_basins", "enlargement", "worst_case", "report")
SOURCE = "llm_check.five_x"
NLL_CONTROL_MULTIPLES = (0.25, 0.5, 1.0, 2.0)
HELD_OUT_BLOCKS_PER_SET = 8


@dataclass(frozen=True)
class FiveXConfig:
    """The run's budget and settings. steps: the step budget of each arm (the upper end; `budget_s` may lower
    it before training); n_trials: each σ's trial budget in the sequential search; n_coarse: whole-set draws
    per σ of the bracketing grid (coarse_mode "set", landscape.enlargement_protocol). The bracket takes the
    largest coarse σ whose p̂_A reads at or above S − τ, so a σ far outside the basin must not read inside by
    chance. On the pooled set that rules out single (noise, example) pairs: SmolLM2 scores S = 0.296 against
    chance 0.198, so τ = 0.025 and S − τ = 0.272, and with 64 pairs a σ where the model is at chance reads
    inside with probability 0.070 (0.44 over 8 such σ). A whole-set score at chance sits 0.074 below S − τ,
    4.9 binomial standard errors of 695 examples, so 2 draws suffice. worst_k / most_k: worst-case and raw
    Gaussian directions of the worst_case stage; edge_chunk: examples per early-stopped edge evaluation."""

    seed: int = 0
    arms: tuple[float, ...] = (FIVE_X_PROTOCOL.primary_m,)
    steps: int = 2000
    batch_size: int = 64
    block_size: int = 256
    lr: float = 2e-4
    n_trials: int = 400
    n_coarse: int = 2
    plateau_draws: int = 2
    plateau_checks: int = 8
    worst_k: int = 3
    worst_steps: int = 10
    worst_lr: float = 1e-3
    most_k: int = 8
    edge_rel_precision: float = 0.05
    edge_chunk: int = 64
    tau_fraction: float = FIVE_X_PROTOCOL.tau_fraction
    autocast: str | None = None
    budget_s: float | None = None
    train_share: float = 0.5
    probe_steps: int = 3
    eval_batch_size: int = 16

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.n_trials < 1 or self.worst_k < 1 or self.most_k < 1:
            raise UserInputError(f"steps, batch size, trials and direction counts must be >= 1 ({self})")
        if self.autocast not in (None, "bfloat16", "float16"):
            raise UserInputError(f"autocast must be bfloat16, float16 or none, got {self.autocast!r}")
        if self.budget_s is not None and not self.budget_s > 0:
            raise UserInputError(f"budget_s must be > 0, got {self.budget_s}")
        if FIVE_X_PROTOCOL.primary_m not in self.arms:
            raise UserInputError(f"the arms must include the primary m = {FIVE_X_PROTOCOL.primary_m:g}")


@dataclass(frozen=True, eq=False)
class FiveXData:
    """What the run measures on: θ₀ (float32, on its device), the pooled basic Score, training blocks
    (n, block_size) and held-out blocks never trained on (plateau monitor, worst-case ascent, NLL control)."""

    model: nn.Module
    score: Any
    train_blocks: torch.Tensor
    held_out_blocks: torch.Tensor
    model_id: str
    weight_hash: str
    provenance: dict[str, Any] = field(default_factory=dict)


def precision_guard(model: nn.Module) -> None:
    """Training needs float32 master weights (module doc): UserInputError for any other parameter dtype."""
    dtypes = {p.dtype for p in model.parameters()}
    if dtypes != {torch.float32}:
        raise UserInputError(f"the 5x run needs float32 master weights, got {sorted(str(d) for d in dtypes)}: a "
                             "bf16 AdamW step of lr 2e-4 is rounded away for |w| >= 0.0625 (use --autocast bfloat16)")


def held_out_sets(blocks: torch.Tensor, k: int) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    """(plateau monitor rows, k disjoint worst-case ascent sets, NLL control rows), each of
    HELD_OUT_BLOCKS_PER_SET blocks."""
    need = HELD_OUT_BLOCKS_PER_SET * (k + 2)
    if len(blocks) < need:
        raise UserInputError(f"{len(blocks)} held-out blocks, the run needs {need} (k = {k} worst-case sets)")
    b = HELD_OUT_BLOCKS_PER_SET
    return blocks[:b], [blocks[b * (1 + i):b * (2 + i)] for i in range(k)], blocks[b * (k + 1):b * (k + 2)]


class _Writer:
    """summary.json (atomic) and report.md after every stage."""

    def __init__(self, out: Path, summary: dict[str, Any]) -> None:
        self.out, self.summary = out, summary
        out.mkdir(parents=True, exist_ok=True)

    def stage(self, name: str, payload: dict[str, Any], wall: float | None = None) -> None:
        block = dict(payload)
        if wall is not None:
            block["wall_time_s"] = wall
        self.summary["stages"][name] = block
        if name not in self.summary["stages_done"]:
            self.summary["stages_done"].append(name)
        self.flush()

    def judged(self, measurement: Measurement) -> None:
        """The registry's verdict on one Measurement (theory.claims.judge), kept with its full row."""
        result = judge([measurement])
        self.summary["verdicts"][result.id] = result.verdict
        self.summary["claims"][result.id] = result.to_dict()

    def flush(self) -> None:
        tmp = self.out / "summary.json.tmp"
        tmp.write_text(json.dumps(to_json_value(self.summary), indent=1, allow_nan=False))
        tmp.replace(self.out / "summary.json")
        (self.out / "report.md").write_text(render_report(self.summary))


def _autocast(device: torch.device, dtype: str | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=getattr(torch, dtype))


def run_five_x(data: FiveXData, cfg: FiveXConfig, out: Path, *, cache: Path | None = None,
               log: Callable[[str], None] = print) -> dict[str, Any]:
    """Runs every stage (module doc) and returns the summary (also in out/summary.json)."""
    began = time.perf_counter()
    model = data.model
    precision_guard(model)
    device = next(model.parameters()).device
    rng = "cuda" if device.type == "cuda" else "cpu"
    store = ResultStore(out / "rows.jsonl")
    writer = _Writer(Path(out), {"model": data.model_id, "weight_hash": data.weight_hash, "seed": cfg.seed,
                                 "config": asdict(cfg), "device": str(device), "rng": rng, "stages": {},
                                 "stages_done": [], "provenance": data.provenance, "verdicts": {},
                                 "claims": {}})
    monitor_rows, worst_sets, nll_rows = held_out_sets(data.held_out_blocks, cfg.worst_k)
    n_blocks = len(data.train_blocks)

    # load
    t = time.perf_counter()
    steps, probe = plan_steps(data, cfg, device, rng)
    writer.stage("load", {"n_params": sum(p.numel() for p in model.parameters()), "dtype": "float32",
                          "autocast": cfg.autocast, "train_blocks": n_blocks, "block_size": cfg.block_size,
                          "train_tokens": n_blocks * cfg.block_size, "steps": steps,
                          "tokens_per_arm": steps * cfg.batch_size * cfg.block_size,
                          "epochs": steps * cfg.batch_size / n_blocks, "step_probe": probe},
                 time.perf_counter() - t)
    log(f"five_x load: {n_blocks} blocks, {steps} steps per arm ({steps * cfg.batch_size / n_blocks:.2f} epochs)")

    # gate
    t = time.perf_counter()
    clean = data.score(model)
    successes = int(round(clean.value * clean.n))
    lo, hi = clopper_pearson(successes, clean.n, 0.95)

    task = getattr(data.score, "task", None)
    gate = {"set": data.score.name, "source": getattr(task, "source", ""), "n_examples": clean.n, "required": FIVE_X_PROTOCOL.gate_min_examples_llm,
            "clean_score": clean.value, "ci": [lo, hi], "chance": data.score.chance,
            "below_resolution": below_resolution(successes, clean.n, data.score.chance)}
    writer.stage("gate", gate, time.perf_counter() - t)
    if clean.n < FIVE_X_PROTOCOL.gate_min_examples_llm:
        raise UserInputError(f"the pooled basic set has {clean.n} examples, the registry needs "
                             f"{FIVE_X_PROTOCOL.gate_min_examples_llm}")
    if gate["below_resolution"]:
        writer.judged(arm_measurement({"reason": "the pooled basic set is below resolution at theta0"},
                                      model=data.model_id, source=SOURCE, training_seed=cfg.seed, subject=data.model_id))
        writer.stage("report", {"reason": "below resolution"})
        return writer.summary

    # control, go_m5, sigma_basins, enlargement
    losses: dict[str, list[float]] = {}
    changes: dict[str, dict[str, float]] = {}

    def train_fn(m: nn.Module, tc: TrainConfig, plateau: Plateau | None) -> TrainResult:
        for p in m.parameters():
            p.requires_grad_(True)
        blocks = data.train_blocks

        def loss(mm: nn.Module, rows: torch.Tensor) -> torch.Tensor:
            with _autocast(device, cfg.autocast):
                return causal_lm_nll(mm, blocks[rows].to(device)).mean()

        res = train(m, loss, len(blocks), tc, make_optimizer=authors_adamw, plateau=plateau, rng=rng)
        for p in m.parameters():
            p.requires_grad_(False)
        return res

    def on_trained(name: str, tc: TrainConfig, record: dict[str, Any]) -> None:
        # trained now or reloaded from the weight cache: either way the record carries the curve and the move
        label = "control" if tc.sigma_train == 0 else f"go sigma_train={tc.sigma_train:.4g}"
        losses[label] = list(record.get("losses", []))
        if "parameter_change" in record:
            changes[label] = dict(record["parameter_change"])

    def monitor_loss(m: nn.Module) -> torch.Tensor:
        return causal_lm_nll(m, monitor_rows.to(device)).mean()

    tune = TrainConfig(steps=steps, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=0.0, seed=cfg.seed,
                       grad_clip=None, sampling="epochs")
    protocol = replace(FIVE_X_PROTOCOL, tau_fraction=cfg.tau_fraction,
                       plateau_every=max(1, steps // cfg.plateau_checks))
    stage_began = {"t": time.perf_counter()}

    def on_stage(name: str, partial: dict[str, Any]) -> None:
        now = time.perf_counter()
        payload = {"enlargement": partial, "training": {"losses_last": {k: v[-1] for k, v in losses.items() if v},
                                                        "parameter_change": dict(changes)}}
        writer.stage(name, payload, now - stage_began["t"])
        stage_began["t"] = now
        (Path(out) / "loss_curves.json").write_text(json.dumps(losses))

    enlargement = run_enlargement(
        model, train_fn, tune, data.score, llama_symmetries, monitor_loss,
        model_id=f"five_x-{cfg.autocast or 'fp32'}-{rng}",  # the weight cache's name: its recipe omits both
        n_trials=cfg.n_trials, n_coarse=cfg.n_coarse, plateau_draws=cfg.plateau_draws, arms=cfg.arms,
        protocol=protocol, store=store, cache=cache, unit_control=False,
        gate_min_examples=FIVE_X_PROTOCOL.gate_min_examples_llm, log=log, on_stage=on_stage,
        on_trained=on_trained, rng=rng, coarse_mode="set")
    primary = next(a for a in enlargement["arms"] if a["primary"])
    five = arm_measurement(primary, model=data.model_id, source=SOURCE, training_seed=cfg.seed,
                           subject=data.model_id)
    writer.judged(five)
    writer.summary["enlargement"] = enlargement
    writer.flush()

    # worst_case (skipped, not overrun, once the budget is spent)
    t = time.perf_counter()
    if cfg.budget_s is not None and t - began > cfg.budget_s:
        writer.stage("worst_case", {"skipped": f"the budget of {cfg.budget_s:.0f} s was spent after "
                                               f"{t - began:.0f} s"}, 0.0)
    else:
        worst = worst_case_stage(data, cfg, worst_sets, nll_rows, store, rng, log)
        writer.judged(worst.pop("measurement"))
        writer.stage("worst_case", worst, time.perf_counter() - t)

    # report
    plot_losses(losses, Path(out) / "loss_curves.png")
    writer.summary["wall_time_s"] = time.perf_counter() - began
    writer.stage("report", {"files": sorted(p.name for p in Path(out).iterdir() if p.is_file())})
    return writer.summary


def plot_losses(losses: dict[str, list[float]], path: Path) -> None:
    """Training loss per step of each arm (GO's at its noisy point θ + ε), on a log step axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in losses.items():
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training NLL (nats/token)")
    if losses:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def authors_adamw(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The authors' optimiser: AdamW at cfg.lr (constant), torch's default betas, weight decay 0."""
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)


def plan_steps(data: FiveXData, cfg: FiveXConfig, device: torch.device, rng: str) -> tuple[int, dict[str, Any]]:
    """The step budget: cfg.steps, cut (before any training) so that two arms fit in train_share · budget_s,
    from `probe_steps` timed GO steps on a copy of θ₀ (the first one, warm-up, not counted)."""
    if cfg.budget_s is None:
        return cfg.steps, {}
    probe = copy.deepcopy(data.model)
    for p in probe.parameters():
        p.requires_grad_(True)
    blocks = data.train_blocks

    def loss(mm: nn.Module, rows: torch.Tensor) -> torch.Tensor:
        with _autocast(device, cfg.autocast):
            return causal_lm_nll(mm, blocks[rows].to(device)).mean()

    tc = TrainConfig(steps=cfg.probe_steps + 1, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=0.0,
                     sigma_train=1e-6, seed=cfg.seed, grad_clip=None, sampling="epochs")
    times: list[float] = []

    def timed(mm: nn.Module, rows: torch.Tensor) -> torch.Tensor:
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter())
        return loss(mm, rows)

    train(probe, timed, len(blocks), tc, make_optimizer=authors_adamw, rng=rng)
    if device.type == "cuda":
        torch.cuda.synchronize()
    times.append(time.perf_counter())
    per_step = (times[-1] - times[1]) / max(1, len(times) - 2)
    del probe
    fit = int(cfg.train_share * cfg.budget_s / (2 * per_step))
    steps = max(1, min(cfg.steps, fit))
    return steps, {"seconds_per_step": per_step, "budget_s": cfg.budget_s, "train_share": cfg.train_share,
                   "steps_that_fit": fit}


def worst_case_stage(data: FiveXData, cfg: FiveXConfig, worst_sets: Sequence[torch.Tensor], nll_rows: torch.Tensor,
                     store: ResultStore, rng: str, log: Callable[[str], None]) -> dict[str, Any]:
    """K tethered-ascent directions at θ₀ and K_most raw Gaussian ones; edges, their ratio, the NLL control."""
    from landscape.context import ProbeContext

    model, device = data.model, next(data.model.parameters()).device
    ctx = ProbeContext.for_model(model, store=store, model_id="five_x-theta0", weight_hash=data.weight_hash,
                                 seed=derive_seed(cfg.seed, "five_x-most-case"), rng=rng)
    clean = data.score(model).value
    tau = cfg.tau_fraction * max(clean - data.score.chance, 0.0)
    worst_specs = []
    for rows in worst_sets:
        def nll(m: nn.Module, rows: torch.Tensor = rows) -> torch.Tensor:
            return causal_lm_nll(m, rows.to(device)).mean()
        worst_specs.append(worst_case_tether(model, nll, steps=cfg.worst_steps, lr=cfg.worst_lr).direction)
    opts = dict(tau=tau, stop_early=True, rel_precision=cfg.edge_rel_precision, chunk=cfg.edge_chunk)
    most_specs = default_directions(cfg.most_k, ctx.seed, rng)
    most = basin_edges(model, data.score, ctx, directions=most_specs, **opts)
    worst = basin_edges(model, data.score, ctx, directions=worst_specs, **opts)
    ratio = ratio_estimate(most.median, worst.median, "edge ratio random (median) / worst (median)")
    log(f"five_x worst_case: most {most.median.brief()} worst {worst.median.brief()} ratio {ratio.brief()}")
    nll_score = NLLScore(tokens=nll_rows, name="held-out nll", batch_size=cfg.eval_batch_size)
    control = {}
    for label, edges, specs in (("most", most, most_specs), ("worst", worst, worst_specs)):
        per = []
        for spec, d in zip(specs, edges.directions):
            edge = d.edge
            if not (edge > 0 and math.isfinite(edge)):
                per.append({"edge": edge, "nll": None})
                continue
            curve = landscape_1d(model, nll_score, [edge * f for f in NLL_CONTROL_MULTIPLES],
                                 ctx.replace(store=None), directions=[spec])
            per.append({"edge": edge, "alphas": list(curve.alphas), "nll": [float(v) for v in curve.values[0]]})
        control[label] = per
    measurement = Measurement("worst-much-narrower", ratio, data.model_id, SOURCE, n=len(worst_specs),
                              seeds=(cfg.seed,), varied=("directions",), subject=data.model_id, training_seed=cfg.seed,
                              note=f"pooled basic set, tau = {tau:.3g}; {cfg.worst_k} ascent directions, "
                                   f"{cfg.most_k} raw Gaussian")
    return {"tau": tau, "most_case": most.median.to_dict(), "worst_case": worst.median.to_dict(),
            "worst_edges": [d.edge for d in worst.directions], "most_edges": [d.edge for d in most.directions],
            "ratio": ratio.to_dict(), "nll_control": control, "measurement": measurement}


def render_report(summary: dict[str, Any]) -> str:
    """report.md: the stages done, with their wall times and the numbers that decide each verdict."""
    st = summary["stages"]
    lines = [f"# 5x run on {summary['model']}", "",
             f"seed {summary['seed']}, device {summary['device']}, rng {summary['rng']}; "
             f"stages done: {', '.join(summary['stages_done'])}", "",
             "| stage | wall s |", "|---|---|"]
    lines += [f"| {name} | {st[name]['wall_time_s']:.1f} |" if "wall_time_s" in st[name] else f"| {name} | |"
              for name in summary["stages_done"]]
    load = st.get("load")
    if load:
        lines += ["", f"Budget: {load['steps']} steps per arm at batch {summary['config']['batch_size']} × "
                      f"{load['block_size']} tokens = {load['tokens_per_arm']:,} tokens ({load['epochs']:.2f} epochs of "
                      f"{load['train_tokens']:,} training tokens); master weights float32, autocast "
                      f"{load['autocast']}."]
    gate = st.get("gate")
    if gate:
        source = f" ({gate['source']})" if gate.get("source") else ""
        lines += ["", f"Clean-score set {gate['set']}{source}: S(θ₀) = {gate['clean_score']:.3f} "
                      f"[{gate['ci'][0]:.3f}, {gate['ci'][1]:.3f}] on {gate['n_examples']} examples (95 % CP; "
                      f"chance {gate['chance']:.3f})" + (", below resolution" if gate["below_resolution"] else "") + "."]
    enl = summary.get("enlargement") or (st.get(summary["stages_done"][-1], {}).get("enlargement"))
    if enl:
        lines += ["", f"Control: S = {enl['clean_score_control']:.3f}, τ = {enl['tau']:.3g}, canonical raw σ_b = "
                      f"{_brief(enl['anchor']['sigma_basin'])}."]
        for arm in enl["arms"]:
            lines.append(_arm_line(arm))
    training = (st.get(summary["stages_done"][-1], {}) or {}).get("training") or _last_training(st)
    if training:
        for name, ch in training["parameter_change"].items():
            lines.append(f"- {name}: ‖Δθ‖₂ = {ch['delta_norm']:.4g}, moved share {ch['moved_share']:.4f}, "
                         f"last loss {training['losses_last'].get(name, float('nan')):.4f}")
    wc = st.get("worst_case")
    if wc:
        lines += ["", f"Worst case (τ = {wc['tau']:.3g}): most-case median edge {_brief(wc['most_case'])}, "
                      f"worst-case median edge {_brief(wc['worst_case'])}, ratio {_brief(wc['ratio'])}."]
    if summary.get("claims"):
        lines += ["", "| claim | verdict | value [CI] | criterion |", "|---|---|---|---|"]
        for cid, row in summary["claims"].items():
            value = "–" if row.get("value") is None else _brief({"estimate": row["value"], "ci": row.get("ci")})
            lines.append(f"| {cid} | {row['verdict']} | {value} | {row.get('criterion', '')} |")
    return "\n".join(lines) + "\n"


def _brief(d: dict[str, Any]) -> str:
    def num(x: Any) -> float:
        return math.nan if x is None else float(x)

    ci = d.get("ci") or [None, None]
    return f"{num(d.get('estimate')):.4g} [{num(ci[0]):.4g}, {num(ci[1]):.4g}]"


def _arm_line(arm: dict[str, Any]) -> str:
    if arm.get("sigma_train") is None:
        return f"- GO m = {arm['m']:g}: {arm.get('reason', 'not run')}"
    text = f"- GO m = {arm['m']:g}: σ_train = {arm['sigma_train']:.4g}, {arm['steps']} steps"
    text += f" (plateau at {arm['plateau_step']})" if arm.get("plateau_reached") else " (no plateau)"
    if "clean_score" in arm:
        text += f"; S GO {arm['clean_score']['go']:.3f} vs control {arm['clean_score']['control']:.3f}"
        text += (f"; canonical σ-basin control {_brief(arm['control']['sigma_basin'])}, GO "
                 f"{_brief(arm['go']['sigma_basin'])}; multiplicative control "
                 f"{_brief(arm['control_multiplicative']['sigma_basin'])}, GO "
                 f"{_brief(arm['go_multiplicative']['sigma_basin'])}")
    if "test" in arm:
        text += f"; gate: {arm['gate']['text']}; factor {_brief(arm['test']['factor'])} -> {arm['test']['verdict']}"
    return text


def _last_training(stages: dict[str, Any]) -> dict[str, Any] | None:
    for block in reversed(list(stages.values())):
        if isinstance(block, dict) and block.get("training"):
            return block["training"]
    return None


def blocks_tensor(tokens: np.ndarray, block_size: int, held_out: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(training blocks, held-out blocks): the stream cut into block_size blocks, the last `held_out` of them
    kept out of training."""
    n = len(tokens) // block_size
    if n <= held_out:
        raise UserInputError(f"{len(tokens)} tokens give {n} blocks of {block_size}, need more than {held_out}")
    blocks = torch.as_tensor(np.asarray(tokens[:n * block_size], dtype=np.int64)).reshape(n, block_size)
    return blocks[:n - held_out], blocks[n - held_out:]


__all__ = ["FiveXConfig", "FiveXData", "HELD_OUT_BLOCKS_PER_SET", "STAGES", "authors_adamw", "blocks_tensor",
           "held_out_sets", "plan_steps", "plot_losses", "precision_guard", "render_report",
           "run_five_x",
           "worst_case_stage"]
