"""The shared training loop (landscape.training): its two data orders, seeded and reproducible, its plateau
rule, and the effective-move diagnostic."""

from __future__ import annotations

import math

import torch

from landscape.training import Plateau, TrainConfig, parameter_change, train


def _rows_seen(cfg: TrainConfig, n_rows: int) -> list[list[int]]:
    model = torch.nn.Linear(2, 1)
    seen: list[list[int]] = []

    def loss(m: torch.nn.Module, rows: torch.Tensor) -> torch.Tensor:
        seen.append(rows.tolist())
        return m(torch.ones(len(rows), 2)).square().mean()

    train(model, loss, n_rows, cfg)
    return seen


def test_epochs_visit_every_row_once_per_epoch_in_a_fresh_order():
    """10 rows, batches of 4, 5 steps: rows 0–9 of the stream are one permutation, rows 10–19 another."""
    seen = _rows_seen(TrainConfig(steps=5, batch_size=4, lr=1e-2, sampling="epochs", seed=3), 10)
    stream = [r for batch in seen for r in batch]
    assert [len(b) for b in seen] == [4] * 5
    assert sorted(stream[:10]) == list(range(10)) and sorted(stream[10:]) == list(range(10))
    assert stream[:10] != stream[10:20]
    assert _rows_seen(TrainConfig(steps=5, batch_size=4, lr=1e-2, sampling="epochs", seed=3), 10) == seen


def test_with_replacement_is_the_seeded_uniform_stream():
    """The default draws torch.randint(0, n, (batch,)) from one generator seeded with cfg.seed, step by step."""
    seen = _rows_seen(TrainConfig(steps=3, batch_size=5, lr=1e-2, seed=7), 8)
    g = torch.Generator().manual_seed(7)
    assert seen == [torch.randint(0, 8, (5,), generator=g).tolist() for _ in range(3)]


def test_plateau_stops_at_the_first_check_with_too_small_an_improvement():
    """A monitor reading 10, 5, 4, 3.99, … : the drop 4 → 3.99 is 0.25 % < 1 %, so the run stops at the
    fourth check (step 40 with every = 10), keeps that step's weights as its last checkpoint, and a run
    without the rule goes to its budget."""
    values = iter([10.0, 5.0, 4.0, 3.99, 3.0, 2.0])
    model = torch.nn.Linear(2, 1)

    def loss(m, rows):
        return m(torch.ones(len(rows), 2)).square().mean()

    res = train(model, loss, 8, TrainConfig(steps=100, batch_size=2, lr=1e-2, checkpoint_every=20),
                plateau=Plateau(lambda m: next(values), every=10, rel_tol=0.01))
    assert res.steps == 40 and res.plateau_step == 40
    assert [s for s, _ in res.monitored] == [10, 20, 30, 40]
    assert res.checkpoints[-1].step == 40
    assert all(torch.equal(res.checkpoints[-1].state[k], v) for k, v in model.state_dict().items())
    full = train(torch.nn.Linear(2, 1), loss, 8, TrainConfig(steps=100, batch_size=2, lr=1e-2))
    assert full.steps == 100 and full.plateau_step is None and full.monitored == ()


def test_parameter_change_is_the_l2_move_and_the_share_of_moved_coordinates():
    """A Linear(3, 2) (6 weights, 2 biases) with weight[0, 0] += 3 and bias[1] −= 4: ‖Δθ‖₂ = 5, 2 of 8
    coordinates moved; a step below float32 resolution at 1.0 (1e-8 < ulp/2) moves nothing."""
    model = torch.nn.Linear(3, 2)
    with torch.no_grad():
        model.weight.fill_(1.0)
        model.bias.fill_(1.0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    with torch.no_grad():
        model.weight[0, 0] += 3.0
        model.bias[1] -= 4.0
    change = parameter_change(before, model)
    assert math.isclose(change["delta_norm"], 5.0, rel_tol=0, abs_tol=0) and change["moved_share"] == 2 / 8
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(before[name] + 1e-8)
    assert parameter_change(before, model) == {"delta_norm": 0.0, "moved_share": 0.0}
