"""Scoring the model at θ₀ + α·δ, with result rows written to (and skipped from) a ResultStore.

Shared by every estimator of this room: a row is one evaluation of one Score at one (direction, alpha)
or one noise draw (a Gaussian direction used once, alpha = sigma per coordinate). Keys hold the model
id, the weight hash, the score name, the direction key, alpha and the example ids, so a rerun of a killed
sweep re-reads rows instead of re-evaluating. Also: seed derivation (sha256, never Python's hash()),
and the default K raw Gaussian directions.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from landscape.context import ProbeContext
from landscape.directions import (
    HOLD_HEADROOM,
    BoundDirection,
    DirectionSpec,
    HeldDirection,
    bind,
    held_bytes,
    hold_or_regenerate,
)
from landscape.hashing import weight_hash as hash_weights
from landscape.perturb import perturbed
from landscape.progress import announce_cost
from landscape.scores import Score, ScoreResult
from landscape.store import canonical_json, row_key
from landscape.theta0 import Theta0


def derive_seed(*parts: object) -> int:
    """Integer seed from the first 8 bytes of sha256(":".join(parts)); stable across processes."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def default_directions(k: int, seed: int, rng: str = "cpu") -> list[DirectionSpec]:
    """K raw Gaussian directions over all parameters, seeds seed, seed+1, …, seed+K−1; `rng` the noise
    backend ("cpu": device-independent; "cuda": drawn on the parameters' GPU, much faster for big models)."""
    return [DirectionSpec("gaussian", seed=seed + i, rng=rng) for i in range(k)]


def _number(x: object) -> float:
    """A stored JSON number back to float: null → NaN, "inf"/"-inf" → ±inf."""
    return float("nan") if x is None else float(x)


@dataclass(frozen=True)
class ProbeValue:
    """One evaluation: score value and per-example outcomes at θ₀ + α·δ; ‖Δθ‖ after casting; the score's
    per-example labels when it reports them (landscape.scores.ScoreResult)."""

    alpha: float
    value: float
    outcomes: np.ndarray
    effective_norm: float
    dropped_fraction: float
    labels: tuple[str, ...] | None = None


class ProbeEvaluator:
    """Evaluates `score` on `model` at θ₀ + α·δ (θ₀ restored bitwise after each probe) through the
    context's store, on the context's examples.

    The context's θ₀ holder makes one θ₀ copy (landscape.theta0.Theta0, host RAM unless the holder names a
    safetensors snapshot) at the first perturbed probe; every sweep over this model reuses it.
    """

    def __init__(self, model: torch.nn.Module, score: Score, ctx: ProbeContext | None = None):
        ctx = ProbeContext() if ctx is None else ctx
        ctx.theta0.check(model)
        self.model = model
        self.score = score
        self.ctx = ctx
        self.example_ids = None if ctx.example_ids is None else list(ctx.example_ids)
        self.store = ctx.store
        self.model_id = ctx.model_id
        self.weight_hash = (ctx.weight_hash if ctx.weight_hash is not None or ctx.store is None
                            else hash_weights(model))
        self.n_evals = 0
        self.eval_seconds = 0.0
        self._baseline: ProbeValue | None = None
        self._bound: tuple[str, BoundDirection] | None = None
        self._warned_memory = False

    @property
    def theta0(self) -> Theta0:
        return self.ctx.theta0.get(self.model)

    def announce(self, label: str, points: int, directions: int) -> None:
        """Print the cost estimate: points × directions × seconds of one evaluation (timed on S(θ₀))."""
        self.baseline()
        if self.eval_seconds == 0.0:  # S(θ₀) came from the store: time one clean evaluation, stored nowhere
            start = time.perf_counter()
            self.score(self.model, self.example_ids)
            self.eval_seconds = time.perf_counter() - start
        announce_cost(label, points, directions, self.eval_seconds)

    def _key(self, direction: dict | None, alpha: float, ids: list[int] | None) -> dict:
        return row_key(self.model_id, self.weight_hash or "", self.score.name, direction, alpha=float(alpha),
                       example_ids=ids)

    def baseline(self) -> ProbeValue:
        """S(θ₀) on the evaluator's examples (no perturbation; evaluated once)."""
        if self._baseline is None:
            self._baseline = self.at(None, 0.0)
        return self._baseline

    def at(self, direction: DirectionSpec | None, alpha: float,
           example_ids: Sequence[int] | None = None) -> ProbeValue:
        """Score at θ₀ + α·δ (θ₀ itself when direction is None or α = 0), through the store."""
        if direction is None or alpha == 0.0:
            return self.under(None, 0.0, nullcontext, example_ids)
        key = direction.to_key()
        return self.under(key, alpha, lambda: perturbed(self.model, self._bind(direction, key), float(alpha),
                                                        theta0=self.theta0), example_ids)

    def at_until(self, direction: DirectionSpec, alpha: float, chunks: Sequence[Sequence[int]],
                 stop: Callable[[list[ProbeValue]], bool]) -> list[ProbeValue]:
        """Score `chunks` of example ids in turn at θ₀ + α·δ, one row each, until stop(values so far) is
        True; the perturbation is written once for all the chunks not already in the store."""
        key = direction.to_key()
        values: list[ProbeValue] = []
        with ExitStack() as stack:
            info = None
            for ids in chunks:
                ids = [int(i) for i in ids]
                if info is None and not (self.store is not None and self.store.has(self._key(key, alpha, ids))):
                    info = stack.enter_context(perturbed(self.model, self._bind(direction, key), float(alpha),
                                                         theta0=self.theta0))
                values.append(self.under(key, alpha, lambda info=info: nullcontext(info), ids))
                if stop(values):
                    break
        return values

    def remembered(self, key: dict, compute: Callable[[], dict]) -> dict:
        """A decision made once per model and score (not an evaluation), kept as a row under `key`: read back
        when the store has it, so a resumed run repeats it exactly, else computed and appended."""
        row_key_ = self._key(key, 0.0, self.example_ids)
        if self.store is not None and self.store.has(row_key_):
            return dict(self.store.get(row_key_))
        values = compute()
        if self.store is not None:
            self.store.append(row_key_, values)
        return values

    @contextmanager
    def hold(self, direction: DirectionSpec, held: HeldDirection | None = None) -> Iterator[BoundDirection]:
        """Inside, probes along `direction` reuse its materialised chunks (landscape.directions.HeldDirection)
        instead of drawing them again at each α; `held`: chunks already drawn for another model, re-bound to
        this one. Yields the held direction; the copy is freed on leaving (unless the caller keeps it). Memory:
        one copy of the perturbed parameters beside θ₀, made only when free memory allows it
        (landscape.directions.hold_or_regenerate); otherwise the direction is drawn again at every α."""
        if isinstance(held, HeldDirection):
            mine = held.rebind(self.model)
        else:
            mine = hold_or_regenerate(bind(direction, self.model))
            if not isinstance(mine, HeldDirection) and not self._warned_memory:
                self._warned_memory = True
                print(f"[{self.score.name}] free memory is short of a held noise vector "
                      f"({held_bytes(mine) / 2**20:.0f} MiB x {HOLD_HEADROOM}): drawing it again at every sigma "
                      "(the same bits, slower)", file=sys.stderr)
        self._bound = (canonical_json(direction.to_key()), mine)
        try:
            yield mine
        finally:
            self._bound = None

    def _bind(self, direction: DirectionSpec, key: dict) -> BoundDirection:
        """The last direction stays bound, so a sweep along it computes its statistics (SFT norm) once."""
        text = canonical_json(key)
        if self._bound is None or self._bound[0] != text:
            self._bound = (text, bind(direction, self.model))
        return self._bound[1]

    def under(self, direction_key: dict | None, alpha: float,
              context: Callable[[], AbstractContextManager], example_ids: Sequence[int] | None = None
              ) -> ProbeValue:
        """Score inside `context()` (a perturbation of any kind, named by direction_key and alpha)."""
        ids = self.example_ids if example_ids is None else [int(i) for i in example_ids]
        key = self._key(direction_key, alpha, ids)
        if self.store is not None and self.store.has(key):
            row = self.store.get(key)
            return ProbeValue(alpha=float(alpha), value=_number(row["value"]),
                              outcomes=np.array([_number(x) for x in row["outcomes"]], dtype=np.float64),
                              effective_norm=_number(row["effective_norm"]),
                              dropped_fraction=_number(row["dropped_fraction"]),
                              labels=None if row.get("labels") is None else tuple(row["labels"]))
        start = time.perf_counter()
        with context() as info:
            result: ScoreResult = self.score(self.model, ids)
        self.eval_seconds = time.perf_counter() - start
        norm = float(getattr(info, "effective_norm", 0.0))
        dropped = float(getattr(info, "dropped_fraction", 0.0))
        self.n_evals += 1
        labels = getattr(result, "labels", None)
        value = ProbeValue(alpha=float(alpha), value=float(result.value), outcomes=result.outcomes,
                           effective_norm=norm, dropped_fraction=dropped, labels=labels)
        if self.store is not None:
            self.store.append(key, {"value": value.value, "outcomes": value.outcomes.tolist(),
                                    "effective_norm": norm, "dropped_fraction": dropped,
                                    **({"labels": list(labels)} if labels is not None else {})})
        return value
