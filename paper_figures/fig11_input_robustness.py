"""Figure 11: input robustness — rigorous (input-embedding noise) and heuristic (Thm 4.5 as stated)
certified radii, the token pairs they cover, and the repeated-token counter-example on the transformer.

Left: per-example rigorous radii r(x) = σ_emb(Φ⁻¹(p_lower(x)) − Φ⁻¹(q)) of the basic score (input-embedding
noise σ_emb = 0.1 × the median token-pair distance, one-sided 99 % CP, q = chance) vs the heuristic radius
(parameter-space certificate of Figure 6 read as an embedding-row distance, invalid for repeated tokens
and tied embeddings — the toy transformer ties them). Middle: share of token pairs (i, j) whose
substitution distance ‖W_i − W_j‖₂ lies within a radius. Right: the counter-example x = (a, b) → (a, a).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from landscape.plotting import color, finish_axes, new_figure, save_figure
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from theory.estimate import Estimate

NAME = "fig11_input_robustness"
TITLE = "Input robustness: rigorous vs heuristic certified radii, token pairs covered, counter-example"
N_CERTIFIED_EXAMPLES = 32
FAIL_PROB = 0.005
SIGMA_EMB_FRACTION = 0.1  # σ_emb as a fraction of the median token-pair distance


def input_data(ctx: FigureRun) -> dict:
    from landscape.context import ProbeContext
    from landscape.input_robustness import input_embedding_certificates, token_distances
    from landscape.theorem_checks import repeated_token_counterexample
    from paper_figures import fig06_bounds, toy

    base = toy.transformer("align")
    W = base.tok_emb.weight.detach()
    dist = token_distances(W, range(W.shape[0])).numpy()
    pairs = dist[np.triu_indices(W.shape[0], k=1)]
    sigma_emb = SIGMA_EMB_FRACTION * float(np.median(pairs))
    score = toy.capability_scores(ctx)["basic"]
    n = toy.sizes(ctx).n_noise // 2
    probe = ProbeContext.for_model(base, store=ctx.store, model_id=toy.transformer_id("align"), seed=0,
                                   example_ids=range(N_CERTIFIED_EXAMPLES))
    certs = input_embedding_certificates(base, score, base.tok_emb, sigma_emb, probe, n=n)
    bounds = fig06_bounds.data(ctx)
    cx = repeated_token_counterexample(base, 0, 1, n=toy.sizes(ctx).n_noise, seed=0, fail_prob=FAIL_PROB)
    return {"sigma_emb": sigma_emb, "q": certs.q, "pair_distances": sorted(pairs.tolist()),
            "rigorous_radii": [c.radius for c in certs.examples],
            "heuristic_radius": bounds["radius"], "parameter_sigma": bounds["sigma"],
            "counterexample": {
                "p_a_parameter": cx.p_a_parameter.to_dict(),
                "heuristic_bound": cx.heuristic.bound, "x_prime_parameter": cx.x_prime_parameter.to_dict(),
                "rigorous_bound": cx.rigorous.bound, "x_prime_embedding": cx.x_prime_embedding.to_dict(),
                "heuristic_violated": cx.heuristic.violated, "rigorous_violated": cx.rigorous.violated}}


def data(ctx: FigureRun) -> dict:
    return ctx.cached("input_robustness", lambda: input_data(ctx))


def work(run: FigureRun) -> Work:
    from paper_figures import cost, fig06_bounds, toy

    if run.has("input_robustness"):
        return cost.NONE
    s = toy.sizes(run)
    embedding = cost.Work(toy.transformer_jobs("align"),
                          {"input_robustness": (cost.TRANSFORMER, s.n_noise // 2 * N_CERTIFIED_EXAMPLES // s.n_examples),
                           "counterexample": (cost.TRANSFORMER_TRIAL, 2 * s.n_noise)})
    return fig06_bounds.work(run) + embedding


def plot(d: dict, out: Path) -> FigureResult:
    fig, (left, mid, right) = new_figure(3, width_per_panel=4.6, height=3.9)
    radii = np.sort(np.asarray(d["rigorous_radii"], dtype=np.float64))
    left.step(radii, np.arange(1, radii.size + 1) / radii.size, where="post", color=color(0),
              label=f"rigorous r(x), σ_emb={d['sigma_emb']:.3g} ({radii.size} examples)")
    left.axvline(d["heuristic_radius"], color=color(3), linestyle="--",
                 label=f"heuristic radius (param. σ={d['parameter_sigma']:.3g})")
    left.set_ylabel("fraction of examples with radius ≤ r")
    finish_axes(left, title="certified radii (embedding-sequence ℓ₂)", xlabel="radius r (‖E(x) − E(x′)‖₂)")
    pairs = np.asarray(d["pair_distances"], dtype=np.float64)
    grid = np.linspace(0.0, max(pairs.max(), d["heuristic_radius"], radii.max(initial=0.0)) * 1.05, 200)
    mid.plot(grid, np.searchsorted(pairs, grid, side="right") / pairs.size, color="k",
             label="token pairs with ‖W_i − W_j‖ ≤ r")
    mid.axvline(float(np.median(radii)) if radii.size else 0.0, color=color(0), label="median rigorous r(x)")
    mid.axvline(d["heuristic_radius"], color=color(3), linestyle="--", label="heuristic radius")
    mid.set_ylabel("fraction of the V(V−1)/2 token pairs covered")
    finish_axes(mid, title="single substitutions covered", xlabel="radius r (‖W_i − W_j‖₂)")
    cx = d["counterexample"]
    names = ["p_A(x)\nparam. noise", "x′ param. noise\n(measured)", "x′ emb. noise\n(measured)"]
    ests = [Estimate.from_dict(cx[k]) for k in ("p_a_parameter", "x_prime_parameter", "x_prime_embedding")]
    y = np.array([e.estimate for e in ests])
    err = np.vstack([y - [e.lo for e in ests], [e.hi for e in ests] - y])
    right.bar(range(3), y, yerr=err, color=[color(2), color(3), color(0)], capsize=4)
    right.axhline(cx["heuristic_bound"], color=color(3), linestyle="--", label=f"heuristic bound {cx['heuristic_bound']:.3f}")
    right.axhline(cx["rigorous_bound"], color=color(0), linestyle=":", label=f"rigorous bound {cx['rigorous_bound']:.3f}")
    right.set_xticks(range(3), names, fontsize=7)
    right.set_ylabel("smoothed score")
    right.set_ylim(0, 1.03)
    finish_axes(right, title="repeated token: x = (a, b) → (a, a)")
    files = save_figure(fig, out, NAME, suptitle=TITLE)
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        f"rigorous radii of {radii.size} examples vs heuristic radius; pair coverage; "
                        f"counter-example heuristic violated={cx['heuristic_violated']}, "
                        f"rigorous violated={cx['rigorous_violated']}")


FIGURE = Figure(NAME, TITLE, data, plot, work)
