"""The smallest counter-example to Thm 4.5 as stated (PAPER.md): h = 1, vocabulary {a, b}, W = [0, 1],
x = (a, b) → x′ = (a, a), S(z) = 1{z₂ − z₁ > ½}, σ = 1. Under embedding noise p_A(x) = Φ(1/(2√2)) and the
smoothed score at x′ is Φ(−1/(2√2)); under parameter noise the smoothed score at x′ is exactly 0."""

import math

import numpy as np
import pytest
import torch
from analytic_models import param_bits, same_bits
from scipy.stats import norm

from landscape.certificates import certify
from landscape.context import ProbeContext
from landscape.input_robustness import (
    HEURISTIC_LABEL,
    RIGOROUS_LABEL,
    embedding_noise,
    heuristic_substitution_bound,
    input_embedding_certificates,
    pairs_within_radius,
    rigorous_substitution_bound,
    token_distances,
)
from landscape.scores import ClassificationAccuracy

A, B = 0, 1
X, X_PRIME = [A, B], [A, A]


class TwoTokens(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(2, 1)
        with torch.no_grad():
            self.embed.weight.copy_(torch.tensor([[0.0], [1.0]]))

    def forward(self, tokens):
        z = self.embed(tokens)[..., 0]
        return z[:, 1] - z[:, 0] - 0.5


def score_for(*inputs):
    return ClassificationAccuracy(torch.tensor(inputs), torch.ones(len(inputs), dtype=torch.long), chance=0.0)


def test_rigorous_certificate_holds_and_heuristic_fails_on_the_counter_example():
    model = TwoTokens()
    bits = param_bits(model)
    W = model.embed.weight
    p_x = norm.cdf(1 / (2 * math.sqrt(2)))
    p_x_prime_emb = norm.cdf(-1 / (2 * math.sqrt(2)))
    rig = input_embedding_certificates(model, score_for(X), model.embed, 1.0, n=400, confidence=0.99, ctx=ProbeContext(seed=3))
    assert same_bits(model, bits) and rig.label == RIGOROUS_LABEL
    cert_x = rig.for_example(0)
    assert cert_x.p_a.lo <= p_x                                   # fails with probability ≤ 1 %
    bound = rigorous_substitution_bound(rig, 0, W, X, X_PRIME)
    assert bound.distance == pytest.approx(1.0)
    assert bound.bound <= p_x_prime_emb                           # Lemma E.1 per example
    assert rig.dataset_bound([bound.distance]) <= p_x_prime_emb
    # measured under embedding noise at x′: consistent with Φ(−1/(2√2))
    meas = input_embedding_certificates(model, score_for(X_PRIME), model.embed, 1.0, n=400, ctx=ProbeContext(seed=4))
    assert meas.examples[0].p_a.lo <= p_x_prime_emb

    param = certify(model, score_for(X), 1.0, n=400, q=0.0, ctx=ProbeContext(seed=5))
    heur = heuristic_substitution_bound(param, W, X, X_PRIME)
    assert heur.label == HEURISTIC_LABEL and any("repeated" in c for c in heur.caveats)
    assert heur.distance == pytest.approx(1.0)
    at_x_prime = certify(model, score_for(X_PRIME), 1.0, n=50, q=0.0, ctx=ProbeContext(seed=6))
    assert at_x_prime.p_a.estimate == 0.0                        # z₂ − z₁ = 0 under shared parameter noise
    assert heur.bound > 0.0                                       # so the "bound" is violated
    assert same_bits(model, bits)


def test_embedding_noise_is_independent_per_position_and_leaves_parameters():
    emb = torch.nn.Embedding(3, 4)
    bits = param_bits(emb)
    tokens = torch.zeros(2000, 2, dtype=torch.long)
    clean = emb(tokens).detach()
    with embedding_noise(emb, 0.5, seed=1):
        noisy = emb(tokens).detach()
    assert same_bits(emb, bits) and torch.equal(emb(tokens).detach(), clean)
    eta = (noisy - clean).reshape(-1, 8).double().numpy()
    # 16000 N(0, 0.25) entries: relative s.e. of the variance √(2/16000) ≈ 1.1 %, so ±5 % is ≈ 4.5 s.e.
    # (failure probability < 1e-5); correlations of 2000 pairs: s.e. ≈ 0.022, 0.1 is 4.5 s.e. (28 pairs:
    # failure probability < 3e-4)
    assert abs(eta.var() / 0.25 - 1) < 0.05
    corr = np.corrcoef(eta.T)
    assert np.max(np.abs(corr - np.eye(8))) < 0.1


def test_pairs_within_radius_match_brute_force():
    torch.manual_seed(0)
    W = torch.randn(40, 3)
    dist = token_distances(W, range(40)).numpy()
    ref = torch.sqrt(((W[:, None, :].double() - W[None, :, :].double()) ** 2).sum(-1)).numpy()
    np.testing.assert_allclose(dist, ref, atol=1e-12)
    radius = float(np.quantile(ref[np.triu_indices(40, 1)], 0.1))
    expected = sorted((i, j) for i in range(40) for j in range(i + 1, 40) if ref[i, j] <= radius)
    got = pairs_within_radius(W, radius, chunk_size=7)
    assert [(i, j) for i, j, _ in got] == expected
    subset = pairs_within_radius(W, radius, token_ids=[0, 1, 2, 3, 4, 5])
    assert [(i, j) for i, j, _ in subset] == [p for p in expected if p[1] < 6]


def test_heuristic_caveats_only_when_a_premise_breaks():
    model = TwoTokens()
    param = certify(model, score_for(X), 1.0, n=20, q=0.0, ctx=ProbeContext(seed=1))
    W = torch.tensor([[0.0], [1.0], [3.0]])
    clean = heuristic_substitution_bound(param, W, [0, 1], [0, 2])      # 1 → 2, nothing repeated
    assert clean.caveats == () and clean.distance == pytest.approx(2.0)
    tied = heuristic_substitution_bound(param, W, [0, 1], [0, 2], tied_embeddings=True)
    assert any("tied" in c for c in tied.caveats)
    repeated = heuristic_substitution_bound(param, W, [1, 1], [2, 1])    # token 1 also stays elsewhere
    assert any("repeated" in c for c in repeated.caveats)
