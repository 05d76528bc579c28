"""Derivations (h), (i): Thm 4.5 — token substitutions as embedding moves, and when the bound transfers.

(h) Substituting tokens i → i′ (distinct originals) is the embedding move δW = Σ (W e_i′ − W e_i) e_iᵀ with
‖δW‖_F² = Σ ‖W e_i′ − W e_i‖². The parameter-noise bound transfers to x′ only if x under W + δW + ε and
x′ under W + ε are equal in distribution, i.e. the positions share noise in the same pattern
(cov[j, k] = σ² 1{t_j = t_k} versus σ² 1{t′_j = t′_k}). A repeated token breaks this.
(i) The concrete counter-example of `theory.counterexample`, exactly and by Monte Carlo.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy.stats import Normal, variance

from theory import counterexample as cx
from theory.derivations.core import Derivation, Phi, Phi_inv, identity, known_true, monte_carlo

sigma = sp.Symbol("sigma", positive=True)


def substitution_as_move(tokens: Sequence[int] = (0, 1, 2), new_tokens: Sequence[int] = (0, 3, 2),
                         vocab: int = 4, hidden: int = 2) -> Derivation:
    """(h) for a generic symbolic W (hidden × vocab): δW reproduces x′, its norm, and the noise pattern."""
    W = sp.Matrix(hidden, vocab, lambda a, b: sp.Symbol(f"w{a}{b}", real=True))
    e = [sp.eye(vocab)[:, i] for i in range(vocab)]
    pairs = sorted({(i, i2) for i, i2 in zip(tokens, new_tokens) if i != i2})
    dW = sp.zeros(hidden, vocab)
    for i, i2 in pairs:
        dW += (W * e[i2] - W * e[i]) * e[i].T
    read_x = sp.Matrix.hstack(*[(W + dW) * e[t] for t in tokens])
    read_x_prime = sp.Matrix.hstack(*[W * e[t] for t in new_tokens])
    frob = sum(v**2 for v in dW)
    col_sq = sum(sum(v**2 for v in (W * e[i2] - W * e[i])) for i, i2 in pairs)
    n = len(tokens)
    cov_x = sp.Matrix(n, n, lambda j, k: sigma**2 * int(tokens[j] == tokens[k]))
    cov_x_prime = sp.Matrix(n, n, lambda j, k: sigma**2 * int(new_tokens[j] == new_tokens[k]))
    ranges = {s: (-2, 2) for s in W}
    steps = (
        identity("(W + δW) reads x exactly as W reads x′", read_x, read_x_prime, ranges),
        identity("‖δW‖_F² = Σ ‖W e_i′ − W e_i‖²", frob, col_sq, ranges),
        identity("noise covariance of x under W+δW+ε equals that of x′ under W+ε (bound transfers)", cov_x,
                 cov_x_prime, {sigma: (0.1, 2)}),
    )
    return Derivation("h", "Token substitution as an embedding move (Thm 4.5, heuristic)",
                      f"x = {tuple(tokens)} → x′ = {tuple(new_tokens)}: δW = Σ (W e_i′ − W e_i) e_iᵀ, "
                      "‖δW‖_F² = Σ ‖W e_i′ − W e_i‖², same noise pattern",
                      sp.Eq(sp.Symbol("‖δW‖_F²"), col_sq), steps)


def counterexample_bound(noise: str = "embedding", n_mc: int = 200_000, seed: int = 0) -> Derivation:
    """(i) On h = 1, W = [0, 1], x = (a, b) → x′ = (a, a), S = 1{z₂ − z₁ > ½}, σ = 1: the Thm 4.5 bound
    Φ(Φ⁻¹(p_A) − 1) ≈ 0.259 holds for the smoothed score of x′ under `noise` ("embedding": rigorous,
    ≈ 0.362) — and not under "parameter" noise (the paper's heuristic; the score is exactly 0)."""
    half = sp.Rational(1, 2)
    ea, eb = Normal("epsilon_a", 0, 1), Normal("epsilon_b", 0, 1)
    gap_x = (1 + eb) - (0 + ea)  # z₂ − z₁ for x = (a, b); the same law under either noise
    p_a = Phi((1 - half) / sp.sqrt(variance(gap_x)))
    bound_arg = Phi_inv(p_a) - 1 / sp.Integer(1)  # distance ‖W_b − W_a‖ = 1 (= r_x, one substituted position)
    bound = Phi(sp.simplify(bound_arg))
    c = 1 / (2 * sp.sqrt(2))
    if noise == "parameter":
        gap_x_prime = (0 + ea) - (0 + ea)  # both positions read the same noisy row W̃_a
        smoothed = sp.Integer(1) if sp.simplify(gap_x_prime) > half else sp.Integer(0)
        exact_step = identity("z₂ − z₁ = 0 on x′ under parameter noise, so E S = 0", smoothed, sp.Integer(0), {})
        relation = known_true("E S(x′) = 0 ≥ Φ(1/(2√2) − 1) (Φ > 0)", sp.Ge(smoothed, bound, evaluate=False))
    elif noise == "embedding":
        gap_x_prime = Normal("eta_2", 0, 1) - Normal("eta_1", 0, 1)
        smoothed = Phi(-half / sp.sqrt(variance(gap_x_prime)))
        exact_step = identity("E S(x′) = P(N(0, 2) > ½) = Φ(−1/(2√2))", smoothed, Phi(-c), {})
        relation = known_true("Φ increasing: −1/(2√2) ≥ 1/(2√2) − 1", sp.Ge(-c, sp.simplify(bound_arg), evaluate=False))
    else:
        raise ValueError(f"noise must be 'embedding' or 'parameter', got {noise!r}")
    mc = cx.monte_carlo(n=n_mc, seed=seed)
    est = mc.x_prime_embedding if noise == "embedding" else mc.x_prime_parameter
    exact = float(sp.N(smoothed))
    agrees = est.lo <= exact <= est.hi and est.lo > float(sp.N(bound)) and mc.p_a_parameter.lo <= cx.EXACT["p_a"] <= \
        mc.p_a_parameter.hi and mc.p_a_embedding.lo <= cx.EXACT["p_a"] <= mc.p_a_embedding.hi
    steps = (
        identity("p_A = P(N(1, 2) > ½) = Φ(1/(2√2)) ≈ 0.638 (either noise)", p_a, Phi(c), {}),
        identity("bound Φ(Φ⁻¹(p_A) − ‖W_b − W_a‖/σ) = Φ(1/(2√2) − 1) ≈ 0.259", bound, Phi(c - 1), {}),
        exact_step,
        relation,
        monte_carlo(f"Monte Carlo, n = {n_mc} per value, seed {seed}: E S(x′) and p_A intervals "
                    "(confidence 1 − 1e-7) contain the exact values and lie above the bound",
                    sp.Symbol("E_S_x_prime"), agrees,
                    note=f"E S(x′) ∈ [{est.lo:.4f}, {est.hi:.4f}], exact {exact:.4f}, bound {float(sp.N(bound)):.4f}"),
    )
    label = "rigorous, embedding noise" if noise == "embedding" else "heuristic, parameter noise"
    return Derivation("i", f"Thm 4.5 counter-example ({label})",
                      f"E S(x′) ≥ Φ(Φ⁻¹(p_A) − 1) under {noise} noise", sp.Ge(smoothed, bound, evaluate=False), steps)
