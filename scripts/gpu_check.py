"""Prepared GPU check for llm_check: a bf16 Llama with >= 1B parameters built from a config on the
device (no weights travel), perturbed-evaluation throughput and sweep memory ratios (benchmarks/llm.py).

    python scripts/gpu_check.py            # on the GPU machine: 1.1B Llama, bfloat16, cuda, 300 examples
    python scripts/gpu_check.py --tiny     # CPU dry run of the same code path (tiny config, float32)

Runs from the source tree with the device image's packages (torch 2.11, transformers 5.17, Python 3.12,
no gguf): only torch, transformers' LlamaConfig/LlamaForCausalLM and landscape/ are imported.
Goals: throughput ratio >= 0.95, memory ratio <= 1.10. Prints JSON, then one RATIOS line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MIN_PARAMS = 1_000_000_000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tiny", action="store_true", help="CPU dry run with a tiny config")
    p.add_argument("--examples", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--probes", type=int, default=3)
    args = p.parse_args(argv)

    import torch

    from benchmarks.llm import run

    if args.tiny:
        size, device, dtype = "tiny", "cpu", "float32"
    else:
        if not torch.cuda.is_available():
            print("gpu_check: no CUDA device (use --tiny for a CPU dry run)", file=sys.stderr)
            return 2
        size, device, dtype = "1b", "cuda", "bfloat16"
    result = run(size, device, dtype, args.examples, args.batch_size, args.seq_len, args.probes, alpha=1e-3)
    result["torch"] = torch.__version__
    if device == "cuda":
        result["gpu"] = torch.cuda.get_device_name(0)
        if result["n_params"] < MIN_PARAMS:
            print(f"gpu_check: model has {result['n_params']:,} < 1e9 parameters", file=sys.stderr)
            return 1
    print(json.dumps(result, indent=2))
    print(f"RATIOS throughput={result['throughput']['ratio']:.4f} memory={result['memory']['ratio']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
