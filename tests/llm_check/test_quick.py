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
from llm_check.quick import STAGES, QuickConfig, run_quick
from llm_check.quick_cost import (
    PRIOR_VAR_BETWEEN,
    PRIOR_VAR_WITHIN,
    UnitCosts,
    busy_machine_warning,
    dry_run,
    edge_evals_per_direction,
    estimate_cost,
    other_cpu_share,
)
from llm_check.runs import Capability, RunContext
from llm_check.scores import make_score
from llm_check.tasks import load_jsonl_task
from theory.sequential import betting_interval

SMALL = QuickConfig(k=2, n_noise=8, n_certificate=6, grid_low=1, grid_high=0, rel_precision=1.0, n_checks=1,
                    worst_steps=1, go_steps=2, go_batch_size=2, go_block_size=16, alpha_start=0.05,
                    multipliers=(2.0,), stages=STAGES)


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


def _rows(out):
    return [r for r in ResultStore(out / "rows.jsonl").rows() if r.key["score"] == "tiny" and r.key["model"] == "tiny"]


def _paired_drops(out, sigma: float, seeds: list[int], b: int) -> tuple[list[float], tuple[float, float]]:
    """Per noise seed (in the given order) the paired drop of the trial's b examples, read back from the stored
    rows, and the range it lies in. With b ≥ 2 and both kinds of example present the trial is stratified by
    the clean outcome: drop = S₀·(share of its correct examples broken) − (1 − S₀)·(share of its incorrect
    ones fixed), in [−(1 − S₀), S₀], S₀ the clean score; else the mean clean outcome of its examples minus
    their score under noise, in [−1, 1] (the GO stage's fixed-n path draws the same seeds on one example
    each)."""
    rows = _rows(out)
    clean = next(r for r in rows if r.key["direction"] is None and r.key["example_ids"] is None)
    by_seed = {r.key["direction"]["seed"]: r for r in rows
               if r.key["alpha"] == sigma and r.key["direction"] is not None and r.key["example_ids"] is not None
               and len(r.key["example_ids"]) == b
               and r.key["direction"]["kind"] == "gaussian" and r.key["direction"]["seed"] in set(seeds)}
    assert len(by_seed) == len(seeds)
    outcomes = clean.values["outcomes"]
    s0 = sum(outcomes) / len(outcomes)
    stratified = b >= 2 and 0 < s0 < 1
    drops = []
    for s in seeds:
        ids, noisy = by_seed[s].key["example_ids"], by_seed[s].values["outcomes"]
        if stratified:
            broken = [1 - o for i, o in zip(ids, noisy) if outcomes[i] == 1]
            fixed = [o for i, o in zip(ids, noisy) if outcomes[i] == 0]
            assert broken and fixed, "a stratified trial draws from both strata"
            drops.append(s0 * sum(broken) / len(broken) - (1 - s0) * sum(fixed) / len(fixed))
        else:
            drops.append(sum(outcomes[i] for i in ids) / len(ids) - by_seed[s].values["value"])
    return drops, ((-(1 - s0), s0) if stratified else (-1.0, 1.0))


def test_certificate_rederived_from_rows(quick_run):
    """p_lower = S(θ₀) − the one-sided betting upper bound of the paired drops, recomputed from the stored
    rows (the clean score of each trial's examples minus their score under noise); radius = σ(Φ⁻¹(p_lower) −
    Φ⁻¹(q)); b examples per trial, the σ-basin's."""
    out, summary, _, _ = quick_run
    block = summary["capabilities"]["basic"]
    cert = block["certificate"]
    assert cert["n_trials"] == SMALL.n_certificate == len(cert["noise_seeds"])
    assert cert["examples_per_trial"] == block["sigma_basin_trials"][0]["b"]
    drops, bounds = _paired_drops(out, cert["sigma"], cert["noise_seeds"], cert["examples_per_trial"])
    upper = betting_interval(drops, confidence=cert["confidence"], bounds=bounds, sided="upper")[1]
    clean = block["clean_score"]
    assert cert["p_a_lower"] == pytest.approx(max(0.0, clean - upper), abs=1e-9)
    if cert["p_a_lower"] >= cert["q"]:
        radius = cert["sigma"] * (norm.ppf(cert["p_a_lower"]) - norm.ppf(cert["q"]))
        assert cert["radius"] == pytest.approx(radius, rel=1e-9)
    else:
        assert cert["radius"] == 0.0


def test_sequential_sigma_basin_rederived_from_rows(quick_run):
    """Each measured σ's drop interval is the two-sided betting interval of its stored paired drops at the
    Bonferroni level over the grid; its decision follows from that interval against τ; the σ-basin interval
    is [largest inside, smallest outside]."""
    out, summary, _, _ = quick_run
    block = summary["capabilities"]["basic"]
    m = SMALL.grid_low + SMALL.grid_high + 1
    level = 1 - (1 - SMALL.edge_confidence) / m
    trials = {t["sigma"]: t for t in block["sigma_basin_trials"]}
    assert trials and all(set(t) == {"sigma", "trials", "b", "decision"} for t in trials.values())
    for point in block["sigma_basin_points"]:
        drops, bounds = _paired_drops(out, point["sigma"], point["noise_seeds"], trials[point["sigma"]]["b"])
        lo, hi = betting_interval(drops, confidence=level, bounds=bounds)
        assert point["drop"]["ci"] == pytest.approx([lo, hi], abs=1e-12)
        t = trials[point["sigma"]]
        assert t["trials"] == len(drops) <= SMALL.n_noise
        assert t["decision"] == ("inside" if hi < SMALL.tau else "outside" if lo > SMALL.tau else "undecided")
    inside = [s for s, t in trials.items() if t["decision"] == "inside"]
    outside = [s for s, t in trials.items() if t["decision"] == "outside"]
    hi = min(outside, default=math.inf)
    ci = [float(x) for x in block["sigma_basin"]["ci"]]   # the summary writes inf as "inf"
    assert ci == pytest.approx([max([s for s in inside if s < hi], default=0.0), hi])


def test_worst_to_most_ratio_consistent(quick_run):
    _, summary, _, _ = quick_run
    block = summary["capabilities"]["basic"]
    ratio = block["worst_to_most_ratio"]
    edge = block["basin_edge"]["estimate"]
    if ratio is not None and math.isfinite(edge) and edge > 0:
        assert ratio == pytest.approx(block["worst_edge"] / edge)


def test_measurements_for_the_claims_table(quick_run):
    """DIR/measurements.json holds the registry's worst-much-narrower entry per capability: the median edge's
    interval divided by the worst edge's bracket, which holds the worst edge; the judge accepts it."""
    from theory.claims import judge_all
    from theory.claims.document import measurement_from_dict

    out, summary, _, _ = quick_run
    block = summary["capabilities"]["basic"]
    stored = [measurement_from_dict(d) for d in json.loads((out / "measurements.json").read_text())]
    worst = [m for m in stored if m.claim_id == "worst-much-narrower"]
    assert [m.entry for m in worst] == ["basic"] and worst[0].subject == "tiny"
    lo, hi = block["worst_edge_bracket"]
    assert lo <= block["worst_edge"] <= hi
    edge = block["basin_edge"]
    edge_lo, edge_hi = (float(x) for x in edge["ci"])  # the summary writes inf as "inf"
    expected_lo = 0.0 if math.isinf(hi) else edge_lo / hi  # a worst edge beyond the searched range bounds nothing
    expected_hi = math.inf if lo == 0 or math.isinf(edge_hi) else edge_hi / lo
    assert list(worst[0].estimate.ci) == pytest.approx([expected_lo, expected_hi])
    assert worst[0].estimate.confidence == pytest.approx(edge["coverage"])
    assert "worst-much-narrower" in {r.id for r in judge_all(stored)}


def test_measurement_arithmetic_on_finite_edges(quick_run):
    """The fixture's edges lie beyond its searched range, so its ratios are [0, inf]; on its summary with
    finite edges put in: worst-much-narrower = [edge.lo / bracket.hi, edge.hi / bracket.lo], and a second
    capability whose edges are twice basic's along every direction has median ratio 2 with sign-test
    p = 2⁻ᴷ; a capability at chance is not measured."""
    import copy

    from llm_check.measurements import quick_measurements

    _, summary, _, _ = quick_run
    finite = copy.deepcopy(summary)
    basic = finite["capabilities"]["basic"]
    basic["basin_edge"].update(estimate=4.0, ci=[2.0, 8.0], per_direction=[1.0, 2.0, 4.0, 8.0], K=4)
    basic.update(worst_edge=0.01, worst_edge_bracket=[0.008, 0.012])
    other = copy.deepcopy(basic)
    other["basin_edge"]["per_direction"] = [2.0, 4.0, 8.0, 16.0]
    other["clean_score"] = other["chance"] + 0.5
    finite["capabilities"]["math"] = other
    got = {(m.claim_id, m.entry): m for m in quick_measurements(finite)}
    assert got["worst-much-narrower", "basic"].estimate.ci == pytest.approx((2.0 / 0.012, 8.0 / 0.008))
    nested = got["basins-nested", "math"]
    assert nested.estimate.estimate == pytest.approx(2.0) and nested.p_fails == pytest.approx(0.5 ** 4)
    other["clean_score"] = other["chance"]
    at_chance = [m for m in quick_measurements(finite) if m.claim_id == "basins-nested"]
    assert len(at_chance) == 1 and at_chance[0].estimate is None and "not learnt" in at_chance[0].reason


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
    assert set(est) >= {"basic/edges", "sigma_basin", "worst_case/direction", "go_enlargement"}
    assert all(v > 0 for k, v in est.items() if k != "certificate")
    for n, p in tiny_model.named_parameters():
        assert torch.equal(p, before[n]), n


def _unit_costs() -> UnitCosts:
    return UnitCosts(noise=2.0, write=0.5, eval_one={"a": 0.25}, eval_set={"a": 4.25}, n_examples={"a": 17},
                     clean={"a": 0.5}, go_step=5.0, go_fixed=7.0, ascent_step=11.0, ascent_fixed=13.0)


class _Fake:
    name = "a"


def test_cost_estimate_counts():
    """Stage cost = count × unit (llm_check.quick_cost's doc), each count written out here from that doc."""
    costs = _unit_costs()
    assert costs.eval("a", 9) == pytest.approx(0.25 + 4.0 * 8 / 16)          # the line through 1 and N
    cfg = QuickConfig(**{**asdict(SMALL), "sigma_search": "grid", "edge_stop_early": False})
    m = SMALL.grid_low + SMALL.grid_high + 1
    est = estimate_cost(costs, [_Fake()], cfg)
    trial = 2.0 + 0.5 + 0.25                                                    # noise + write + one example
    assert est["sigma_basin"] == pytest.approx(m * cfg.n_noise * trial)
    assert est["certificate"] == pytest.approx(cfg.n_certificate * trial)  # b = 1 off the sequential path
    per_direction = edge_evals_per_direction(cfg)
    assert est["a/edges"] == pytest.approx(cfg.k * per_direction * (2.0 + 0.5 + 4.25) + 4.25)
    assert est["worst_case/direction"] == 13.0 + cfg.worst_steps * 11.0
    arms = len(cfg.multipliers) + 1
    assert est["go_enlargement"] == pytest.approx(arms * (7.0 + cfg.go_steps * 5.0)
                                                  + (1 + 2 * arms) * m * cfg.n_noise * trial + arms * 4.25)
    # early stopping: one held draw per direction, each evaluation a write and (1 + S(θ₀))/2 of the set
    early = estimate_cost(costs, [_Fake()], QuickConfig(**{**asdict(cfg), "edge_stop_early": True}))
    assert early["a/edges"] == pytest.approx(cfg.k * (2.0 + per_direction * (0.5 + 0.75 * 4.25)) + 4.25)
    # the default 7-point grid: all 7 sigmas, or the binary search's 3 plus half a step up on average
    for search, points in (("grid", 7), ("bisect", 3.5)):
        cfg = QuickConfig(sigma_search=search)
        assert estimate_cost(costs, [_Fake()], cfg)["sigma_basin"] == pytest.approx(points * cfg.n_noise * trial)


def test_sequential_cost_uses_the_engines_rule_with_the_stated_priors():
    """The joint sequential σ-basin: per capability a pilot and T_c trials of 2·(write + eval(b_c)), one noise
    draw per trial for all (max T_c draws); b_c and T_c from the engine's cost rule, recomputed here from its
    formula: trials(b) = max(2 Var(V_b) log(1/α) / (τ/2)², floor(b)), b ≥ 2 stratified at the clean score
    (b₁ = round(b·S₀) correct examples, within-variance the prior in each stratum, drops in [S₀ − 1, S₀]),
    b = 1 uniform (drops in [−1, 1])."""
    from landscape.trial_size import PILOT_DRAWS, floor_trials

    costs = UnitCosts(noise=2.0, write=0.5, eval_one={"a": 0.25, "c": 0.05}, eval_set={"a": 4.25, "c": 1.0},
                      n_examples={"a": 17, "c": 40}, clean={"a": 0.5, "c": 0.3})
    cfg = QuickConfig()
    level = 1 - (1 - cfg.edge_confidence) / 7

    def plan(cap: str) -> tuple[int, float]:
        n, options = costs.n_examples[cap], {}
        n1 = round(n * costs.clean[cap])
        s0 = n1 / n
        for b in sorted({1, *(2 ** k for k in range(1, 12) if 2 ** k < n), n}):
            if b == 1:
                var = PRIOR_VAR_BETWEEN + PRIOR_VAR_WITHIN
                floor = floor_trials(cfg.tau, level)
            else:
                b1 = min(max(1, round(b * s0)), b - 1)
                var = PRIOR_VAR_BETWEEN + sum((m / n) ** 2 * PRIOR_VAR_WITHIN * (m - k) / ((m - 1) * k)
                                              for m, k in ((n1, b1), (n - n1, b - b1)))
                floor = floor_trials(cfg.tau, level, (s0 - 1, s0))
            trials = max(2 * var * math.log(1 / (1 - level)) / (cfg.tau / 2) ** 2, floor)
            options[b] = (2.0 + 0.5 + costs.eval(cap, b)) * trials, trials
        b = min(options, key=lambda k: options[k][0])
        return b, min(cfg.n_noise, options[b][1])

    class _Cap:
        def __init__(self, name):
            self.name = name

    est = estimate_cost(costs, [_Cap("a"), _Cap("c")], cfg)
    (ba, ta), (bc, tc) = plan("a"), plan("c")
    pilots = sum(PILOT_DRAWS * (2.0 + 2 * 0.5 + costs.eval_set[c] + costs.eval_one[c]) for c in ("a", "c"))
    expected = pilots + max(ta, tc) * 2.0 + 2 * ta * (0.5 + costs.eval("a", ba)) + 2 * tc * (0.5 + costs.eval("c", bc))
    assert est["sigma_basin"] == pytest.approx(expected)
    # the certificates: one noise draw per trial for both capabilities, each its own write and b examples
    assert est["certificate"] == pytest.approx(
        cfg.n_certificate * (2.0 + 0.5 + costs.eval("a", ba) + 0.5 + costs.eval("c", bc)))


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
