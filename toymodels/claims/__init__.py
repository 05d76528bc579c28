"""The paper's empirical claims MEASURED on toy models (never asserted): one function per claim id, each
returning `theory.claims.Measurement`s (an Estimate of the registry's quantity for that claim, with model,
source, n, seeds and what varied); the registry's one judge (theory.claims.judge) turns them into verdicts.
No criterion lives here. `measure_all(out_dir, quick)` runs them all once per training seed (the settings'
`seeds`, default 0, 1, 2), each seed with its own trained models in its own workspace out_dir/seed-<n>/ and
one landscape ResultStore (reruns skip every evaluation already made and reload trained weights), and writes
JSON for the figures; `measure_all_claims` also judges them (the judge's per-seed rule).

Units: α for raw Gaussian directions is σ per coordinate (‖αδ‖ ≈ α√d); SFT / worst-case directions are
rescaled to norm √d so they share the α axis; multiplicative directions θ ⊙ (1 + αz) have α relative.
Edges are landscape.edges (first exit below S(θ₀) − τ, bisection bracket per direction, median over K
directions with an order-statistic interval; `coverage` is the guaranteed level). Unless stated,
τ = ½(S(θ₀) − chance) ("collapse midpoint"). Single-direction (SFT, worst-case) edges are read on the +δ
half-line, compared with the Gaussian median of +δ edges, and carry their deterministic bisection bracket
(confidence reported as 1.0).

Files under out_dir/seed-<n>/ (JSON; NaN → null, ±inf → "inf"/"-inf"; Estimates as {estimate, ci,
confidence, coverage, n, unit, method, extra}); measurements.json and claims.json sit in out_dir itself:
  rows.jsonl                          ResultStore rows (one evaluation each), resumable
  models/<name>.pt                    trained weights (state_dict), reloaded on rerun
  measurements.json                   [theory.claims.document.measurement_to_dict(m), ...]
  claims.json                         theory.claims.document.document(rows): schema version, counts by kind,
                                      rows in registry order
  curves/<model>-<score>.json         landscape_1d result: {score, alphas[], baseline, curves: [{direction,
                                      values[], effective_norms[]}], median: [Estimate], strict_basin_fraction:
                                      [Estimate], seeds[], n_evals, wall_time_s}; score names carry "@<n
                                      examples>" (tf-align-basic@128.json); the strict-basin test's σ slices are
                                      curves/tf-align-strict-safety-<factor of the collapse edge>.json
  edges/<model>-<score>-<kind>.json   basin_edges result: {score, tau, baseline, directions: [{direction, plus,
                                      minus}], median, median_plus, median_minus (Estimates), n_non_monotone, ...};
                                      plus/minus = {estimate, lo, hi, censored, non_monotone, evaluations[[α, S]]}
  records/width_sweep.json            [{width, params, clean_score, edge_gaussian, edge_multiplicative, edge_worst
                                      (Estimates), measured_ratio, predicted_ratio (Estimates), lambda_max, trace}]
  records/sft_norm_vs_width.json      [{width, params, sft_norm, sft_norm_per_coordinate, sigma, p_a (Estimate),
                                      r_cert, sft_over_r_cert}]  (Prop. E.2 "smoothing regime": reported only)
  records/training.json               [{step, clean_score, tau, edge (invariant unit), edge_raw (Estimates)}]
                                      along MLP training, one fixed tau
  records/theorems.json               {sigma, certificate_p_a (Estimate), r_cert, checks: [BoundCheck fields +
                                      attack_strength], concentration and concentration_mutant (the L/2
                                      check): ConcentrationCheck, embedding: [SubstitutionCheck],
                                      counterexample: RepeatedTokenCounterexample}
  records/forgetting.json             {adamw: {before, after, forgetting}, go: {...}, sigma_train, steps, difference
                                      (paired Estimate), gate (EquivalenceGate fields)}
  records/sft_directions.json         {benign: {basic, safety: edges}, adversarial: {...}, worst_safety: edges,
                                      cos_adv_worst, worst_alpha_ref}
Command line: `python -m toymodels claims [--quick] --out DIR` prints one line per claim.
QUICK trains its transformer for 0.4 × the default steps at d_model 32 (shared 2-core machines); FULL uses
toymodels.train.trained_transformer (d_model 64).
"""


from toymodels.claims.common import (
    FULL,
    QUICK,
    SOURCE,
    ClaimsConfig,
    Workspace,
    half_drop,
    multiplicative_directions,
)
from toymodels.claims.run import measure_all, measure_all_claims, summary_lines
from toymodels.claims.theorem_claims import claim_go_enlarges, theorem_claims
from toymodels.claims.transformer_claims import (
    TransformerMeasurements,
    claim_flat_then_collapse,
    measure_transformer,
)
from toymodels.claims.width_claims import WidthPoint, claim_widen_with_size, measure_widths

__all__ = ["FULL", "QUICK", "SOURCE", "ClaimsConfig", "TransformerMeasurements", "WidthPoint", "Workspace",
           "claim_flat_then_collapse", "claim_go_enlarges", "claim_widen_with_size", "half_drop", "measure_all",
           "measure_all_claims", "measure_transformer", "measure_widths", "multiplicative_directions",
           "summary_lines", "theorem_claims"]
