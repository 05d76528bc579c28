"""toymodels: controlled models and synthetic tasks with 0–1 oracles, measured through landscape/.

tasks/               synthetic tasks generated from a seed, one module each:
  vocab.py             the token vocabulary of the synthetic language (one id per token, fixed order)
  language.py          the synthetic language: skills, pre-training / fine-tuning mixtures, sequence sets
  classification.py    Gaussian-mixture and teacher–student classification tasks for the MLPs
  scores.py            their 0–1 Scores (basic, math = add, coding = brackets, safety, per skill) and NLL controls
mlp.py               ReLU MLP in standard / NTK / mean-field parameterisation, its ReLU rescaling symmetries
transformer.py       small pre-norm decoder-only transformer (input-embedding entry point for Thm 4.5), its
                     diagonal rescaling symmetries (norm gains, Q/K, V/O, residual scale) and those not handled
train.py             training loops (GO via landscape.go): pre-train -> align -> fine-tune, cached models
enlarge.py           the registry's 5x protocol per width and training seed (landscape.enlargement_protocol),
                     its entries' verdicts and the one reader of enlargement.json for the claims
claims/              every claim of the paper measured on toy models as Measurements for theory.claims' judge:
  common.py            run sizes, the workspace, trained models, the Measurement helper
  transformer_claims.py  flat-then-collapse, NLL smoothness, nesting, SFT directions, strict basin
  width_claims.py      the MLP width sweep and training: worst-case narrowness, widening, forgetting
  theorem_claims.py    Thms 4.2–4.5 checks and the 5x sweep's entries
  run.py               all families per training seed (one workspace each); measurements.json, claims.json
__main__.py          `python -m toymodels {enlarge,claims,all} [--quick] --out DIR`

Rooms, lowest first; imports only point down this list (enforced by tests/test_import_graph.py):
theory → landscape → toymodels, llm_check (peers, never importing each other) → paper_figures → benchmarks.
"""
