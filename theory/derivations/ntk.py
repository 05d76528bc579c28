"""Derivation (g): Prop. E.2 fails without its conditions: f(θ) = m^(−1/2) Σ_j θ_j needs ‖Δθ‖ = 1 for every m.

Fitting a target that differs by 1 requires aᵀΔ = 1 with a = ∇f = m^(−1/2)·1, ‖a‖ = 1. By Cauchy–Schwarz
(Lagrange's identity below) the smallest such move has ‖Δ‖ = 1/‖a‖ = 1, whatever the width m.
"""

from __future__ import annotations

import sympy as sp

from theory.derivations.core import Derivation, identity

m = sp.Symbol("m", positive=True, integer=True)
j = sp.Symbol("j", positive=True, integer=True)
PAPER_MIN_NORM = sp.Integer(1)


def width_counterexample(claimed_min_norm: sp.Expr = PAPER_MIN_NORM) -> Derivation:
    """(g) min{‖Δθ‖ : f(θ+Δ) − f(θ) = 1} for f = m^(−1/2) Σ θ_j equals claimed_min_norm for every m."""
    grad_sq = sp.summation((1 / sp.sqrt(m)) ** 2, (j, 1, m))  # ‖a‖² with a_j = m^(−1/2)
    min_norm = 1 / sp.sqrt(grad_sq)
    n = 4
    a = sp.Matrix(sp.symbols(f"a0:{n}", real=True))
    v = sp.Matrix(sp.symbols(f"v0:{n}", real=True))
    proj = (a.T * v)[0] / (a.T * a)[0]
    lagrange = (v.T * v)[0] * (a.T * a)[0] - (a.T * v)[0] ** 2
    rest = (a.T * a)[0] * ((v - proj * a).T * (v - proj * a))[0]
    symbols4 = {s: (-2, 2) for s in (*a, *v)}
    steps = (
        identity("‖∇f‖² = Σ_j (m^(−1/2))² = 1", grad_sq, sp.Integer(1), {m: (1, 1000)}),
        identity("Lagrange: ‖v‖²‖a‖² − (aᵀv)² = ‖a‖² ‖v − (aᵀv/‖a‖²) a‖² ≥ 0 (so ‖Δ‖ ≥ 1/‖a‖ when aᵀΔ = 1)",
                 lagrange, rest, symbols4),
        identity("Δ* = a/‖a‖² fits the target (aᵀΔ* = 1) with ‖Δ*‖ = 1/‖a‖ = claimed, for every m",
                 claimed_min_norm, min_norm, {m: (1, 1000)}),
    )
    return Derivation("g", "Prop. E.2 needs its conditions (width counter-example)",
                      "f = m^(−1/2) Σ θ_j: the smallest move changing f by 1 has ‖Δθ‖ = 1 for every m",
                      sp.Eq(sp.Symbol("min‖Δθ‖"), claimed_min_norm), steps)
