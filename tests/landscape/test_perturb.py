"""The perturbation engine: exact probe values, bitwise restore, effective norm, ulp warnings."""

from __future__ import annotations

import hashlib
import warnings

import pytest
import torch

import landscape.directions as directions
import landscape.kinds.base as kinds_base
import landscape.perturb as perturb_module
from landscape.directions import DirectionSpec, bind
from landscape.perturb import gaussian_noise, perturbed
from landscape.theta0 import Theta0
from theory.errors import UserInputError


def _model(dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.LayerNorm(16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    return m.to(dtype)


def _bits(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone().reshape(-1).view(torch.uint8) for n, p in model.named_parameters()}


def _same_bits(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _independent_noise(seed: int, name: str, numel: int) -> torch.Tensor:
    """z for one tensor, recomputed here from the documented recipe (sha256 seed, CPU randn float32)."""
    g = torch.Generator()
    g.manual_seed(int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "big"))
    chunk = kinds_base.CHUNK
    return torch.cat([torch.randn(min(chunk, numel - s), generator=g) for s in range(0, numel, chunk)])


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
def test_probe_sets_exactly_the_recomputed_cast_value(dtype):
    model, alpha, seed = _model(dtype), 0.03, 11
    theta0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    cd = torch.float64 if dtype == torch.float64 else torch.float32
    with perturbed(model, DirectionSpec(seed=seed), alpha) as info:
        sq = 0.0
        for name, p in model.named_parameters():
            z = _independent_noise(seed, name, p.numel()).reshape(p.shape).to(cd)
            expected = (theta0[name].to(cd) + z * alpha).to(dtype)
            assert torch.equal(p.detach(), expected)
            sq += float((expected.double() - theta0[name].double()).square().sum())
    assert info.effective_norm == pytest.approx(sq**0.5, rel=1e-5)
    assert info.n_params == sum(p.numel() for p in model.parameters())


def test_chunked_noise_matches_recipe(monkeypatch):
    monkeypatch.setattr(kinds_base, "CHUNK", 7)
    model, alpha = _model(), 0.5
    theta0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    with perturbed(model, DirectionSpec(seed=3), alpha):
        for name, p in model.named_parameters():
            z = _independent_noise(3, name, p.numel()).reshape(p.shape)
            assert torch.equal(p.detach(), theta0[name] + z * alpha)


@pytest.mark.parametrize("kind", ["gaussian", "layer", "filter", "multiplicative"])
def test_sweep_restores_bitwise_and_alpha_zero_output_identical(kind):
    model = _model(torch.bfloat16)
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1)).to(torch.bfloat16)
    before, y0 = _bits(model), model(x)
    spec = DirectionSpec(kind, seed=5)
    for alpha in [-0.3, -0.01, 0.0, 0.002, 0.2, 1.0]:
        with perturbed(model, spec, alpha, warn=False):
            model(x)
    assert _same_bits(before, _bits(model))
    with perturbed(model, spec, 0.0):
        assert torch.equal(model(x), y0)


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_exception_inside_probe_restores_bitwise(exc):
    model = _model()
    before = _bits(model)
    with pytest.raises(exc):
        with perturbed(model, DirectionSpec(seed=2), 0.7):
            assert not _same_bits(before, _bits(model))
            raise exc("evaluation failed")
    assert _same_bits(before, _bits(model))


def test_exception_while_writing_perturbation_restores_bitwise(monkeypatch):
    model = _model()
    before = _bits(model)
    real_chunks = directions.BoundDirection.chunks
    calls = {"n": 0}

    def failing(self, name, param):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        yield from real_chunks(self, name, param)

    monkeypatch.setattr(directions.BoundDirection, "chunks", failing)
    with pytest.raises(KeyboardInterrupt):
        with perturbed(model, DirectionSpec(seed=2), 0.7):
            pass
    assert _same_bits(before, _bits(model))


@pytest.fixture
def two_torch_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("kind", ["gaussian", "multiplicative", "layer", "filter"])
def test_tensor_workers_write_the_same_bits_as_one_thread(kind, monkeypatch, two_torch_threads):
    monkeypatch.setattr(kinds_base, "CHUNK", 5)  # several chunks per tensor
    model = _model()
    before = _bits(model)
    seen = {}
    for workers in (1, 2):
        monkeypatch.setattr(perturb_module, "CPU_PROBE_WORKERS_MAX", workers)
        with perturbed(model, DirectionSpec(kind, seed=9), 0.2) as info:
            seen[workers] = (_bits(model), info.effective_norm, info.intended_norm, info.dropped_fraction)
        assert _same_bits(before, _bits(model))
    assert _same_bits(seen[1][0], seen[2][0]) and seen[1][1:] == seen[2][1:]
    assert not _same_bits(before, seen[2][0])


def test_worker_exception_waits_for_the_other_workers_then_restores(monkeypatch, two_torch_threads):
    monkeypatch.setattr(kinds_base, "CHUNK", 3)
    monkeypatch.setattr(perturb_module, "CPU_PROBE_WORKERS_MAX", 2)
    model = _model()
    before = _bits(model)
    real_chunks = directions.BoundDirection.chunks

    def failing(self, name, param):
        if name.endswith("3.weight"):
            raise RuntimeError("disk gone")
        yield from real_chunks(self, name, param)

    monkeypatch.setattr(directions.BoundDirection, "chunks", failing)
    with pytest.raises(RuntimeError, match="disk gone"):
        with perturbed(model, DirectionSpec(seed=2), 0.7):
            pass
    assert _same_bits(before, _bits(model))


def test_snapshot_theta0_restores_and_refuses_stale_snapshot(tmp_path):
    model = _model(torch.bfloat16)
    before = _bits(model)
    th = Theta0(model, snapshot=tmp_path / "theta0.safetensors")
    assert th.nbytes_in_ram == 0
    for alpha in (0.1, -0.5):
        with perturbed(model, DirectionSpec(seed=9), alpha, theta0=th):
            pass
    assert _same_bits(before, _bits(model))
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    with pytest.raises(UserInputError):
        Theta0(model, snapshot=tmp_path / "theta0.safetensors")


def test_bf16_small_noise_warns_and_reports_dropped_fraction():
    model, sigma = _model(torch.bfloat16), 1e-6
    theta0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    with pytest.warns(RuntimeWarning, match="half an ulp"):
        with gaussian_noise(model, sigma, seed=4) as info:
            unchanged = sum(int((p.detach() == theta0[n]).sum()) for n, p in model.named_parameters())
    assert info.dropped_fraction == pytest.approx(unchanged / info.n_params)
    assert info.dropped_fraction > 0.5 and info.effective_norm < info.intended_norm


def test_no_warning_when_noise_survives_the_cast():
    model = _model(torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with gaussian_noise(model, 1e-2, seed=4) as info:
            pass
    assert info.dropped_fraction == 0.0
    assert info.effective_norm == pytest.approx(info.intended_norm, rel=1e-5)


def test_non_contiguous_and_tied_parameters():
    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)
    b.weight = a.weight  # tied: perturbed once, seeded by its first name
    a.bias = torch.nn.Parameter(torch.randn(8, 2).t()[0].clone())
    model = torch.nn.ModuleDict({"a": a, "b": b})
    model.register_parameter("nc", torch.nn.Parameter(torch.randn(3, 5).t()))
    assert not model.nc.is_contiguous()
    before = _bits(model)
    w0, nc0 = a.weight.detach().clone(), model.nc.detach().clone()
    with perturbed(model, DirectionSpec(seed=1), 0.25):
        z = _independent_noise(1, "a.weight", 16).reshape(4, 4)
        assert torch.equal(b.weight.detach(), w0 + z * 0.25)
        znc = _independent_noise(1, "nc", 15).reshape(5, 3)
        assert torch.equal(model.nc.detach(), nc0 + znc * 0.25)
    assert _same_bits(before, _bits(model))


def test_bad_alpha_and_empty_filter_are_user_errors():
    model = _model()
    with pytest.raises(UserInputError):
        with perturbed(model, DirectionSpec(seed=1), float("nan")):
            pass
    with pytest.raises(UserInputError):
        bind(DirectionSpec(seed=1, param_filter="nothing.*"), model)


def test_reused_binding_is_refreshed_after_an_in_place_update():
    model, alpha = _model(), 0.1
    sft = {n: p.detach() + 0.5 for n, p in model.named_parameters()}
    spec = DirectionSpec.sft(sft)
    d = sum(p.numel() for p in model.parameters())
    for _ in range(2):
        with perturbed(model, spec, alpha) as info:
            pass
        assert info.intended_norm == pytest.approx(alpha * d**0.5, rel=1e-5)
        with torch.no_grad():  # an optimizer step between sweeps changes theta0 and so the SFT norm
            next(model.parameters()).mul_(3.0)


def test_probing_a_stored_direction_leaves_it_unchanged():
    model = _model()
    stored = {n: torch.ones_like(p.detach()) for n, p in model.named_parameters()}
    spec = DirectionSpec.stored(stored)
    theta0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    for _ in range(2):
        with perturbed(model, spec, 0.25):
            assert all(torch.equal(p.detach(), theta0[n] + 0.25) for n, p in model.named_parameters())
    assert all(torch.equal(t, torch.ones_like(t)) for t in stored.values())


@pytest.mark.parametrize("kind", ["gaussian", "multiplicative", "layer"])
def test_held_direction_gives_the_same_probes_and_draws_the_noise_once(kind, monkeypatch):
    """Noise reuse across σ: a held direction writes, at every α, the bits a fresh draw writes, and its
    noise is generated once."""
    from landscape.directions import HeldDirection

    model = _model()
    spec = DirectionSpec(kind, seed=9)
    fresh = {}
    for alpha in (0.01, 0.1, 1.0):
        with perturbed(model, spec, alpha) as info:
            fresh[alpha] = (_bits(model), info.effective_norm)
    calls = []
    real = kinds_base.noise_chunks
    monkeypatch.setattr(kinds_base, "noise_chunks", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    held = HeldDirection(bind(spec, model))
    drawn = len(calls)
    assert drawn >= len(held.names)  # every tensor's noise drawn (layer kind draws twice per tensor)
    before = _bits(model)
    for alpha in (0.01, 0.1, 1.0):
        with perturbed(model, held, alpha) as info:
            bits, norm = fresh[alpha]
            assert _same_bits(bits, _bits(model)) and info.effective_norm == norm
    assert len(calls) == drawn  # no draw after holding
    assert _same_bits(before, _bits(model))


def test_evaluator_hold_reuses_the_noise_and_scores_as_without(monkeypatch):
    from landscape.evaluate import ProbeEvaluator
    from landscape.scores import ClassificationAccuracy

    model = _model()
    x = torch.randn(64, 6, generator=torch.Generator().manual_seed(2))
    score = ClassificationAccuracy(x, model(x).argmax(1).detach())
    spec, sigmas = DirectionSpec(seed=4), (0.05, 0.3, 1.5)
    plain = [ProbeEvaluator(model, score).at(spec, s).outcomes for s in sigmas]
    calls = []
    real = kinds_base.noise_chunks
    monkeypatch.setattr(kinds_base, "noise_chunks", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    ev = ProbeEvaluator(model, score)
    with ev.hold(spec):
        held = [ev.at(spec, s).outcomes for s in sigmas]
    assert len(calls) == len(list(model.parameters()))  # one draw per tensor for all three σ
    assert all((a == b).all() for a, b in zip(plain, held)) and not (plain[0] == plain[2]).all()


def test_a_context_is_refused_after_its_model_changed():
    """The context's θ₀ holder would otherwise restore weights from before a training step."""
    from landscape.context import ProbeContext, StaleTheta0
    from landscape.evaluate import ProbeEvaluator
    from landscape.scores import ClassificationAccuracy

    model = _model()
    x = torch.randn(8, 6, generator=torch.Generator().manual_seed(3))
    score = ClassificationAccuracy(x, model(x).argmax(1).detach())
    ctx = ProbeContext()
    ProbeEvaluator(model, score, ctx).at(DirectionSpec(seed=1), 0.1)  # makes the θ₀ copy
    ProbeEvaluator(model, score, ctx)  # same weights: accepted
    with torch.no_grad():
        model[0].weight.add_(1e-3)  # a training step
    with pytest.raises(StaleTheta0):
        ProbeEvaluator(model, score, ctx)
