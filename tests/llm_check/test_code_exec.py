"""The coding oracle's sandbox: a planted correct completion passes, a wrong one fails, a hanging one is cut
at the timeout, a memory bomb and a network call fail, and nothing runs in the test's own process."""

import pytest

from llm_check.code_exec import FAILED, PASSED, TIMED_OUT, humaneval_program, run_program

PROBLEM = {"prompt": 'def add(a, b):\n    """Return a + b."""\n', "entry_point": "add",
           "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n"}


def test_a_correct_completion_passes_and_a_wrong_one_fails():
    assert run_program(humaneval_program(PROBLEM, "    return a + b\n")).status == PASSED
    wrong = run_program(humaneval_program(PROBLEM, "    return a - b\n"))
    assert wrong.status == FAILED and "AssertionError" in wrong.stderr_tail
    assert run_program(humaneval_program(PROBLEM, "    return (\n")).status == FAILED  # a syntax error


def test_a_hanging_completion_is_cut_at_the_timeout():
    out = run_program(humaneval_program(PROBLEM, "    while True:\n        pass\n"), timeout_s=1.0)
    assert out.status == TIMED_OUT and out.returncode is None  # killed by the wall-clock limit, not exited


def test_memory_network_and_shell_are_refused():
    assert run_program("x = bytearray(2 * 1024 ** 3)\n", memory_mb=256).status == FAILED
    net = run_program("import socket\nsocket.create_connection(('127.0.0.1', 9))\n")
    assert net.status == FAILED and "blocked" in net.stderr_tail
    assert run_program("import os\nos.system('true')\n").status == FAILED


def test_the_program_runs_in_a_child_with_its_own_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = run_program(f"import os\nopen('left.txt', 'w').write('x')\nassert os.getcwd() != {str(tmp_path)!r}\n")
    assert out.status == PASSED and not (tmp_path / "left.txt").exists()


def test_bad_limits_are_user_errors():
    from theory.errors import UserInputError

    with pytest.raises(UserInputError):
        run_program("pass", timeout_s=0)
