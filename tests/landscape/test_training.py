"""The shared training loop (landscape.training): its two data orders, seeded and reproducible."""

from __future__ import annotations

import torch

from landscape.training import TrainConfig, train


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
