"""The direction-kind registry: every kind of direction δ the suite can probe along, one module each.

Adding a kind: write one module that defines a `DirectionKind` (landscape.kinds.base states the protocol)
and add one line to `_ALL` below. Everything else (key, parameter selection, chunked materialisation,
worker threads, dropped-coordinate accounting, σ-basin units, certificate eligibility) reads the registry.
"""

from __future__ import annotations

from landscape.kinds import combination, filter, gaussian, layer, multiplicative, stored
from landscape.kinds.base import DirectionKind
from theory.errors import UserInputError

_ALL = (
    gaussian.KIND,
    layer.KIND,
    filter.KIND,
    multiplicative.KIND,
    stored.SFT,
    stored.WORST,
    stored.TENSOR,
    combination.KIND,
)
REGISTRY: dict[str, DirectionKind] = {k.name: k for k in _ALL}
KINDS = tuple(REGISTRY)


def noise_kinds() -> tuple[str, ...]:
    """The registered kinds usable as smoothing noise."""
    return tuple(name for name, k in REGISTRY.items() if k.noise)


def kind(name: str) -> DirectionKind:
    """The registered kind `name` (UserInputError for an unknown one)."""
    if name not in REGISTRY:
        raise UserInputError(f"direction kind must be one of {KINDS}, got {name!r}")
    return REGISTRY[name]
