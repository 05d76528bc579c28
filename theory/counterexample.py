"""The smallest counter-example to Thm 4.5 as stated (parameter noise), and the rigorous variant holding.

h = 1, vocabulary {a, b} (ids 0, 1), embedding W = [0, 1] (rows: a ↦ 0, b ↦ 1), input x = (a, b) changed
to x′ = (a, a), score S(z) = 1{z₂ − z₁ > ½}, σ = 1.
- p_A = Φ(1/(2√2)) ≈ 0.638 under either noise (z₂ − z₁ ~ N(1, 2)).
- Heuristic bound (distance ‖W b − W a‖ = 1): Φ(1/(2√2) − 1) ≈ 0.259.
- Parameter noise on x′: both positions read the same noisy row W̃_a, so z₂ − z₁ = 0 and the smoothed
  score is exactly 0 — the heuristic bound is violated.
- Embedding noise on x′: z₂ − z₁ ~ N(0, 2), smoothed score Φ(−1/(2√2)) ≈ 0.362 ≥ 0.259 — the rigorous
  bound (r_x = 1, one substituted position) holds.
The exact values are derived symbolically in `theory.derivations` (i); `monte_carlo` checks them by sampling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from theory.bounds import certified_lower_bound, embedding_noise_distance, substitution_distance_heuristic
from theory.errors import UserInputError
from theory.estimate import Estimate
from theory.stats import proportion_estimate

EMBEDDING = np.array([[0.0], [1.0]])
X = (0, 1)
X_PRIME = (0, 0)
SIGMA = 1.0
C = 1.0 / (2.0 * np.sqrt(2.0))

EXACT = {
    "p_a": float(ndtr(C)),
    "heuristic_bound": float(ndtr(C - 1.0)),
    "x_prime_parameter_noise": 0.0,
    "x_prime_embedding_noise": float(ndtr(-C)),
}


def score(z: np.ndarray) -> np.ndarray:
    """S(z) = 1{z₂ − z₁ > ½} on a batch of (positions=2, h=1) embedding sequences."""
    return (z[:, 1, 0] - z[:, 0, 0]) > 0.5


def smoothed_score_monte_carlo(
    embedding: np.ndarray,
    tokens: Sequence[int],
    score_fn: Callable[[np.ndarray], np.ndarray],
    sigma: float,
    noise: str,
    n: int,
    seed: int,
    confidence: float = 0.99,
) -> Estimate:
    """Monte Carlo E S(z) with z the noisy embedding sequence of `tokens`, as an `Estimate` (Clopper–Pearson).

    noise = "parameter": W̃ = W + σε, ε ~ N(0, I) per vocabulary row, shared by repeated tokens;
    noise = "embedding": z = W[tokens] + ση, η ~ N(0, I) independent per position.
    """
    if noise not in ("parameter", "embedding"):
        raise UserInputError(f"noise must be 'parameter' or 'embedding', got {noise!r}")
    rng = np.random.default_rng(seed)
    W = np.asarray(embedding, dtype=np.float64)
    t = np.asarray(tokens, dtype=np.int64)
    if noise == "parameter":
        z = (W[None] + sigma * rng.standard_normal((n, *W.shape)))[:, t]
    else:
        z = W[t][None] + sigma * rng.standard_normal((n, t.size, W.shape[1]))
    hits = int(np.count_nonzero(score_fn(z)))
    return proportion_estimate(hits, n, confidence)


@dataclass(frozen=True)
class CounterexampleCheck:
    """Monte Carlo values of the counter-example with Clopper–Pearson intervals, and the two bounds."""

    p_a_parameter: Estimate
    p_a_embedding: Estimate
    x_prime_parameter: Estimate
    x_prime_embedding: Estimate
    heuristic_bound: float
    rigorous_bound: float
    n: int
    seed: int

    @property
    def heuristic_violated(self) -> bool:
        """The parameter-noise score on x′ lies entirely below the heuristic bound."""
        return self.x_prime_parameter.hi < self.heuristic_bound

    @property
    def rigorous_holds(self) -> bool:
        """The embedding-noise score on x′ lies entirely above the rigorous bound."""
        return self.x_prime_embedding.lo > self.rigorous_bound


def monte_carlo(n: int = 200_000, seed: int = 0, confidence: float = 1 - 1e-7) -> CounterexampleCheck:
    """Sample the counter-example under both noises; bounds use the exact p_A (equal for both noises)."""
    est = {
        (toks, noise): smoothed_score_monte_carlo(EMBEDDING, toks, score, SIGMA, noise, n, seed + i, confidence)
        for i, (toks, noise) in enumerate(
            [(X, "parameter"), (X, "embedding"), (X_PRIME, "parameter"), (X_PRIME, "embedding")]
        )
    }
    return CounterexampleCheck(
        p_a_parameter=est[(X, "parameter")],
        p_a_embedding=est[(X, "embedding")],
        x_prime_parameter=est[(X_PRIME, "parameter")],
        x_prime_embedding=est[(X_PRIME, "embedding")],
        heuristic_bound=certified_lower_bound(EXACT["p_a"], substitution_distance_heuristic(EMBEDDING, X, X_PRIME),
                                              SIGMA),
        rigorous_bound=certified_lower_bound(EXACT["p_a"], embedding_noise_distance(EMBEDDING, X, X_PRIME), SIGMA),
        n=n,
        seed=seed,
    )
