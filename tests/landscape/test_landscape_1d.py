import numpy as np
import pytest
import torch
from analytic_models import HalfSpace, param_bits, same_bits, threshold_score
from scipy.stats import beta

from landscape.context import ProbeContext
from landscape.directions import DirectionSpec, bind
from landscape.landscape_1d import landscape_1d, symmetric_grid
from landscape.store import ResultStore
from theory.errors import UserInputError

D, MARGIN = 25, 0.2


def setup():
    v = torch.zeros(D, dtype=torch.float64)
    v[0] = 1.0
    return HalfSpace(torch.zeros(D), v), threshold_score([-MARGIN])


def test_grid_holds_zero_and_both_endpoints():
    g = symmetric_grid(0.01, 21)
    assert g[0] == -0.01 and g[-1] == 0.01 and 0.0 in g and len(g) == 21
    with pytest.raises(UserInputError):
        symmetric_grid(0.01, 20)


def test_curves_match_the_closed_form_and_summaries_are_order_statistics_and_cp():
    model, score = setup()
    bits = param_bits(model)
    grid = symmetric_grid(0.3, 11)
    res = landscape_1d(model, score, grid, k=8, confidence=0.95, ctx=ProbeContext(seed=21))
    assert same_bits(model, bits)
    assert res.alphas == tuple(sorted(grid)) and len(res.curves) == 8 and res.seeds == tuple(range(21, 29))
    values = res.values
    for i, curve in enumerate(res.curves):
        vd = float(bind(DirectionSpec("gaussian", seed=21 + i), model).delta("theta", model.theta)[0])
        expected = [1.0 if a * vd > -MARGIN else 0.0 for a in res.alphas]
        assert list(curve.values) == expected
        norms = np.array(curve.effective_norms)
        assert norms[res.alphas.index(0.0)] == 0.0 and np.all(norms[np.array(res.alphas) != 0] > 0)
    for j in range(len(res.alphas)):
        col = np.sort(values[:, j])
        med = res.median[j]
        assert med.ci == (col[0], col[-1])                           # K = 8: [min, max] reaches 95 %
        assert med.coverage == pytest.approx(1 - 2.0 ** (1 - 8))
        same = int(np.sum(values[:, j] == 1.0))
        frac = res.strict_basin_fraction[j]
        assert frac.estimate == same / 8 and frac.n == 8
        lo = 0.0 if same == 0 else beta.ppf(0.025, same, 8 - same + 1)   # independent Clopper–Pearson
        hi = 1.0 if same == 8 else beta.ppf(0.975, same + 1, 8 - same)
        assert frac.ci == pytest.approx((lo, hi), abs=1e-9)
    assert res.strict_basin_fraction[res.alphas.index(0.0)].estimate == 1.0


def test_explicit_directions_and_zero_added():
    model, score = setup()
    specs = [DirectionSpec("gaussian", seed=1, param_filter=("theta",)), DirectionSpec("gaussian", seed=2)]
    res = landscape_1d(model, score, [0.1, 0.2], directions=specs)
    assert res.alphas == (0.0, 0.1, 0.2) and [c.direction for c in res.curves] == [s.to_key() for s in specs]


def test_a_rerun_reads_its_rows_and_a_cut_run_resumes(tmp_path):
    path = tmp_path / "rows.jsonl"
    model, score = setup()
    grid = symmetric_grid(0.3, 5)
    first = landscape_1d(model, score, grid, k=3, ctx=ProbeContext(store=ResultStore(path), model_id="hs", seed=1))
    assert first.n_evals == 1 + 3 * 4
    again = landscape_1d(model, score, grid, k=3, ctx=ProbeContext(store=ResultStore(path), model_id="hs", seed=1))
    assert again.n_evals == 0 and again.curves == first.curves
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:5]) + lines[5][:7])      # killed mid-append after 5 rows
    resumed = landscape_1d(model, score, grid, k=3, ctx=ProbeContext(store=ResultStore(path), model_id="hs", seed=1))
    assert resumed.n_evals == len(lines) - 5 and resumed.curves == first.curves
    assert path.read_bytes().count(b"\n") == len(lines)


def test_sft_curve_passes_through_the_fine_tuned_weights():
    model, score = setup()
    theta_sft = {"theta": model.theta.detach() - 0.5 * model.v}       # crosses the edge at ‖Δθ‖ = MARGIN
    spec = DirectionSpec.sft(theta_sft)
    at_sft = 0.5 / np.sqrt(D)                                          # α with α·‖δ‖ = α√d = ‖θ_sft − θ₀‖
    edge = MARGIN / np.sqrt(D)
    res = landscape_1d(model, score, [-at_sft, 0.9 * edge, 1.1 * edge, at_sft], directions=[spec])
    assert res.curves[0].values == (1.0, 1.0, 1.0, 0.0, 0.0)
    assert res.curves[0].effective_norms[-1] == pytest.approx(0.5, rel=1e-12)
    assert res.median[0].coverage == 0.0                               # K = 1: no interval for the median
