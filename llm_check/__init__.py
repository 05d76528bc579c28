"""llm_check: the landscape estimators on a real causal language model (the `llm-check` command).

Loading a model as θ₀ with its weight hash (default SmolLM2-135M-Instruct, fetched once, then offline), task data
(BIG-bench, user JSONL), Scores for causal LMs, the runs, the quick check, the 5× GO check, reports, and
sharding over torch.distributed ranks. Uses landscape/ exactly as toymodels/ does.

Rooms, lowest first; imports only point down this list (enforced by tests/test_import_graph.py):
theory → landscape → toymodels, llm_check (peers, never importing each other) → paper_figures → benchmarks.
"""
