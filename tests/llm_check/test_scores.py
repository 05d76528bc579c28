"""Scores on the tiny Llama: batched log-likelihoods equal unpadded ones, greedy decoding, NLL, the floor rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llm_check.generation import greedy_generate
from llm_check.model_io import weight_hash
from llm_check.scores import (
    GenerationScore,
    MultipleChoiceScore,
    text_nll_score,
)
from llm_check.tasks import (
    GenerationExample,
    GenerationTask,
    MultipleChoiceExample,
    MultipleChoiceTask,
    first_match_oracle,
)
from theory.errors import UserInputError

MC = MultipleChoiceTask("mc", (
    MultipleChoiceExample("Q: sky?\nA:", ("blue", "red", "a much longer wrong answer"), (0,)),
    MultipleChoiceExample("Q: 2+2?\nA:", ("4", "5"), (1,)),
    MultipleChoiceExample("Q: pick the\nA:", ("the", "he", "t", "there"), (2, 3)),
    MultipleChoiceExample("x", ("y", "z"), (0,)),
))


def direct_loglikelihood(model, tokenizer, query: str, choice: str) -> float:
    """Σ log p(continuation) from one unpadded forward pass (independent of the batching code)."""
    context = tokenizer(query).input_ids
    cont = tokenizer(" " + choice, add_special_tokens=False).input_ids
    ids = torch.tensor([context + cont])
    with torch.no_grad():
        logp = model(ids).logits[0].double().log_softmax(-1)
    return float(sum(logp[len(context) - 1 + j, t] for j, t in enumerate(cont)))


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_batched_loglikelihoods_equal_unpadded(tiny_model, tiny_tokenizer, batch_size):
    score = MultipleChoiceScore(MC, tiny_tokenizer, batch_size=batch_size)
    got = score.choice_loglikelihoods(tiny_model)
    for ex, lls in zip(MC.examples, got):
        want = [direct_loglikelihood(tiny_model, tiny_tokenizer, ex.query, c) for c in ex.choices]
        np.testing.assert_allclose(lls, want, rtol=0, atol=1e-4)


def test_outcome_is_argmax_in_gold_and_subsets_agree(tiny_model, tiny_tokenizer):
    score = MultipleChoiceScore(MC, tiny_tokenizer, batch_size=5)
    full = score(tiny_model)
    want = [float(int(np.argmax([direct_loglikelihood(tiny_model, tiny_tokenizer, e.query, c)
                                 for c in e.choices])) in e.gold) for e in MC.examples]
    np.testing.assert_array_equal(full.outcomes, want)
    assert full.n == 4 and full.value == pytest.approx(np.mean(want))
    sub = score(tiny_model, [3, 1])
    assert sub.example_ids == (3, 1)
    np.testing.assert_array_equal(sub.outcomes, [want[3], want[1]])
    assert score.chance == pytest.approx((1 / 3 + 1 / 2 + 2 / 4 + 1 / 2) / 4)


def test_scoring_leaves_model_untouched(tiny_model, tiny_tokenizer):
    before = weight_hash(tiny_model)
    tiny_model.train()
    MultipleChoiceScore(MC, tiny_tokenizer)(tiny_model)
    assert tiny_model.training and weight_hash(tiny_model) == before
    tiny_model.eval()


def test_bad_inputs_are_refused(tiny_tokenizer, tiny_model):
    with pytest.raises(UserInputError):
        MultipleChoiceScore(MC, tiny_tokenizer, batch_size=0)
    with pytest.raises(UserInputError):
        MultipleChoiceScore(MC, tiny_tokenizer)(tiny_model, [4])
    with pytest.raises(UserInputError):
        MultipleChoiceScore(MC, tiny_tokenizer)(tiny_model, [])


def manual_greedy(model, ids: list[int], steps: int) -> list[int]:
    out = list(ids)
    with torch.no_grad():
        for _ in range(steps):
            out.append(int(model(torch.tensor([out])).logits[0, -1].argmax()))
    return out[len(ids):]


def test_greedy_generation_with_left_padding_matches_unpadded_loop(tiny_model, tiny_tokenizer):
    prompts = ["What is 1 plus 2?", "Hi", "the theme"]
    encoded = [tiny_tokenizer(p).input_ids for p in prompts]
    texts = greedy_generate(tiny_model, tiny_tokenizer, encoded, max_new_tokens=5, batch_size=3)
    for ids, text in zip(encoded, texts):
        want = manual_greedy(tiny_model, ids, 5)
        eos = tiny_tokenizer.eos_token_id
        if eos in want:  # generation stops at eos
            want = want[:want.index(eos)]
        assert text == tiny_tokenizer.decode(want, skip_special_tokens=True)


def test_generation_score_applies_the_oracle(tiny_model, tiny_tokenizer):
    task = GenerationTask("gen", (GenerationExample("a", "1"), GenerationExample("b", "2")),
                          oracle=first_match_oracle(), max_new_tokens=4)
    score = GenerationScore(task, tiny_tokenizer, batch_size=2)
    outputs = score.outputs(tiny_model)
    result = score(tiny_model)
    np.testing.assert_array_equal(result.outcomes, [task.oracle(o, e.target)
                                                    for o, e in zip(outputs, task.examples)])


def test_text_nll_score_blocks_and_value(tiny_model, tiny_tokenizer):
    text = "The quick brown fox jumps over the lazy dog. " * 12
    score = text_nll_score(tiny_tokenizer, text, block_size=32, max_blocks=5)
    assert score.tokens.shape == (5, 32) and score.n_examples == 5
    ids = torch.tensor(tiny_tokenizer(text, add_special_tokens=False).input_ids[:160]).reshape(5, 32)
    with torch.no_grad():
        logits = tiny_model(ids).logits[:, :-1].double()
    want = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    assert score(tiny_model).value == pytest.approx(float(want), abs=1e-5)
    with pytest.raises(UserInputError, match="fewer than one block"):
        text_nll_score(tiny_tokenizer, "short", block_size=32)


# Expected values from the two-sided 95 % Clopper–Pearson upper bound, scipy.stats.beta.ppf(0.975, k + 1, n − k):
# 0/32 → 0.1089, 0/40 → 0.0881, 3/40 → 0.2039, 24/70 → 0.4660, 26/70 → 0.4952.
@pytest.mark.parametrize("successes, n, chance, below", [
    (0, 32, 0.0, False),
    (0, 40, 0.0, True),
    (3, 40, 0.0, False),
    (24, 70, 0.4, True),
    (26, 70, 0.33, False),
])
def test_below_resolution_rule(successes, n, chance, below):
    from landscape.scores import below_resolution

    assert below_resolution(successes, n, chance) is below
