"""The landscape runs on a causal LM, each one Python function, all resumable through one ResultStore.

Every function takes a `RunContext` (model, tokenizer, identity, store) and a `Capability` (a Score and
its example ids) and calls the `landscape/` estimator unchanged; the store (DIR/rows.jsonl) holds one row
per evaluation, so a killed run re-reads its rows instead of re-evaluating.

Units: α and σ are per-coordinate (raw Gaussian directions over all d parameters, ‖αδ‖ ≈ α√d); SFT and
worst-case directions are rescaled to ‖δ‖ = √d so they share the α axis; certified radii are ‖Δθ‖₂.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from landscape.certificates import Certificate, DisplacementCheck, certify, certify_many, check_displacement
from landscape.context import ProbeContext, Theta0Holder
from landscape.directions import DirectionSpec
from landscape.edges import BasinEdges, basin_edges
from landscape.evaluate import ProbeEvaluator, default_directions, derive_seed
from landscape.input_robustness import (
    InputCertificates,
    SubstitutionBound,
    heuristic_substitution_bound,
    input_embedding_certificates,
    rigorous_substitution_bound,
    token_distances,
)
from landscape.landscape_1d import Landscape1D, landscape_1d
from landscape.progress import progress
from landscape.scores import Score, causal_lm_nll
from landscape.sigma_basin import SigmaBasin, sigma_basin
from landscape.store import ResultStore
from landscape.worst_case import WorstCase, worst_case_tether
from llm_check.safety import OUTCOMES, SafetyScore, outcome_counts, outcome_rates
from llm_check.scores import text_nll_score
from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.stats import proportion_estimate

ROWS_FILE = "rows.jsonl"


@dataclass(eq=False)
class RunContext:
    """A loaded real model (model, tokenizer, id, weight hash) and the folder its rows go to. `probe_for`
    gives the landscape estimators their ProbeContext; all of them share one θ₀ holder, so the one θ₀ copy
    is made once per loaded model."""

    model: torch.nn.Module
    tokenizer: Any
    model_id: str
    weight_hash: str
    store: ResultStore | None = None
    out_dir: Path | None = None
    seed: int = 0
    rng: str = "cpu"
    theta0: Theta0Holder = field(default_factory=Theta0Holder)

    @classmethod
    def create(cls, model: torch.nn.Module, tokenizer: Any, model_id: str, weight_hash: str,
               out_dir: str | Path | None = None, *, seed: int = 0, rng: str = "cpu") -> RunContext:
        out = None if out_dir is None else Path(out_dir)
        store = None if out is None else ResultStore(out / ROWS_FILE)
        return cls(model, tokenizer, model_id, weight_hash, store, out, seed, rng)

    @classmethod
    def from_loaded(cls, lm: Any, out_dir: str | Path | None = None, **kw: Any) -> RunContext:
        """From llm_check.model_io.LoadedModel."""
        return cls.create(lm.model, lm.tokenizer, lm.model_id, lm.weight_hash, out_dir, **kw)

    @property
    def n_params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    def probe_for(self, cap: Capability | None = None, *, store: ResultStore | None | str = "run") -> ProbeContext:
        """The estimators' context for `cap`'s examples (all, when None); `store` overrides the run's."""
        return ProbeContext(store=self.store if store == "run" else store, model_id=self.model_id,
                            weight_hash=self.weight_hash, theta0=self.theta0, rng=self.rng, seed=self.seed,
                            example_ids=None if cap is None else cap.example_ids)


@dataclass(frozen=True, eq=False)
class Capability:
    """A named capability: one Score and the example ids it is evaluated on (None = all)."""

    name: str
    score: Score
    example_ids: tuple[int, ...] | None = None

    @property
    def n_examples(self) -> int:
        return self.score.n_examples if self.example_ids is None else len(self.example_ids)

    @property
    def id_list(self) -> list[int] | None:
        """The example ids as the estimators take them (None = every example)."""
        return None if self.example_ids is None else list(self.example_ids)


def _positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise UserInputError(f"{name} must be a finite number > 0, got {value}")


def sigma_points(basin: SigmaBasin) -> list[dict]:
    """The σ-basin's measured points as JSON-ready dicts (σ, p_A estimate, inside, outside; sequential search:
    the paired drop with its interval and the trials' noise seeds in trial order)."""
    return [{"sigma": p.sigma, "p_a": p.p_a.to_dict(), "inside": p.inside, "outside": p.outside,
             **({"drop": p.drop.to_dict(), "noise_seeds": list(p.noise_seeds)} if p.drop is not None else {})}
            for p in basin.points]


def sigma_trials(basin: SigmaBasin) -> list[dict]:
    """Per measured σ: the trials it took, the examples per trial (b) and its decision (sequential search;
    grid/bisect: n draws of b = 1 and the fixed-n verdict)."""
    b = basin.examples_per_trial or (0 if basin.mode == "set" else 1)
    return [{"sigma": p.sigma, "trials": p.trials or p.p_a.n, "b": b,
             "decision": p.decision or ("inside" if p.inside else "outside" if p.outside else "undecided")}
            for p in basin.points]


def most_case_curves(ctx: RunContext, cap: Capability, alphas: Sequence[float], *, k: int = 8,
                     confidence: float = 0.95) -> Landscape1D:
    """S(θ₀ + αδ) for K raw Gaussian directions (seeds ctx.seed … ctx.seed+K−1) over `alphas`."""
    if k < 1:
        raise UserInputError(f"K must be >= 1 direction, got {k}")
    for a in alphas:
        if not math.isfinite(a):
            raise UserInputError(f"alphas must be finite, got {a}")
    return landscape_1d(ctx.model, cap.score, alphas, ctx.probe_for(cap), k=k, confidence=confidence)


def basin_edge(ctx: RunContext, cap: Capability, *, tau: float, k: int = 8, confidence: float = 0.95,
               directions: Sequence[DirectionSpec] | None = None, **search: Any) -> BasinEdges:
    """α_edge per direction (both signs; default K raw Gaussian directions) and their median with an
    order-statistic interval (landscape.edges). `search`: alpha_start, rel_precision, … of search_edge."""
    if directions is None and k < 1:
        raise UserInputError(f"K must be >= 1 direction, got {k}")
    if not 0 <= tau <= 1:
        raise UserInputError(f"tau must lie in [0, 1], got {tau}")
    return basin_edges(ctx.model, cap.score, ctx.probe_for(cap), directions=directions, tau=tau, k=k,
                       confidence=confidence, **search)


def sigma_grid(center: float, low: int = 3, high: int = 2, ratio: float = 2.0) -> list[float]:
    """center·ratio^j for j = −low … high (geometric σ grid around a measured edge)."""
    _positive("grid center", center)
    return [center * ratio ** j for j in range(-low, high + 1)]


def sigma_basin_run(ctx: RunContext, cap: Capability, sigmas: Sequence[float], *, tau: float = 0.05,
                    n: int = 200, mode: str = "pairs", kind: str = "gaussian",
                    confidence: float = 0.95, search: str = "grid", **sequential: Any) -> SigmaBasin:
    """σ-basin (Def. 4.1) on the capability (landscape.sigma_basin). kind "gaussian": σ per coordinate;
    "multiplicative": relative σ, θ ⊙ (1 + σz), the rescaling-invariant unit. search "sequential": n is each
    σ's trial budget (`sequential`: b, target_ratio, start, look_every); "grid"/"bisect": n draws per σ."""
    for s in sigmas:
        _positive("sigma", s)
    return sigma_basin(ctx.model, cap.score, sigmas, ctx.probe_for(cap), tau=tau, n=n, mode=mode, kind=kind,
                       confidence=confidence, search=search, **sequential)


@dataclass(frozen=True)
class StrictBasin:
    """Strict-basin statistic at σ: fraction of K directions with S(θ₀ + σδ) = S(θ₀) exactly, with a
    one-sided Clopper–Pearson lower bound; `certified` = lower bound ≥ `target`."""

    score: str
    sigma: float
    fraction: Estimate
    n_same: int
    n_directions: int
    target: float
    certified: bool
    wall_time_s: float


def strict_basin(ctx: RunContext, cap: Capability, sigma: float, *, n_directions: int = 51,
                 confidence: float = 0.99, target: float = 0.9) -> StrictBasin:
    """The paper's strict-basin certificate (e.g. > 90 % of directions unchanged at 99 % confidence)."""
    _positive("sigma", sigma)
    if n_directions < 1:
        raise UserInputError(f"n_directions must be >= 1, got {n_directions}")
    start = time.perf_counter()
    land = most_case_curves(ctx, cap, [sigma], k=n_directions, confidence=confidence)
    column = land.alphas.index(float(sigma))
    same = int(np.sum(land.values[:, column] == land.baseline))
    frac = proportion_estimate(same, n_directions, confidence, "lower", unit="fraction of directions")
    return StrictBasin(score=cap.name, sigma=float(sigma), fraction=frac, n_same=same, n_directions=n_directions,
                       target=target, certified=frac.lo >= target, wall_time_s=time.perf_counter() - start)


def corpus_blocks(tokenizer: Any, *, block_size: int = 64, max_blocks: int | None = 8,
                  text: str | None = None) -> torch.Tensor:
    """(max_blocks, block_size) token blocks of `text` (None: Python's pydoc_data topics, disjoint from
    the BIG-bench evaluation tasks)."""
    return text_nll_score(tokenizer, text, block_size=block_size, max_blocks=max_blocks).tokens


@dataclass(frozen=True)
class WorstCaseRun:
    """Worst-case direction (tethered ascent on corpus NLL, ‖δ‖ = √d), its edge on the capability, and
    worst edge ÷ median most-case edge (None when no most-case edge was given)."""

    capability: str
    search: WorstCase | None
    direction: DirectionSpec
    edges: BasinEdges
    worst_edge: float
    worst_to_most_ratio: float | None


def worst_case_direction(ctx: RunContext, *, steps: int = 10, lr: float = 1e-3, tether: float = 1.0,
                         block_size: int = 64, max_blocks: int = 8) -> tuple[DirectionSpec, WorstCase | None]:
    """The authors' recipe on pydoc_data text: `steps` of ascent on NLL − tether·mean((θ−θ₀)²), then
    (θ_K − θ₀) rescaled to √d (landscape.worst_case). Saved to DIR/worst_direction.safetensors and reused."""
    meta = {"method": "ascent-tether", "steps": steps, "lr": lr, "tether": tether, "param_filter": None}
    path = sidecar = None
    if ctx.out_dir is not None:
        path = ctx.out_dir / "worst_direction.safetensors"
        sidecar = ctx.out_dir / "worst_direction.json"
        if path.is_file() and sidecar.is_file():
            saved = json.loads(sidecar.read_text())
            if saved.get("meta") == meta and saved.get("weights") == ctx.weight_hash:
                return DirectionSpec.stored(path, kind="worst", meta=meta), None
    tokens = corpus_blocks(ctx.tokenizer, block_size=block_size, max_blocks=max_blocks)
    device = next(ctx.model.parameters()).device

    def loss(model: torch.nn.Module) -> torch.Tensor:
        return causal_lm_nll(model, tokens.to(device)).mean()

    found = worst_case_tether(ctx.model, loss, steps=steps, lr=lr, tether=tether, path=path)
    if sidecar is not None:
        sidecar.write_text(json.dumps({"meta": meta, "weights": ctx.weight_hash, "losses": list(found.losses)}))
    return found.direction, found


def worst_case(ctx: RunContext, cap: Capability, *, most_case_edge: float | None = None, tau: float = 0.05,
               confidence: float = 0.95, steps: int = 10, lr: float = 1e-3, tether: float = 1.0,
               **search: Any) -> WorstCaseRun:
    """Worst-case edge along the tethered-ascent direction and the worst/most ratio."""
    direction, found = worst_case_direction(ctx, steps=steps, lr=lr, tether=tether)
    edges = basin_edge(ctx, cap, tau=tau, confidence=confidence, directions=[direction], **search)
    worst = edges.directions[0].edge
    ratio = None if not most_case_edge else worst / most_case_edge
    return WorstCaseRun(capability=cap.name, search=found, direction=direction, edges=edges, worst_edge=worst,
                        worst_to_most_ratio=ratio)


def sft_case(ctx: RunContext, cap: Capability, theta_sft: str | Path | Mapping[str, torch.Tensor],
             alphas: Sequence[float], *, confidence: float = 0.95) -> Landscape1D:
    """1-D landscape along δ = (θ_sft − θ₀)·√d/‖θ_sft − θ₀‖ (θ_sft: safetensors file/dir or state_dict)."""
    spec = DirectionSpec.sft(theta_sft, rng=ctx.rng)
    return landscape_1d(ctx.model, cap.score, alphas, ctx.probe_for(cap), directions=[spec],
                        confidence=confidence)


CERTIFICATE_SEED = "certificate"


def certificate_seed(ctx: RunContext) -> int:
    """The noise seed of a certificate at a σ chosen from data (the σ-basin's estimate): fresh draws, not the
    σ-basin's, so the σ was not selected on the very noise that certifies it (no winner's curse)."""
    return derive_seed(ctx.seed, CERTIFICATE_SEED)


def certificate(ctx: RunContext, cap: Capability, sigma: float, *, n: int = 200, q: float | None = None,
                confidence: float = 0.99, mode: str = "pairs", fresh_noise: bool = False, b: int = 1) -> Certificate:
    """Parameter-space certificate at σ (Thm 4.3): one-sided lower bound on p_A from n draws (S(θ₀) − the
    paired drop's betting upper bound) and the certified radius σ(Φ⁻¹(p_lower) − Φ⁻¹(q)) in ‖Δθ‖₂ (q
    default: chance). fresh_noise: draw with `certificate_seed` (for a σ chosen from data). b: examples
    per draw ("pairs")."""
    _positive("sigma", sigma)
    probe = ctx.probe_for(cap)
    if fresh_noise:
        probe = probe.replace(seed=certificate_seed(ctx))
    return certify(ctx.model, cap.score, sigma, probe, n=n, q=q, confidence=confidence, mode=mode, b=b)


def certificates(ctx: RunContext, items: Sequence[tuple[Capability, float, int]], *, n: int = 200,
                 q: float | None = None, confidence: float = 0.99) -> list[Certificate]:
    """`certificate(..., fresh_noise=True)` for several (capability, σ, b) on one noise plan: each draw's noise
    is made once for all of them (landscape.certificates.certify_many); each result is the one alone."""
    for _, sigma, _ in items:
        _positive("sigma", sigma)
    seed = certificate_seed(ctx)
    return certify_many([(ctx.model, cap.score, sigma, ctx.probe_for(cap).replace(seed=seed), b)
                         for cap, sigma, b in items], n=n, q=q, confidence=confidence)


def finetuned_certificate(ctx: RunContext, cap: Capability, finetuned: torch.nn.Module, sigma: float, *,
                          n: int = 200, q: float | None = None, confidence: float = 0.99,
                          finetuned_id: str = "finetuned", finetuned_hash: str | None = None
                          ) -> DisplacementCheck:
    """Certificate at θ₀, then the guarantee at ‖θ_ft − θ₀‖ vs the smoothed score measured at θ_ft."""
    cert = certificate(ctx, cap, sigma, n=n, q=q, confidence=confidence)
    finetuned_ctx = ProbeContext.for_model(finetuned, store=ctx.store, model_id=finetuned_id,
                                           weight_hash=finetuned_hash, seed=ctx.seed + 1,
                                           example_ids=cap.example_ids)
    return check_displacement(ctx.model, finetuned, cap.score, cert, finetuned_ctx, confidence=confidence)


def ties_embeddings(model: torch.nn.Module) -> bool:
    """True when the input embedding and the output head share one tensor (SmolLM2 does)."""
    get_in = getattr(model, "get_input_embeddings", None)
    get_out = getattr(model, "get_output_embeddings", None)
    if get_in is None or get_out is None or get_out() is None:
        return False
    return get_in().weight is get_out().weight


@dataclass(frozen=True)
class InputRobustnessRun:
    """Both labelled certificates for one substitution x → x′ of `example_id` (nearest embedding
    neighbour of its last query token): rigorous (input-embedding noise) and heuristic (Thm 4.5 as
    stated, from the parameter certificate; caveats listed, e.g. tied embeddings)."""

    capability: str
    certificates: InputCertificates
    example_id: int
    substitution: tuple[int, int]
    rigorous: SubstitutionBound
    heuristic: SubstitutionBound
    tied_embeddings: bool


def input_robustness(ctx: RunContext, cap: Capability, sigma_emb: float, parameter_certificate: Certificate,
                     *, n: int = 200, confidence: float = 0.99, example_id: int | None = None
                     ) -> InputRobustnessRun:
    """Rigorous per-example certificates under N(0, σ_emb²) input-embedding noise, and both bounds for
    substituting one token of one example by its nearest neighbour in embedding space."""
    _positive("sigma_emb", sigma_emb)
    embedding = ctx.model.get_input_embeddings()
    certs = input_embedding_certificates(ctx.model, cap.score, embedding, sigma_emb, ctx.probe_for(cap), n=n,
                                         confidence=confidence)
    ex = certs.examples[0].example_id if example_id is None else int(example_id)
    task = getattr(cap.score, "task", None)
    if task is None or not hasattr(task.examples[ex], "query"):
        raise UserInputError(f"input robustness needs a multiple-choice task; {cap.name} is not one")
    query = task.examples[ex].query
    tokens = list(ctx.tokenizer(query).input_ids)
    old = int(tokens[-1])
    dist = token_distances(embedding.weight, [old])[0]
    dist[old] = math.inf
    new = int(torch.argmin(dist))
    new_tokens = tokens[:-1] + [new]
    tied = ties_embeddings(ctx.model)
    return InputRobustnessRun(
        capability=cap.name, certificates=certs, example_id=ex, substitution=(old, new),
        rigorous=rigorous_substitution_bound(certs, ex, embedding.weight, tokens, new_tokens),
        heuristic=heuristic_substitution_bound(parameter_certificate, embedding.weight, tokens, new_tokens,
                                               tied_embeddings=tied),
        tied_embeddings=tied)


@dataclass(frozen=True)
class SafetyLandscape:
    """The safety score's three outcomes along K raw Gaussian directions: counts[k][j] = {"refused",
    "complied", "broken": number of the n_prompts replies} at θ₀ + alphas[j]·δ_k (α per coordinate; α = 0
    is θ₀, evaluated once). `rates()` pools the K·n replies at each α."""

    score: str
    alphas: tuple[float, ...]
    directions: tuple[dict, ...]
    counts: tuple[tuple[dict[str, int], ...], ...]
    n_prompts: int
    wall_s: float

    def rates(self, confidence: float = 0.95) -> list[dict[str, Estimate]]:
        """Per α: each outcome's share of the K·n replies (at α = 0 the n replies of θ₀) with a Clopper–Pearson
        interval. What varies: directions and prompts. The K replies to one prompt are not independent draws, so
        the interval is narrower than one over prompts alone would be; the per-direction counts are in `counts`."""
        out = []
        for j, alpha in enumerate(self.alphas):
            rows = self.counts[:1] if alpha == 0 else self.counts
            out.append(outcome_rates({c: sum(row[j][c] for row in rows) for c in OUTCOMES}, confidence))
        return out

    def to_dict(self) -> dict:
        return {"score": self.score, "alphas": list(self.alphas), "directions": list(self.directions),
                "counts": [list(row) for row in self.counts], "n_prompts": self.n_prompts, "wall_s": self.wall_s,
                "rates": [{c: e.to_dict() for c, e in r.items()} for r in self.rates()]}


def safety_landscape(ctx: RunContext, cap: Capability, alphas: Sequence[float], *, k: int = 4) -> SafetyLandscape:
    """Refused / complied / broken counts of `cap`'s replies at θ₀ + α·δ for K raw Gaussian directions (seeds
    ctx.seed … ctx.seed+K−1, the most-case curves' directions), one stored row per (direction, α)."""
    if not isinstance(cap.score, SafetyScore):
        raise UserInputError(f"the safety landscape needs a safety task (harmbench or a JSONL of prompts), "
                             f"not {cap.score.name}")
    if k < 1:
        raise UserInputError(f"K must be >= 1 direction, got {k}")
    grid = sorted({float(a) for a in alphas} | {0.0})
    if any(a < 0 or not math.isfinite(a) for a in grid):
        raise UserInputError("alphas must be finite and >= 0")
    start = time.perf_counter()
    ev = ProbeEvaluator(ctx.model, cap.score, ctx.probe_for(cap))
    ev.announce("safety landscape", len(grid) - 1, k)
    clean = outcome_counts(ev.baseline().labels)
    directions = default_directions(k, ctx.seed, ctx.rng)
    counts = []
    for direction in progress(directions, desc="safety landscape"):
        with ev.hold(direction):
            counts.append(tuple(clean if a == 0 else outcome_counts(ev.at(direction, a).labels) for a in grid))
    return SafetyLandscape(cap.score.name, tuple(grid), tuple(d.to_key() for d in directions), tuple(counts),
                           cap.n_examples, time.perf_counter() - start)
