import copy

import pytest
import torch
from analytic_models import param_bits, same_bits

from landscape.directions import DirectionSpec, bind
from landscape.evaluate import derive_seed
from landscape.go import GaussianAugmentedOptimizer
from theory.errors import InternalError, UserInputError


def mlp(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))


def data(seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(32, 4, generator=g), torch.randint(0, 3, (32,), generator=g)


def loss_of(model, x, y):
    return torch.nn.functional.cross_entropy(model(x), y)


def train_plain(model, steps: int, micro: int):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    x, y = data()
    trace = []
    for _ in range(steps):
        for xs, ys in zip(x.chunk(micro), y.chunk(micro)):
            loss_of(model, xs, ys).backward()
        opt.step()
        opt.zero_grad()
        trace.append(param_bits(model))
    return trace


def train_go(model, steps: int, micro: int, sigma: float, seed: int = 0):
    go = GaussianAugmentedOptimizer(torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0),
                                    model, sigma_train=sigma, seed=seed)
    x, y = data()
    trace = []
    for _ in range(steps):
        for xs, ys in zip(x.chunk(micro), y.chunk(micro)):
            with go.noisy():
                loss_of(model, xs, ys).backward()
        go.step()
        go.zero_grad()
        trace.append(param_bits(model))
    return go, trace


@pytest.mark.parametrize("micro", [1, 4])
def test_sigma_zero_reproduces_the_base_optimizer_bitwise(micro):
    plain = train_plain(mlp(), 6, micro)
    _, go = train_go(mlp(), 6, micro, sigma=0.0)
    for a, b in zip(plain, go):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    _, noisy = train_go(mlp(), 6, micro, sigma=0.05)
    assert not all(torch.equal(plain[-1][k], noisy[-1][k]) for k in plain[-1])


def test_gradient_is_taken_at_theta_plus_eps_and_applied_to_clean_theta():
    # L(θ) = ½‖θ‖², θ₀ = 0, SGD lr = 1: θ₁ = θ₀ − ∇L(θ₀ + ε) = −ε, ε = σ·δ of the first GO draw
    model = torch.nn.Linear(3, 2, bias=True)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    sigma, seed = 0.1, 7
    go = GaussianAugmentedOptimizer(torch.optim.SGD(model.parameters(), lr=1.0), model, sigma, seed)
    with go.noisy() as info:
        assert info.effective_norm > 0
        sum(p.square().sum() for p in model.parameters()).mul(0.5).backward()
    assert all(torch.equal(p, torch.zeros_like(p)) for p in model.parameters())   # clean inside step
    go.step()
    spec = DirectionSpec("gaussian", seed=derive_seed(seed, "go", 0))
    ref = torch.nn.Linear(3, 2, bias=True)
    with torch.no_grad():
        for p in ref.parameters():
            p.zero_()
    bound = bind(spec, ref)
    for (name, p), (_, q) in zip(model.named_parameters(), ref.named_parameters()):
        eps = (bound.delta(name, q) * sigma).to(torch.float32)
        assert torch.equal(p.detach(), -eps)
    assert go.draws == 1


def test_checkpoint_round_trip_continues_bitwise():
    model_a = mlp()
    go_a, _ = train_go(model_a, 3, 2, sigma=0.02, seed=3)
    snap_model = {k: v.clone() for k, v in model_a.state_dict().items()}
    snap_opt = copy.deepcopy(go_a.state_dict())       # as a checkpoint on disk would hold it
    x, y = data()

    def more(model, go):
        for _ in range(3):
            for xs, ys in zip(x.chunk(2), y.chunk(2)):
                with go.noisy():
                    loss_of(model, xs, ys).backward()
            go.step()
            go.zero_grad()
        return param_bits(model)

    after_a = more(model_a, go_a)
    model_b = mlp(seed=99)
    model_b.load_state_dict(snap_model)
    go_b = GaussianAugmentedOptimizer(torch.optim.AdamW(model_b.parameters(), lr=1e-2, weight_decay=0.0),
                                      model_b, sigma_train=0.0, seed=0)
    go_b.load_state_dict(snap_opt)
    assert go_b.sigma_train == 0.02 and go_b.draws == 6
    after_b = more(model_b, go_b)
    assert all(torch.equal(after_a[k], after_b[k]) for k in after_a)


def test_misuse_is_refused_and_weights_restored_on_error():
    model = mlp()
    bits = param_bits(model)
    go = GaussianAugmentedOptimizer(torch.optim.SGD(model.parameters(), lr=0.1), model, 0.1, 0)
    with pytest.raises(RuntimeError), go.noisy():
        assert not same_bits(model, bits)
        raise RuntimeError("boom")
    assert same_bits(model, bits)
    # misuse by calling code is a bug (traceback), not a user's input error (exit status 2)
    for misuse in (go.step, go.state_dict, go.noisy().__enter__):
        with go.noisy(), pytest.raises(InternalError) as caught:
            misuse()
        assert not isinstance(caught.value, UserInputError)
    assert same_bits(model, bits)
    with pytest.raises(UserInputError):
        GaussianAugmentedOptimizer(torch.optim.SGD(model.parameters(), lr=0.1), model, -1.0, 0)


def test_closure_step_equals_the_explicit_noisy_backward_step():
    x, y = data()
    runs = []
    for use_closure in (False, True):
        model = mlp()
        go = GaussianAugmentedOptimizer(torch.optim.SGD(model.parameters(), lr=0.1), model, 0.03, seed=5)
        for _ in range(3):
            if use_closure:
                def closure(model=model):
                    loss = loss_of(model, x, y)
                    loss.backward()
                    return loss
                go.step(closure)
            else:
                with go.noisy():
                    loss_of(model, x, y).backward()
                go.step()
            go.zero_grad()
        runs.append(param_bits(model))
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
