"""The 5× check on SmolLM2 on one GPU, as one prepared run in two back-to-back commands (llm_check.five_x).

    python scripts/device_5x.py prepare          # here (CPU): build .device/c1 and .device/c2, print payload MiB
    python scripts/device_5x.py stage1           # device, command 1 (carry .device/c1)
    python scripts/device_5x.py stage2 --budget-s 270   # device, command 2 (carry .device/c2), right after
    python scripts/device_5x.py --rehearse       # the whole runbook on CPU at tiny scale (CI)

Payload (each command carries the working tree plus its folder, ≤ 64 MiB):
  c1  the GGUF's first part, the training tokens (uint16, lzma), the pooled basic set pre-tokenised, the
      `gguf` wheel for Python 3.12 and manifest.json;
  c2  the GGUF's second part and manifest.json.
stage1 installs the wheel with `pip install --no-index --no-deps --target .device/site` and checks every c1
file against the manifest. stage2 fails within seconds when c1 is gone (the machine went cold between the
commands), reassembles the GGUF and checks its sha256, builds LlamaForCausalLM from it through `gguf`
(llm_check.gguf_llama: no transformers upgrade travels), runs the staged protocol with float32 master weights
and bf16 autocast, and writes summary.json, report.md, loss_curves.json / .png, rows.jsonl and ratios.json to $OUT, then prints
scripts/gpu_check.py's throughput and memory ratios measured on the real model.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_MIB = 64.0
MARGIN_MIB = 2.0
GGUF_REQUIREMENT = "gguf==0.19.0"
GGUF_WHEEL = "gguf-0.19.0-py3-none-any.whl"
SITE = "site"
MAX_TRAIN_TOKENS = 16_000_000


def die(message: str, code: int = 2) -> int:
    print(f"device_5x: {message}", file=sys.stderr)
    return code


def tree_mib(root: Path) -> float:
    """MiB of the working tree that travels with every command: tracked files and untracked ones git keeps."""
    from llm_check.payload import MIB

    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "-c", "-o", "--exclude-standard"],
                         capture_output=True, check=True).stdout.decode()
    return sum((root / f).stat().st_size for f in out.split("\0") if f and (root / f).is_file()) / MIB


def gguf_wheel() -> Path:
    """The `gguf` wheel (pure Python, any platform), downloaded once into the suite's cache."""
    from llm_check.fetch import pip_download

    return pip_download(GGUF_REQUIREMENT, GGUF_WHEEL, extra=["--only-binary=:all:", "--python-version", "3.12"])


def build_payload(device_dir: Path, gguf_path: Path, pool_record: dict, tokens, wheel: Path, tree: float,
                  provenance: dict) -> dict:
    """Write device_dir/c1 and device_dir/c2 (module doc), the GGUF cut so that c2 = tree + part 2 fills its
    command to LIMIT_MIB − MARGIN_MIB; the training tokens are cut until c1 fits too. Returns the manifest."""
    from landscape.hashing import file_sha256
    from llm_check.payload import MIB, folder_mib, split_file, write_json_xz, write_tokens

    c1, c2 = device_dir / "c1", device_dir / "c2"
    for d in (c1, c2):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    size = gguf_path.stat().st_size
    room = int((LIMIT_MIB - MARGIN_MIB - tree) * MIB) - 4096  # the manifest travels in c2 too
    second = min(size, max(0, room))
    parts = split_file(gguf_path, [c1, c2], [size - second])
    write_json_xz(c1 / "eval_tasks.json.xz", pool_record)
    shutil.copy2(wheel, c1 / wheel.name)
    tokens_file = c1 / "train_tokens.npy.xz"
    n = len(tokens)
    for _ in range(4):  # cut the stream until c1 fits, from the measured compressed bytes per token
        write_tokens(tokens_file, tokens[:n])
        others = tree + folder_mib([c1]) - tokens_file.stat().st_size / MIB + 4096 / MIB
        room_mib = LIMIT_MIB - MARGIN_MIB - others
        if tokens_file.stat().st_size / MIB <= room_mib:
            break
        n = int(n * room_mib / (tokens_file.stat().st_size / MIB) * 0.98)
    else:
        raise RuntimeError("the training tokens do not fit into the first command")
    manifest = {"gguf": {"name": gguf_path.name, "size": size, "sha256": file_sha256(gguf_path),
                         "parts": [{"folder": p.path.parent.name, "file": p.path.name, "size": p.size,
                                    "sha256": p.sha256} for p in parts]},
                "train_tokens": int(n), "files": {}, "wheel": wheel.name, "provenance": provenance}
    for f in sorted(c1.iterdir()):
        if f.name.endswith(".part0"):
            continue
        manifest["files"][f.name] = file_sha256(f)
    for d in (c1, c2):
        (d / "manifest.json").write_text(json.dumps(manifest, indent=1))
    manifest["carried_mib"] = [tree + folder_mib([c1]), tree + folder_mib([c2])]
    return manifest


def real_inputs(cache: Path) -> tuple[Path, dict, object, dict]:
    """SmolLM2's GGUF, the pooled basic set frozen with its tokenizer, the training tokens (cached)."""
    from transformers import AutoTokenizer

    from llm_check.fetch import default_model_gguf
    from llm_check.payload import freeze_task
    from llm_check.training_data import basic_pool_task, training_tokens

    gguf_path = default_model_gguf()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    tokens, meta = training_tokens(tokenizer, MAX_TRAIN_TOKENS, cache)
    return gguf_path, freeze_task(basic_pool_task(), tokenizer), tokens, meta


def cmd_prepare(args: argparse.Namespace) -> int:
    from llm_check.fetch import cache_dir

    cache = cache_dir() / "device_5x"
    cache.mkdir(parents=True, exist_ok=True)
    gguf_path, record, tokens, meta = real_inputs(cache)
    manifest = build_payload(ROOT / ".device", gguf_path, record, tokens, gguf_wheel(), tree_mib(ROOT), meta)
    c1, c2 = manifest["carried_mib"]
    print(f"PAYLOAD c1={c1:.1f} MiB c2={c2:.1f} MiB train_tokens={manifest['train_tokens']:,} "
          f"gguf={manifest['gguf']['size'] / 2**20:.1f} MiB")
    return 0 if max(c1, c2) <= LIMIT_MIB else die(f"payload over {LIMIT_MIB} MiB: {c1:.1f}, {c2:.1f}", 1)


def _manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(path)
    return json.loads(path.read_text())


def cmd_stage1(args: argparse.Namespace) -> int:
    from landscape.hashing import file_sha256

    c1 = args.root / "c1"
    try:
        manifest = _manifest(c1)
    except FileNotFoundError:
        return die(f"{c1}/manifest.json is missing: carry .device/c1 with this command")
    part = manifest["gguf"]["parts"][0]
    checks = {part["file"]: part["sha256"], **manifest["files"]}
    bad = [name for name, digest in checks.items() if not (c1 / name).is_file() or file_sha256(c1 / name) != digest]
    if bad:
        return die(f"damaged or missing in {c1}: {', '.join(bad)}", 1)
    site = args.root / SITE
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                           "--upgrade", "--target", str(site), str(c1 / manifest["wheel"])], check=False)
    if done.returncode != 0:
        return die(f"pip could not install {manifest['wheel']} (exit {done.returncode})", 1)
    probe = subprocess.run([sys.executable, "-c", "import gguf, gguf.quants; print(gguf.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True, text=True)
    if probe.returncode != 0:
        return die(f"gguf does not import from {site}: {probe.stderr.strip().splitlines()[-1:]}", 1)
    print(f"STAGE1 ok files={len(checks)} gguf_part={part['size'] / 2**20:.1f}MiB "
          f"tokens={manifest['train_tokens']:,} site={site}")
    return 0


def cmd_stage2(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    c1, c2, site = args.root / "c1", args.root / "c2", args.root / SITE
    try:
        manifest = _manifest(c2)
    except FileNotFoundError:
        return die(f"{c2}/manifest.json is missing: carry .device/c2 with this command")
    parts = manifest["gguf"]["parts"]
    first = c1 / parts[0]["file"]
    if not first.is_file() or not (site / "gguf").is_dir() or not (c1 / "train_tokens.npy.xz").is_file():
        return die(f"the first command's files are gone ({first.name}, {SITE}/gguf): the machine went cold; "
                   "run stage1 and stage2 again back to back")
    sys.path.insert(0, str(site))
    import torch

    from llm_check.five_x import HELD_OUT_BLOCKS_PER_SET, FiveXConfig, FiveXData, blocks_tensor, run_five_x
    from llm_check.gguf_llama import llama_from_gguf
    from llm_check.multiple_choice import MultipleChoiceScore
    from llm_check.payload import read_json_xz, read_tokens, reassemble, thaw_task

    device = args.device
    if device == "cuda" and not torch.cuda.is_available():
        return die("no CUDA device (use --device cpu for a rehearsal)")
    work = Path(args.work or tempfile.mkdtemp(prefix="five_x_"))
    t = time.perf_counter()
    gguf_path = reassemble([c1 / parts[0]["file"], c2 / parts[1]["file"]], work / manifest["gguf"]["name"],
                           manifest["gguf"]["sha256"])
    model = llama_from_gguf(gguf_path, device=device)
    from landscape.hashing import weight_hash

    whash = weight_hash(model)
    task, frozen = thaw_task(read_json_xz(c1 / "eval_tasks.json.xz"))
    score = MultipleChoiceScore(task, frozen, batch_size=args.eval_batch_size)
    tokens = read_tokens(c1 / "train_tokens.npy.xz")
    cfg = FiveXConfig(seed=args.seed, steps=args.steps, batch_size=args.batch_size, block_size=args.block_size,
                      n_trials=args.n_trials, n_coarse=args.n_coarse, worst_k=args.worst_k, most_k=args.most_k,
                      worst_steps=args.worst_steps, edge_rel_precision=args.edge_rel_precision,
                      plateau_checks=args.plateau_checks,
                      autocast=None if args.autocast == "none" else args.autocast,
                      budget_s=None if args.budget_s is None else max(1.0, args.budget_s - (time.perf_counter() - began)),
                      train_share=args.train_share, eval_batch_size=args.eval_batch_size)
    train, held = blocks_tensor(tokens, cfg.block_size, HELD_OUT_BLOCKS_PER_SET * (cfg.worst_k + 2))
    load_s = time.perf_counter() - t
    data = FiveXData(model, score, train, held, model_id=f"{manifest['gguf']['name']} (dequantised, float32)",
                     weight_hash=whash, provenance={**manifest["provenance"], "gguf_sha256": manifest["gguf"]["sha256"],
                                                     "reassembly_and_load_s": load_s})
    out = Path(args.out or os.environ.get("OUT") or "out_5x")
    summary = run_five_x(data, cfg, out, cache=None if args.weight_cache is None else Path(args.weight_cache))
    ratios = gpu_ratios(model, held, device, args.eval_batch_size)
    (out / "ratios.json").write_text(json.dumps(ratios, indent=1))
    print(f"VERDICTS {json.dumps(summary['verdicts'])}")
    print(f"RATIOS throughput={ratios['throughput']['ratio']:.4f} memory="
          f"{ratios['memory']['ratio'] if ratios.get('memory') else float('nan'):.4f}")
    print(f"STAGE2 ok stages={','.join(summary['stages_done'])} wall_s={time.perf_counter() - began:.1f}")
    return 0


def gpu_ratios(model, blocks, device: str, batch_size: int) -> dict:
    """scripts/gpu_check.py's ratios (benchmarks.llm) on the run's own model and held-out blocks."""
    from benchmarks.llm import memory_cuda, throughput

    rng = "cuda" if device == "cuda" else "cpu"
    out = {"throughput": throughput(model, blocks, batch_size, 3, 1e-3, device, rng)}
    if device == "cuda":
        out["memory"] = memory_cuda(model, blocks, batch_size, 1e-3)
    return out


def planned_payload() -> tuple[float, float]:
    """(c1, c2) MiB of the real SmolLM2 run, measured on the files `prepare` builds."""
    real = subprocess.run([sys.executable, str(Path(__file__).resolve()), "prepare"], capture_output=True, text=True)
    found = re.search(r"^PAYLOAD c1=([\d.]+) MiB c2=([\d.]+) MiB", real.stdout, re.M)
    if real.returncode != 0 or found is None:
        raise RuntimeError(f"prepare failed for the real payload (exit {real.returncode}): "
                           f"{(real.stdout + real.stderr)[-2000:]}")
    return float(found[1]), float(found[2])


def cmd_rehearse(args: argparse.Namespace) -> int:
    """The runbook at tiny scale on CPU (module doc), after measuring the real run's planned payload (unless
    --skip-real-payload), with the GPU run's numerics (bf16 autocast, float32 master weights and evaluation)
    and rng="cpu", the CPU equivalent of its "cuda" noise. Checks: the stage order, ≤ 8 output files, the
    sha256 reassembly, the wheel install; that the same stage2 command run again resumes to the same summary
    and loss curves; that stage2 stops with exit 2 when the first command's files are gone, and when the
    second part is damaged (no reassembled GGUF left behind)."""
    from llm_check.five_x import STAGES

    planned = None if args.skip_real_payload else planned_payload()
    with tempfile.TemporaryDirectory(prefix="rehearse_5x_") as tmp:
        tmp = Path(tmp)
        gguf_path, record, tokens = tiny_inputs(tmp)
        manifest = build_payload(tmp / "here", gguf_path, record, tokens, gguf_wheel(), tree_mib(ROOT),
                                 {"rehearsal": True})
        device_root, script = tmp / "device", str(Path(__file__).resolve())

        def run(*argv: str) -> tuple[subprocess.CompletedProcess, float]:
            t = time.perf_counter()
            done = subprocess.run([sys.executable, script, *argv], capture_output=True, text=True)
            return done, time.perf_counter() - t

        shutil.copytree(tmp / "here" / "c1", device_root / "c1")
        s1, _ = run("stage1", "--root", str(device_root))
        print(s1.stdout.strip())
        if s1.returncode != 0:
            print(s1.stderr[-4000:], file=sys.stderr)
            return die("stage1 failed in the rehearsal", 1)
        shutil.copytree(tmp / "here" / "c2", device_root / "c2")
        shutil.copytree(tmp / "here" / "c2", tmp / "cold" / "c2")
        cold, cold_s = run("stage2", "--root", str(tmp / "cold"), "--device", "cpu")
        out = Path(args.out) if args.out else tmp / "out"
        stage2 = ("stage2", "--root", str(device_root), "--device", "cpu", "--out", str(out),
                  "--weight-cache", str(tmp / "weights"), *TINY_STAGE2)
        s2, s2_s = run(*stage2)
        print(s2.stdout.strip())
        if s2.returncode != 0:
            print(s2.stderr[-4000:], file=sys.stderr)
            return die("stage2 failed in the rehearsal", 1)
        summary = json.loads((out / "summary.json").read_text())
        curves = (out / "loss_curves.json").read_text()
        files = sorted(p.name for p in out.iterdir())
        again, again_s = run(*stage2)  # the same command once more: every stage resumes from rows and weights
        print(again.stdout.strip().splitlines()[-1] if again.stdout.strip() else "")
        part = device_root / "c2" / manifest["gguf"]["parts"][1]["file"]
        damaged = bytearray(part.read_bytes())
        damaged[len(damaged) // 2] ^= 0xFF
        part.write_bytes(bytes(damaged))
        bad, bad_s = run("stage2", "--root", str(device_root), "--device", "cpu", "--work", str(tmp / "work-damaged"))
        problems = []
        if tuple(summary["stages_done"]) != STAGES:
            problems.append(f"stages {summary['stages_done']} != {list(STAGES)}")
        if len(files) > 8:
            problems.append(f"{len(files)} output files > 8: {files}")
        problems += [f"no {f}" for f in ("summary.json", "report.md", "loss_curves.json", "loss_curves.png", "rows.jsonl",
                                         "ratios.json") if f not in files]
        if cold.returncode != 2:  # its seconds are printed, not asserted: the check runs before torch is imported
            problems.append(f"without the first command's files stage2 gave exit {cold.returncode} after {cold_s:.1f} s")
        if again.returncode != 0:
            problems.append(f"the rerun gave exit {again.returncode}: {again.stderr[-2000:]}")
        else:
            changed = resume_differences(summary, json.loads((out / "summary.json").read_text()))
            if changed or (out / "loss_curves.json").read_text() != curves:
                problems.append(f"the rerun did not resume to the same results: {changed[:5]} "
                                f"(loss curves {'same' if (out / 'loss_curves.json').read_text() == curves else 'differ'})")
        left = [p.name for p in (tmp / "work-damaged").glob("*.gguf")]
        if bad.returncode != 2 or "sha256" not in bad.stderr or left:
            problems.append(f"a damaged second part gave exit {bad.returncode}, left {left}: {bad.stderr[-500:]}")
        if planned is not None and max(planned) > LIMIT_MIB:
            problems.append(f"planned payload {planned[0]:.1f}, {planned[1]:.1f} MiB > {LIMIT_MIB}")
        tiny = manifest["carried_mib"]
        print(f"rehearsal: tiny payload {tiny[0]:.2f}, {tiny[1]:.2f} MiB, {len(tokens):,} tokens; stage2 {s2_s:.1f} s; "
              f"files {files}; rerun resumed in {again_s:.1f} s; without the first half: exit {cold.returncode} in "
              f"{cold_s:.1f} s; damaged second half: exit {bad.returncode} in {bad_s:.1f} s")
        if problems:
            return die("rehearsal: " + "; ".join(problems), 1)
    carried = "skipped" if planned is None else f"{planned[0]:.1f},{planned[1]:.1f}"
    print(f"REHEARSAL ok stages={','.join(STAGES)} carried_mib={carried}")
    return 0


RUN_DEPENDENT = {"wall_time_s", "n_evals", "step_probe", "budget_s", "reassembly_and_load_s", "files"}


def resume_differences(first: dict, again: dict, path: str = "") -> list[str]:
    """Where a rerun's summary differs from the first run's, outside what a rerun changes by design
    (RUN_DEPENDENT: wall times, fresh evaluations, the step probe and the budget left, the output listing)."""
    if isinstance(first, dict) and isinstance(again, dict):
        return [d for k in sorted(set(first) | set(again)) if k not in RUN_DEPENDENT
                for d in resume_differences(first.get(k), again.get(k), f"{path}/{k}")]
    if isinstance(first, list) and isinstance(again, list) and len(first) == len(again):
        return [d for i, (a, b) in enumerate(zip(first, again)) for d in resume_differences(a, b, f"{path}[{i}]")]
    return [] if first == again else [path or "/"]


# a handful of steps, and a plateau check every step, so GO stops at its plateau before the budget and the
# control is measured again at that step, as it may be on the GPU
TINY_STAGE2 = ["--steps", "4", "--batch-size", "4", "--block-size", "32", "--n-trials", "16", "--n-coarse", "2",
               "--worst-k", "3", "--most-k", "3", "--worst-steps", "2", "--plateau-checks", "4", "--autocast", "bfloat16",
               "--eval-batch-size", "520", "--edge-rel-precision", "0.3", "--budget-s", "120"]
TINY_EXAMPLES = 520


def tiny_inputs(tmp: Path):
    """A tiny random llama as a GGUF, a planted pooled task it answers (gold = its own choice at θ₀, so the
    stages have a basin to measure), and byte tokens of pydoc_data text."""
    import numpy as np
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from llm_check.gguf_llama import write_llama_gguf
    from llm_check.multiple_choice import MultipleChoiceScore
    from llm_check.payload import freeze_task
    from llm_check.tasks import MultipleChoiceExample, MultipleChoiceTask, text_corpus

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=258, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      tie_word_embeddings=True, eos_token_id=257, pad_token_id=257, bos_token_id=None)
    model = LlamaForCausalLM(cfg).eval()
    gguf_path = write_llama_gguf(model, tmp / "tiny-llama.F32.gguf", eos_token_id=257)

    class Bytes:
        """UTF-8 bytes as token ids (the tiny model's vocabulary), eos = pad = 257."""

        pad_token_id = eos_token_id = 257

        def __call__(self, text: str, add_special_tokens: bool = True) -> SimpleNamespace:
            return SimpleNamespace(input_ids=list(text.encode()))

    words = ["red", "blue", "cat", "dog", "sun", "moon", "tree", "rock"]
    examples = [MultipleChoiceExample(f"Q: item {i} is {words[i % 8]} or {words[(i * 3 + 1) % 8]}?\nA:",
                                      (words[i % 8], words[(i * 3 + 1) % 8]), (0,)) for i in range(TINY_EXAMPLES)]
    draft = MultipleChoiceTask("tiny_pool", tuple(examples))
    lls = MultipleChoiceScore(draft, Bytes(), batch_size=64).choice_loglikelihoods(model)
    planted = MultipleChoiceTask("tiny_pool", tuple(MultipleChoiceExample(e.query, e.choices, (int(np.argmax(ll)),))
                                                    for e, ll in zip(examples, lls)))
    tokens = np.frombuffer(text_corpus()[:400_000].encode("utf-8", "ignore"), dtype=np.uint8).astype(np.uint16)
    return gguf_path, freeze_task(planted, Bytes()), tokens


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rehearse", action="store_true", help="the CPU rehearsal of the whole runbook")
    p.add_argument("--skip-real-payload", action="store_true",
                   help="--rehearse: do not build and measure the real SmolLM2 payload (the test suite's variant)")
    p.add_argument("--out", default=None, help="--rehearse: keep the tiny run's outputs here")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("prepare", help="build .device/c1 and .device/c2 here")
    s1 = sub.add_parser("stage1", help="device command 1")
    s1.add_argument("--root", type=Path, default=ROOT / ".device")
    s2 = sub.add_parser("stage2", help="device command 2")
    s2.add_argument("--root", type=Path, default=ROOT / ".device")
    s2.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    s2.add_argument("--out", default=None, help="output folder (default $OUT)")
    s2.add_argument("--work", default=None, help="scratch folder for the GGUF and weights (default a temp dir)")
    s2.add_argument("--seed", type=int, default=0)
    s2.add_argument("--steps", type=int, default=2000)
    s2.add_argument("--batch-size", type=int, default=64)
    s2.add_argument("--block-size", type=int, default=256)
    s2.add_argument("--n-trials", type=int, default=200)
    s2.add_argument("--n-coarse", type=int, default=2, help="whole-set draws per σ of the bracketing grid")
    s2.add_argument("--worst-k", type=int, default=3)
    s2.add_argument("--most-k", type=int, default=8)
    s2.add_argument("--worst-steps", type=int, default=10)
    s2.add_argument("--edge-rel-precision", type=float, default=0.05)
    s2.add_argument("--plateau-checks", type=int, default=8)
    s2.add_argument("--autocast", default="bfloat16", choices=["bfloat16", "none"])
    s2.add_argument("--budget-s", type=float, default=270.0)
    s2.add_argument("--train-share", type=float, default=0.4)
    s2.add_argument("--eval-batch-size", type=int, default=64)
    s2.add_argument("--weight-cache", default=None,
                    help="keep trained weights here for a rerun (default none: $OUT is emptied before each command "
                         "and the machine goes cold soon after, so a rerun starts over)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from theory.errors import UserInputError

    try:
        if args.rehearse:
            return cmd_rehearse(args)
        commands = {"prepare": cmd_prepare, "stage1": cmd_stage1, "stage2": cmd_stage2}
        if args.command not in commands:
            return die("give --rehearse or one of prepare, stage1, stage2")
        return commands[args.command](args)
    except UserInputError as exc:
        return die(str(exc))
    except RuntimeError as exc:
        return die(str(exc), 1)


if __name__ == "__main__":
    sys.exit(main())
