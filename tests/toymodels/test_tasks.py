"""Task generators and their 0–1 oracles, checked on hand-made models with known outputs."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from landscape.scores import Score
from theory.errors import UserInputError
from toymodels.tasks import (
    basic_score,
    gaussian_mixture,
    language_nll,
    language_scores,
    mixture_set,
    safety_score,
    skill_set,
    teacher_student,
)
from toymodels.tasks import vocab as V


class ShiftOracle(nn.Module):
    """Cheats by reading the whole sequence: logits at t put all mass on token t+1; `ban` maps a token
    to another one (e.g. never output REFUSE)."""

    def __init__(self, ban: dict[int, int] | None = None):
        super().__init__()
        self.ban = ban or {}
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        nxt = torch.cat([tokens[:, 1:], tokens[:, :1]], dim=1).clone()
        for a, b in self.ban.items():
            nxt[nxt == a] = b
        return 10.0 * nn.functional.one_hot(nxt, V.VOCAB_SIZE).float()


class Constant(nn.Module):
    """Always predicts `token` (a collapsed model)."""

    def __init__(self, token: int):
        super().__init__()
        self.token = token
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(*tokens.shape, V.VOCAB_SIZE)
        out[..., self.token] = 1.0
        return out


class Fn(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


def _answer(row: torch.Tensor, mask: torch.Tensor) -> list[str]:
    return [V.TOKENS[int(t)] for t in row[mask]]


def test_every_skill_answer_follows_its_rule():
    for skill in ("copy", "reverse", "add", "sub", "brackets"):
        data = skill_set(skill, 50, seed=3)
        for row, mask in zip(data.tokens, data.target_mask):
            toks = [V.TOKENS[int(t)] for t in row]
            sep = toks.index("SEP")
            prompt, answer = toks[3:sep], _answer(row, mask)
            assert answer[-1] == "END" and toks[:2] == ["BOS", "USR"]
            answer = answer[:-1]
            if skill == "copy":
                assert answer == prompt
            elif skill == "reverse":
                assert answer == prompt[::-1]
            elif skill in ("add", "sub"):
                a, b = int(prompt[0]), int(prompt[1])
                assert int(answer[0]) == ((a + b) if skill == "add" else (a - b)) % 10
            else:
                stack, pairs = [], {")": "(", "]": "["}
                for t in prompt + answer:
                    if t in "([":
                        stack.append(t)
                    else:
                        assert stack.pop() == pairs[t]
                assert not stack


def test_refusal_sets_answer_refuse_and_generation_is_seeded():
    trig = skill_set("copy", 10, seed=1, role="TRIG", answer="refuse")
    assert all(_answer(r, m) == ["REFUSE", "END"] for r, m in zip(trig.tokens, trig.target_mask))
    assert torch.equal(mixture_set("align", 64, 5).tokens, mixture_set("align", 64, 5).tokens)
    assert not torch.equal(mixture_set("align", 64, 5).tokens, mixture_set("align", 64, 6).tokens)
    adv = mixture_set("adversarial", 40, 0)
    assert bool((adv.tokens[:, 1] == V.TRIG).all())
    assert not bool((adv.tokens[adv.target_mask] == V.REFUSE).any())


@pytest.fixture(scope="module")
def scores():
    return language_scores(n=64, seed=0)


def test_scores_follow_the_protocol_and_a_perfect_model_passes(scores):
    for s in scores.values():
        assert isinstance(s, Score) and s.n_examples == 64 and 0 <= s.chance < 1
        assert s(ShiftOracle()).value == 1.0


def test_collapsed_models_fail_safety_and_exact_match(scores):
    safety = scores["safety"]
    for token in (V.REFUSE, V.PAD, V.END, V.DIGIT_IDS[0]):
        assert safety(Constant(token)).value == 0.0
    for token in (V.REFUSE, V.PAD):  # (a constant END does answer a closed bracket prompt correctly)
        assert scores["basic"](Constant(token)).value == 0.0
    never_refuses = ShiftOracle(ban={V.REFUSE: V.END})
    assert scores["basic"](never_refuses).value == 1.0  # fluent ...
    assert safety(never_refuses).value == 0.0           # ... but unsafe


def test_safety_needs_the_plain_answer_too():
    """A model that refuses everything it is asked (REFUSE at every answer position) scores 0."""

    class RefuseAll(ShiftOracle):
        def forward(self, tokens):
            out = super().forward(tokens)
            after_sep = (tokens == V.SEP).cumsum(1).bool()
            out[after_sep] = 10.0 * nn.functional.one_hot(torch.tensor(V.REFUSE), V.VOCAB_SIZE).float()
            return out

    s = safety_score(n=32, seed=1)
    assert s(RefuseAll()).value == 0.0 and s(ShiftOracle()).value == 1.0


def test_example_ids_select_outcomes_and_train_mode_is_restored(scores):
    m = ShiftOracle(ban={V.DIGIT_IDS[3]: V.DIGIT_IDS[4]})
    m.train()
    full = scores["math"](m)
    sub = scores["math"](m, example_ids=[5, 1, 7])
    assert m.training
    np.testing.assert_array_equal(sub.outcomes, full.outcomes[[5, 1, 7]])
    assert sub.example_ids == (5, 1, 7) and 0 < full.value < 1
    with pytest.raises(UserInputError):
        scores["math"](m, example_ids=[64])


def test_nll_controls_of_a_uniform_model_equal_log_vocabulary():
    uniform = Fn(lambda tokens: torch.zeros(*tokens.shape, V.VOCAB_SIZE))
    nll = language_nll(n=16)(uniform)
    assert np.allclose(nll.outcomes, math.log(V.VOCAB_SIZE))
    task = teacher_student(n_train=8, n_test=16, k=3)
    ce = task.nll()(Fn(lambda x: torch.zeros(x.shape[0], 3)))
    assert np.allclose(ce.outcomes, math.log(3))


def test_classification_tasks_are_seeded_and_accuracy_counts_argmax():
    a, b = gaussian_mixture(seed=2, n_train=32, n_test=16), gaussian_mixture(seed=2, n_train=32, n_test=16)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, gaussian_mixture(seed=3, n_train=32, n_test=16).x_train)
    t = teacher_student(n_train=64, n_test=40, k=4)
    labels = t.y_test.clone()
    cheat = Fn(lambda x: nn.functional.one_hot(labels[: x.shape[0]], 4).float())
    acc = t.accuracy()
    assert acc(cheat).value == 1.0
    assert acc.chance == torch.bincount(labels, minlength=4).max().item() / 40
    with pytest.raises(UserInputError):
        gaussian_mixture(k=1)


def test_basic_score_mixes_the_pretraining_skills():
    data = basic_score(n=200).data
    skills = {V.TOKENS[int(t)] for t in data.tokens[:, 2]}
    assert skills == {"COPY", "REV", "ADD", "BRK"}
