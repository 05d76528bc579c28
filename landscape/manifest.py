"""DIR/manifest.json: what produced an output folder, one entry per command that wrote into it.

An entry holds the command line, the UTC start time, the git commit of the code (``git rev-parse HEAD``
run in this package's folder; null outside a git checkout) and whether the checkout had uncommitted
changes, the versions of python, numpy, torch and transformers (null when not installed), torch's CPU
kernel level (``torch.backends.cpu.get_cpu_capability()``) and thread count, plus what the caller adds
(model id, weight hash, ...). A resumed run appends a new entry, so rows produced by different code or
machines stay visible.

Paths in the command line are made machine-independent: one inside the output folder becomes
``<output>/…`` (the folder itself ``<output>``), one inside the working directory becomes relative to it,
one inside the home folder becomes ``~/…``; other paths are kept as given.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from theory.errors import UserInputError

MANIFEST_FILE = "manifest.json"
OUTPUT_MARK = "<output>"
PACKAGES = ("numpy", "torch", "transformers")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=Path(__file__).resolve().parent, capture_output=True,
                              text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> dict[str, Any]:
    """{"commit": HEAD or None, "dirty": uncommitted changes (None when unknown)}."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None


def portable_path(text: str, out_dir: Path, cwd: Path, home: Path) -> str:
    """`text` with a machine-specific absolute path replaced (module doc); anything else unchanged."""
    if not text.startswith(("/", "~")):
        return text
    path = Path(os.path.normpath(Path(text).expanduser()))
    inside_out = _relative(path, out_dir)
    if inside_out is not None:
        return OUTPUT_MARK if inside_out == "." else f"{OUTPUT_MARK}/{inside_out}"
    inside_cwd = _relative(path, cwd)
    if inside_cwd is not None:
        return inside_cwd
    inside_home = _relative(path, home)
    if inside_home is not None:
        return "~" if inside_home == "." else f"~/{inside_home}"
    return text


def portable_command(argv: Sequence[str], out_dir: str | Path, cwd: str | Path | None = None,
                     home: str | Path | None = None) -> list[str]:
    """The command line with its paths made portable; "--flag=/abs/path" is handled too."""
    out = Path(os.path.abspath(out_dir))
    where = Path(os.path.abspath(cwd if cwd is not None else os.getcwd()))
    home_dir = Path(os.path.abspath(home if home is not None else Path.home()))
    result = []
    for arg in argv:
        flag, eq, value = str(arg).partition("=")
        if eq and flag.startswith("-"):
            result.append(f"{flag}={portable_path(value, out, where, home_dir)}")
        else:
            result.append(portable_path(str(arg), out, where, home_dir))
    return result


def manifest_entry(argv: Sequence[str], out_dir: str | Path, **extra: Any) -> dict[str, Any]:
    import torch

    return {"command": portable_command(argv, out_dir),
            "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "git": git_commit(), "versions": versions(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "torch_threads": torch.get_num_threads(),
            **extra}


def read_manifest(out_dir: str | Path) -> dict[str, Any]:
    """DIR/manifest.json as {"runs": [entry, ...]}; {"runs": []} when the folder has none."""
    path = Path(out_dir) / MANIFEST_FILE
    if not path.is_file():
        return {"runs": []}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise UserInputError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("runs"), list):
        raise UserInputError(f"{path} is not a manifest (no 'runs' list); move it away to start a new one")
    return manifest


def write_manifest(out_dir: str | Path, argv: Sequence[str], **extra: Any) -> Path:
    """Append this command's entry (module doc) to DIR/manifest.json, creating the folder; returns the path.
    `extra`: plain JSON values recorded with the entry (model id, weight hash, tasks, ...)."""
    from landscape.store import to_json_value

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(out)
    manifest["runs"].append(to_json_value(manifest_entry(argv, out, **extra)))
    path = out / MANIFEST_FILE
    tmp = path.with_name(MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    tmp.replace(path)
    return path


def manifest_markdown(directory: str | Path) -> list[str]:
    """The commands that wrote into DIR (DIR/manifest.json, landscape.manifest), as a Markdown list."""
    runs = read_manifest(directory)["runs"]
    if not runs:
        return ["Produced by: no manifest.json in this folder (written by an older version); the code, versions "
                "and command line are unknown.", ""]
    lines = ["## Produced by", ""]
    for run in runs:
        git, v = run.get("git") or {}, run.get("versions") or {}
        dirty = " (uncommitted changes)" if git.get("dirty") else ""
        lines.append(f"- `{' '.join(run.get('command', []))}` at {run.get('started_utc')}: commit "
                     f"{git.get('commit') or 'unknown'}{dirty}; python {v.get('python')}, torch {v.get('torch')}, "
                     f"transformers {v.get('transformers')}, numpy {v.get('numpy')}; CPU kernels "
                     f"{run.get('cpu_capability')}, {run.get('torch_threads')} threads")
    return lines + [""]
