"""The run context of one `python -m paper_figures` call: options, the output folder and the caches.

Every figure's data is one JSON file `OUT/results/<quick|full>/<name>.json`, written when first computed and
read back on later runs (a second run only re-plots; quick and full settings never share cached data).
Single evaluations go through one landscape ResultStore (`OUT/results/<quick|full>/evaluations.jsonl`),
so a killed run resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from landscape.store import ResultStore, to_json_value
from theory.errors import UserInputError


@dataclass(frozen=True)
class FigureRun:
    """quick: the ≤ 10-minute settings; minmax: plot the paper's min–max loss instead of raw scores;
    llm_results: a folder of llm_check results whose panels/claims are added when given."""

    out: Path
    quick: bool = True
    minmax: bool = False
    llm_results: Path | None = None
    _store: list = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        if self.out.exists() and not self.out.is_dir():
            raise UserInputError(f"--out must be a folder, but {self.out} is a file")
        if self.llm_results is not None:
            path = Path(self.llm_results)
            if not path.is_dir():
                raise UserInputError(f"--llm-results must be an existing folder, got {path}")
            object.__setattr__(self, "llm_results", path)

    @property
    def settings(self) -> str:
        return "quick" if self.quick else "full"

    @property
    def results_dir(self) -> Path:
        return self.out / "results" / self.settings

    @property
    def store(self) -> ResultStore:
        """The shared evaluation store (opened on first use)."""
        if not self._store:
            self._store.append(ResultStore(self.results_dir / "evaluations.jsonl"))
        return self._store[0]

    def cached(self, name: str, compute: Callable[[], Any]) -> Any:
        """JSON data `name`: read from results_dir/<name>.json, or computed, written and read back."""
        path = self.results_dir / f"{name}.json"
        if not path.exists():
            data = to_json_value(compute())
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(data, indent=1, allow_nan=False))
            tmp.replace(path)
        try:
            return json.loads(path.read_text())
        except ValueError as exc:
            raise UserInputError(f"{path}: corrupt stored result ({exc}); delete it to recompute") from exc

    def has(self, name: str) -> bool:
        """Whether the JSON data `name` is already stored (cached() would only read it)."""
        return (self.results_dir / f"{name}.json").exists()
