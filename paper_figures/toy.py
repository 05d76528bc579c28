"""The toy models and scores every figure measures, in quick or full settings (models from toymodels).

Models are never trained here: `toymodels.train` provides (and caches per process) the pre-trained,
aligned and fine-tuned transformers and the trained MLPs. This module only fixes the sizes of the
measurements (examples per score, directions K, noise draws) and the ids under which results are stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from paper_figures import cost
from paper_figures.context import FigureRun
from toymodels.train import FINETUNE_KINDS  # noqa: F401  (re-exported: the fine-tunes the figures show)

CAPABILITIES = ("basic", "math", "coding", "safety")
FRESH_SEED = 100_000  # seeds of the K' fresh directions of Table 1 / Figure 5 (disjoint from edge seeds)
ALPHA_MULTIPLES = (0.25, 0.5, 0.75, 1.0, 1.5)


@dataclass(frozen=True)
class Sizes:
    """Measurement sizes: examples per score, directions K (curves, edges), K' fresh directions, grid
    points, noise draws n (certificates), edge search precision."""

    n_examples: int
    k: int
    k_fresh: int
    grid_points: int
    n_noise: int
    rel_precision: float
    worst_steps: int


QUICK = Sizes(n_examples=128, k=6, k_fresh=51, grid_points=21, n_noise=200, rel_precision=0.15, worst_steps=8)
FULL = Sizes(n_examples=512, k=16, k_fresh=101, grid_points=31, n_noise=1000, rel_precision=0.05,
             worst_steps=30)


def sizes(ctx: FigureRun) -> Sizes:
    return QUICK if ctx.quick else FULL


def transformer(stage: str = "align", sigma_train: float = 0.0) -> torch.nn.Module:
    """The toy transformer at `stage` (toymodels.train.trained_transformer; cached per process)."""
    from toymodels.train import trained_transformer

    return trained_transformer(stage, sigma_train=sigma_train)


def transformer_id(stage: str = "align", sigma_train: float = 0.0) -> str:
    return f"toy-transformer-{stage}" + (f"-go{sigma_train:g}" if sigma_train else "")


def capability_scores(ctx: FigureRun) -> dict:
    """basic, math, coding, safety scores of the synthetic language (toymodels.tasks.language_scores)."""
    from toymodels.tasks import language_scores

    scores = language_scores(n=sizes(ctx).n_examples)
    return {name: scores[name] for name in CAPABILITIES}


def nll_score(ctx: FigureRun):
    from toymodels.tasks import language_nll

    return language_nll(n=sizes(ctx).n_examples)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- declared work (cost.Work)
EDGE_EVALS_PER_DIRECTION = 24  # ≈ 2 half-lines × (bracket 2–3 + log-bisection 4 + 5 non-monotonicity checks)


def transformer_jobs(stage: str) -> dict[str, tuple[str, int]]:
    """The training jobs behind the transformer at `stage` (pretrain → align → fine-tune), keyed per stage."""
    from toymodels.train import ALIGN, FINETUNE, PRETRAIN

    jobs = {"tf-pretrain": (cost.TRANSFORMER, PRETRAIN.steps)}
    if stage != "pretrain":
        jobs["tf-align"] = (cost.TRANSFORMER, ALIGN.steps)
    if stage in FINETUNE:
        jobs[f"tf-{stage}"] = (cost.TRANSFORMER, FINETUNE[stage].steps)
    return jobs


def merge(*works: cost.Work) -> cost.Work:
    return sum(works, cost.NONE)


def edges_work(run: FigureRun, stage: str, score: str, label: str = "random", k: int | None = None) -> cost.Work:
    """Evaluations of one stored basin_edges call (none once stored); its training jobs."""
    if run.has(f"edges_{stage}_{score}_{label}"):
        return cost.NONE
    k = sizes(run).k if k is None else k
    name = f"edges_{stage}_{score}_{label}"
    return cost.Work(transformer_jobs(stage), {name: (cost.TRANSFORMER, 1 + k * EDGE_EVALS_PER_DIRECTION)})


def grid_work(run: FigureRun) -> cost.Work:
    """The α grid needs the basic median edge on the aligned transformer."""
    return edges_work(run, "align", "basic")


def landscape_work(run: FigureRun, items, k: int | None = None, n_alphas: int | None = None) -> cost.Work:
    """Evaluations of stored landscapes `items` = [(stage, score, label)] on the grid (plus the grid's edges)."""
    k = sizes(run).k if k is None else k
    n = sizes(run).grid_points if n_alphas is None else n_alphas
    works = [grid_work(run)]
    for stage, score, label in items:
        name = f"landscape_{stage}_{score}_{label}"
        if not run.has(name):
            works.append(cost.Work(transformer_jobs(stage), {name: (cost.TRANSFORMER, 1 + k * (n - 1))}))
    return merge(*works)
