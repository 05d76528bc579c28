"""Closed-form certificates of randomized smoothing in parameter space (paper Thms 4.2–4.5).

Notation: p_a = E_ε S(θ₀+ε) is the smoothed score with ε ~ N(0, σ² I) (σ per coordinate);
`distance` r = ‖θ − θ₀‖₂ is a Euclidean move in the same space (unit ‖Δθ‖, not α). Φ = standard normal
CDF. All functions take numpy arrays (float64, broadcast) and return a float for scalar input.
Domain errors raise `UserInputError` naming the argument and its allowed range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr, ndtri

from theory.errors import UserInputError
from theory.validation import (
    as_float_array,
    nonnegative,
    positive,
    probability,
    require_range,
    scalar_or_array,
)

SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def lipschitz_lower_bound(p_a, distance, sigma):
    """Thm 4.2 (weak): E S(θ+ε) ≥ max(0, p_a − r/(√(2π) σ)); dimension-free, tight for a half-space at p_a = ½."""
    p = probability(p_a, "p_a")
    r = nonnegative(distance, "distance")
    s = positive(sigma, "sigma")
    return scalar_or_array(np.maximum(0.0, p - r / (SQRT_2PI * s)))


def certified_lower_bound(p_a, distance, sigma):
    """Thm 4.3 (strong, Lemma E.1): E S(θ+ε) ≥ Φ(Φ⁻¹(p_a) − r/σ); equality for half-spaces.

    p_a = 0 and p_a = 1 are taken as limits (0 and 1), never NaN.
    """
    p = probability(p_a, "p_a")
    r = nonnegative(distance, "distance")
    s = positive(sigma, "sigma")
    with np.errstate(invalid="ignore"):
        out = ndtr(ndtri(p) - r / s)
    return scalar_or_array(np.asarray(out, dtype=np.float64))


def certified_radius(p_a, q, sigma):
    """Largest ‖Δθ‖ keeping the smoothed score ≥ q under Thm 4.3: σ(Φ⁻¹(p_a) − Φ⁻¹(q)).

    Requires 0 ≤ q ≤ p_a ≤ 1 (q > p_a raises); +inf when p_a = 1 (the smoothed score is then 1 everywhere)
    or q = 0 (a floor of 0 always holds).
    """
    p = probability(p_a, "p_a")
    qq = probability(q, "q")
    s = positive(sigma, "sigma")
    p, qq, s = np.broadcast_arrays(p, qq, s)
    if np.any(qq > p):
        raise UserInputError("q must lie in [0, p_a] (a certificate cannot promise more than p_a)")
    with np.errstate(invalid="ignore"):
        out = s * (ndtri(p) - ndtri(qq))
    out = np.where((p == 1.0) | (qq == 0.0), np.inf, out)
    return scalar_or_array(np.asarray(out, dtype=np.float64))


def lipschitz_concentration_bound(p_a, lipschitz, sigma, fail_prob):
    """Thm 4.4: if S is L-Lipschitz, then with probability ≥ 1 − fail_prob over one draw ε ~ N(0, σ² I),
    S(θ+ε) ≥ p_a − L σ √(2 log(1/fail_prob)), where p_a = E S(θ+ε).

    `fail_prob` ∈ (0, 1] (named so because δ denotes a direction in this suite).
    """
    p = as_float_array(p_a, "p_a")
    L = require_range(as_float_array(lipschitz, "lipschitz"), "lipschitz", 0.0, np.inf, hi_open=True)
    s = positive(sigma, "sigma")
    f = require_range(as_float_array(fail_prob, "fail_prob"), "fail_prob", 0.0, 1.0, lo_open=True)
    return scalar_or_array(p - L * s * np.sqrt(2.0 * np.log(1.0 / f)))


# --- Thm 4.5: robustness to token substitutions -------------------------------------------------------


def _tokens(embedding, tokens: Sequence[int], new_tokens: Sequence[int]) -> tuple[np.ndarray, ...]:
    W = as_float_array(embedding, "embedding")
    if W.ndim != 2:
        raise UserInputError(f"embedding must be a (vocab, hidden) matrix, got shape {W.shape}")
    t = np.asarray(tokens)
    t2 = np.asarray(new_tokens)
    if t.ndim != 1 or t.shape != t2.shape:
        raise UserInputError(f"tokens and new_tokens must be 1-D of equal length, got {t.shape} and {t2.shape}")
    for name, arr in (("tokens", t), ("new_tokens", t2)):
        if arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= W.shape[0]):
            raise UserInputError(f"{name} must be integer ids in [0, {W.shape[0] - 1}]")
    return W, t.astype(np.int64), t2.astype(np.int64)


def substitution_distance_heuristic(embedding, tokens: Sequence[int], new_tokens: Sequence[int]) -> float:
    """HEURISTIC (Thm 4.5 as stated in the paper): √(Σ ‖W e_i − W e_i′‖²) over the *distinct*
    substitution pairs (i → i′), read as the norm of the embedding-matrix move δW = Σ (W e_i′ − W e_i) e_iᵀ.

    `embedding` is (vocab, hidden) (rows are token embeddings, as in torch `nn.Embedding.weight`).
    INVALID as a certificate when a substituted token also occurs elsewhere in the input (parameter noise
    is shared between the occurrences) or when input and output embeddings are tied; see
    `theory.counterexample` for the smallest failure. Use `embedding_noise_distance` for a valid bound.
    """
    W, t, t2 = _tokens(embedding, tokens, new_tokens)
    pairs = sorted({(int(a), int(b)) for a, b in zip(t, t2) if a != b})
    return float(np.sqrt(sum(np.sum((W[a] - W[b]) ** 2) for a, b in pairs)))


def substitution_bound_heuristic(p_a, embedding, tokens, new_tokens, sigma):
    """HEURISTIC Thm 4.5 under parameter noise σ: Φ(Φ⁻¹(p_a) − d_heur/σ); not a valid certificate in general."""
    return certified_lower_bound(p_a, substitution_distance_heuristic(embedding, tokens, new_tokens), sigma)


def embedding_noise_distance(embedding, tokens: Sequence[int], new_tokens: Sequence[int]) -> float:
    """RIGOROUS per-example distance r_x = √(Σ_positions ‖W e_{t_j} − W e_{t′_j}‖²), every substituted
    position counted (repeats included). It is the Euclidean distance between the two (positions × hidden)
    input-embedding sequences.
    """
    W, t, t2 = _tokens(embedding, tokens, new_tokens)
    return float(np.sqrt(np.sum((W[t] - W[t2]) ** 2)))


def embedding_noise_dataset_bound(p_a_emb, distances, sigma_emb):
    """RIGOROUS Thm 4.5 with noise η ~ N(0, σ_emb² I) added independently to each example's input-embedding
    sequence: the smoothed dataset score after the substitutions is ≥ Φ(Φ⁻¹(p_a_emb) − max_x r_x / σ_emb).

    p_a_emb is the dataset-mean smoothed score measured under *embedding* noise; `distances` the per-example
    r_x (`embedding_noise_distance`). Valid by Lemma E.1 per example and convexity of p ↦ Φ(Φ⁻¹(p) − c)
    for c ≥ 0 (Jensen over the dataset mean).
    """
    r = nonnegative(distances, "distances")
    if r.size == 0:
        raise UserInputError("distances must hold at least one example")
    return certified_lower_bound(p_a_emb, float(np.max(r)), sigma_emb)
