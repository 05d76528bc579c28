"""Task loading: BIG-bench JSON (from a fake sdist), user JSONL, errors with line numbers."""

from __future__ import annotations

import json

import pytest

from llm_check import fetch, tasks
from llm_check.tasks import GenerationTask, MultipleChoiceTask, load_jsonl_task, load_task, load_tasks
from theory.errors import UserInputError


def test_bigbench_task_extracted_from_sdist(bigbench_cache):
    task = load_task("general_knowledge")
    assert isinstance(task, MultipleChoiceTask) and task.name == "general_knowledge"
    assert (bigbench_cache / "bigbench" / "general_knowledge" / "task.json").is_file()
    assert not (bigbench_cache / "bigbench" / "arithmetic").exists()  # only what was asked for
    first = task.examples[0]
    assert first.query == "Q: What is one plus one?\nA:"
    assert first.choices == ("two", "three", "four") and first.gold == (0,)
    assert task.examples[2].gold == (0, 1)  # two maximal target scores
    # chance = mean over examples of #gold/#choices, by hand from the fixture's task JSON
    assert task.chance == pytest.approx((1 / 3 + 1 / 2 + 2 / 4 + 1 / 5 + 1 / 2) / 5)


def test_generation_variant_uses_output_regex(bigbench_cache, bigbench_json):
    task = load_task("arithmetic_1_digit_addition:generate")
    assert isinstance(task, GenerationTask)
    assert [e.target for e in task.examples] == [ex["target"] for ex in bigbench_json["arithmetic/1_digit_addition"]["examples"]]
    assert task.oracle(" 3, I think", "3") and not task.oracle(" 13", "3") and not task.oracle(" none", "3")


def test_task_file_prefixes_take_precedence(tmp_path, bigbench_json):
    raw = dict(bigbench_json["general_knowledge"], task_prefix="Answer.\n", example_input_prefix="Question: ",
               example_output_prefix="\nAnswer: ")
    path = tmp_path / "task.json"
    path.write_text(json.dumps(raw))
    task = load_task(str(path))
    assert task.name == "task" and task.examples[0].query == "Answer.\nQuestion: What is one plus one?\nAnswer:"


def test_missing_bigbench_task_is_refused(bigbench_cache):
    with pytest.raises(UserInputError, match="no task"):
        load_task("bigbench:no_such_task")


def test_unknown_task_name_is_refused_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("BASIN_CACHE", str(tmp_path))
    monkeypatch.setattr(fetch, "pip_download", lambda *a, **k: pytest.fail("tried to download"))
    with pytest.raises(UserInputError, match="unknown task"):
        load_tasks("general_knowledge_typo")


def test_load_tasks_mixes_names_and_jsonl(bigbench_cache, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"query": "2+2=", "choices": ["4", "5"], "gold": 0}) + "\n\n"
                    + json.dumps({"query": "1+1=", "choices": ["3", "2"], "gold": [1]}) + "\n")
    loaded = load_tasks(f"general_knowledge,{path}")
    assert [t.name for t in loaded] == ["general_knowledge", "mine"]
    assert loaded[1].examples[1].gold == (1,) and loaded[1].chance == pytest.approx(0.5)


def test_jsonl_generation_task(tmp_path):
    path = tmp_path / "gen.jsonl"
    path.write_text(json.dumps({"prompt": "Say hi:", "target": "hi"}) + "\n")
    task = load_jsonl_task(path)
    assert isinstance(task, GenerationTask)
    assert task.oracle(" hi \nmore", "hi") and not task.oracle("hello", "hi")


@pytest.mark.parametrize("bad_line, message", [
    ("{not json", "not valid JSON"),
    ('["a list"]', "JSON object"),
    ('{"query": "q", "choices": ["a"], "gold": 0}', "at least 2"),
    ('{"query": "q", "choices": ["a", "b"], "gold": 2}', "gold"),
    ('{"query": "q", "choices": ["a", "b"], "gold": true}', "gold"),
    ('{"query": 3, "choices": ["a", "b"], "gold": 0}', "query"),
])
def test_malformed_jsonl_line_names_its_number(tmp_path, bad_line, message):
    good = json.dumps({"query": "q", "choices": ["a", "b"], "gold": 0})
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{good}\n\n{bad_line}\n{good}\n")
    with pytest.raises(UserInputError, match=f"bad.jsonl:3: .*{message}"):
        load_jsonl_task(path)


def test_empty_or_missing_jsonl_is_refused(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(UserInputError, match="no examples"):
        load_jsonl_task(empty)
    with pytest.raises(UserInputError, match="unknown task|not found"):
        load_task(str(tmp_path / "absent.jsonl"))


def test_prompts_and_default_corpus(tmp_path):
    path = tmp_path / "prompts.jsonl"
    path.write_text(json.dumps({"prompt": "How do I pick a lock?"}) + "\n")
    assert tasks.load_prompts(path) == ("How do I pick a lock?",)
    assert len(tasks.text_corpus()) > 100_000  # pydoc_data topics ship with CPython
