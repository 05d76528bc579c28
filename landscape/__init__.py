"""landscape: the model-agnostic estimators (torch) — any nn.Module, a Score, one ProbeContext.

The exact perturbation engine (θ₀ + α·δ, θ₀ restored bitwise), seeded directions from a kind registry, 1-D
landscapes and 2-D planes, basin edges, σ-basins, smoothed scores and certificates, input robustness,
worst-case directions, the GO optimizer, curvature by Hessian-vector products (λ_max, tr H), the
theorem checks (displacement families, the smoothed-score attack, Thms 4.2–4.5) and the resumable JSONL
result store.

Rooms, lowest first; imports only point down this list (enforced by tests/test_import_graph.py):
theory → landscape → toymodels, llm_check (peers, never importing each other) → paper_figures → benchmarks.
"""
