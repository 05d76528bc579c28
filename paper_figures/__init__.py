"""paper_figures room of the basin suite (see ../shared/DESIGN.md).

`python -m paper_figures [--quick] --out DIR` regenerates, from results stored under DIR/results/ (and
computed through landscape/ and toymodels/ when missing): fig01_most_case … fig11_input_robustness
(PNG + PDF), table01_inside_basin.md|csv, claims.md|json and figures.md (what each file shows).
Plot helpers shared with llm_check live in landscape.plotting.
"""
