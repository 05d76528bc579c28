"""Running model-written code for the coding capability: never in this process.

`run_program(source, timeout_s, memory_mb)` writes `source` into a fresh temporary directory and runs it as
`python -I -S` (isolated: no user site, no PYTHON* variables, no site-packages) in a child process with that
directory as its working directory and HOME, an empty environment apart from PATH, and POSIX resource limits
set in the child before exec: address space (memory_mb), CPU seconds (timeout_s + 1), file size (16 MiB), no
core files, at most 64 open files. A wall-clock timeout (timeout_s) kills the child's whole process group.
The program runs behind a prelude that disables the network (socket creation raises) and the obvious ways out
of the directory (os.system, subprocess); it is a guard against accidents of a small model, not a security
boundary against an adversary. The outcome is "passed" iff the child exits 0 within the limits.

`humaneval_program(problem, completion)` is HumanEval's own check: prompt + completion, then the problem's test
code and `check(entry_point)`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from theory.errors import UserInputError

PASSED, FAILED, TIMED_OUT = "passed", "failed", "timed out"

_PRELUDE = '''import os as _os, socket as _socket, subprocess as _subprocess
def _blocked(*a, **k):
    raise PermissionError("blocked in the code-execution sandbox")
_socket.socket = _blocked
_socket.create_connection = _blocked
_os.system = _blocked
_subprocess.Popen = _blocked
del _os, _socket, _subprocess, _blocked
'''


@dataclass(frozen=True)
class RunOutcome:
    status: str
    returncode: int | None
    wall_time_s: float
    stderr_tail: str

    @property
    def passed(self) -> bool:
        return self.status == PASSED


def _limits(timeout_s: float, memory_mb: int):
    def apply() -> None:
        import resource

        os.setsid()
        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        cpu = int(timeout_s) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024 * 1024, 16 * 1024 * 1024))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    return apply


def run_program(source: str, timeout_s: float = 5.0, memory_mb: int = 512) -> RunOutcome:
    """Runs `source` in a sandboxed child process (module doc)."""
    if not timeout_s > 0 or memory_mb < 64:
        raise UserInputError(f"need timeout_s > 0 and memory_mb >= 64, got {timeout_s}, {memory_mb}")
    if sys.platform == "win32":
        raise UserInputError("the code-execution sandbox needs POSIX resource limits (Linux or macOS)")
    with tempfile.TemporaryDirectory(prefix="basin-code-") as tmp:
        path = Path(tmp) / "program.py"
        path.write_text(_PRELUDE + source)
        env: Mapping[str, str] = {"PATH": "/usr/bin:/bin", "HOME": tmp}
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-I", "-S", str(path)], cwd=tmp, env=dict(env),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                preexec_fn=_limits(timeout_s, memory_mb))
        try:
            _, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
            return RunOutcome(TIMED_OUT, None, time.perf_counter() - start, err.decode(errors="replace")[-500:])
        status = PASSED if proc.returncode == 0 else FAILED
        return RunOutcome(status, proc.returncode, time.perf_counter() - start, err.decode(errors="replace")[-500:])


def humaneval_program(problem: Mapping[str, str], completion: str) -> str:
    """HumanEval's check program: the prompt, the completion, the test code, check(entry_point)."""
    return f"{problem['prompt']}{completion}\n\n{problem['test']}\n\ncheck({problem['entry_point']})\n"
