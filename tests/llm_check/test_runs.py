"""llm_check.runs on the tiny offline model: statistics re-derived from the stored rows, the worst-case
direction's norm, both input-robustness labels, the SFT direction, and the CLI's bad-input contract."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch
from llm_runs_support import write_task
from scipy.stats import beta

from landscape.store import ResultStore
from landscape.tensorfile import write_safetensors
from llm_check.cli import main
from llm_check.runs import (
    Capability,
    RunContext,
    finetuned_certificate,
    input_robustness,
    most_case_curves,
    sft_case,
    strict_basin,
    ties_embeddings,
    worst_case_direction,
)
from llm_check.scores import make_score
from llm_check.tasks import load_jsonl_task
from theory.errors import UserInputError


@pytest.fixture
def setup(tmp_path, tiny_model, tiny_tokenizer):
    task = load_jsonl_task(write_task(tmp_path / "tiny.jsonl"))
    ctx = RunContext.create(tiny_model, tiny_tokenizer, "tiny", "h", tmp_path / "out")
    return ctx, Capability("basic", make_score(task, tiny_tokenizer), (0, 1, 2)), tmp_path


def test_strict_basin_counts_rows(setup):
    """n_same = directions whose stored score at σ equals the stored clean score; lower bound = CP."""
    ctx, cap, _ = setup
    sb = strict_basin(ctx, cap, 0.05, n_directions=6, confidence=0.9)
    rows = ResultStore(ctx.out_dir / "rows.jsonl").rows()
    clean = [r.values["value"] for r in rows if r.key["direction"] is None]
    at_sigma = [r.values["value"] for r in rows if r.key["direction"] is not None and r.key["alpha"] == 0.05]
    assert len(clean) == 1 and len(at_sigma) == 6
    same = sum(v == clean[0] for v in at_sigma)
    assert sb.n_same == same
    expected = 0.0 if same == 0 else float(beta.ppf(0.1, same, 6 - same + 1))
    assert sb.fraction.lo == pytest.approx(expected, abs=1e-9)


def test_curves_resume_from_store(setup):
    ctx, cap, _ = setup
    first = most_case_curves(ctx, cap, [-0.02, 0.02], k=2)
    again = most_case_curves(RunContext.create(ctx.model, ctx.tokenizer, "tiny", "h", ctx.out_dir), cap,
                             [-0.02, 0.02], k=2)
    assert first.n_evals == 5 and again.n_evals == 0
    assert (first.values == again.values).all()


def test_worst_direction_has_norm_sqrt_d_and_is_reused(setup):
    ctx, _, _ = setup
    before = {n: p.detach().clone() for n, p in ctx.model.named_parameters()}
    spec, found = worst_case_direction(ctx, steps=2, block_size=16, max_blocks=2)
    d = sum(p.numel() for p in ctx.model.parameters())
    assert found is not None and found.norm == pytest.approx(math.sqrt(d), rel=1e-5)
    assert all(torch.equal(before[n], p) for n, p in ctx.model.named_parameters())
    again, none = worst_case_direction(ctx, steps=2, block_size=16, max_blocks=2)
    assert none is None and again.to_key() == spec.to_key()


def test_input_robustness_labels_and_tied_caveat(setup):
    ctx, cap, _ = setup
    from llm_check.runs import certificate

    cert = certificate(ctx, cap, 0.01, n=4)
    run = input_robustness(ctx, cap, 0.05, cert, n=4)
    assert ties_embeddings(ctx.model)
    assert run.rigorous.label.startswith("rigorous") and "heuristic" in run.heuristic.label
    assert any("tied" in c for c in run.heuristic.caveats)
    W = ctx.model.get_input_embeddings().weight.detach().double()
    old, new = run.substitution
    assert run.heuristic.distance == pytest.approx(float(torch.linalg.vector_norm(W[old] - W[new])), rel=1e-9)


def test_sft_direction_and_finetuned_certificate(setup):
    ctx, cap, tmp = setup
    moved = {n: p.detach() + 0.01 for n, p in ctx.model.named_parameters()}
    path = tmp / "sft.safetensors"
    write_safetensors(path, sorted(moved.items()))
    land = sft_case(ctx, cap, path, [-0.01, 0.01])
    assert land.alphas == (-0.01, 0.0, 0.01) and len(land.curves) == 1
    finetuned = copy.deepcopy(ctx.model)
    with torch.no_grad():
        for p in finetuned.parameters():
            p.add_(0.01)
    check = finetuned_certificate(ctx, cap, finetuned, 0.02, n=4, finetuned_hash="ft")
    d = sum(p.numel() for p in ctx.model.parameters())
    assert check.displacement_norm == pytest.approx(0.01 * math.sqrt(d), rel=1e-4)


def test_bad_sigma_raises(setup):
    ctx, cap, _ = setup
    with pytest.raises(UserInputError):
        strict_basin(ctx, cap, 0.0)
    with pytest.raises(UserInputError):
        strict_basin(ctx, cap, -1.0)


@pytest.mark.parametrize("argv", [
    ["sigma-basin", "--sigmas", "0"],
    ["sigma-basin", "--sigmas", "-0.1,0.2"],
    ["certify", "--sigma", "-1"],
    ["run", "--quick", "--limit", "0"],
    ["edges", "--tasks", "no_such_task"],
])
def test_cli_bad_input_exit_2_rows_intact(tmp_path, tiny_hf_dir, capsys, argv):
    out = tmp_path / "out"
    out.mkdir()
    rows = out / "rows.jsonl"
    rows.write_text('{"key":{"a":1},"values":{"value":0.5}}\n')
    before = rows.read_bytes()
    code = main([*argv, "--model", str(tiny_hf_dir), "--output-path", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("llm-check: error:")
    assert rows.read_bytes() == before


def test_cli_error_after_rows_written_keeps_them(tmp_path, tiny_hf_dir, capsys):
    """A user error raised mid-run (a checkpoint of the wrong shape) leaves the rows of earlier runs."""
    task = write_task(tmp_path / "t.jsonl", 2)
    out = tmp_path / "out"
    common = ["--model", str(tiny_hf_dir), "--tasks", str(task), "--output-path", str(out)]
    assert main(["strict-basin", "--sigma", "0.01", "--n-directions", "2", *common]) == 0
    before = (out / "rows.jsonl").read_bytes()
    assert json.loads((out / "strict_basin.json").read_text())["strict_basin"]
    bad = tmp_path / "bad.safetensors"
    write_safetensors(bad, [("model.embed_tokens.weight", torch.zeros(3, 3))])
    capsys.readouterr()
    assert main(["sft", "--checkpoint", str(bad), *common]) == 2
    err = capsys.readouterr().err  # progress bars and cost lines come first; the error is one line, last
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if "error" in line] == [err.strip().splitlines()[-1]]
    assert err.strip().splitlines()[-1].startswith("llm-check: error: direction source shape mismatch")
    assert (out / "rows.jsonl").read_bytes() == before
