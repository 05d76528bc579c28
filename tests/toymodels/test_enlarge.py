"""The 5x sweep: the reparameterisation control, factor intervals, verdict rules, enlargement.json."""

import json
import math

import pytest
import torch

from landscape.store import ResultStore
from theory.estimate import Estimate
from toymodels.__main__ import main
from toymodels.enlarge import (
    REPARAMETERISATION_EXPLAINABLE,
    SweepConfig,
    five_x_verdict,
    reparameterise,
    run_sweep,
)
from toymodels.mlp import MLP, MLPConfig
from toymodels.train import TrainConfig
from toymodels.transformer import TinyTransformer, TransformerConfig


def _est(x, lo, hi):
    return Estimate(estimate=x, ci=(lo, hi), confidence=0.975, n=10, unit="sigma")


@pytest.mark.parametrize("model", [MLP(MLPConfig(width=16, seed=2)),
                                   TinyTransformer(TransformerConfig(d_model=32, tied_embeddings=True))])
def test_reparameterisation_preserves_outputs_and_rescales_raw_noise(model):
    c = 4.0
    r = reparameterise(model, c)
    x = torch.randn(5, 16) if isinstance(model, MLP) else torch.randint(0, 30, (2, 20))
    with torch.no_grad():
        assert torch.equal(r(x), model(x))
        stored = dict(r.named_parameters())

        def key(name):
            module, _, leaf = name.rpartition(".")
            return f"{module}.parametrizations.{leaf}.original".lstrip(".")

        for name, p in model.named_parameters():
            assert torch.equal(stored[key(name)], c * p)
        # raw noise sigma*z on the stored parameters = noise (sigma/c)*z on theta: same function
        g = torch.Generator().manual_seed(0)
        noise = {n: torch.randn(p.shape, generator=g) for n, p in model.named_parameters()}
        for (n, p) in model.named_parameters():
            p.add_(0.125 * noise[n])
        for n in noise:
            stored[key(n)].add_(0.5 * noise[n])
        assert torch.equal(r(x), model(x))


def test_five_x_verdicts():
    big, small, mid = _est(10, 6, 12), _est(1, 0.5, 2), _est(3, 1, 8)
    assert five_x_verdict(big, big, True) == "holds"
    assert five_x_verdict(big, small, True) == REPARAMETERISATION_EXPLAINABLE
    assert five_x_verdict(small, small, True) == "fails"
    assert five_x_verdict(mid, mid, True) == "inconclusive"
    assert five_x_verdict(big, big, False).startswith("not-measured")


TINY = SweepConfig(mlp_widths=(8, 16), parameterisations=("standard",), transformer_widths=(),
                   mlp_base=TrainConfig(steps=30, batch_size=64, lr=3e-3),
                   mlp_tune=TrainConfig(steps=10, batch_size=64, lr=1e-3),
                   mlp_n_eval=64, n_draws=8, n_draws_coarse=3, fine_ratio=2.0)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("enlarge")
    return out, run_sweep(TINY, out, log=lambda s: None)


def test_enlargement_json_schema(tiny_run):
    out, entries = tiny_run
    data = json.loads((out / "enlargement.json").read_text())
    assert [(e["kind"], e["parameterisation"], e["width"]) for e in data] == [("mlp", "standard", 8),
                                                                             ("mlp", "standard", 16)]
    for e in data:
        assert e["params"] == MLPConfig(width=e["width"]).n_params
        assert set(e["clean_score"]) == {"before", "after"}
        for key in ("sigma_basin", "sigma_basin_invariant"):
            before, after = (Estimate.from_dict(e[key][k]) for k in ("before", "after"))
            assert before.confidence == 0.975 and before.lo <= before.estimate <= before.hi
        f = Estimate.from_dict(e["factor"])
        b, a = (Estimate.from_dict(e["sigma_basin"][k]) for k in ("before", "after"))
        expect_lo = a.lo / b.hi if math.isfinite(b.hi) else 0.0
        assert f.lo == pytest.approx(expect_lo)
        assert e["sigma_train"] == pytest.approx(2.0 * b.estimate)
        assert e["verdict"] in [r["verdict"] for r in e["go_runs"]]
        for run in e["go_runs"]:  # the paper's 5x read on each run's stored intervals: the invariant factor decides
            if run.get("sigma_train") is None:
                assert run["verdict"].startswith("not-measured")
                continue
            raw, inv = (Estimate.from_dict(run[k]) for k in ("factor", "factor_invariant"))
            expected = ("not-measured" if not run["clean_score_ok"] else "holds" if inv.lo >= 5.0
                        else REPARAMETERISATION_EXPLAINABLE if raw.lo >= 5.0
                        else "fails" if inv.hi < 5.0 else "inconclusive")
            assert run["verdict"].startswith(expected), (run["verdict"], raw.ci, inv.ci)
        c = e["control"]
        assert c["max_abs_output_diff"] == 0.0 and c["clean_score"] == e["clean_score"]["before"]
        for key in ("raw_ratio", "invariant_ratio", "sigma_basin", "sigma_basin_invariant"):
            Estimate.from_dict(c[key])


def test_control_moves_raw_basin_by_its_factor_only(tiny_run):
    """Raw grid of the rescaled model = original grid × c, so the raw ratio interval must contain c."""
    for e in tiny_run[1]:
        raw = Estimate.from_dict(e["control"]["raw_ratio"])
        inv = Estimate.from_dict(e["control"]["invariant_ratio"])
        assert raw.lo <= e["control"]["factor_applied"] <= raw.hi
        assert inv.lo <= 1.0 <= inv.hi


def test_rerun_reuses_the_store(tiny_run):
    out, entries = tiny_run
    n_rows = len(ResultStore(out / "store.jsonl"))
    again = run_sweep(TINY, out, log=lambda s: None)
    assert len(ResultStore(out / "store.jsonl")) == n_rows
    assert [e["factor"] for e in again] == [e["factor"] for e in entries]


def test_cli_user_errors_exit_2(tmp_path, capsys):
    assert main(["enlarge"]) == 2
    (tmp_path / "file").write_text("x")
    assert main(["enlarge", "--out", str(tmp_path / "file")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error:") for line in err)
