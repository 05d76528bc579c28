"""Figure 6: the certified bound Φ(Φ⁻¹(p_A) − ‖Δθ‖/σ) vs measured smoothed scores of real displacements.

Left: theory only — Thm 4.3 curves for several p_A and σ (solid) and the Thm 4.2 line for one (dashed).
Right: on the aligned toy transformer, p_A of the basic score at σ₀ = ½ × the basic median edge (per
coordinate; one-sided 99 % Clopper–Pearson lower bound from i.i.d. (noise, example) pairs) gives the
strong and weak guaranteed curves; points are smoothed scores measured (same σ₀, two-sided 99 % CP) at
θ₀ + Δ for random displacements with ‖Δ‖ ∈ {½, 1, 2, 4} × σ₀ and at the benign / normal / adversarial
fine-tuned weights. x is the Euclidean distance ‖Δθ‖₂ (not α).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landscape.plotting import DISTANCE_LABEL, color, finish_axes, log_axis, new_figure, save_figure
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from theory.bounds import certified_lower_bound, lipschitz_lower_bound
from theory.estimate import Estimate

NAME = "fig06_bounds"
TITLE = "Certified bound vs measured smoothed score of real displacements (Thms 4.2/4.3)"
RANDOM_MULTIPLES = (0.5, 1.0, 2.0, 4.0)
DISPLACEMENT_SEED = 500_000


def _check_dict(check, label: str) -> dict:
    return {"label": label, "distance": check.displacement_norm, "guaranteed": check.guaranteed,
            "guaranteed_weak": check.guaranteed_weak, "measured": check.measured.to_dict(),
            "verdict": check.verdict}


def bound_data(ctx: FigureRun) -> dict:
    """Certificate at σ₀ and the displacement checks (see module doc)."""
    from landscape.certificates import certify, check_displacement
    from landscape.context import ProbeContext
    from landscape.theorem_checks import displaced_copy, random_displacement
    from paper_figures import measure, toy

    s = toy.sizes(ctx)
    sigma0 = 0.5 * measure.basic_edge(ctx).estimate
    base = toy.transformer("align")
    score = toy.capability_scores(ctx)["basic"]
    def probe(model, model_id: str, seed: int) -> ProbeContext:
        return ProbeContext.for_model(model, store=ctx.store, model_id=model_id, seed=seed)

    cert = certify(base, score, sigma0, probe(base, toy.transformer_id("align"), 0), n=s.n_noise)
    checks = []
    for j, m in enumerate(RANDOM_MULTIPLES):
        moved = displaced_copy(base, random_displacement(base, m * sigma0, DISPLACEMENT_SEED + j))
        check = check_displacement(base, moved, score, cert,
                                   probe(moved, f"{toy.transformer_id('align')}+random{j}", 1 + j))
        checks.append(_check_dict(check, "random Δ"))
    for kind in toy.FINETUNE_KINDS:
        tuned = toy.transformer(kind)
        check = check_displacement(base, tuned, score, cert, probe(tuned, toy.transformer_id(kind), 10))
        checks.append(_check_dict(check, f"{kind} fine-tune"))
    return {"sigma": sigma0, "p_a": cert.p_a.to_dict(), "q": cert.q, "radius": cert.radius, "checks": checks}


def data(ctx: FigureRun) -> dict:
    return ctx.cached("bounds", lambda: bound_data(ctx))


def work(run: FigureRun) -> Work:
    from paper_figures import cost, toy

    if run.has("bounds"):
        return cost.NONE
    checks = len(RANDOM_MULTIPLES) + len(toy.FINETUNE_KINDS)
    jobs = {k: v for kind in toy.FINETUNE_KINDS for k, v in toy.transformer_jobs(kind).items()}
    return toy.grid_work(run) + cost.Work(jobs, {"bounds": (cost.TRANSFORMER_TRIAL,
                                                             (1 + checks) * toy.sizes(run).n_noise)})


def plot(d: dict, out: Path) -> FigureResult:
    sigma0 = d["sigma"]
    fig, (left, right) = new_figure(2, width_per_panel=5.6, height=5.4)
    r = np.linspace(0.0, 4.0 * sigma0, 200)
    for i, (p, sig) in enumerate([(p, s) for s in (sigma0, 2 * sigma0) for p in (0.6, 0.9, 0.99)]):
        left.plot(r, certified_lower_bound(p, r, sig), color=color(i % 3),
                  linestyle="-" if sig == sigma0 else "-.", label=f"Thm 4.3, p_A={p}, σ={sig:.2g}")
    left.plot(r, lipschitz_lower_bound(0.9, r, sigma0), color=color(1), linestyle=":",
              label=f"Thm 4.2, p_A=0.9, σ={sigma0:.2g}")
    left.set_ylabel("guaranteed smoothed score E S(θ+ε)")
    left.set_ylim(-0.03, 1.03)
    finish_axes(left, title="bound curves (theory)", xlabel=DISTANCE_LABEL, legend_below=True)
    p_a = Estimate.from_dict(d["p_a"])
    top = max([4.0 * sigma0] + [c["distance"] for c in d["checks"]])
    rr = np.geomspace(sigma0 / 20, top * 2, 300)
    right.plot(rr, certified_lower_bound(p_a.lo, rr, sigma0), color="k", label=f"Thm 4.3 from p_lower={p_a.lo:.3f}")
    right.plot(rr, lipschitz_lower_bound(p_a.lo, rr, sigma0), color="k", linestyle=":", label="Thm 4.2")
    labels = sorted({c["label"] for c in d["checks"]}, key=lambda s: (s != "random Δ", s))
    for i, label in enumerate(labels):
        pts = [c for c in d["checks"] if c["label"] == label]
        est = [Estimate.from_dict(c["measured"]) for c in pts]
        x = [c["distance"] for c in pts]
        y = np.array([e.estimate for e in est])
        err = np.vstack([y - [e.lo for e in est], [e.hi for e in est] - y])
        right.errorbar(x, y, yerr=err, fmt="o", color=color(i + 2), capsize=3, label=f"measured: {label}")
    right.axhline(p_a.estimate, color="0.5", linestyle="--", label=f"p_A at θ₀ ({p_a.estimate:.3f})")
    log_axis(right, "x")
    right.set_xlim(sigma0 / 20, top * 2)
    right.set_ylabel("smoothed basic score at θ₀ + Δ (σ₀ noise)")
    right.set_ylim(-0.03, 1.03)
    finish_axes(right, title=f"toy transformer, σ₀ = {sigma0:.3g} per coordinate", xlabel=DISTANCE_LABEL,
                legend_below=True)
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    n_ok = sum(c["verdict"] == "holds" for c in d["checks"])
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        f"bound curves; measured smoothed scores at {len(d['checks'])} displacements "
                        f"({n_ok} certified ≥ bound)")


def theorem_margin(ctx: FigureRun, weak: bool) -> Estimate:
    """min over displacements of (measured smoothed score − guaranteed bound), interval from the per-check
    99 % intervals (simultaneous coverage ≥ 1 − m·0.01 by the union bound)."""
    d = data(ctx)
    key = "guaranteed_weak" if weak else "guaranteed"
    ests = [Estimate.from_dict(c["measured"]) for c in d["checks"]]
    bounds = [c[key] for c in d["checks"]]
    m = len(ests)
    return Estimate(estimate=min(e.estimate - b for e, b in zip(ests, bounds)),
                    ci=(min(e.lo - b for e, b in zip(ests, bounds)), min(e.hi - b for e, b in zip(ests, bounds))),
                    confidence=max(1e-3, 1 - m * (1 - ests[0].confidence)), n=m,
                    unit="smoothed score − bound (min over displacements)", method="union of per-check CP")


FIGURE = Figure(NAME, TITLE, data, plot, work)
