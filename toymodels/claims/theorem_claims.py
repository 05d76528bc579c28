"""The theorem checks (Thm 4.2–4.4, the embedding and concentration results) on the MLPs, and the 5×
claim read from the enlargement sweep's JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch

from landscape import theorem_checks as T
from theory.claims import Measurement
from theory.estimate import Estimate
from theory.stats import clopper_pearson
from toymodels.claims.common import SOURCE, THEOREM_FAIL_PROB, Workspace, measured, mlp_model
from toymodels.claims.width_claims import WidthPoint, tuned_copy
from toymodels.mlp import MLP, MLPConfig
from toymodels.tasks.classification import teacher_student
from toymodels.transformer import TinyTransformer, TransformerConfig

# ----------------------------------------------------------------------------------------- theorem claims


def theorem_claims(ws: Workspace, points: list[WidthPoint]) -> list[Measurement]:
    cfg = ws.cfg
    task = teacher_student(seed=cfg.seed)
    score = task.accuracy(256)
    model = mlp_model(ws, 64)
    p64 = next((p for p in points if p.width == 64), points[len(points) // 2])
    sigma = 0.5 * p64.gauss.median.estimate
    n_checks = 9
    gamma = T.per_interval_fail_prob(THEOREM_FAIL_PROB, n_checks)
    cert = T.certify_for_check(model, score, sigma, n=cfg.n_draws, seed=cfg.seed, q=score.chance, fail_prob=gamma)
    tuned = ws.model("mlp-w64-sft", lambda: MLP(model.config),
                     lambda: tuned_copy(model, teacher_student(seed=cfg.seed + 1), 100))
    soft = T.classification_soft_score(task.x_test[:256], task.y_test[:256])
    families = {"random": lambda r: T.random_displacement(model, r, cfg.seed),
                "sft": lambda r: T.sft_displacement(model, tuned, r),
                "adversarial": lambda r: T.adversarial_displacement(model, soft, sigma, r, steps=cfg.worst_steps,
                                                                    seed=cfg.seed)}
    checks = []
    if cert.certified:
        for fam, make in families.items():
            for t in (0.25, 0.5, 1.0):
                checks.append(T.check_displacement_bound(model, score, cert, fam, t, make, n=cfg.n_draws,
                                                         seed=cfg.seed + len(checks) + 1, fail_prob=gamma))
    conc_model = MLP(MLPConfig(width=64, seed=cfg.seed))
    v = T.unit_vector(conc_model, cfg.seed)
    # nearly linear (vᵀθ₀ = b, σ = s/10), where the bound is within 6x of exact and the L/2 mutant must show
    probit = T.LinearProbitScore(v, T.projection(v, conc_model), 1.0)
    conc_opts = dict(n=cfg.n_draws * 8, seed=cfg.seed, confidence=0.99)
    conc = T.check_concentration(conc_model, probit, 0.1, 0.05, **conc_opts)
    mutant = T.check_concentration(conc_model, probit, 0.1, 0.05, lipschitz_factor=0.5, **conc_opts)
    tiny = TinyTransformer(TransformerConfig(d_model=32, n_layers=1, n_heads=2, seed=cfg.seed))
    g = torch.Generator().manual_seed(cfg.seed)
    toks = torch.randint(0, tiny.config.vocab_size, (6, 8), generator=g)
    new = toks.clone()
    new[:, 3] = toks[:, 0]
    emb = T.embedding_noise_checks(tiny, toks, new, lambda x: T.LastTokenPreferenceScore(x, 7, 8), 0.5,
                                   n=cfg.n_draws, seed=cfg.seed, fail_prob=T.per_interval_fail_prob(1e-6, 6))
    cex = T.repeated_token_counterexample(tiny, 20, 21, n=cfg.n_draws * 2, seed=cfg.seed,
                                          fail_prob=T.per_interval_fail_prob(1e-6, 1, 3))
    ws.dump("records/theorems", {"sigma": sigma, "certificate_p_a": cert.p_a, "r_cert": cert.radius,
                                 "checks": [dataclasses.asdict(c) | {"attack_strength": c.attack_strength}
                                            for c in checks],
                                 "concentration": conc, "concentration_mutant": mutant, "embedding": emb,
                                 "counterexample": cex})
    strength = max((c.attack_strength for c in checks if c.family == "adversarial" and c.t == 1.0), default=0.0)

    def margin(attr: str) -> Estimate | None:
        """min over the 9 checks of (measured smoothed score − bound), simultaneous interval."""
        if not checks:
            return None
        m = [(c.displaced.estimate - getattr(c, attr), c.displaced.lo - getattr(c, attr),
              c.displaced.hi - getattr(c, attr)) for c in checks]
        return Estimate(min(x[0] for x in m), (min(x[1] for x in m), min(x[2] for x in m)), 1 - THEOREM_FAIL_PROB,
                        cfg.n_draws, "smoothed score - bound",
                        method="min over 9 checks (random/sft/adversarial x t in 1/4,1/2,1)")

    kw = dict(varied=("noise", "examples"), reason="" if checks else "p_A not certified above chance",
              extra={"adversarial_displacement": True, "attack_strength": strength} if checks else {})
    note = f"sigma={sigma:.3g}; adversarial attack strength at r_cert = {strength:.2f}"
    out = [measured("thm42-holds", margin("bound_weak"), "MLP width 64", note, **kw),
           measured("thm43-holds", margin("bound_strong"), "MLP width 64", note, **kw)]
    out.append(measured("thm44-holds", conc.violations, "linear-probit surrogate on a random-init MLP",
                        "a linear-probit score: on trained 0-1 scores no L is provable; the L/2 mutant's violation "
                        f"share {mutant.violations.brief()} against delta = {mutant.fail_prob:g}", varied=("noise",),
                        extra={"delta": conc.fail_prob, "mutant_rejected": mutant.violated}))
    lo_margins = [float(clopper_pearson(int(round(c.measured * c.n)), c.n, 0.99, "lower")[0]) - c.bound for c in emb]
    est = Estimate(min(c.measured - c.bound for c in emb), (min(lo_margins), min(c.measured_upper - c.bound for c in emb)),
                   0.98, cfg.n_draws, "smoothed outcome - bound", method="min over examples")
    out.append(measured("thm45-embedding-holds", est, "random-init toy transformer (d_model 32)",
                        "sigma_emb = 0.5, one repeated-token substitution", varied=("noise",)))
    h = cex.heuristic
    est = Estimate(cex.x_prime_parameter.estimate - h.bound, (cex.x_prime_parameter.lo - h.bound,
                                                              cex.x_prime_parameter.hi - h.bound),
                   cex.x_prime_parameter.confidence, h.n, "smoothed score on x' - heuristic bound")
    out.append(measured("thm45-heuristic-fails", est, "toy transformer with the (a,b)->(a,a) embedding rows",
                        "parameter noise sigma = 1", varied=("noise",)))
    return out


# ----------------------------------------------------------------------------------------- GO 5x


def claim_go_enlarges(enlargement: Path | None) -> list[Measurement]:
    """From enlargement.json (toymodels.enlarge): go-enlarges-5x, one Measurement per entry and training seed
    (toymodels.enlarge.factor_measurements, the one reader of the sweep)."""
    from toymodels.enlarge import factor_measurements

    if enlargement is None or not enlargement.exists():
        return [measured("go-enlarges-5x", None, "", reason="no enlargement.json (run python -m toymodels enlarge)")]
    return factor_measurements(json.loads(enlargement.read_text()), f"{SOURCE} ({enlargement.name})")
