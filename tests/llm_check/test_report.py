"""`llm-check report DIR`: the report states every measured number from summary.json and the stages
that were not measured; figures are written; a missing summary is a user error (exit 2)."""

from __future__ import annotations

import json

from llm_check.cli import main

SUMMARY = {
    "model": "tiny", "weight_hash": "abc", "n_params": 100, "seed": 0, "config": {"tau": 0.05},
    "notes": ["alpha per coordinate"], "timings_s": {"basic/edges": 1.5},
    "capabilities": {
        "basic": {"task": "t", "n_examples": 5, "chance": 0.3, "clean_score": 0.6,
                  "basin_edge": {"estimate": 0.0123, "ci": [0.01, 0.02], "coverage": 0.75, "K": 3, "tau": 0.05,
                                 "n_non_monotone": 0, "evaluations": [[[0.01, 0.6], [0.04, 0.2], [-0.02, 0.4]]]},
                  "sigma_basin": {"estimate": 0.0071, "ci": [0.005, 0.02], "confidence": 0.95, "n": 200,
                                  "unit": "sigma per coordinate", "method": "cp", "coverage": None},
                  "sigma_basin_points": [{"sigma": s, "inside": True, "outside": False,
                                          "p_a": {"estimate": 0.6, "ci": [0.5, 0.7], "confidence": 0.95, "n": 200,
                                                  "unit": "score"}} for s in (0.005, 0.01)],
                  "worst_edge": 0.0004, "worst_to_most_ratio": 0.0325, "worst_evaluations": [[0.001, 0.1]],
                  "certificate": {"p_a_lower": 0.41, "confidence": 0.99, "n_trials": 200, "sigma": 0.0071,
                                  "q": 0.3, "radius": 0.00199}},
        "math": {"task": "m", "n_examples": 4, "chance": 0.2},
    },
    "go_enlargement": {"verdict": "not-measured (no finite, positive baseline sigma-basin on basic)"},
}


def test_report_lists_numbers_and_missing_stages(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    assert main(["report", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    for number in ("0.0123", "0.0071", "0.0325", "0.41", "0.00199"):
        assert number in text
    assert "### math" in text and "basin edge: not measured" in text and "certificate: not measured" in text
    assert "not-measured (no finite" in text
    for stem in ("edges", "sigma_basin", "go_enlargement"):
        assert (tmp_path / "figures" / f"{stem}.png").stat().st_size > 0


def test_report_missing_summary_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("llm-check: error: no summary.json") and len(err.strip().splitlines()) == 1


def test_report_says_why_the_go_stage_is_missing(tmp_path):
    """A run stopped before the 5× check is told apart from one that excluded it."""
    base = {k: v for k, v in SUMMARY.items() if k != "go_enlargement"}
    for stages, phrase in ((["edges", "go"], "the run stopped before this stage"),
                           (["edges"], "not among --stages")):
        (tmp_path / "summary.json").write_text(json.dumps({**base, "config": {"tau": 0.05, "stages": stages}}))
        assert main(["report", str(tmp_path)]) == 0
        assert phrase in (tmp_path / "report.md").read_text()


def test_report_tabulates_go_basins_before_and_after(tmp_path):
    est = lambda v, lo, hi: {"estimate": v, "ci": [lo, hi], "confidence": 0.975, "n": 200,  # noqa: E731
                             "unit": "u", "method": "cp", "coverage": None, "extra": {"visited": 3, "grid_size": 7}}
    model = lambda clean, raw, inv, loss: {"clean_score": clean, "sigma_basin": raw,  # noqa: E731
                                           "sigma_basin_invariant": inv, "train_loss_first": loss,
                                           "train_loss_last": loss / 2}
    factor = {"estimate": 2.0, "ci": [1.5, 3.0], "confidence": 0.95, "n": 200, "unit": "ratio", "method": "m"}
    go = {"capability": "basic", "sigma_train": 0.0217, "sigma_train_multiplier": 2.0, "factor": 2.0,
          "ci": [1.5, 3.0], "factor_invariant": 2.0, "ci_invariant": [1.5, 3.0], "confidence": 0.95,
          "control_factor": 1.0, "control_factor_ci": [0.5, 2.0], "clean_score_change": -0.1, "steps": 20,
          "batch_size": 4, "tokens": 5120, "baseline_sigma_basin": est(0.0109, 0.0, 0.0217), "verdict": "v",
          "before": {"clean_score": 0.457, "sigma_basin": est(0.0109, 0.0, 0.0217),
                     "sigma_basin_invariant": est(0.0595, 0.0, 0.119)},
          "arms": [{"multiplier": 2.0, "sigma_train": 0.0217, "factor": factor, "factor_invariant": factor,
                    "clean_score_change": -0.071, "after": model(0.386, est(0.0217, 0.0, 0.0435),
                                                                 est(0.119, 0.0, 0.238), 3.25)}]}
    (tmp_path / "summary.json").write_text(json.dumps({**SUMMARY, "go_enlargement": go}))
    assert main(["report", str(tmp_path)]) == 0
    text = (tmp_path / "report.md").read_text()
    assert "| before | 0.457 | 0.0109 [0, 0.0217] (3 of 7 σ) | 0.0595 [0, 0.119] (3 of 7 σ) | – |" in text
    assert "| σ_train = 0.0217 (2.0×) | 0.386 | 0.0217 [0, 0.0435] (3 of 7 σ) | 0.119 [0, 0.238] (3 of 7 σ) | " \
           "3.25 → 1.62 |" in text
