import math

import numpy as np
import pytest
import torch

from landscape.scores import ClassificationAccuracy, NLLScore, eval_mode, higher_is_better, is_bounded_score
from theory.errors import UserInputError


class Fixed(torch.nn.Module):
    """Returns the stored logits row for each input index (x holds indices)."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = torch.nn.Parameter(logits)
        self.dropout = torch.nn.Dropout(0.5)

    def forward(self, x):
        return self.dropout(self.logits[x[:, 0].long()])


def test_classification_accuracy_counts_argmax_matches():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]])
    model = Fixed(logits)
    model.train()
    score = ClassificationAccuracy(torch.arange(4).reshape(-1, 1), torch.tensor([0, 1, 0, 0]), batch_size=3)
    res = score(model)
    assert res.outcomes.tolist() == [1.0, 1.0, 0.0, 1.0]   # eval mode: dropout off, argmax as given
    assert res.value == 0.75 and res.n == 4
    assert model.training                                    # previous mode restored
    assert score.chance == pytest.approx(1 / 2)              # labels {0, 1} -> 2 classes
    sub = score(model, example_ids=[2, 3])
    assert sub.outcomes.tolist() == [0.0, 1.0] and sub.example_ids == (2, 3)


def test_single_logit_is_thresholded_at_zero():
    model = Fixed(torch.tensor([[0.5], [-0.5]]))
    score = ClassificationAccuracy(torch.arange(2).reshape(-1, 1), torch.tensor([1, 1]))
    assert score(model).outcomes.tolist() == [1.0, 0.0]


def test_bad_example_ids_raise():
    score = ClassificationAccuracy(torch.zeros(2, 1), torch.zeros(2, dtype=torch.long))
    with pytest.raises(UserInputError):
        score(Fixed(torch.zeros(1, 2)), example_ids=[])
    with pytest.raises(UserInputError):
        score(Fixed(torch.zeros(1, 2)), example_ids=[5])


class Bigram(torch.nn.Module):
    def __init__(self, table: torch.Tensor):
        super().__init__()
        self.table = torch.nn.Parameter(table)

    def forward(self, tokens):
        return self.table[tokens]


def test_nll_matches_hand_computed_log_probabilities():
    torch.manual_seed(0)
    table = torch.randn(5, 5)
    tokens = torch.tensor([[0, 1, 2, 3], [4, 4, 0, 1], [2, 2, 2, 2]])
    score = NLLScore(tokens, batch_size=2)
    res = score(Bigram(table))
    logp = torch.log_softmax(table.double(), dim=-1)
    expected = [np.mean([-float(logp[row[i], row[i + 1]]) for i in range(3)]) for row in tokens.tolist()]
    np.testing.assert_allclose(res.outcomes, expected, rtol=1e-5)
    assert math.isclose(res.value, float(np.mean(expected)), rel_tol=1e-5)
    assert not higher_is_better(score) and not is_bounded_score(score)
    assert higher_is_better(ClassificationAccuracy(torch.zeros(1, 1), torch.zeros(1, dtype=torch.long)))


def test_eval_mode_disables_grad_and_restores_flag():
    model = torch.nn.Linear(2, 2)
    model.train()
    with eval_mode(model):
        assert not model.training and not torch.is_grad_enabled()
    assert model.training
