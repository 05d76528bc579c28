"""Argument checks shared by the closed forms: float64 arrays, ranges, one clear `UserInputError`."""

from __future__ import annotations

from typing import Any

import numpy as np

from theory.errors import UserInputError


def as_float_array(value: Any, name: str) -> np.ndarray:
    """`value` as a float64 array; NaN is rejected (a user mistake, never a result)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UserInputError(f"{name} must be a number or an array of numbers, got {value!r}") from exc
    if np.isnan(arr).any():
        raise UserInputError(f"{name} must not be NaN")
    return arr


def require_range(
    arr: np.ndarray,
    name: str,
    lo: float = -np.inf,
    hi: float = np.inf,
    lo_open: bool = False,
    hi_open: bool = False,
) -> np.ndarray:
    """Raise `UserInputError` naming `name` and its allowed range unless every entry lies in it."""
    ok = (arr > lo) if lo_open else (arr >= lo)
    ok &= (arr < hi) if hi_open else (arr <= hi)
    if not np.all(ok):
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        bad = arr[~ok] if arr.ndim else arr
        example = float(np.ravel(bad)[0])
        raise UserInputError(f"{name} must lie in {left}{lo:g}, {hi:g}{right}, got {example!r}")
    return arr


def probability(value: Any, name: str) -> np.ndarray:
    """A probability in [0, 1] as a float64 array."""
    return require_range(as_float_array(value, name), name, 0.0, 1.0)


def positive(value: Any, name: str) -> np.ndarray:
    """A finite, strictly positive float64 array (e.g. sigma)."""
    return require_range(as_float_array(value, name), name, 0.0, np.inf, lo_open=True, hi_open=True)


def nonnegative(value: Any, name: str) -> np.ndarray:
    """A finite, non-negative float64 array (e.g. a distance)."""
    return require_range(as_float_array(value, name), name, 0.0, np.inf, hi_open=True)


def scalar_or_array(arr: np.ndarray) -> float | np.ndarray:
    """A Python float for 0-d results, the array otherwise."""
    return float(arr) if np.ndim(arr) == 0 else arr
