"""paper_figures: the paper's figures, Table 1 and the claims table, one registered module each.

`python -m paper_figures [--quick] --out DIR` regenerates, from results stored under DIR/results/ (and
computed through landscape/ and toymodels/ when missing): fig01_most_case … fig11_input_robustness
(PNG + PDF), table01_inside_basin.md|csv, claims.md|json and figures.md (what each file shows).
Plot helpers shared with llm_check live in landscape.plotting. The items and their order are
paper_figures.registry.MODULES; each module's FIGURE pairs a data function (stored results, computed
where missing) with a plot function that reads only that data.

Rooms, lowest first; imports only point down this list (enforced by tests/test_import_graph.py):
theory → landscape → toymodels, llm_check (peers, never importing each other) → paper_figures → benchmarks.
"""
