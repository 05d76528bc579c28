"""llm_check.payload: the parts of a carried file put together again exactly (and refused when damaged or
missing), token streams and pre-tokenised tasks travel unchanged, and the training text avoids every
evaluation task."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from landscape.hashing import file_sha256
from llm_check.multiple_choice import MultipleChoiceScore
from llm_check.payload import (
    freeze_task,
    read_json_xz,
    read_tokens,
    reassemble,
    split_file,
    thaw_task,
    write_json_xz,
    write_tokens,
)
from llm_check.tasks import bigbench_multiple_choice
from llm_check.training_data import pooled_task, training_text
from theory.errors import UserInputError


def test_split_and_reassemble_round_trip(tmp_path):
    src = tmp_path / "model.gguf"
    src.write_bytes(np.random.default_rng(0).integers(0, 256, 100_003, dtype=np.uint8).tobytes())
    parts = split_file(src, [tmp_path / "c1", tmp_path / "c2"], [40_000])
    assert [p.size for p in parts] == [40_000, 60_003] and parts[1].path.parent.name == "c2"
    out = reassemble([p.path for p in parts], tmp_path / "back" / "model.gguf", file_sha256(src))
    assert out.read_bytes() == src.read_bytes()
    big = tmp_path / "big.bin"  # the file hash reads 1 MiB chunks: a file of several, the last one short
    big.write_bytes(np.random.default_rng(1).integers(0, 256, 5 * 2**19 + 3, dtype=np.uint8).tobytes())
    assert file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest()


def test_a_damaged_or_missing_part_is_refused(tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(bytes(range(256)) * 40)
    parts = split_file(src, [tmp_path / "a", tmp_path / "b"], [5000])
    digest = file_sha256(src)
    with pytest.raises(UserInputError, match="went cold"):
        reassemble([tmp_path / "gone.part0", parts[1].path], tmp_path / "x", digest)
    data = bytearray(parts[1].path.read_bytes())
    data[7] ^= 1
    parts[1].path.write_bytes(bytes(data))
    with pytest.raises(UserInputError, match="sha256"):
        reassemble([p.path for p in parts], tmp_path / "x", digest)
    assert not (tmp_path / "x").exists()


def test_tokens_and_json_travel_unchanged(tmp_path):
    tokens = np.random.default_rng(1).integers(0, 49152, 10_000).astype(np.uint16)
    assert np.array_equal(read_tokens(write_tokens(tmp_path / "t.npy.xz", tokens)), tokens)
    with pytest.raises(ValueError):
        write_tokens(tmp_path / "big.npy.xz", np.array([70_000]))
    payload = {"a": [1, 2.5, "é"], "b": None}
    assert read_json_xz(write_json_xz(tmp_path / "p.json.xz", payload)) == payload


def test_thawed_task_scores_exactly_like_the_original(bigbench_cache, tiny_model, tiny_tokenizer):
    from llm_check.fetch import bigbench_task_files

    path = bigbench_task_files(["general_knowledge"])["general_knowledge"]
    task = pooled_task("pool", [bigbench_multiple_choice(path, "a"), bigbench_multiple_choice(path, "b")])
    assert len(task.examples) == 10
    thawed, frozen = thaw_task(read_json_xz(write_json_xz(bigbench_cache / "pool.json.xz",
                                                          freeze_task(task, tiny_tokenizer))))
    assert thawed.examples == task.examples and thawed.chance == task.chance and thawed.source == task.source
    original = MultipleChoiceScore(task, tiny_tokenizer).choice_loglikelihoods(tiny_model)
    again = MultipleChoiceScore(thawed, frozen).choice_loglikelihoods(tiny_model)
    assert all(np.array_equal(a, b) for a, b in zip(original, again))
    with pytest.raises(KeyError):
        frozen("a string the task never held")


def test_training_text_leaves_out_every_excluded_task():
    tasks = {"general_knowledge": {"examples": [{"input": "EVAL-ONLY", "target": "x"}]},
             "arithmetic/1_digit_addition": {"examples": [{"input": "EVAL-MATH", "target": "2"}]},
             "some_task": {"examples": [{"input": "Is fire hot?", "target_scores": {"yes": 1, "no": 0}}]},
             "other": {"examples": [{"input": "Name a colour", "target": ["red", "blue"]}, {"input": "no answer"}]}}
    text, used = training_text(tasks, ["general_knowledge", "arithmetic"], max_chars=10**9)
    assert sorted(used) == ["other", "some_task"]
    assert "Is fire hot?\nyes" in text and "Name a colour\nred" in text
    assert "EVAL-ONLY" not in text and "EVAL-MATH" not in text and "no answer" not in text
    short, _ = training_text(tasks, [], max_chars=1000)
    assert len(short) == 1000
