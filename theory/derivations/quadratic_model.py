"""Derivation (f): the quadratic loss model ½ΔᵀHΔ (see `theory.quadratic`).

The expectation is computed by sympy.stats for a generic symmetric 3 × 3 H (the computation is the same
entry by entry for any d: E Δ_iΔ_j = σ² [i = j]); the worst case in H's eigenbasis, λ_i = λ_max − g_i.
"""

from __future__ import annotations

import sympy as sp
from sympy.stats import E, Normal

from theory.derivations.core import Derivation, identity, nonnegative

sigma = sp.Symbol("sigma", positive=True)
tau = sp.Symbol("tau", positive=True)
dim = sp.Symbol("d", positive=True)
trace = sp.Symbol("trH", positive=True)
lam_max = sp.Symbol("lambda_max", positive=True)
radius = sp.Symbol("r", positive=True)

PAPER_RATIO = sp.sqrt(dim * lam_max / trace)


def quadratic_model(claimed_ratio: sp.Expr = PAPER_RATIO) -> Derivation:
    """(f) E ½ΔᵀHΔ = σ² tr H/2; max_{‖Δ‖=r} ½ΔᵀHΔ = r² λ_max/2; most-case ÷ worst-case basin = claimed_ratio."""
    n = 3
    H = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"h{min(i, j)}{max(i, j)}", real=True))
    delta = sp.Matrix([Normal(f"delta{i}", 0, sigma) for i in range(n)])
    expected = E((delta.T * H * delta)[0] / 2)
    gaps = sp.symbols(f"g0:{n}", nonnegative=True)  # λ_i = λ_max − g_i ≥ 0 gaps
    coords = sp.symbols(f"y0:{n}", real=True)  # Δ in the eigenbasis, Σ y_i² = r²
    slack = sum(g * y**2 for g, y in zip(gaps, coords)) / 2  # r²λ_max/2 − ½Σλ_i y_i² when Σ y_i² = r²
    top = sp.Matrix([radius] + [0] * (n - 1))
    most_alpha = sp.solve(sp.Eq(sigma**2 * trace / 2, tau), sigma)[0]
    worst_norm = sp.solve(sp.Eq(radius**2 * lam_max / 2, tau), radius)[0]
    ranges = {dim: (1, 1e6), trace: (0.1, 10), lam_max: (0.1, 10), tau: (0.01, 1)}
    steps = (
        identity("E ½ΔᵀHΔ = σ² tr H / 2 for Δ ~ N(0, σ² I)", expected, sigma**2 * H.trace() / 2,
                 {sigma: (0.1, 2), **{sym: (-2, 2) for sym in H.free_symbols}}),
        nonnegative("r² λ_max/2 − ½ Σ λ_i y_i² = ½ Σ (λ_max − λ_i) y_i² ≥ 0 on ‖y‖ = r", slack,
                    {**{g: (0, 3) for g in gaps}, **{y: (-2, 2) for y in coords}}),
        identity("the top eigenvector attains it: ½ (r e_max)ᵀ diag(λ_max, …)(r e_max) = r² λ_max/2",
                 (top.T * sp.diag(lam_max, *(lam_max - g for g in gaps[1:])) * top)[0] / 2,
                 radius**2 * lam_max / 2, {radius: (0.1, 2), lam_max: (0.1, 3), **{g: (0, 3) for g in gaps}}),
        identity("σ_mc √d ÷ r_wc (norm) = σ_mc ÷ (r_wc/√d) (α) = claimed ratio",
                 most_alpha * sp.sqrt(dim) / worst_norm, claimed_ratio, ranges),
        identity("the most-case basin in α does not depend on d (inert directions leave it unchanged)",
                 sp.diff(most_alpha, dim), sp.S.Zero, ranges),
    )
    return Derivation("f", "Quadratic model: most-case vs worst-case basin",
                      "E ½ΔᵀHΔ = σ² trH/2, worst case r² λ_max/2, ratio √(d λ_max / tr H) in α and in ‖Δθ‖",
                      sp.Eq(sp.Symbol("ratio"), claimed_ratio), steps)
