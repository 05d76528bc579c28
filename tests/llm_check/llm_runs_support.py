"""Shared helpers for the llm_check run tests (importable: tests/llm_check is on pytest's pythonpath)."""

from __future__ import annotations

import json
from pathlib import Path

# (query, choices, gold indices): a tiny multiple-choice task in the user JSONL format.
TINY_MC = [
    ("Q: What is one plus one?\nA:", ["two", "three", "four"], [0]),
    ("Q: Colour of the sky?\nA:", ["blue", "red"], [0]),
    ("Q: Pick a vowel\nA:", ["a", "e", "x", "z"], [0, 1]),
    ("Q: Opposite of up?\nA:", ["down", "left", "in", "out", "up"], [0]),
    ("Q: Is ice cold?\nA:", ["yes", "no"], [0]),
]


def write_task(path: Path, n: int = len(TINY_MC)) -> Path:
    """The first n TINY_MC examples as a JSONL task file."""
    with open(path, "w") as f:
        for query, choices, gold in TINY_MC[:n]:
            f.write(json.dumps({"query": query, "choices": choices, "gold": gold}) + "\n")
    return path
