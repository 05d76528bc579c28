"""Readers of stored figure data (plain JSON as the data functions write it); no torch, no measurement.

The plot functions use only these, landscape.plotting and theory: α is per-coordinate σ for raw Gaussian
directions, edges are in the same unit.
"""

from __future__ import annotations

import numpy as np

from theory.estimate import Estimate


class MissingData(LookupError):
    """Stored data that a claim or panel needs is absent in this run (an honest not-measured / no data)."""


def values(landscape_data: dict) -> np.ndarray:
    """(K, len(alphas)) scores of a stored landscape (None → NaN)."""
    return np.array([[np.nan if v is None else float(v) for v in c["values"]] for c in landscape_data["curves"]])


def median_edge(edges_data: dict) -> Estimate:
    """The median edge (order-statistic interval) of stored BasinEdges."""
    return Estimate.from_dict(edges_data["median"])


def single_edge(edges_data: dict) -> Estimate:
    """The edge of a one-direction BasinEdges (min of the ± half-lines) with its bisection bracket (lo, hi]
    as the interval (deterministic given the evaluations; confidence recorded as 0.999)."""
    d = edges_data["directions"][0]
    side = min((d["plus"], d["minus"]), key=lambda s: float(s["estimate"]))
    return Estimate(estimate=float(side["estimate"]), ci=(float(side["lo"]), float(side["hi"])),
                    confidence=0.999, n=1, unit="alpha per coordinate", method="bisection bracket")
