"""The training text and token stream of a real-model fine-tune, and the registry's pooled basic set.

The training text (`training_text`) is disjoint from every evaluation task: Python's pydoc_data topics, then
BIG-bench 1.0.0 tasks that no capability scores (`evaluation_task_paths`), as "input\\nanswer" lines, whole
tasks in sha256 order of their paths. `training_tokens` tokenises it in ≈ 1 MiB chunks (split at example
boundaries) into uint16 (vocabularies ≤ 65,536), cached.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llm_check.multiple_choice import MultipleChoiceTask
from llm_check.payload import read_tokens, write_tokens
from theory.errors import UserInputError

# An upper guess of characters per token, only to size how much text is read: the tokens are cut at max_tokens
# (SmolLM2 measured 2.36 on this text: 37.8 M characters for 16 M tokens).
TEXT_CHARS_PER_TOKEN = 4.0
TOKENISE_CHUNK_CHARS = 1 << 20


def pooled_task(name: str, tasks: Sequence[MultipleChoiceTask]) -> MultipleChoiceTask:
    """One multiple-choice task holding every example of `tasks`, in order."""
    return MultipleChoiceTask(name, tuple(ex for t in tasks for ex in t.examples),
                              " + ".join(t.source or t.name for t in tasks))


def _answer(example: dict[str, Any]) -> str | None:
    target = example.get("target")
    if isinstance(target, list):
        target = target[0] if target else None
    if isinstance(target, str) and target.strip():
        return target
    scores = example.get("target_scores")
    if isinstance(scores, dict) and scores:
        return max(scores, key=lambda k: scores[k])
    return None


def task_lines(task_json: dict[str, Any]) -> list[str]:
    """A BIG-bench task's examples as "input\\nanswer" text (examples without a usable answer are skipped)."""
    out = []
    for ex in task_json.get("examples", []):
        answer, question = _answer(ex), ex.get("input")
        if answer is not None and isinstance(question, str) and question.strip():
            out.append(f"{question.strip()}\n{answer.strip()}")
    return out


def training_text(task_jsons: dict[str, dict[str, Any]], excluded: Iterable[str], max_chars: int) -> tuple[str, list[str]]:
    """Training text of at most `max_chars` characters: pydoc_data's topics first, then whole BIG-bench tasks
    (none of `excluded`, nor any task under an excluded folder) in sha256 order of their paths. Returns the
    text and the task paths used."""
    from llm_check.tasks import text_corpus

    banned = {e.strip("/") for e in excluded}

    def allowed(path: str) -> bool:
        return not any(path == b or path.startswith(b + "/") for b in banned)

    pieces, used = [text_corpus()], []
    size = len(pieces[0])
    for path in sorted(task_jsons, key=lambda p: hashlib.sha256(p.encode()).hexdigest()):
        if not allowed(path) or size >= max_chars:
            continue
        text = "\n\n".join(task_lines(task_jsons[path]))
        if text:
            pieces.append(text)
            used.append(path)
            size += len(text) + 2
    return "\n\n".join(pieces)[:max_chars], used




def basic_pool_task() -> MultipleChoiceTask:
    """The registry's pooled basic set (theory.claims.protocol.LLM_BASIC_POOL) as one multiple-choice task."""
    from llm_check.fetch import bigbench_task_files
    from llm_check.tasks import bigbench_multiple_choice
    from theory.claims.protocol import LLM_BASIC_POOL

    files = bigbench_task_files(LLM_BASIC_POOL)
    return pooled_task("basic_pool", [bigbench_multiple_choice(files[p], p) for p in LLM_BASIC_POOL])


def evaluation_task_paths() -> list[str]:
    """BIG-bench task paths (and folders) that some capability is scored on: never trained on."""
    from llm_check.tasks import BIGBENCH_TASKS
    from theory.claims.protocol import LLM_BASIC_POOL

    return sorted({*LLM_BASIC_POOL, *BIGBENCH_TASKS.values(), "arithmetic"})


def training_tokens(tokenizer: Any, max_tokens: int, cache: Path | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Up to `max_tokens` uint16 tokens of `training_text` (module doc); cached under `cache` when given."""
    if cache is not None:
        tokens_file, meta_file = Path(cache) / "train_tokens.npy.xz", Path(cache) / "train_tokens.json"
        if tokens_file.is_file() and meta_file.is_file():
            meta = json.loads(meta_file.read_text())
            if meta.get("max_tokens") == max_tokens:
                return read_tokens(tokens_file), meta
    from llm_check.fetch import bigbench_task_files

    excluded = evaluation_task_paths()
    chars = int(max_tokens * TEXT_CHARS_PER_TOKEN * 1.3)
    found = bigbench_task_files(bigbench_task_paths(excluded, int(chars * 1.2)))
    jsons = {p: json.loads(f.read_text(encoding="utf-8")) for p, f in found.items()}
    text, used = training_text(jsons, excluded, chars)
    pieces: list[np.ndarray] = []
    total, start = 0, 0
    while start < len(text) and total < max_tokens:
        end = text.find("\n\n", start + TOKENISE_CHUNK_CHARS)
        end = len(text) if end < 0 else end
        ids = np.asarray(tokenizer(text[start:end], add_special_tokens=False).input_ids, dtype=np.int64)
        if ids.size and ids.max() >= 2 ** 16:
            raise UserInputError("the tokenizer's vocabulary does not fit uint16 token files")
        pieces.append(ids.astype(np.uint16))
        total += ids.size
        start = end
    tokens = np.concatenate(pieces)[:max_tokens] if pieces else np.zeros(0, dtype=np.uint16)
    meta = {"training_text": "pydoc_data topics + BIG-bench 1.0.0 tasks as 'input\\nanswer' (sha256 order)",
            "training_tasks": used, "excluded": excluded, "characters": end if pieces else 0,
            "tokens": int(tokens.size), "max_tokens": max_tokens}
    if cache is not None:
        write_tokens(tokens_file, tokens)
        meta_file.write_text(json.dumps(meta))
    return tokens, meta


def bigbench_task_paths(excluded: Iterable[str], json_bytes: int) -> list[str]:
    """BIG-bench task paths (none under `excluded`) in sha256 order until their task.json sizes reach
    `json_bytes` (one listing pass over the sdist)."""
    import tarfile

    from llm_check.fetch import BIGBENCH_REQUIREMENT, BIGBENCH_SDIST, BIGBENCH_TASKS_IN_SDIST, pip_download

    banned = {e.strip("/") for e in excluded}
    sdist = pip_download(BIGBENCH_REQUIREMENT, BIGBENCH_SDIST, sdist=True)
    prefix, suffix = BIGBENCH_TASKS_IN_SDIST + "/", "/task.json"
    sizes = {}
    with tarfile.open(sdist, "r|gz") as tar:
        for m in tar:
            if m.isfile() and m.name.startswith(prefix) and m.name.endswith(suffix):
                sizes[m.name[len(prefix):-len(suffix)]] = m.size
    out, total = [], 0
    for path in sorted(sizes, key=lambda p: hashlib.sha256(p.encode()).hexdigest()):
        if total >= json_bytes:
            break
        if not any(path == b or path.startswith(b + "/") for b in banned):
            out.append(path)
            total += sizes[path]
    return out


__all__ = ["basic_pool_task", "bigbench_task_paths", "evaluation_task_paths", "pooled_task", "task_lines",
           "training_text", "training_tokens"]
