"""toymodels: controlled models and synthetic tasks with 0–1 oracles, measured through landscape/.

tasks/               synthetic tasks generated from a seed, one module each:
  vocab.py             the token vocabulary of the synthetic language (one id per token, fixed order)
  language.py          the synthetic language: skills, pre-training / fine-tuning mixtures, sequence sets
  classification.py    Gaussian-mixture and teacher–student classification tasks for the MLPs
  scores.py            their 0–1 Scores (basic, math = add, coding = brackets, safety, per skill) and NLL controls
mlp.py               ReLU MLP in standard / NTK / mean-field parameterisation
transformer.py       small pre-norm decoder-only transformer (input-embedding entry point for Thm 4.5)
train.py             training loops (GO via landscape.go): pre-train -> align -> fine-tune, cached models
hessian.py           curvature at θ₀ by Hessian-vector products: λ_max (Lanczos) and tr H (Hutchinson)
theorems.py          checks of Thms 4.2–4.5 on toy models: displacement families, the smoothed-score attack
enlarge.py           width sweep, GO vs AdamW σ-basins, the 5× verdicts, reparameterisation control
claims.py            every claim of the paper measured on toy models as Measurements for theory.claims' judge
__main__.py          `python -m toymodels {enlarge,claims,all} [--quick] --out DIR`

Rooms, lowest first; imports only point down this list (enforced by tests/test_import_graph.py):
theory → landscape → toymodels, llm_check (peers, never importing each other) → paper_figures → benchmarks.
"""
