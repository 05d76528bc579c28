"""Derivation (e): E‖Z‖ for Z ~ N(0, I_d) and its large-d series; Var‖Z‖ → ½.

The series of the Γ ratio at ∞ is not available in sympy, but the log-gamma difference is:
L(d) = log Γ((d+1)/2) − log Γ(d/2) − ½ log(d/2) = −1/(4d) + 1/(24d³) − …, and E‖Z‖/√d = exp(L(d)).
"""

from __future__ import annotations

import sympy as sp

from theory.derivations.core import Derivation, Step, identity
from theory.gaussian_norm import LOG_RATIO_SERIES

d = sp.Symbol("d", positive=True)
x = sp.Symbol("x", positive=True)  # x = 1/d
rho = sp.Symbol("rho", positive=True)

PAPER_SERIES = 1 - x / 4 + x**2 / 32  # E‖Z‖/√d = 1 − 1/(4d) + 1/(32d²) + O(d⁻³)


def _log_ratio_coefficients(order: int) -> list[sp.Expr]:
    L = sp.loggamma((d + 1) / 2) - sp.loggamma(d / 2) - sp.log(d / 2) / 2
    poly = sp.expand(sp.series(L, d, sp.oo, order + 1).removeO().subs(d, 1 / x))
    return [sp.nsimplify(poly.coeff(x, j)) for j in range(order + 1)]


def _coefficients_step(statement: str, residual_coeffs: list[sp.Expr]) -> Step:
    nonzero = [(j, cj) for j, cj in enumerate(residual_coeffs) if sp.simplify(cj) != 0]
    if not nonzero:
        return Step(statement, sp.Integer(0), "proved")
    j, cj = nonzero[0]
    return Step(statement, cj * x**j, "failed", note=f"coefficient of d^(-{j}) is {cj}, not 0")


def gaussian_norm(claimed_series: sp.Expr = PAPER_SERIES) -> Derivation:
    """(e) E‖Z‖ = √2 Γ((d+1)/2)/Γ(d/2) = √d (claimed series in x = 1/d) + o(x^order); Var‖Z‖ → ½."""
    chi_density = rho ** (d - 1) * sp.exp(-(rho**2) / 2) / (2 ** (d / 2 - 1) * sp.gamma(d / 2))
    mean = sp.integrate(rho * chi_density, (rho, 0, sp.oo))
    closed = sp.sqrt(2) * sp.gamma((d + 1) / 2) / sp.gamma(d / 2)
    order = max(sp.Poly(sp.sympify(claimed_series), x).degree(), 1)
    coeffs = _log_ratio_coefficients(max(order, 13))
    L = sum(cj * x**j for j, cj in enumerate(coeffs))
    exp_series = sp.expand(sp.series(sp.exp(L), x, 0, order + 1).removeO())
    residual = sp.expand(exp_series - claimed_series)
    var_series = sp.series((1 - sp.exp(2 * L)) / x, x, 0, 2).removeO()  # d − E² = d(1 − e^(2L))
    implemented = [sp.Integer(0)] * len(coeffs)
    for j, num, den in LOG_RATIO_SERIES:
        implemented[j] = sp.Rational(num, den)
    steps = (
        identity("∫ ρ χ_d(ρ) dρ = √2 Γ((d+1)/2)/Γ(d/2)", mean, closed, {d: (1, 30)}),
        _coefficients_step(f"exp(L(d)) − claimed series = O(d^(-{order + 1}))",
                           [residual.coeff(x, j) for j in range(order + 1)]),
        identity("Var‖Z‖ = d − E‖Z‖² → ½ (constant term of d(1 − e^(2L)))", var_series.subs(x, 0),
                 sp.Rational(1, 2), {}),
        _coefficients_step("theory.gaussian_norm.LOG_RATIO_SERIES equals the derived L(d) coefficients",
                           [sp.simplify(a - b) for a, b in zip(coeffs, implemented)]),
    )
    return Derivation("e", "Mean norm of a Gaussian direction",
                      "E‖Z‖ = √2 Γ((d+1)/2)/Γ(d/2) = √d (1 − 1/(4d) + 1/(32d²) + O(d⁻³)), Var‖Z‖ → ½",
                      sp.Eq(sp.Symbol("E‖Z‖"), sp.sqrt(d) * claimed_series.subs(x, 1 / d)), steps)
