"""The claim MEASUREMENTS checked on planted basins of known width (the claims themselves are never asserted).

PlantedBall: outcome_i = 1{‖θ − θ₀‖ < R_i}: exactly flat until the move crosses R_min, at chance-free 0
beyond R_max. Along a direction δ the edge at tolerance τ is R_(k)/‖δ‖ for the radius the τ rule picks,
computed here from ‖δ‖ (materialised by landscape.directions), not by the code under test.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from landscape.directions import bind
from landscape.evaluate import default_directions
from landscape.scores import ClassificationAccuracy
from theory.claims import judge
from theory.estimate import Estimate
from theory.verdict import FAILS, HOLDS, INCONCLUSIVE
from toymodels import claims as C


class PlantedBall(torch.nn.Module):
    """logit_i = R_i − ‖θ − θ₀‖ (θ₀ a buffer); ClassificationAccuracy with targets 1 scores 1{‖Δ‖ < R_i}."""

    def __init__(self, d: int, seed: int = 0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        theta0 = 1.0 + torch.rand(d, generator=g, dtype=torch.float64)
        self.theta = torch.nn.Parameter(theta0.clone())
        self.register_buffer("center", theta0.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0] - torch.linalg.vector_norm(self.theta - self.center)


def planted_score(radii, name: str = "planted") -> ClassificationAccuracy:
    r = torch.as_tensor(radii, dtype=torch.float64).reshape(-1, 1)
    return ClassificationAccuracy(inputs=r, targets=torch.ones(len(r), dtype=torch.long), name=name, chance=0.0)


def _norm(model, spec) -> float:
    b = bind(spec, model)
    return math.sqrt(sum(float(b.delta(n, p).double().square().sum()) for n, p in b.params))


@pytest.fixture()
def ws(tmp_path):
    return C.Workspace(tmp_path, C.QUICK)


def test_edges_recover_the_planted_radius_and_rerun_skips_work(ws, tmp_path):
    model = PlantedBall(50)
    score = planted_score([0.3])
    dirs = default_directions(5, 0)
    res = ws.edges(model, "ball", score, dirs, 0.5, "gaussian", alpha_start=1e-3)
    for spec, e in zip(dirs, res.directions):
        true = 0.3 / _norm(model, spec)
        for side in (e.plus, e.minus):
            assert side.lo < true <= side.hi * (1 + 1e-9)
            assert side.hi / side.lo <= 1 + C.QUICK.rel_precision + 1e-12
    n_rows = len(ws.store)
    again = C.Workspace(tmp_path, C.QUICK).edges(model, "ball", score, dirs, 0.5, "gaussian", alpha_start=1e-3)
    assert len(C.Workspace(tmp_path, C.QUICK).store) == n_rows
    assert again.median.estimate == res.median.estimate
    saved = json.loads((tmp_path / "edges" / "ball-planted-gaussian.json").read_text())
    assert saved["median"]["estimate"] == pytest.approx(res.median.estimate)


def test_multiplicative_edges_of_planted_balls_give_the_log_log_slope(ws):
    """basins-widen-with-size on two planted "widths" (d = 40 and 160): radii 0.2 and 0.8 on the same θ₀ and
    directions give edges in the ratio 4, so the slope of log edge vs log d is log 4 / log 4 = 1."""
    model = PlantedBall(40)
    narrow, wide = planted_score([0.2], "narrow"), planted_score([0.8], "wide")
    dirs = C.multiplicative_directions(5, 0)
    pts = [C.WidthPoint(w, d, 1.0, None, ws.edges(model, "ball", s, dirs, 0.5, "mult", 1e-2, 1e3), None, None)
           for w, d, s in ((1, 40, narrow), (2, 160, wide))]
    for p in pts:
        p.gauss = p.mult
    m = C.claim_widen_with_size(pts)
    assert m.claim_id == "basins-widen-with-size" and m.extra["unit_kind"] == "invariant"
    assert m.estimate.lo <= 1.0 <= m.estimate.hi
    norms = [_norm(model, spec) for spec in dirs]
    spread = (max(norms) / min(norms)) ** 2 * (1 + C.QUICK.rel_precision) ** 2  # [min, max] of 5 exact edges
    assert m.estimate.hi - m.estimate.lo <= math.log(spread) / math.log(4.0) * (1 + 1e-9)
    assert judge([m]).verdict == HOLDS


def _transition(ws, r10: float, r90: float, d: int = 2000):
    """Planted radii: 3 of 20 examples at r10, 14 between, 3 at r90. The score first loses more than 10 %
    of its drop beyond r10 and more than 90 % beyond r90, so along δ: α₁₀ = r10/‖δ‖, α₉₀ = r90/‖δ‖, R = r90/r10
    for every direction (d = 2000 keeps the directions' norms within a few per cent of each other)."""
    model = PlantedBall(d)
    score = planted_score([r10] * 3 + [0.5 * (r10 + r90)] * 14 + [r90] * 3, f"t{r10}-{r90}")
    dirs = default_directions(5, 0)
    onset = ws.edges(model, "ball", score, dirs, 0.1, f"onset{r90}", alpha_start=1e-3)
    collapse = ws.edges(model, "ball", score, dirs, 0.9, f"collapse{r90}", alpha_start=1e-3)
    tm = C.TransformerMeasurements({}, {}, {}, None, collapse, None, {}, {}, None, 0.0, onset)
    return C.claim_flat_then_collapse(tm)


@pytest.mark.parametrize("r10, r90, expected", [(0.50, 0.55, HOLDS), (0.1, 0.9, FAILS), (0.2, 0.8, INCONCLUSIVE)])
def test_transition_ratio_reads_the_planted_shape(ws, r10, r90, expected):
    """A cliff (R = 1.1) holds, a ramp-like transition (R = 9) fails, R = 4 lies between the smooth nulls."""
    m = _transition(ws, r10, r90)
    tol = (1 + C.QUICK.rel_precision) ** 2
    assert r90 / r10 / tol <= m.estimate.estimate <= r90 / r10 * tol
    assert m.extra["collapse_reached"] is True
    assert judge([m]).verdict == expected


def test_go_enlarges_hands_every_entry_to_the_judge(tmp_path, tiny_sweep):
    """The tiny sweep's entries (the producer's output), then the same entries with the gate passed and
    planted factors: every entry counts, no best-of."""
    missing = C.claim_go_enlarges(tmp_path / "none.json")
    assert judge(missing).verdict.startswith("not-measured")
    entries = json.loads((tiny_sweep[0] / "enlargement.json").read_text())
    path = tmp_path / "enlargement.json"
    path.write_text(json.dumps(entries))
    ms = C.claim_go_enlarges(path)
    assert [m.entry for m in ms] == [f"mlp standard width {e['width']}" for e in entries]
    assert [m.training_seed for m in ms] == [e["seed"] for e in entries]
    assert judge(ms).verdict.startswith("not-measured (clean_gate_passed = False")

    def planted(lo, hi):
        return Estimate((lo + hi) / 2, (lo, hi), 0.95, 32, "ratio").to_dict()

    for e in entries:
        arm = e["protocol"]["arms"][0]
        arm["gate"]["passed"], arm["plateau_reached"] = True, True
    first, second = (e["protocol"]["arms"][0]["test"] for e in entries)
    first["factor"], second["factor"] = planted(6, 9), planted(1, 2)
    path.write_text(json.dumps(entries))
    assert judge(C.claim_go_enlarges(path)).verdict == INCONCLUSIVE  # one holds, one fails at 95 %: Holm needs 0.025
    second["factor"] = planted(5.1, 8)
    path.write_text(json.dumps(entries))
    assert judge(C.claim_go_enlarges(path)).verdict == HOLDS
    entries[1]["protocol"]["arms"][0]["gate"]["passed"] = False
    path.write_text(json.dumps(entries))
    assert judge(C.claim_go_enlarges(path)).verdict == INCONCLUSIVE  # an unmeasured entry blocks "holds for all"


def test_strict_fraction_on_a_planted_ball_is_all_flat_inside_and_none_outside(tmp_path):
    """Inside the ball every one of 51 directions is flat: CP(51/51, 99 %) lower end = 0.005^(1/51) > 0.9."""
    from landscape.landscape_1d import landscape_1d
    model = PlantedBall(20)
    score = planted_score([1.0])
    dirs = default_directions(51, 0)
    norms = [_norm(model, s) for s in dirs]
    inside, outside = 0.5 / max(norms), 2.0 / min(norms)
    res = landscape_1d(model, score, [inside, outside], directions=dirs, confidence=0.99)
    got_in = res.strict_basin_fraction[res.alphas.index(inside)]
    got_out = res.strict_basin_fraction[res.alphas.index(outside)]
    assert got_in.estimate == 1.0 and got_in.lo == pytest.approx(0.005 ** (1 / 51))
    assert got_out.estimate == 0.0
    assert got_in.lo > 0.9 and got_out.hi < 0.9


# ------------------------------------------------------------------------------------------- workspace

def test_workspace_reloads_trained_weights_and_checkpoints(tmp_path):
    calls = []

    def make():
        calls.append(1)
        return torch.nn.Linear(3, 2)

    ws = C.Workspace(tmp_path, C.QUICK)
    first = ws.model("lin", lambda: torch.nn.Linear(3, 2), make)
    again = C.Workspace(tmp_path, C.QUICK).model("lin", lambda: torch.nn.Linear(3, 2), make)
    assert len(calls) == 1 and torch.equal(first.weight, again.weight)
    from landscape.training import Checkpoint
    states = ws.checkpoints("ck", lambda: [Checkpoint(5, first.state_dict())])
    reread = C.Workspace(tmp_path, C.QUICK).checkpoints("ck", lambda: pytest.fail("must not retrain"))
    assert [s for s, _ in reread] == [5] and torch.equal(reread[0][1]["weight"], states[0][1]["weight"])
