"""theory: the mathematics of the basin suite, with no model in sight (numpy, scipy, sympy; never torch).

Closed-form certificates of randomized smoothing in parameter space (Thms 4.2–4.5), confidence intervals
(Clopper–Pearson, Hoeffding, order statistics) and anytime-valid betting confidence sequences for bounded
means (theory.sequential), the interval algebra of ratios (theory.estimate), the mean and variance of ‖Z‖₂
for Z ~ N(0, I_d), the quadratic loss model, the counter-example to Thm 4.5 as stated, symbolic derivations each checked against a
mutant that must fail (`python -m theory`), the shared `Estimate` record and claim verdicts, the claims
registry with its one judge (theory.claims: every claim's criterion, Measurements → verdicts), the error
types, and the one argument parser the command lines share.

Rooms, lowest first; imports only point down this list (enforced by tests/test_import_graph.py):
theory → landscape → toymodels, llm_check (peers, never importing each other) → paper_figures → benchmarks.
"""
