"""toymodels room of the basin suite (see ../shared/DESIGN.md).

tasks/        synthetic language (skills, mixtures) and classification tasks, their 0–1 Scores and NLL controls
mlp.py        ReLU MLP in standard / NTK / mean-field parameterisation
transformer.py  small pre-norm decoder-only transformer (input-embedding entry point for Thm 4.5)
train.py      the training loop (GO via landscape.go), pre-train -> align -> fine-tune, session-cached models
enlarge.py    width sweep, GO vs AdamW σ-basins, the 5× verdicts, reparameterisation control
__main__.py   `python -m toymodels enlarge [--quick] --out DIR`
"""
