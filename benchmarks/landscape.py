"""Benchmarks of the perturbation engine against plain evaluation, measured side by side on CPU.

Models: an MLP and a small causal transformer LM (>= 100 MB of float32 parameters).
(a) overhead = perturbed evaluation / plain evaluation, the median over repeats of adjacent pairs; the
    RATIOS figure takes the larger of that and (plain + probe alone) / plain, which is robust to the load
    noise of a shared machine (transformer: NLL on >= 16k tokens; the goal
    <= 1.05 applies where a plain evaluation costs >= 20x one d-sized randn; MLP: seconds per probe).
(b) memory  = sweep peak / (plain-evaluation peak + one theta0 copy); each peak measured in a fresh
    subprocess as peak RSS (ru_maxrss) minus RSS before the model was built.
(c) edge_evals = evaluations of landscape.edges.search_edge to +-5 % / points of a log grid with ratio
    1.05 over the same bracket (the same guaranteed precision).
Also: functional mode (landscape.functional: no theta0 copy, parameters never written) / plain.
(d) drift: parameter elements differing from theta0 after N probes, ours vs add-then-subtract restore
    (the authors' protocol), in float32 and bfloat16; drift_ulp = largest ulp distance of ours.
Each RATIOS figure is the worse of the two models. Last line:
RATIOS overhead=<float> memory=<float> edge_evals=<float> drift_ulp=<int>
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time

import torch

from landscape.directions import DirectionSpec, bind, noise_chunks
from landscape.edges import search_edge
from landscape.functional import functional_perturbation
from landscape.perturb import perturbed
from landscape.scores import causal_lm_nll
from landscape.theta0 import Theta0

MODELS = ("mlp", "transformer")


class TinyLM(torch.nn.Module):
    """Causal transformer LM: untied embedding and head, pre-norm blocks (about 27.8 M parameters)."""

    def __init__(self, vocab: int = 8192, width: int = 512, layers: int = 6, heads: int = 8, ctx: int = 512):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, width)
        self.pos = torch.nn.Embedding(ctx, width)
        block = torch.nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, batch_first=True,
                                                 norm_first=True)
        self.blocks = torch.nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, vocab, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        seq = tokens.shape[1]
        x = self.embed(tokens) + self.pos(torch.arange(seq, device=tokens.device))
        mask = torch.nn.Transformer.generate_square_subsequent_mask(seq, device=tokens.device)
        return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))


def build(name: str) -> tuple[torch.nn.Module, torch.Tensor, int]:
    """(model, evaluation inputs, batch size per forward); deterministic."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    if name == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(256, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024),
                                    torch.nn.ReLU(), torch.nn.Linear(1024, 10))
        return model.eval(), torch.randn(16384, 256, generator=gen), 2048
    model = TinyLM().eval()
    return model, torch.randint(0, 8192, (32, 512), generator=gen), 8


@torch.no_grad()
def evaluate(name: str, model: torch.nn.Module, inputs: torch.Tensor, batch: int) -> float:
    """Mean loss over all inputs: next-token NLL (transformer) or mean squared output (MLP)."""
    total = 0.0
    for s in range(0, inputs.shape[0], batch):
        chunk = inputs[s:s + batch]
        total += float(causal_lm_nll(model, chunk).sum() if name == "transformer" else model(chunk).square().mean(1).sum())
    return total / inputs.shape[0]


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def overhead(name: str, repeats: int) -> dict:
    model, inputs, batch = build(name)
    d = n_params(model)
    t = time.perf_counter()
    for _ in noise_chunks(0, "randn-timing", d, torch.device("cpu")):
        pass
    randn_s = time.perf_counter() - t
    theta0 = Theta0(model)
    bound = bind(DirectionSpec(seed=7), model)
    evaluate(name, model, inputs[:1], batch)  # warm-up
    plain, probed, probe_only, functional = [], [], [], []
    for r in range(repeats):
        t = time.perf_counter()
        evaluate(name, model, inputs, batch)
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        with perturbed(model, bound, 1e-3 * (r + 1), theta0=theta0):
            evaluate(name, model, inputs, batch)
        probed.append(time.perf_counter() - t)
        t = time.perf_counter()
        with perturbed(model, bound, 1e-3 * (r + 1), theta0=theta0):
            pass
        probe_only.append(time.perf_counter() - t)
        t = time.perf_counter()
        with functional_perturbation(model, bound, 1e-3 * (r + 1)):
            evaluate(name, model, inputs, batch)
        functional.append(time.perf_counter() - t)
    tokens = inputs.numel() if name == "transformer" else 0
    return {"params": d, "MB": d * 4 / 1e6, "tokens": tokens, "randn_s": randn_s,
            "plain_s": statistics.median(plain), "perturbed_s": statistics.median(probed),
            "probe_s": statistics.median(probe_only),
            "functional_ratio": statistics.median(functional) / statistics.median(plain),
            "probe_estimate": 1.0 + statistics.median(probe_only) / statistics.median(plain),
            "ratio": statistics.median([b / a for a, b in zip(plain, probed)])}


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("VmRSS not found")


def memory_child(name: str, mode: str) -> dict:
    """Run in a fresh process: peak RSS minus RSS before the model build, for one plain evaluation or a
    sweep of 2 probes (one theta0 copy). Evaluates one batch: the peak is per batch."""
    torch.set_num_threads(1)
    before = _rss_kb()
    model, inputs, batch = build(name)
    inputs = inputs[:batch]
    theta0_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    if mode == "plain":
        evaluate(name, model, inputs, batch)
    else:
        theta0 = Theta0(model)
        for alpha in (1e-3, -1e-3):
            with perturbed(model, DirectionSpec(seed=3), alpha, theta0=theta0):
                evaluate(name, model, inputs, batch)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_minus_before_bytes": (peak - before) * 1024, "theta0_bytes": theta0_bytes}


def memory(name: str) -> dict:
    out = {}
    for mode in ("plain", "sweep"):
        proc = subprocess.run([sys.executable, "-m", "benchmarks.landscape", "--memory-child", name, mode],
                              capture_output=True, text=True, check=True, timeout=900)
        out[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    denom = out["plain"]["peak_minus_before_bytes"] + out["plain"]["theta0_bytes"]
    return {"plain_MB": out["plain"]["peak_minus_before_bytes"] / 1e6, "theta0_MB": out["plain"]["theta0_bytes"] / 1e6,
            "sweep_MB": out["sweep"]["peak_minus_before_bytes"] / 1e6,
            "ratio": out["sweep"]["peak_minus_before_bytes"] / denom}


def edge_evals(name: str, rel_precision: float = 0.05, alpha_min: float = 1e-6, alpha_max: float = 1.0) -> dict:
    """Locate one edge (loss rise > 0.1 nats for the LM, > 10 % for the MLP) on a small evaluation set."""
    model, inputs, batch = build(name)
    inputs = inputs[:1, :256] if name == "transformer" else inputs[:256]
    theta0 = Theta0(model)
    bound = bind(DirectionSpec(seed=11), model)
    base = evaluate(name, model, inputs, batch)
    tau = 0.1 if name == "transformer" else 0.1 * base

    def loss_at(alpha: float) -> float:
        with perturbed(model, bound, alpha, theta0=theta0):
            return evaluate(name, model, inputs, batch)

    found = search_edge(loss_at, base, tau, higher_is_better=False, alpha_min=alpha_min, alpha_max=alpha_max,
                        rel_precision=rel_precision)
    grid = math.ceil(math.log(alpha_max / alpha_min) / math.log1p(rel_precision)) + 1
    return {"edge": found.estimate, "lo": found.lo, "hi": found.hi, "evals": found.n_evals, "grid_points": grid,
            "ratio": found.n_evals / grid}


def _ordered(t: torch.Tensor) -> torch.Tensor:
    """Map float bits to integers ordered like the floats (adjacent floats differ by 1)."""
    bits = t.detach().to(torch.float32).view(torch.int32).to(torch.int64) if t.dtype == torch.float32 else \
        t.detach().view(torch.int16).to(torch.int64)
    negative = bits < 0
    return torch.where(negative, -(bits & (2 ** (8 * t.element_size() - 1) - 1)), bits)


def _drift(model: torch.nn.Module, reference: dict) -> tuple[float, int]:
    changed, total, worst = 0, 0, 0
    for n, p in model.named_parameters():
        a, b = p.detach().reshape(-1), reference[n].reshape(-1)
        size = {torch.float32: torch.int32, torch.bfloat16: torch.int16}[p.dtype]
        differ = a.view(size) != b.view(size)
        changed += int(differ.sum())
        total += a.numel()
        if differ.any():
            worst = max(worst, int((_ordered(a) - _ordered(b)).abs().max()), 1)
    return changed / total, worst


@torch.no_grad()
def drift(name: str, probes: int) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small memory-bound ops: one thread avoids pool synchronisation
    try:
        return _drift_both(name, probes)
    finally:
        torch.set_num_threads(threads)


def _drift_both(name: str, probes: int) -> dict:
    out = {}
    for dtype in (torch.float32, torch.bfloat16):
        model = build(name)[0].to(dtype)
        reference = {n: p.detach().clone() for n, p in model.named_parameters()}
        theta0 = Theta0(model)
        bound = bind(DirectionSpec(seed=5), model)
        alphas = [1e-3 * (1 + (k % 20)) * (-1) ** k for k in range(probes)]
        for alpha in alphas:
            with perturbed(model, bound, alpha, theta0=theta0, warn=False):
                pass
        ours = _drift(model, reference)
        for alpha in alphas:  # add-then-subtract: theta += alpha*delta; evaluate; theta -= alpha*delta
            for n, p in bound.params:
                step = (bound.delta(n, p) * alpha).to(dtype)
                p.add_(step)
                p.sub_(step)
        theirs = _drift(model, reference)
        tag = "f32" if dtype == torch.float32 else "bf16"
        out[f"ours_{tag}_changed"], out[f"ours_{tag}_ulp"] = ours
        out[f"addsub_{tag}_changed"], out[f"addsub_{tag}_ulp"] = theirs
    out["probes"] = probes
    out["drift_ulp"] = max(out["ours_f32_ulp"], out["ours_bf16_ulp"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks landscape", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="overhead measurements per model (median)")
    parser.add_argument("--probes", type=int, default=1000, help="probes for the MLP drift comparison")
    parser.add_argument("--transformer-probes", type=int, default=100,
                        help="probes for the transformer drift comparison (1000 takes ~10 min on 2 cores)")
    parser.add_argument("--memory-child", nargs=2, metavar=("MODEL", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(*args.memory_child)))
        return 0
    rows = {}
    for name in MODELS:
        print(f"[{name}] overhead ...", file=sys.stderr, flush=True)
        rows[name] = {"overhead": overhead(name, args.repeats)}
        print(f"[{name}] memory (fresh subprocesses) ...", file=sys.stderr, flush=True)
        rows[name]["memory"] = memory(name)
        print(f"[{name}] edge search ...", file=sys.stderr, flush=True)
        rows[name]["edges"] = edge_evals(name)
        probes = args.probes if name == "mlp" else args.transformer_probes
        print(f"[{name}] drift over {probes} probes ...", file=sys.stderr, flush=True)
        rows[name]["drift"] = drift(name, probes)
    print(table(rows))
    ratios = {"overhead": max(max(rows[m]["overhead"]["ratio"], rows[m]["overhead"]["probe_estimate"])
                              for m in MODELS),
              "memory": max(rows[m]["memory"]["ratio"] for m in MODELS),
              "edge_evals": max(rows[m]["edges"]["ratio"] for m in MODELS),
              "drift_ulp": max(rows[m]["drift"]["drift_ulp"] for m in MODELS)}
    print(f"RATIOS overhead={ratios['overhead']:.4f} memory={ratios['memory']:.4f} "
          f"edge_evals={ratios['edge_evals']:.4f} drift_ulp={ratios['drift_ulp']:d}")
    return 0


def table(rows: dict) -> str:
    lines = [f"{'measure':<52}" + "".join(f"{m:>16}" for m in MODELS)]

    def line(label: str, fmt: str, get) -> None:
        lines.append(f"{label:<52}" + "".join(f"{format(get(rows[m]), fmt):>16}" for m in MODELS))

    line("parameters", ",d", lambda r: r["overhead"]["params"])
    line("parameter MB (float32)", ".1f", lambda r: r["overhead"]["MB"])
    line("evaluation tokens (LM)", ",d", lambda r: r["overhead"]["tokens"])
    line("plain evaluation s", ".3f", lambda r: r["overhead"]["plain_s"])
    line("perturbed evaluation s", ".3f", lambda r: r["overhead"]["perturbed_s"])
    line("probe alone (perturb + restore) s", ".3f", lambda r: r["overhead"]["probe_s"])
    line("one d-sized randn s", ".3f", lambda r: r["overhead"]["randn_s"])
    line("plain evaluation / randn", ".1f", lambda r: r["overhead"]["plain_s"] / r["overhead"]["randn_s"])
    line("(a) overhead: median perturbed/plain (goal <= 1.05)", ".4f", lambda r: r["overhead"]["ratio"])
    line("(plain + probe alone) / plain", ".4f", lambda r: r["overhead"]["probe_estimate"])
    line("functional mode (no theta0 copy) / plain", ".4f", lambda r: r["overhead"]["functional_ratio"])
    line("plain eval peak MB", ".1f", lambda r: r["memory"]["plain_MB"])
    line("theta0 copy MB", ".1f", lambda r: r["memory"]["theta0_MB"])
    line("sweep peak MB", ".1f", lambda r: r["memory"]["sweep_MB"])
    line("(b) memory ratio (goal <= 1.10)", ".4f", lambda r: r["memory"]["ratio"])
    line("edge estimate (alpha)", ".3g", lambda r: r["edges"]["edge"])
    line("edge search evaluations", "d", lambda r: r["edges"]["evals"])
    line("log grid points, same precision", "d", lambda r: r["edges"]["grid_points"])
    line("(c) edge_evals ratio (goal <= 0.25)", ".4f", lambda r: r["edges"]["ratio"])
    line("drift probes", "d", lambda r: r["drift"]["probes"])
    for tag in ("f32", "bf16"):
        line(f"ours: fraction changed ({tag})", ".3g", lambda r, t=tag: r["drift"][f"ours_{t}_changed"])
        line(f"add-then-subtract: fraction changed ({tag})", ".3g", lambda r, t=tag: r["drift"][f"addsub_{t}_changed"])
        line(f"add-then-subtract: max ulp ({tag})", "d", lambda r, t=tag: r["drift"][f"addsub_{t}_ulp"])
    line("(d) ours: max ulp drift (goal 0)", "d", lambda r: r["drift"]["drift_ulp"])
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
