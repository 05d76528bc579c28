"""benchmarks: performance ratios of the suite, printed as a table (`python -m benchmarks <name>`).

Never asserted in tests: `landscape` times the perturbation engine on CPU, `llm` perturbed against plain
Hugging Face evaluation of a Llama.

Rooms, lowest first; imports only point down this list (enforced by tests/test_import_graph.py):
theory → landscape → toymodels, llm_check (peers, never importing each other) → paper_figures → benchmarks.
"""
