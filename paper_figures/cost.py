"""Cost estimates of a paper_figures run: the work each figure still needs, times unit costs timed at the start.

Units (timed once per run on this machine by `measure_units`, seconds):
- one training step per model kind ("transformer": the toy transformer, batch 64; "mlp": the width-64
  teacher–student MLP, batch 128);
- one evaluation per model kind: a perturbed probe over the full example set of a figure score
  ("transformer": the basic score on Sizes.n_examples rows; "mlp": held-out accuracy on 1024 rows), and one
  single-example trial ("transformer-trial", "mlp-trial": noise written into every parameter, one example
  scored) for the (noise, example) pairs of σ-basins and certificates.
A figure's `work(run)` declares what its data still needs (nothing once stored): training jobs and
evaluation jobs, each by key (a job shared by several figures — the aligned transformer, a stored
landscape — is paid once per run, by the first figure that needs it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from landscape.progress import median_seconds

TRANSFORMER, MLP = "transformer", "mlp"
TRANSFORMER_TRIAL, MLP_TRIAL = "transformer-trial", "mlp-trial"


@dataclass(frozen=True)
class Work:
    """train: job key → (model kind or unit, optimizer steps); evals: job key → (unit, evaluations);
    timers: unit → a function returning that unit's seconds, for units of the figure's own models (the
    width sweep's arms), timed at the start with the built-in ones."""

    train: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    evals: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    timers: Mapping[str, Callable[[], float]] = field(default_factory=dict)

    def __add__(self, other: Work) -> Work:
        return Work({**self.train, **other.train}, {**self.evals, **other.evals}, {**self.timers, **other.timers})


NONE = Work()


@dataclass(frozen=True)
class UnitCosts:
    """Seconds per training step (by model kind) and per evaluation (by unit)."""

    train_step_s: Mapping[str, float]
    eval_s: Mapping[str, float]


@dataclass(frozen=True)
class StageEstimate:
    """Seconds predicted for one figure: training (jobs not already paid by an earlier stage) + evaluations."""

    train_s: float
    eval_s: float
    train_steps: int
    evals: int

    @property
    def total_s(self) -> float:
        return self.train_s + self.eval_s

    def line(self) -> str:
        return (f"~{human(self.total_s)} (training {human(self.train_s)}: {self.train_steps} steps; "
                f"{self.evals} evaluations {human(self.eval_s)})")


def human(seconds: float) -> str:
    """12 s, 3.4 min, 1.2 h."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def estimate(works: Iterable[Work], units: UnitCosts) -> list[StageEstimate]:
    """Per-stage estimates in order; a job key already paid by an earlier stage costs nothing."""
    paid: set[str] = set()
    out = []
    for work in works:
        steps = {k: v for k, v in work.train.items() if ("train", k) not in paid}
        evals = {k: v for k, v in work.evals.items() if ("eval", k) not in paid}
        paid |= {("train", k) for k in steps} | {("eval", k) for k in evals}
        train_s = sum(units.train_step_s[kind] * n for kind, n in steps.values())
        eval_s = sum(units.eval_s[unit] * n for unit, n in evals.values())
        out.append(StageEstimate(train_s, eval_s, sum(n for _, n in steps.values()),
                                 sum(n for _, n in evals.values())))
    return out


def probe_timer(model, score, example_ids=None) -> Callable[[], object]:
    """One probe through the run's own path: a fresh Gaussian direction at a small α through a
    ProbeEvaluator whose rows go to a scratch store (key, write, evaluation, restore, row append)."""
    import tempfile
    from pathlib import Path

    from landscape.context import ProbeContext
    from landscape.directions import DirectionSpec
    from landscape.evaluate import ProbeEvaluator
    from landscape.store import ResultStore

    folder = tempfile.mkdtemp(prefix="basin-cost-")
    ev = ProbeEvaluator(model, score, ProbeContext.for_model(model, store=ResultStore(Path(folder) / "rows.jsonl")))
    seeds = iter(range(10**9))

    def probe():
        ev.at(DirectionSpec(seed=next(seeds)), 1e-3, example_ids=example_ids)
    return probe


def time_per_call(fn: Callable[[], object], calls: int = 3) -> float:
    """Median seconds of one fn() after a warm-up call (for a Work's own timers)."""
    return median_seconds(fn, calls, warmup=True)


def measure_units(n_examples: int, mlp_width: int = 64, n_test: int = 1024,
                  timers: Mapping[str, Callable[[], float]] | None = None) -> UnitCosts:
    """Time one training step and one evaluation of each model kind (untrained models; ≈ 2–4 s), and each
    unit of `timers` (seconds per step or per evaluation, whichever the unit is used for)."""

    from toymodels.mlp import MLP as MLPModel
    from toymodels.mlp import MLPConfig
    from toymodels.tasks import basic_score, teacher_student
    from toymodels.train import TrainConfig, adamw, classification_loss, mlp_adamw, sequence_loss, train
    from toymodels.transformer import TinyTransformer, TransformerConfig

    tf = TinyTransformer(TransformerConfig())
    score = basic_score(n_examples)
    tf_loss = sequence_loss(score.data)
    task = teacher_student()
    mlp = MLPModel(MLPConfig(width=mlp_width, seed=0))
    accuracy = task.accuracy(n_test)
    steps = 4

    def tf_train():
        train(tf, tf_loss, len(score.data), TrainConfig(steps=steps, batch_size=64, lr=1e-3), adamw)

    def mlp_train():
        train(mlp, classification_loss(task), len(task.y_train), TrainConfig(steps=steps, batch_size=128, lr=1e-3),
              mlp_adamw)

    own = {name: float(timer()) for name, timer in (timers or {}).items()}
    return UnitCosts(
        train_step_s={TRANSFORMER: median_seconds(tf_train, 2, warmup=True) / steps,
                      MLP: median_seconds(mlp_train, 2, warmup=True) / steps, **own},
        eval_s={TRANSFORMER: median_seconds(probe_timer(tf, score), 3, warmup=True),
                TRANSFORMER_TRIAL: median_seconds(probe_timer(tf, score, [0]), 5, warmup=True),
                MLP: median_seconds(probe_timer(mlp, accuracy), 3, warmup=True),
                MLP_TRIAL: median_seconds(probe_timer(mlp, accuracy, [0]), 5, warmup=True), **own})
