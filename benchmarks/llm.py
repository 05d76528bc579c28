"""Benchmarks for llm_check: perturbed evaluation vs plain Hugging Face evaluation of a Llama.

The model is built from a config (no weights travel): "tiny" (CPU smoke test), "smollm2" (the
SmolLM2-135M-Instruct shape, 134.5 M parameters, tied embeddings) or "1b" (TinyLlama-1.1B shape). The
evaluation is a 0–1 score over `examples` random token sequences (seeded): outcome = 1{argmax of the last
position's logits = the held-out next token}, batched at `batch_size`.
(a) throughput = perturbed examples/s ÷ plain examples/s (medians over `probes` pairs timed in
    alternating order) at α, each probe writing θ₀ + αδ (raw Gaussian δ over all parameters), evaluating
    every example, restoring θ₀ bitwise; ≥ 0.95 is the goal; the per-pair ratios come with it;
(b) memory = peak of a sweep ÷ (peak of a plain evaluation + one θ₀ copy); on CUDA from
    torch.cuda.max_memory_allocated plus the θ₀ copy in host RAM, on CPU from peak RSS of fresh
    subprocesses (VmHWM, reset after the model is built, minus RSS then); ≤ 1.10 is the goal.
Last line: RATIOS throughput=<float> memory=<float>
Needs torch and transformers only (LlamaConfig / LlamaForCausalLM): runs with older transformers and no gguf.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import torch

from landscape.directions import DirectionSpec
from landscape.perturb import perturbed
from landscape.theta0 import Theta0

SIZES = {
    "tiny": dict(vocab_size=1024, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True),
    "smollm2": dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                    num_attention_heads=9, num_key_value_heads=3, tie_word_embeddings=True),
    "1b": dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
               num_attention_heads=32, num_key_value_heads=4, tie_word_embeddings=False),
}
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def build_model(size: str, dtype: torch.dtype, device: str, seed: int = 0) -> torch.nn.Module:
    """A Llama from a config, initialised with a fixed seed, in eval mode on `device`."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(max_position_embeddings=2048, **SIZES[size])
    with torch.device(device):
        model = LlamaForCausalLM(config)
    return model.to(dtype).eval()


def make_examples(size: str, examples: int, seq_len: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, SIZES[size]["vocab_size"], (examples, seq_len + 1), generator=gen)


@torch.no_grad()
def evaluate(model: torch.nn.Module, data: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Per-example outcomes 1{argmax logits at the last input position = the next token}."""
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(data), batch_size):
        batch = data[start:start + batch_size].to(device)
        logits = model(input_ids=batch[:, :-1]).logits[:, -1]
        out.append((logits.argmax(-1) == batch[:, -1]).float().cpu())
    return torch.cat(out)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def throughput(model: torch.nn.Module, data: torch.Tensor, batch_size: int, probes: int, alpha: float,
               device: str, rng: str) -> dict:
    """Median seconds of a plain evaluation and of a perturbed one (write + evaluate + restore), timed in
    pairs whose order alternates (plain first, then perturbed first: ABBA), so a drift in the machine's
    speed does not favour either; the per-pair ratios' spread says how far one run's ratio can be trusted."""
    theta0 = Theta0(model)
    evaluate(model, data[:batch_size], batch_size)  # warm-up

    def plain_once() -> float:
        _sync(device)
        t0 = time.perf_counter()
        evaluate(model, data, batch_size)
        _sync(device)
        return time.perf_counter() - t0

    def perturbed_once(i: int) -> float:
        _sync(device)
        t0 = time.perf_counter()
        with perturbed(model, DirectionSpec("gaussian", seed=i, rng=rng), alpha, theta0=theta0, warn=False):
            evaluate(model, data, batch_size)
        _sync(device)
        return time.perf_counter() - t0

    plain, probed = [], []
    for i in range(probes):
        if i % 2 == 0:
            plain.append(plain_once())
            probed.append(perturbed_once(i))
        else:
            probed.append(perturbed_once(i))
            plain.append(plain_once())
    p, q = statistics.median(plain), statistics.median(probed)
    pair_ratios = [a / b for a, b in zip(plain, probed)]
    return {"examples": len(data), "batch_size": batch_size, "plain_s": p, "perturbed_s": q,
            "plain_examples_per_s": len(data) / p, "perturbed_examples_per_s": len(data) / q, "ratio": p / q,
            "pair_ratios": pair_ratios, "pair_ratio_range": [min(pair_ratios), max(pair_ratios)]}


def memory_cuda(model: torch.nn.Module, data: torch.Tensor, batch_size: int, alpha: float) -> dict:
    theta0_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    evaluate(model, data[:batch_size], batch_size)
    plain = torch.cuda.max_memory_allocated()
    theta0 = Theta0(model)
    torch.cuda.reset_peak_memory_stats()
    for i in range(2):
        with perturbed(model, DirectionSpec("gaussian", seed=i, rng="cuda"), alpha, theta0=theta0, warn=False):
            evaluate(model, data[:batch_size], batch_size)
    sweep = torch.cuda.max_memory_allocated()
    return {"plain_gpu_MB": plain / 1e6, "sweep_gpu_MB": sweep / 1e6, "theta0_host_MB": theta0_bytes / 1e6,
            "gpu_peak_ratio": sweep / plain, "ratio": (sweep + theta0_bytes) / (plain + theta0_bytes)}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found")


def memory_child(size: str, mode: str, batch_size: int, seq_len: int, alpha: float) -> dict:
    """Fresh process: after the model is built, the peak-RSS mark is reset (/proc/self/clear_refs "5") so
    the build's transient is excluded; returns peak RSS − RSS after the build, for one plain batch or a
    2-probe sweep (which holds the θ₀ copy)."""
    torch.set_num_threads(1)
    model = build_model(size, torch.float32, "cpu")
    data = make_examples(size, batch_size, seq_len)
    theta0_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kb("VmRSS")
    if mode == "plain":
        evaluate(model, data, batch_size)
    else:
        theta0 = Theta0(model)
        for i in range(2):
            with perturbed(model, DirectionSpec("gaussian", seed=i), alpha, theta0=theta0, warn=False):
                evaluate(model, data, batch_size)
    return {"peak_minus_before_bytes": (_status_kb("VmHWM") - before) * 1024, "theta0_bytes": theta0_bytes}


def memory_cpu(size: str, batch_size: int, seq_len: int, alpha: float) -> dict:
    out = {}
    for mode in ("plain", "sweep"):
        proc = subprocess.run([sys.executable, "-m", "benchmarks.llm", "--memory-child", mode, "--size", size,
                               "--batch-size", str(batch_size), "--seq-len", str(seq_len), "--alpha", str(alpha)],
                              capture_output=True, text=True, check=True, timeout=1800)
        out[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    plain, sweep = out["plain"]["peak_minus_before_bytes"], out["sweep"]["peak_minus_before_bytes"]
    theta0 = out["plain"]["theta0_bytes"]
    return {"plain_MB": plain / 1e6, "sweep_MB": sweep / 1e6, "theta0_MB": theta0 / 1e6,
            "ratio": sweep / (plain + theta0)}


def run(size: str, device: str, dtype: str, examples: int, batch_size: int, seq_len: int, probes: int,
        alpha: float) -> dict:
    model = build_model(size, DTYPES[dtype], device)
    n_params = sum(p.numel() for p in model.parameters())
    data = make_examples(size, examples, seq_len)
    rng = "cuda" if device.startswith("cuda") else "cpu"
    result = {"size": size, "n_params": n_params, "device": device, "dtype": dtype,
              "throughput": throughput(model, data, batch_size, probes, alpha, device, rng)}
    if device.startswith("cuda"):
        result["memory"] = memory_cuda(model, data, batch_size, alpha)
    else:
        del model
        result["memory"] = memory_cpu(size, batch_size, seq_len, alpha)
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks llm", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=sorted(SIZES), default="smollm2")
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    p.add_argument("--examples", type=int, default=300)
    p.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=16)
    p.add_argument("--seq-len", "--seq_len", dest="seq_len", type=int, default=64)
    p.add_argument("--probes", type=int, default=3)
    p.add_argument("--alpha", type=float, default=1e-3)
    p.add_argument("--memory-child", dest="memory_child", choices=["plain", "sweep"], default=None,
                   help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(args.size, args.memory_child, args.batch_size, args.seq_len, args.alpha)))
        return 0
    result = run(args.size, args.device, args.dtype, args.examples, args.batch_size, args.seq_len, args.probes,
                 args.alpha)
    print(json.dumps(result, indent=2))
    print(f"RATIOS throughput={result['throughput']['ratio']:.4f} memory={result['memory']['ratio']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
