"""MLP measurements for Figures 7 and 8 (teacher–student classification, accuracy as S).

Models come from toymodels.train (trained_mlp, train_mlp with checkpoints, train for the later fine-tune);
edges from landscape.edges with raw Gaussian directions (α per coordinate), results through the store.
"""

from __future__ import annotations

from dataclasses import replace

from landscape.context import ProbeContext
from landscape.edges import basin_edges
from paper_figures import toy
from paper_figures.context import FigureRun

WIDTH = 64
CHECKPOINT_EVERY = 50
N_TEST = 1024


def task(seed: int = 0):
    from toymodels.tasks import teacher_student

    return teacher_student(seed=seed)


def half_drop_edges(ctx: FigureRun, model, model_id: str):
    """Basin edges of held-out accuracy at the collapse midpoint τ = ½(S(θ₀) − chance) (toymodels.claims
    .half_drop; τ = 0 would trip on a single flipped test example), K raw Gaussian directions."""
    from toymodels.claims import half_drop

    s = toy.sizes(ctx)
    score = task().accuracy(N_TEST)
    probe = ProbeContext.for_model(model, store=ctx.store, model_id=model_id, seed=0)
    return basin_edges(model, score, probe, k=s.k, tau=half_drop(score, model), rel_precision=s.rel_precision,
                       alpha_start=1e-2, alpha_min=1e-5, alpha_max=10.0)


def training_curve(ctx: FigureRun) -> dict:
    """Median basic edge and clean accuracy at every checkpoint of one plain MLP training run."""
    from toymodels.mlp import MLP, MLPConfig
    from toymodels.train import MLP_TRAIN, train_mlp

    config = MLPConfig(width=WIDTH, seed=0)
    _, result = train_mlp(task(), config, replace(MLP_TRAIN, checkpoint_every=CHECKPOINT_EVERY))
    score = task().accuracy(N_TEST)
    points = []
    for ck in result.checkpoints:
        model = MLP(config)
        model.load_state_dict(ck.state)
        e = half_drop_edges(ctx, model, f"mlp{WIDTH}-step{ck.step}")
        points.append({"step": ck.step, "accuracy": score(model).value, "median_edge": e.median.to_dict()})
    return {"width": WIDTH, "chance": score.chance, "points": points}


GO_FACTOR = 0.5  # σ_train = GO_FACTOR × plain median edge (2× made GO-from-scratch collapse to chance)
LATER_FINETUNE_STEPS = 200
LATER_FINETUNE_EVERY = 20


def _forgetting(model, label: str) -> dict:
    """Old-task (seed 0) and new-task (seed 1) accuracy along the same later fine-tune on the new task."""
    import copy

    from toymodels.train import TrainConfig, classification_loss, mlp_adamw, train

    old, new = task(0), task(1)
    tuned = copy.deepcopy(model)
    cfg = TrainConfig(steps=LATER_FINETUNE_STEPS, batch_size=128, lr=1e-3, seed=0,
                      checkpoint_every=LATER_FINETUNE_EVERY)
    result = train(tuned, classification_loss(new), len(new.y_train), cfg, mlp_adamw)
    old_score, new_score = old.accuracy(N_TEST), new.accuracy(N_TEST)
    points = [{"step": 0, "old": old_score(model).value, "new": new_score(model).value}]
    for ck in result.checkpoints:
        tuned.load_state_dict(ck.state)
        points.append({"step": ck.step, "old": old_score(tuned).value, "new": new_score(tuned).value})
    return {"label": label, "n_test": N_TEST, "points": points}


def go_comparison(ctx: FigureRun) -> dict:
    """Plain vs GO-trained MLP (σ_train = GO_FACTOR × the plain median edge): edges, 1-D landscapes over
    the same K directions, and forgetting under the same later fine-tune."""
    from landscape.landscape_1d import landscape_1d, symmetric_grid
    from toymodels.train import trained_mlp

    plain = trained_mlp(WIDTH)
    plain_edges = half_drop_edges(ctx, plain, f"mlp{WIDTH}-plain")
    sigma_train = float(f"{GO_FACTOR * plain_edges.median.estimate:.3g}")
    go = trained_mlp(WIDTH, sigma_train=sigma_train)
    go_edges = half_drop_edges(ctx, go, f"mlp{WIDTH}-go{sigma_train:g}")
    top = max(plain_edges.median.estimate, go_edges.median.estimate)
    alphas = symmetric_grid(3.0 * top, toy.sizes(ctx).grid_points)
    score = task().accuracy(N_TEST)
    out = {"sigma_train": sigma_train, "chance": score.chance, "models": {}}
    for label, model, e in (("plain AdamW", plain, plain_edges), (f"GO σ_train={sigma_train:g}", go, go_edges)):
        land = landscape_1d(model, score, alphas,
                            ProbeContext.for_model(model, store=ctx.store, model_id=f"mlp{WIDTH}-{label}", seed=0),
                            k=toy.sizes(ctx).k)
        out["models"][label] = {"median_edge": e.median.to_dict(), "landscape": land,
                                "forgetting": _forgetting(model, label)}
    return out


def _edge_evals(run: FigureRun) -> int:
    return 2 + toy.sizes(run).k * toy.EDGE_EVALS_PER_DIRECTION  # S(θ₀), τ, then the K directions


def training_curve_work(run: FigureRun):
    """One checkpointed training run and the edges at every checkpoint (none once stored)."""
    from paper_figures import cost
    from toymodels.train import MLP_TRAIN

    if run.has("training_curve"):
        return cost.NONE
    checkpoints = MLP_TRAIN.steps // CHECKPOINT_EVERY
    return cost.Work({"mlp-training-curve": (cost.MLP, MLP_TRAIN.steps)},
                     {"training_curve": (cost.MLP, checkpoints * (1 + _edge_evals(run)))})


def go_comparison_work(run: FigureRun):
    """Plain and GO training, their edges and landscapes, and two later fine-tunes (none once stored)."""
    from paper_figures import cost
    from toymodels.train import MLP_TRAIN

    if run.has("go_comparison"):
        return cost.NONE
    s = toy.sizes(run)
    per_model = _edge_evals(run) + 1 + s.k * (s.grid_points - 1) + 2 * (1 + LATER_FINETUNE_STEPS // LATER_FINETUNE_EVERY)
    return cost.Work({"mlp-plain": (cost.MLP, MLP_TRAIN.steps), "mlp-go": (cost.MLP, MLP_TRAIN.steps),
                      "mlp-forgetting": (cost.MLP, 2 * LATER_FINETUNE_STEPS)},
                     {"go_comparison": (cost.MLP, 2 * per_model)})
