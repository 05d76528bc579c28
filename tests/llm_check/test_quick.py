"""The quick check on the tiny offline model: contract keys, numbers re-derived from the stored rows,
resumption without re-evaluation, and the dry run writing nothing."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import pytest
import torch
from llm_runs_support import write_task
from scipy.stats import norm

from landscape.store import ResultStore
from llm_check.quick import (
    QuickConfig,
    UnitCosts,
    busy_machine_warning,
    dry_run,
    edge_evals_per_direction,
    estimate_cost,
    other_cpu_share,
    run_quick,
)
from llm_check.runs import Capability, RunContext
from llm_check.scores import make_score
from llm_check.tasks import load_jsonl_task
from theory.sequential import betting_interval

SMALL = QuickConfig(k=2, n_noise=8, grid_low=1, grid_high=0, rel_precision=1.0, n_checks=1, worst_steps=1,
                    go_steps=2, go_batch_size=2, go_block_size=16, alpha_start=0.05, multipliers=(2.0,))


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, tiny_model, tiny_tokenizer):
    root = tmp_path_factory.mktemp("quick")
    task = load_jsonl_task(write_task(root / "tiny.jsonl"))
    score = make_score(task, tiny_tokenizer)
    ctx = RunContext.create(tiny_model, tiny_tokenizer, "tiny", "hash0", root / "out")
    caps = [Capability("basic", score)]
    summary = run_quick(ctx, caps, SMALL)
    return root / "out", summary, ctx, caps


def test_summary_contract(quick_run):
    out, summary, _, _ = quick_run
    on_disk = json.loads((out / "summary.json").read_text())
    for name in ("basic",):
        block = on_disk["capabilities"][name]
        assert set(block["basin_edge"]) >= {"estimate", "ci", "coverage", "K", "tau"}
        assert block["basin_edge"]["K"] == SMALL.k
        assert set(block["sigma_basin"]) >= {"estimate", "ci", "confidence", "coverage", "n", "unit"}
        assert "worst_to_most_ratio" in block
        assert set(block["certificate"]) >= {"p_a_lower", "confidence", "n_trials", "sigma", "q", "radius"}
    go = on_disk["go_enlargement"]
    assert set(go) >= {"factor", "factor_invariant", "ci", "clean_score_change", "sigma_train", "steps", "tokens",
                       "control_factor", "verdict"}
    assert go["verdict"].startswith("inconclusive (under-trained: 2 steps")
    assert go["tokens"] == SMALL.go_steps * SMALL.go_batch_size * SMALL.go_block_size
    # before / after σ-basins in both units, per arm (control last), with the clean score and training losses
    assert set(go["before"]) >= {"clean_score", "sigma_basin", "sigma_basin_invariant"}
    assert [a["multiplier"] for a in go["arms"]] == [*SMALL.multipliers, 0.0]
    for arm in go["arms"]:
        after = arm["after"]
        assert set(after) >= {"clean_score", "sigma_basin", "sigma_basin_invariant", "tokens", "train_loss_last"}
        assert arm["clean_score_change"] == pytest.approx(after["clean_score"] - go["before"]["clean_score"])
        assert math.isfinite(after["train_loss_first"]) and math.isfinite(after["train_loss_last"])


def test_certificate_rederived_from_rows(quick_run):
    """p_lower = S(θ₀) − the one-sided betting upper bound of the paired drops, recomputed from the stored
    rows (clean outcome of each trial's example minus its outcome under noise); radius = σ(Φ⁻¹(p_lower) −
    Φ⁻¹(q))."""
    out, summary, _, _ = quick_run
    cert = summary["capabilities"]["basic"]["certificate"]
    rows = [r for r in ResultStore(out / "rows.jsonl").rows() if r.key["score"] == "tiny" and r.key["model"] == "tiny"]
    clean = next(r for r in rows if r.key["direction"] is None and r.key["example_ids"] is None)
    trials = [r for r in rows if r.key["alpha"] == cert["sigma"] and r.key["direction"] is not None
              and r.key["direction"]["kind"] == "gaussian" and r.key["example_ids"] is not None
              and len(r.key["example_ids"]) == 1 and r.key["direction"]["seed"] in set(cert["noise_seeds"])]
    assert len(trials) == cert["n_trials"] == SMALL.n_noise
    drops = [clean.values["outcomes"][r.key["example_ids"][0]] - r.values["value"] for r in trials]
    order = {s: i for i, s in enumerate(cert["noise_seeds"])}
    drops = [d for _, d in sorted(zip((order[r.key["direction"]["seed"]] for r in trials), drops))]
    upper = betting_interval(drops, confidence=cert["confidence"], bounds=(-1.0, 1.0), sided="upper")[1]
    expected = max(0.0, clean.values["value"] - upper)
    assert cert["p_a_lower"] == pytest.approx(expected, abs=1e-9)
    if cert["p_a_lower"] >= cert["q"]:
        radius = cert["sigma"] * (norm.ppf(cert["p_a_lower"]) - norm.ppf(cert["q"]))
        assert cert["radius"] == pytest.approx(radius, rel=1e-9)
    else:
        assert cert["radius"] == 0.0


def test_worst_to_most_ratio_consistent(quick_run):
    _, summary, _, _ = quick_run
    block = summary["capabilities"]["basic"]
    ratio = block["worst_to_most_ratio"]
    edge = block["basin_edge"]["estimate"]
    if ratio is not None and math.isfinite(edge) and edge > 0:
        assert ratio == pytest.approx(block["worst_edge"] / edge)


def test_rerun_resumes_without_new_rows(quick_run):
    out, summary, ctx, caps = quick_run
    before = (out / "rows.jsonl").read_bytes()
    first = json.loads((out / "summary.json").read_text())["timings_s"]
    again = run_quick(RunContext.create(ctx.model, ctx.tokenizer, "tiny", "hash0", out), caps, SMALL)
    assert (out / "rows.jsonl").read_bytes() == before
    timing_keys = ("timings_s", "timings_s_this_run", "total_s")
    strip = lambda s: {k: v for k, v in s.items() if k not in timing_keys}  # noqa: E731
    assert json.dumps(strip(again), sort_keys=True, default=str) == json.dumps(strip(summary), sort_keys=True,
                                                                                 default=str)
    # a stage's recorded seconds add up over the runs into the folder
    for stage, seconds in again["timings_s"].items():
        assert seconds == pytest.approx(first[stage] + again["timings_s_this_run"][stage])


def test_dry_run_writes_nothing_and_leaves_the_model_bitwise(tmp_path, tiny_model, tiny_tokenizer, capsys):
    task = load_jsonl_task(write_task(tmp_path / "t.jsonl"))
    ctx = RunContext.create(tiny_model, tiny_tokenizer, "tiny", "h", tmp_path / "out")
    before = {n: p.detach().clone() for n, p in tiny_model.named_parameters()}
    est = dry_run(ctx, [Capability("basic", make_score(task, tiny_tokenizer))], SMALL)
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())  # no rows, no GO checkpoint, no worst direction
    assert "total" in capsys.readouterr().out
    assert set(est) >= {"basic/edges", "basic/sigma_basin", "worst_case/direction", "go_enlargement"}
    assert all(v > 0 for k, v in est.items() if not k.endswith("/certificate"))
    for n, p in tiny_model.named_parameters():
        assert torch.equal(p, before[n]), n


def _unit_costs() -> UnitCosts:
    return UnitCosts(full_eval={"a": 1.0}, probe_full={"a": 2.0},
                     trial={"a": {"gaussian": 1.0, "multiplicative": 3.0}},
                     go_step=5.0, go_fixed=7.0, ascent_step=11.0, ascent_fixed=13.0)


class _Fake:
    name = "a"


def test_cost_estimate_counts():
    """Stage cost = count × unit: edges K·(evals per direction)·probe + the baseline; σ-basin m·n·trial;
    GO (arms = multipliers + control): training, before's invariant basin, per arm a clean score and both basins."""
    costs = _unit_costs()
    m = SMALL.grid_low + SMALL.grid_high + 1
    cfg = QuickConfig(**{**asdict(SMALL), "sigma_search": "grid"})
    est = estimate_cost(costs, [_Fake()], cfg)
    assert est["a/sigma_basin"] == m * cfg.n_noise * 1.0
    assert est["a/certificate"] == cfg.n_noise * 1.0  # fresh noise: never re-read from the σ-basin
    assert est["a/edges"] == cfg.k * edge_evals_per_direction(cfg) * 2.0 + 1.0
    assert est["worst_case/direction"] == 13.0 + cfg.worst_steps * 11.0
    arms = len(cfg.multipliers) + 1
    assert est["go_enlargement"] == (arms * (7.0 + cfg.go_steps * 5.0) + (3.0 + arms * (1.0 + 3.0)) * m * cfg.n_noise
                                     + arms * 1.0)
    # the default 7-point grid: all 7 sigmas, or the binary search's 3 plus half a step up on average
    for search, points in (("grid", 7), ("bisect", 3.5)):
        cfg = QuickConfig(sigma_search=search)
        assert estimate_cost(costs, [_Fake()], cfg)["a/sigma_basin"] == points * cfg.n_noise * 1.0


def test_dry_run_warns_when_timed_on_a_busy_machine():
    """Other processes' share = (machine busy seconds − this process's) ÷ (wall × cores)."""
    assert other_cpu_share((100.0, 10.0), (110.0, 19.0), wall_s=5.0, cores=2) == pytest.approx(0.1)
    assert other_cpu_share((100.0, 10.0), (110.0, 11.0), wall_s=5.0, cores=2) == pytest.approx(0.9)
    assert other_cpu_share(None, (1.0, 1.0), wall_s=1.0) is None
    assert busy_machine_warning(0.1) is None and busy_machine_warning(None) is None
    assert "other processes used 90% of the CPUs" in busy_machine_warning(0.9)


@pytest.mark.slow
def test_report_from_quick_output(quick_run):
    from llm_check.report import write_report

    out, summary, _, _ = quick_run
    text = write_report(out).read_text()
    edge = summary["capabilities"]["basic"]["basin_edge"]["estimate"]
    assert "### basic" in text and "verdict: **inconclusive (under-trained" in text
    assert f"{edge:.4g}" in text or edge in (None, float("inf"))


@pytest.mark.slow
def test_cli_quick_default_model_and_report(tmp_path, basin_cache, capsys):
    """`llm-check run --quick` on the default model path (the fake wheel's tiny GGUF), then `report`."""
    from llm_check.cli import main

    out = tmp_path / "q"
    argv = ["run", "--quick", "--tasks", "general_knowledge", "--output-path", str(out), "--k", "2", "--n", "8",
            "--go-steps", "1", "--worst-steps", "1"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert "go_enlargement" in summary and "basic" in summary["capabilities"]
    assert main(["report", str(out)]) == 0 and (out / "report.md").is_file()
