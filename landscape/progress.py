"""Cost estimates printed before long calls, and progress bars (tqdm) during them."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


@dataclass(frozen=True)
class CostEstimate:
    """points × directions evaluations at eval_seconds each = total_seconds (an estimate)."""

    label: str
    points: int
    directions: int
    eval_seconds: float

    @property
    def evaluations(self) -> int:
        return self.points * self.directions

    @property
    def total_seconds(self) -> float:
        return self.evaluations * self.eval_seconds

    def line(self) -> str:
        total = self.total_seconds
        human = f"{total:.1f} s" if total < 120 else f"{total / 60:.1f} min" if total < 7200 else f"{total / 3600:.1f} h"
        return (f"[{self.label}] cost estimate: {self.points} points x {self.directions} directions x "
                f"{self.eval_seconds:.3g} s/eval = {self.evaluations} evals ~ {human}")


def announce_cost(label: str, points: int, directions: int, eval_seconds: float,
                  file: TextIO | None = None) -> CostEstimate:
    """Print the cost estimate of a long call (to stderr by default) before it starts; return it."""
    est = CostEstimate(label, int(points), int(directions), float(eval_seconds))
    print(est.line(), file=file or sys.stderr, flush=True)
    return est


def progress(iterable: Iterable[T], total: int | None = None, desc: str | None = None,
             **kw: Any) -> Iterator[T]:
    """A tqdm progress bar over `iterable` (stderr; hidden when stderr is not a terminal unless asked)."""
    kw.setdefault("disable", None)
    kw.setdefault("dynamic_ncols", True)
    return iter(tqdm(iterable, total=total, desc=desc, **kw))


def median_seconds(fn: Callable[[], Any], repeats: int, *, warmup: bool = False) -> float:
    """Median wall seconds of fn() over `repeats` calls (after one untimed call when `warmup`)."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]
