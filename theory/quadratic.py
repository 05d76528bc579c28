"""The quadratic loss model L(θ₀+Δ) − L(θ₀) = ½ Δᵀ H Δ (H ⪰ 0, d × d), described by H's eigenvalues.

The suite's two units: α = per-coordinate scale of a Gaussian direction (Δ = α δ, δ ~ N(0, I_d), so
‖Δ‖ ≈ α√d), and ‖Δθ‖ = Euclidean norm. A worst-case direction is normalised to norm √d, so its α is ‖Δ‖/√d.

- Most case:  E ½ΔᵀHΔ = σ² tr H / 2  for Δ ~ N(0, σ² I)          → basin σ_mc(τ) = √(2τ / tr H)  (α)
- Worst case: max_{‖Δ‖ = r} ½ΔᵀHΔ = r² λ_max / 2                  → basin r_wc(τ) = √(2τ / λ_max) (norm)
- Ratio most-case ÷ worst-case basin at tolerance τ: √(d λ_max / tr H), the same in both units.

What it predicts, plainly: adding inert directions (λ = 0) raises d but not tr H or λ_max, so the
most-case basin is unchanged in α and widens ∝ √d in ‖Δθ‖ (the ratio grows as √d). Over-parameterisation
therefore enlarges the basin in norm, not in α; this model by itself predicts no 5× enlargement of the
α-basin that the paper's curves plot — that needs tr H itself to shrink (e.g. by Gaussian-augmented training).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.errors import UserInputError
from theory.validation import as_float_array, nonnegative, positive, scalar_or_array


def _spectrum(eigenvalues) -> np.ndarray:
    lam = np.ravel(as_float_array(eigenvalues, "eigenvalues"))
    if lam.size == 0 or np.any(lam < 0) or not np.all(np.isfinite(lam)):
        raise UserInputError("eigenvalues must be a non-empty array of finite values >= 0 (H positive semidefinite)")
    if lam.sum() <= 0:
        raise UserInputError("eigenvalues must not all be 0 (a flat quadratic has no basin edge)")
    return lam


def expected_quadratic_loss(eigenvalues, sigma):
    """E_Δ ½ΔᵀHΔ for Δ ~ N(0, σ² I_d) (σ per coordinate, i.e. α): σ² tr H / 2. Broadcasts over sigma."""
    lam = _spectrum(eigenvalues)
    s = nonnegative(sigma, "sigma")
    return scalar_or_array(s**2 * lam.sum() / 2.0)


def worst_case_quadratic_loss(eigenvalues, radius):
    """max over ‖Δ‖₂ = r of ½ΔᵀHΔ: r² λ_max / 2 (attained along the top eigenvector). Broadcasts over r."""
    lam = _spectrum(eigenvalues)
    r = nonnegative(radius, "radius")
    return scalar_or_array(r**2 * lam.max() / 2.0)


@dataclass(frozen=True)
class QuadraticBasins:
    """Basin widths of the quadratic model at tolerance tau, in both units.

    most_case_alpha = √(2τ/tr H); most_case_norm = most_case_alpha·√d;
    worst_case_norm = √(2τ/λ_max); worst_case_alpha = worst_case_norm/√d;
    ratio = most-case ÷ worst-case = √(d λ_max / tr H) (same in α and in ‖Δθ‖).
    """

    d: int
    trace: float
    lambda_max: float
    tau: float
    most_case_alpha: float
    most_case_norm: float
    worst_case_alpha: float
    worst_case_norm: float
    ratio: float


def quadratic_basins(eigenvalues, tau: float) -> QuadraticBasins:
    """Most-case and worst-case basins of ½ΔᵀHΔ at tolerance tau > 0 (see module docstring for the units)."""
    lam = _spectrum(eigenvalues)
    t = float(positive(tau, "tau"))
    d, tr, lmax = lam.size, float(lam.sum()), float(lam.max())
    mc_alpha = float(np.sqrt(2 * t / tr))
    wc_norm = float(np.sqrt(2 * t / lmax))
    return QuadraticBasins(
        d=d, trace=tr, lambda_max=lmax, tau=t,
        most_case_alpha=mc_alpha, most_case_norm=mc_alpha * float(np.sqrt(d)),
        worst_case_alpha=wc_norm / float(np.sqrt(d)), worst_case_norm=wc_norm,
        ratio=float(np.sqrt(d * lmax / tr)),
    )
