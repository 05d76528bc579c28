"""lm-evaluation-harness tasks as Scores: `--tasks lm_eval:NAME[,NAME…]`, `--include-path DIR`.

A task is built once (lm-eval's TaskManager, its documents and request Instances); every probe then runs
only the model on the requests of the chosen documents, through one `HFLM` that wraps the in-memory model
object (the very module the perturbation engine writes into, so nothing is reloaded per probe), applies
the task's filters and reads each document's metric from `task.process_results`: outcome_i ∈ {0, 1}.
So the σ-basin and certificate machinery runs on lm-eval tasks unchanged.

- Metric: the task's first metric (its `metric_list` order); it must be 0/1 per document (acc, acc_norm,
  exact_match, …), else UserInputError. Filter: the task's first filter ("none" when it declares none).
- No response cache: lm-eval's `use_cache` (CachingLM) keys on the request text, not on the weights, so
  it would return θ₀'s answers at every perturbed θ. It is never enabled here; `requests` are built with
  `cache_requests=False`.
- Offline by default: HF_HUB_OFFLINE=1 and HF_DATASETS_OFFLINE=1 unless already set, so a task whose data
  is not local fails instead of downloading. Local data: `dataset_path: json` with `data_files`.
- Task lookup: the `--include-path` folder alone first (lm-eval's own index of ≈ 10⁴ YAML files takes
  ≈ 15 s to build); lm-eval's built-in tasks only for names not found there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from landscape.scores import TaskScore
from theory.errors import UserInputError

LM_EVAL_PREFIX = "lm_eval:"
INSTALL_HINT = "pip install -e '.[lm_eval]'"


def _require_lm_eval() -> None:
    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(var, "1")
    try:
        import lm_eval  # noqa: F401
    except ImportError as exc:
        raise UserInputError(f"lm_eval: tasks need lm-evaluation-harness ({INSTALL_HINT})") from exc


def check_include_path(include_path: str | Path | None) -> Path | None:
    """The --include-path folder, checked: UserInputError when given but not an existing folder."""
    if include_path is None:
        return None
    path = Path(include_path)
    if not path.is_dir():
        raise UserInputError(f"--include-path {path} is not an existing folder")
    return path


@dataclass(frozen=True, eq=False)
class LmEvalTask:
    """One lm-eval task with its requests built: `requests[i]` are document i's Instances.

    `examples` holds each document's first request context (what the model is asked), so two specs of the
    same task compare equal in llm_check.loading.unique_tasks.
    """

    name: str
    harness_task: Any
    docs: tuple[Any, ...]
    requests: tuple[tuple[Any, ...], ...]
    metric: str
    filter_key: str
    chance: float
    source: str

    def __post_init__(self) -> None:
        if not self.docs:
            raise UserInputError(f"lm_eval task {self.name} has no documents")

    @property
    def examples(self) -> tuple[str, ...]:
        return tuple(str(reqs[0].args[0]) if reqs else "" for reqs in self.requests)


def _metric(task: Any, name: str) -> str:
    metrics = list(getattr(task, "_metric_fn_list", {}) or {})
    if not metrics:
        raise UserInputError(f"lm_eval task {name} declares no metric")
    return metrics[0]


def _chance(task: Any, docs: Sequence[Any]) -> float:
    """Multiple choice: the mean of 1/#choices (a uniform pick, one gold); otherwise 0."""
    if task.OUTPUT_TYPE != "multiple_choice":
        return 0.0
    return sum(1.0 / max(1, len(task.doc_to_choice(doc))) for doc in docs) / len(docs)


def _built(task: Any, name: str, source: str) -> LmEvalTask:
    task.build_all_requests(limit=None, rank=0, world_size=1, cache_requests=False)
    by_doc: dict[int, list[Any]] = {}
    for inst in task.instances:
        by_doc.setdefault(inst.doc_id, []).append(inst)
    docs = tuple(doc for _, doc in task.doc_iterator(rank=0, limit=None, world_size=1))
    requests = tuple(tuple(sorted(by_doc.get(i, ()), key=lambda x: x.idx)) for i in range(len(docs)))
    filters = getattr(task, "_filters", None) or []
    filter_key = filters[0].name if filters else "none"
    return LmEvalTask(name, task, docs, requests, _metric(task, name), filter_key, _chance(task, docs), source)


def load_lm_eval_tasks(names: Sequence[str], include_path: str | Path | None = None) -> list[LmEvalTask]:
    """The lm-eval tasks (a group expands into its tasks) named by `names`, requests built once.

    UserInputError: lm-eval missing, --include-path not a folder, a name lm-eval does not know, or a task
    whose data cannot be loaded offline.
    """
    include = check_include_path(include_path)
    if not names:
        raise UserInputError("lm_eval: needs a task name (lm_eval:NAME)")
    _require_lm_eval()
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(include), include_defaults=False) if include is not None else None
    if manager is None or any(n not in manager.all_tasks for n in names):
        manager = TaskManager(include_path=None if include is None else str(include))
    unknown = [n for n in names if n not in manager.all_tasks]
    if unknown:
        where = f" (searched {include} and lm-eval's built-in tasks)" if include else " (no --include-path given)"
        raise UserInputError(f"lm_eval task not found: {', '.join(unknown)}{where}")
    try:
        loaded = manager.load(list(names))["tasks"]
    except (FileNotFoundError, ConnectionError, OSError, ValueError, KeyError) as exc:
        raise UserInputError(f"lm_eval tasks {', '.join(names)} could not be loaded offline: {exc}") from exc
    source = f"lm-eval task ({include or 'built-in'})"
    return [_built(task, name, source) for name, task in loaded.items()]


MULTIPLE_CHOICE_YAML = """task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{query}}}}"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: "{{{{gold}}}}"
metric_list:
  - metric: acc
"""


def write_multiple_choice_task(task: Any, folder: str | Path, name: str | None = None) -> str:
    """Our multiple-choice task (llm_check.tasks.MultipleChoiceTask, one gold per example) as an lm-eval task
    in `folder`: <name>.jsonl of {"query", "choices", "gold"} and <name>.yaml over it, the same protocol
    (context = query, continuation = " " + choice, acc = argmax of the summed log-likelihood). Returns the
    lm-eval task name (default: the task's own)."""
    name = name or task.name
    folder = Path(folder)
    data = folder / f"{name}.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for i, ex in enumerate(task.examples):
            if len(ex.gold) != 1:
                raise UserInputError(f"{task.name}: example {i} has {len(ex.gold)} gold choices; lm-eval takes one")
            f.write(json.dumps({"query": ex.query, "choices": list(ex.choices), "gold": ex.gold[0]}) + "\n")
    (folder / f"{name}.yaml").write_text(MULTIPLE_CHOICE_YAML.format(name=name, data=data))
    return name


def _binary(value: Any, task: str, metric: str) -> float:
    v = float(value)
    if v not in (0.0, 1.0):
        raise UserInputError(f"lm_eval task {task}: metric {metric} is {v} for a document; a Score needs 0/1 "
                             "per document (acc, acc_norm, exact_match, …)")
    return v


@dataclass(frozen=True, eq=False)
class LmEvalScore(TaskScore):
    """outcome_i = the task's metric on document i (0/1), at the model's current weights (module doc)."""

    task: LmEvalTask
    tokenizer: Any
    batch_size: int = 16
    higher_is_better: bool = True
    bounded: bool = True

    def harness(self, model: Any) -> Any:
        """lm-eval's HFLM around this very model object (made on first use, remade for another model)."""
        held = getattr(self, "_harness", None)
        if held is None or held._model is not model:
            from lm_eval.models.huggingface import HFLM

            held = HFLM(pretrained=model, tokenizer=self.tokenizer, batch_size=self.batch_size)
            object.__setattr__(self, "_harness", held)
        return held

    def __call__(self, model: Any, example_ids: Sequence[int] | None = None):
        from landscape.scores import ScoreResult, eval_mode, resolve_example_ids

        ids = resolve_example_ids(example_ids, self.n_examples)
        lm = self.harness(model)
        instances = [inst for i in ids for inst in self.task.requests[i]]
        by_type: dict[str, list[Any]] = {}
        for inst in instances:
            inst.resps, inst.filtered_resps = [], {}
            by_type.setdefault(inst.request_type, []).append(inst)
        with eval_mode(model):
            for request_type, reqs in by_type.items():
                cloned = [r for r in reqs for _ in range(r.repeats)]
                for r, resp in zip(cloned, getattr(lm, request_type)(cloned, disable_tqdm=True), strict=True):
                    r.resps.append(resp)
        for f in getattr(self.task.harness_task, "_filters", None) or []:
            f.apply(instances)
        outcomes = []
        for i in ids:
            reqs = self.task.requests[i]
            results = [r.filtered_resps[self.task.filter_key] if r.filtered_resps else r.resps[0] for r in reqs]
            metrics = self.task.harness_task.process_results(self.task.docs[i], results)
            outcomes.append(_binary(metrics[self.task.metric], self.name, self.task.metric))
        return ScoreResult.from_outcomes(outcomes, example_ids=ids)
