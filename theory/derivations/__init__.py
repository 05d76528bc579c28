"""Symbolic derivations (a)–(m) of the paper's bounds, each checked, each with a mutant that must fail.

`derivations()` runs every derivation with the paper's claim; `mutants()` runs each with a deliberately
wrong claim (the checker must report "failed" for every one — proof that it can fail).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from theory.derivations import norms, ntk, quadratic_model, smoothing, tokens, transition
from theory.derivations.core import AGREES, CHECKED, FAILED, PROVED, Derivation, Phi_inv, Step

__all__ = ["AGREES", "CHECKED", "FAILED", "PROVED", "Derivation", "Entry", "REGISTRY", "Step", "derivations",
           "mutants"]

_sigma = smoothing.sigma


@dataclass(frozen=True)
class Entry:
    """One derivation: how to run it with the paper's claim, and with a mutant claim (described)."""

    key: str
    run: Callable[[], Derivation]
    mutant: str
    run_mutant: Callable[[], Derivation]


REGISTRY: tuple[Entry, ...] = (
    Entry("a", smoothing.half_space_lipschitz, "Lipschitz constant 1/(2σ) instead of 1/(√(2π)σ)",
          lambda: smoothing.half_space_lipschitz(1 / (2 * _sigma))),
    Entry("b", smoothing.half_space_quantile, "Φ(Φ⁻¹(p) − r/(0.8σ)) instead of r/σ",
          lambda: smoothing.half_space_quantile(
              lambda p, r, s: smoothing.strong_bound(p, r, sp.Rational(4, 5) * s))),
    Entry("c", smoothing.strong_implies_weak, "weak bound p − r/(3σ) (constant below 1/√(2π))",
          lambda: smoothing.strong_implies_weak(sp.Rational(1, 3))),
    Entry("d", smoothing.radius, "radius (Φ⁻¹(p) − Φ⁻¹(q))/σ (wrong unit)",
          lambda: smoothing.radius(lambda p, q, s: (Phi_inv(p) - Phi_inv(q)) / s)),
    Entry("e", norms.gaussian_norm, "E‖Z‖ = √d (no −1/(4d) term)",
          lambda: norms.gaussian_norm(sp.Integer(1))),
    Entry("f", quadratic_model.quadratic_model, "ratio √(λ_max / tr H) (no d)",
          lambda: quadratic_model.quadratic_model(sp.sqrt(quadratic_model.lam_max / quadratic_model.trace))),
    Entry("g", ntk.width_counterexample, "‖Δθ‖ = m^(−1/2) in Prop. E.2",
          lambda: ntk.width_counterexample(1 / sp.sqrt(ntk.m))),
    Entry("h", tokens.substitution_as_move, "substitution x = (a, b) → (a, a) (a token repeats)",
          lambda: tokens.substitution_as_move((0, 1), (0, 0), vocab=2, hidden=1)),
    Entry("i", tokens.counterexample_bound, "the heuristic: parameter noise on the counter-example",
          lambda: tokens.counterexample_bound("parameter")),
    Entry("j", smoothing.dataset_convexity, "Φ(Φ⁻¹(p) + c) claimed convex (wrong sign of the shift)",
          lambda: smoothing.dataset_convexity(+1)),
    Entry("k", smoothing.concentration, "deviation Lσ√(log(1/δ)) (missing factor 2)",
          lambda: smoothing.concentration(
              sp.Symbol("L", positive=True) * _sigma * sp.sqrt(sp.log(1 / sp.Symbol("delta", positive=True))))),
    Entry("l", smoothing.lipschitz_any_score, "scores in [−1, 1] instead of [0, 1]",
          lambda: smoothing.lipschitz_any_score(lambda U: (U - 1) / (1 + U))),
    Entry("m", transition.transition_ratio, "Gaussian-bowl R = ln 10/ln(10/9) (square root dropped)",
          lambda: transition.transition_ratio({**transition.PAPER,
                                               "Gaussian bowl": sp.log(10) / sp.log(sp.Rational(10, 9))})),
)


@functools.cache
def derivations() -> tuple[Derivation, ...]:
    """Every derivation with the paper's claim (computed once per process; the results are immutable)."""
    return tuple(entry.run() for entry in REGISTRY)


@functools.cache
def mutants() -> tuple[tuple[str, Derivation], ...]:
    """(description, derivation) for every mutant claim; each must be reported "failed"."""
    return tuple((entry.mutant, entry.run_mutant()) for entry in REGISTRY)
