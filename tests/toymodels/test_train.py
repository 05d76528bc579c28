"""Training loop: loss goes down, runs are deterministic, checkpoints hold clean weights, GO is wired in."""

import math
from dataclasses import replace

import pytest
import torch

from theory.errors import UserInputError
from toymodels.mlp import MLP, MLPConfig, to_standard
from toymodels.tasks import teacher_student
from toymodels.train import (
    TrainConfig,
    classification_loss,
    finetune,
    mlp_adamw,
    train,
    train_mlp,
    train_on_mixture,
    trained_mlp,
    trained_transformer,
)
from toymodels.transformer import TinyTransformer, TransformerConfig

TASK = teacher_student(n_train=512, n_test=128, seed=1)
CFG = TrainConfig(steps=60, batch_size=64, lr=3e-3, seed=2)


def _params(m):
    return [p.detach().clone() for p in m.parameters()]


def _mlp_run(cfg=CFG, parameterisation="standard"):
    m = MLP(MLPConfig(width=32, parameterisation=parameterisation, seed=5))
    return m, train(m, classification_loss(TASK), len(TASK.y_train), cfg, mlp_adamw)


def test_training_reduces_loss_and_is_deterministic():
    a, ra = _mlp_run()
    b, rb = _mlp_run()
    assert sum(ra.losses[-10:]) < sum(ra.losses[:10])
    assert ra.losses == rb.losses
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


def test_checkpoints_hold_the_weights_of_their_step():
    m, r = _mlp_run(replace(CFG, checkpoint_every=20))
    assert [c.step for c in r.checkpoints] == [20, 40, 60]
    assert all(torch.equal(v, m.state_dict()[k]) for k, v in r.checkpoints[-1].state.items())
    short, _ = _mlp_run(replace(CFG, steps=20))
    assert all(torch.equal(v, short.state_dict()[k]) for k, v in r.checkpoints[0].state.items())


def test_go_changes_the_trajectory_and_keeps_checkpoints_clean():
    control, rc = _mlp_run()
    go, rg = _mlp_run(replace(CFG, sigma_train=0.05, checkpoint_every=30))
    go2, _ = _mlp_run(replace(CFG, sigma_train=0.05))
    assert rg.losses != rc.losses
    assert all(torch.equal(x, y) for x, y in zip(go.parameters(), go2.parameters()))  # seeded noise
    assert all(torch.equal(v, go.state_dict()[k]) for k, v in rg.checkpoints[-1].state.items())
    assert not all(torch.equal(x, y) for x, y in zip(go.parameters(), control.parameters()))


def test_ntk_training_with_scaled_lr_tracks_standard_training():
    """Adam's step ignores a fixed gradient scale, so lr/m on the NTK weights moves m·W as standard moves W
    (without clipping, whose factor would depend on the parameterisation)."""
    cfg = replace(CFG, steps=20, grad_clip=None)
    std, _ = _mlp_run(cfg)
    ntk, _ = _mlp_run(cfg, "ntk")
    x = TASK.x_test[:32]
    assert torch.allclose(to_standard(ntk)(x), std(x), rtol=1e-3, atol=1e-3)


def test_lr_schedule():
    cfg = TrainConfig(steps=110, lr=1.0, warmup=10, cosine=True)
    assert cfg.lr_at(5) == pytest.approx(0.5)
    assert cfg.lr_at(10) == pytest.approx(1.0)
    assert cfg.lr_at(60) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert cfg.lr_at(110) == pytest.approx(0.0, abs=1e-12)
    assert TrainConfig(lr=0.3).lr_at(7) == 0.3
    with pytest.raises(UserInputError):
        TrainConfig(sigma_train=-1.0)


def test_transformer_pretraining_reduces_loss_and_finetune_copies():
    m = TinyTransformer(TransformerConfig(d_model=32, seed=0))
    r = train_on_mixture(m, "pretrain", TrainConfig(steps=40, lr=3e-3), pool_size=512)
    assert sum(r.losses[-5:]) < sum(r.losses[:5])
    before = _params(m)
    tuned, rt = finetune(m, "adversarial", TrainConfig(steps=3, lr=1e-3))
    assert len(rt.losses) == 3
    assert all(torch.equal(a, b) for a, b in zip(before, m.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(before, tuned.parameters()))
    with pytest.raises(UserInputError):
        finetune(m, "no-such-mixture", TrainConfig(steps=1))


def test_cached_models_are_fresh_copies():
    a = trained_transformer("init", d_model=32)
    with torch.no_grad():
        a.tok_emb.weight.zero_()
    b = trained_transformer("init", d_model=32)
    assert b.tok_emb.weight.abs().sum() > 0
    with pytest.raises(UserInputError):
        trained_transformer("nonsense", d_model=32)
    with pytest.raises(UserInputError):
        train_mlp(TASK, MLPConfig(input_dim=3), CFG)


@pytest.mark.slow
def test_session_models_learn_their_capabilities():
    """The cached pipeline models (about 30 s each on one core) learn what they are for."""
    from toymodels.tasks import language_scores
    scores = language_scores(n=128)
    aligned = trained_transformer("align")
    assert scores["basic"](aligned).value > 0.5 and scores["safety"](aligned).value > 0.5
    assert scores["safety"](trained_transformer("adversarial")).value < scores["safety"](aligned).value
    mlp = trained_mlp(width=64)
    assert teacher_student(seed=0).accuracy()(mlp).value > teacher_student(seed=0).accuracy().chance
