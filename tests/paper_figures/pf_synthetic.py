"""Tiny synthetic stored results in the shapes the figure modules cache (no models, no training), beside
the 5x sweep's own output (the tiny_sweep fixture: the producer run on its smallest config)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from theory.estimate import Estimate
from theory.stats import median_interval, proportion_estimate

CAPS = ("basic", "math", "coding", "safety")


def est(value: float, lo: float, hi: float, n: int = 8, unit: str = "u") -> dict:
    return Estimate(value, (lo, hi), 0.95, n, unit).to_dict()


def landscape(alphas, k: int, edge: float, baseline: float = 0.9, chance: float = 0.1, seed: int = 0) -> dict:
    """K step-shaped curves: baseline inside |α| < edge_i, chance outside (edges jittered per direction)."""
    rng = np.random.default_rng(seed)
    edges = edge * rng.uniform(0.7, 1.3, size=k)
    a = np.asarray(alphas)
    vals = np.where(np.abs(a)[None, :] < edges[:, None], baseline, chance)
    return {"alphas": list(map(float, a)), "baseline": baseline,
            "curves": [{"values": row.tolist()} for row in vals],
            "median": [median_interval(vals[:, i]).to_dict() for i in range(a.size)],
            "strict_basin_fraction": [proportion_estimate(int(np.sum(vals[:, i] == baseline)), k, 0.99).to_dict()
                                      for i in range(a.size)]}


def write(results: Path, name: str, data) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / f"{name}.json").write_text(json.dumps(data))


def populate(out: Path, sweep_entries: list[dict]) -> None:
    """Every cached measurement the figures' data functions read (edges, landscapes, worst-case and SFT
    directions, tables, runs, sweep), so no figure computes anything."""
    res = out / "results" / "quick"
    edge = 0.02
    write(res, "edges_align_basic_random", {"median": est(edge, 0.015, 0.025, unit="alpha")})
    grid = np.linspace(-3 * edge, 3 * edge, 15)
    grid[7] = 0.0
    for i, cap in enumerate(CAPS + ("nll",)):
        write(res, f"landscape_align_{cap}_random", landscape(grid, 6, edge * (1 - 0.1 * i), seed=i))
    worst_edge = edge / 200
    fine = np.geomspace(worst_edge / 30, worst_edge * 30, 25)
    worst_grid = sorted(set(grid.tolist()) | set(fine.tolist()) | set((-fine).tolist()))
    for i, cap in enumerate(CAPS):
        side = {"estimate": worst_edge, "lo": worst_edge / 1.1, "hi": worst_edge * 1.1}
        write(res, f"edges_align_{cap}_random", {"median": est(edge * (1 - 0.1 * i), 0.01, 0.03, unit="alpha")})
        write(res, f"edges_align_{cap}_worst", {"median": est(worst_edge, worst_edge, worst_edge),
                                                "directions": [{"plus": side, "minus": {**side, "estimate": 1.0}}]})
        write(res, f"landscape_align_{cap}_worst-log", landscape(worst_grid, 1, worst_edge, seed=20 + i))
    for j, kind in enumerate(("benign", "normal", "adversarial")):
        alpha_sft = edge * (0.5 + j)
        write(res, f"sft_{kind}_distance", {"distance": alpha_sft * 100, "alpha_sft": alpha_sft})
        sft_grid = sorted(set(grid.tolist()) | {alpha_sft, -alpha_sft})
        for i, cap in enumerate(CAPS):
            write(res, f"landscape_align_{cap}_sft-{kind}", landscape(sft_grid, 1, edge * (1 + j), seed=30 + i))
    mult = [0.25, 0.5, 0.75, 1.0, 1.5]
    alphas = [m * edge for m in mult]
    write(res, "inside_basin", {"edge": est(edge, 0.015, 0.025), "multiples": mult, "alphas": alphas, "k_fresh": 51,
                                "landscapes": {c: landscape([0.0] + alphas, 51, edge, seed=3) for c in CAPS}})
    write(res, "training_curve", {"width": 64, "chance": 0.25, "points": [
        {"step": s, "accuracy": 0.5 + s / 1000, "median_edge": est(0.01 * s / 50, 0.008 * s / 50, 0.012 * s / 50)}
        for s in (50, 100, 150, 200)]})
    fl = {"n_test": 1024, "points": [{"step": s, "old": 0.9 - s / 1000, "new": 0.3 + s / 500} for s in (0, 20, 40)]}
    write(res, "go_comparison", {"sigma_train": 0.04, "chance": 0.25, "models": {
        lab: {"median_edge": est(e, e / 2, 2 * e), "landscape": landscape(grid, 6, e, seed=9), "forgetting": fl}
        for lab, e in (("plain AdamW", 0.02), ("GO σ_train=0.04", 0.04))}})
    checks = [{"label": lab, "distance": d, "guaranteed": g, "guaranteed_weak": g - 0.05,
               "measured": Estimate(m, (m - 0.05, m + 0.05), 0.99, 200, "s").to_dict(), "verdict": "holds"}
              for lab, d, g, m in (("random Δ", 0.005, 0.8, 0.9), ("random Δ", 0.02, 0.5, 0.88),
                                   ("benign fine-tune", 3.0, 0.0, 0.7))]
    write(res, "bounds", {"sigma": 0.01, "p_a": Estimate(0.9, (0.85, 1.0), 0.99, 200, "s").to_dict(), "q": 0.1,
                          "radius": 0.02, "checks": checks})
    cx = {"p_a_parameter": Estimate(0.64, (0.6, 1.0), 0.99, 400, "s").to_dict(), "heuristic_bound": 0.26,
          "x_prime_parameter": Estimate(0.0, (0.0, 0.01), 0.99, 400, "s").to_dict(), "rigorous_bound": 0.26,
          "x_prime_embedding": Estimate(0.36, (0.0, 0.4), 0.99, 400, "s").to_dict(),
          "heuristic_violated": True, "rigorous_violated": False}
    write(res, "input_robustness", {"sigma_emb": 0.1, "q": 0.05, "pair_distances": sorted(np.linspace(0.1, 2, 50)),
                                    "rigorous_radii": [0.0, 0.1, 0.2, 0.3], "heuristic_radius": 0.05,
                                    "parameter_sigma": 0.01, "counterexample": cx})
    (out / "toymodels" / "quick").mkdir(parents=True, exist_ok=True)
    (out / "toymodels" / "quick" / "enlargement.json").write_text(json.dumps(sweep_entries))
