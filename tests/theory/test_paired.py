"""Paired differences and the equivalence gate (theory.claims.statistics): coverage on simulated pairs
with a known mean difference, at a tolerance from a stated failure probability, and the TOST's two
failure modes (a real shift, too few examples)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from theory.claims.statistics import equivalence_gate, paired_difference, paired_mean
from theory.errors import UserInputError

REPS, FAIL_PROB = 300, 1e-6


def pairs(rng, n, p_a, flip_up, flip_down):
    """a ~ Bernoulli(p_a); b = a with ones turned to zeros w.p. flip_down and zeros to ones w.p. flip_up:
    E a − E b = p_a·flip_down − (1 − p_a)·flip_up exactly."""
    a = (rng.random(n) < p_a).astype(float)
    u = rng.random(n)
    b = np.where(a == 1, (u >= flip_down).astype(float), (u < flip_up).astype(float))
    return a, b, p_a * flip_down - (1 - p_a) * flip_up


@pytest.mark.parametrize("p_a,up,down", [(0.9, 0.05, 0.05), (0.5, 0.0, 0.2), (0.95, 0.3, 0.01)])
def test_the_interval_covers_the_true_difference(p_a, up, down):
    """Misses of a 90 % interval over REPS independent data sets are ≤ Bin(REPS, 0.1); allow its
    (1 − FAIL_PROB) quantile."""
    rng = np.random.default_rng([7, int(100 * p_a)])
    misses = 0
    for _ in range(REPS):
        a, b, truth = pairs(rng, 200, p_a, up, down)
        est = paired_difference(a, b, 0.9)
        misses += not est.lo <= truth <= est.hi
    assert misses <= binom.ppf(1 - FAIL_PROB, REPS, 0.1)


def test_equal_models_pass_and_a_shifted_one_fails_the_gate():
    rng = np.random.default_rng(3)
    a, b, _ = pairs(rng, 1024, 0.9, 0.05, 0.05)
    assert equivalence_gate(a, b, margin=0.08).passed
    shifted = np.where(rng.random(1024) < 0.2, 0.0, b)  # b loses a fifth of its correct answers
    gate = equivalence_gate(a, shifted, margin=0.08)
    assert not gate.passed and gate.difference.lo > 0.08


def test_too_few_examples_cannot_show_equivalence():
    """Identical outcomes on 20 examples: the 90 % interval of a mean in [−1, 1] is still wider than ±0.05."""
    a = np.r_[np.ones(18), np.zeros(2)]
    assert not equivalence_gate(a, a.copy(), margin=0.05).passed
    assert equivalence_gate(np.tile(a, 100), np.tile(a, 100), margin=0.05).passed
    short = equivalence_gate(np.tile(a, 20), np.tile(a, 20), margin=0.05, min_examples=512)
    assert not short.passed and "fewer than the 512 examples" in short.describe()


def test_paired_inputs_are_checked():
    with pytest.raises(UserInputError):
        paired_difference([1, 0], [1])
    with pytest.raises(UserInputError):
        paired_difference([2, 0], [1, 0])
    with pytest.raises(UserInputError):
        paired_mean([3.0], (-2.0, 2.0))
    with pytest.raises(UserInputError):
        equivalence_gate([1, 0], [1, 0], margin=0.0)
