"""The lm-evaluation-harness backend on the tiny Llama, offline: a local YAML task (`dataset_path: json`
on files the test writes) scored through lm-eval agrees per example with our own multiple-choice scorer on
the same examples, at θ₀ and at a perturbed θ (so no answer is cached across probes), restores the weights
bitwise, and bad input (unknown task, missing --include-path) exits 2 with nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

pytest.importorskip("lm_eval")

from landscape.directions import DirectionSpec  # noqa: E402
from landscape.perturb import perturbed  # noqa: E402
from llm_check.cli import main  # noqa: E402
from llm_check.lm_eval_backend import LmEvalScore, load_lm_eval_tasks, write_multiple_choice_task  # noqa: E402
from llm_check.multiple_choice import MultipleChoiceScore  # noqa: E402
from llm_check.tasks import load_jsonl_task, load_tasks  # noqa: E402

ROWS = [{"query": f"Q: What comes after {w}?\nA:", "choices": c, "gold": g}
        for w, c, g in [("one", ["two", "three", "nine"], 0), ("red", ["green", "blue"], 1),
                        ("Monday", ["Tuesday", "Friday", "Sunday", "May"], 0), ("a", ["b", "z"], 0),
                        ("spring", ["summer", "winter", "autumn"], 0), ("up", ["down", "left"], 0),
                        ("seven", ["eight", "six", "ten"], 0), ("north", ["south", "east"], 1)]]
@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="module")
def task_dir(tmp_path_factory):
    """A folder with ours.jsonl (our JSONL format) and the same task exported as tiny_lm.yaml (lm-eval)."""
    root = tmp_path_factory.mktemp("lm_eval_tasks")
    (root / "ours.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    assert write_multiple_choice_task(load_jsonl_task(root / "ours.jsonl"), root, "tiny_lm") == "tiny_lm"
    return root


@pytest.fixture(scope="module")
def both(task_dir, tiny_tokenizer):
    """(lm-eval score, our score) of the same eight multiple-choice examples."""
    [task] = load_lm_eval_tasks(["tiny_lm"], task_dir)
    ours = MultipleChoiceScore(load_jsonl_task(task_dir / "ours.jsonl"), tiny_tokenizer, batch_size=3)
    return LmEvalScore(task, tiny_tokenizer, batch_size=3), ours


def test_task_is_built_once_with_one_request_per_choice(both):
    lm_score, _ = both
    assert lm_score.n_examples == len(ROWS)
    assert [len(r) for r in lm_score.task.requests] == [len(r["choices"]) for r in ROWS]
    assert lm_score.task.metric == "acc" and lm_score.task.filter_key == "none"
    assert lm_score.chance == pytest.approx(np.mean([1 / len(r["choices"]) for r in ROWS]))


def test_outcomes_agree_with_our_scorer_at_theta0_and_perturbed(both, tiny_model):
    """Two independent implementations of the same protocol (summed log-likelihood of " " + choice,
    argmax against gold) give the same 0/1 outcome per example; at a perturbed θ too, which a response
    cache keyed on the prompt would break."""
    lm_score, ours = both
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    seen = []
    for alpha in (0.0, 0.5, 2.0):
        with perturbed(tiny_model, DirectionSpec("gaussian", seed=3), alpha):
            a, b = lm_score(tiny_model), ours(tiny_model)
        np.testing.assert_array_equal(a.outcomes, b.outcomes)
        seen.append(tuple(a.outcomes))
    assert len(set(seen)) > 1, "the perturbation changed no outcome: the check above would be vacuous"
    for k, v in tiny_model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_example_subset_scores_those_examples(both, tiny_model):
    lm_score, ours = both
    ids = [5, 1, 6]
    sub = lm_score(tiny_model, ids)
    assert list(sub.example_ids) == ids
    np.testing.assert_array_equal(sub.outcomes, ours(tiny_model, ids).outcomes)


def test_prefix_applies_to_the_following_names(task_dir):
    data = task_dir / "ours.jsonl"
    write_multiple_choice_task(load_jsonl_task(data), task_dir, "tiny_lm_two")
    tasks = load_tasks(f"lm_eval:tiny_lm,tiny_lm_two,{data}", include_path=task_dir)
    assert [t.name for t in tasks] == ["tiny_lm", "tiny_lm_two", "ours"]
    assert [type(t).__name__ for t in tasks] == ["LmEvalTask", "LmEvalTask", "MultipleChoiceTask"]


def test_score_command_runs_an_lm_eval_task(task_dir, tiny_hf_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["score", "--model", str(tiny_hf_dir), "--tasks", "lm_eval:tiny_lm", "--include-path",
                 str(task_dir), "--output-path", str(out)]) == 0
    row = json.loads((out / "scores.json").read_text())["scores"][0]
    assert row["task"] == "tiny_lm" and row["n"] == len(ROWS)
    assert 0 <= row["score"] <= 1 and row["ci"][0] <= row["score"] <= row["ci"][1]


@pytest.mark.parametrize("argv, message", [
    (["--tasks", "lm_eval:no_such_task"], "lm_eval task not found: no_such_task"),
    (["--tasks", "lm_eval:tiny_lm", "--include-path", "{missing}"], "is not an existing folder"),
])
def test_bad_lm_eval_input_exits_2_and_writes_nothing(argv, message, task_dir, tmp_path, capsys, monkeypatch):
    from llm_check import model_io

    monkeypatch.setattr(model_io, "load_model", lambda *a, **k: pytest.fail("model loaded before the error"))
    argv = [a.format(missing=tmp_path / "missing") for a in argv]
    if "--include-path" not in argv:
        argv += ["--include-path", str(task_dir)]
    out = tmp_path / "out"
    assert main(["score", *argv, "--output-path", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("llm-check: error: ") and message in err[0], err
    assert not out.exists() or not any(out.iterdir())


GEN_YAML = """task: tiny_gen_lm
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{prompt}}}}"
doc_to_target: "{{{{target}}}}"
generation_kwargs:
  until: []
  max_gen_toks: 4
  do_sample: false
metric_list:
  - metric: exact_match
"""


def test_export_refuses_several_gold_choices(tmp_path):
    from llm_check.tasks import MultipleChoiceExample, MultipleChoiceTask
    from theory.errors import UserInputError

    task = MultipleChoiceTask("two_gold", (MultipleChoiceExample("Q: vowel?\nA:", ("a", "e", "x"), (0, 1)),))
    with pytest.raises(UserInputError, match="2 gold choices"):
        write_multiple_choice_task(task, tmp_path)


def test_generation_task_reads_exact_match_per_document(tmp_path, tiny_model, tiny_tokenizer):
    """generate_until through lm-eval: targets planted equal to our own greedy output on even rows and to a
    string the model cannot produce on odd rows, so the outcomes must read 1, 0, 1, 0."""
    from llm_check.generation import greedy_generate

    prompts = [f"Say {w}:" for w in ("one", "two", "three", "four")]
    outputs = greedy_generate(tiny_model, tiny_tokenizer, [list(tiny_tokenizer(p).input_ids) for p in prompts], 4, 4)
    data = tmp_path / "gen.jsonl"
    data.write_text("".join(json.dumps({"prompt": p, "target": o if i % 2 == 0 else "\u2603never"}) + "\n"
                            for i, (p, o) in enumerate(zip(prompts, outputs))))
    (tmp_path / "gen.yaml").write_text(GEN_YAML.format(data=data))
    [task] = load_lm_eval_tasks(["tiny_gen_lm"], tmp_path)
    assert task.metric == "exact_match" and task.chance == 0.0
    np.testing.assert_array_equal(LmEvalScore(task, tiny_tokenizer, batch_size=2)(tiny_model).outcomes, [1, 0, 1, 0])
