"""A ReLU MLP with configurable width/depth in three parameterisations.

Layer l computes h_{l+1} = relu(m_l · W_l h_l + b_l) (no relu on the last layer), W_l: [fan_out, fan_in].
  standard    W ~ N(0, g²/fan_in), m = 1                       (g² = 2 for hidden layers, 1 for the last)
  ntk         W ~ N(0, g²),        m = 1/√fan_in                (same function at init as standard)
  mean_field  as ntk, but the last layer has W ~ N(0, 1), m = 1/fan_in (output shrinks like 1/√width)
Biases start at 0 and have multiplier 1. The multipliers are fixed constants, not parameters: moving
between parameterisations is the function-preserving map W_std = m · W (`to_standard`), which changes
every raw parameter and hence the raw σ-basin, but not the multiplicative one θ ⊙ (1 + σz).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from landscape.symmetries import Factor, ScalingSymmetry
from theory.errors import UserInputError

PARAMETERISATIONS = ("standard", "ntk", "mean_field")


@dataclass(frozen=True)
class MLPConfig:
    input_dim: int = 16
    width: int = 64
    depth: int = 2          # hidden layers
    n_classes: int = 4
    parameterisation: str = "standard"
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.input_dim, self.width, self.depth, self.n_classes) < 1:
            raise UserInputError(f"MLP sizes must be >= 1, got {self}")
        if self.parameterisation not in PARAMETERISATIONS:
            raise UserInputError(f"parameterisation must be one of {PARAMETERISATIONS}, "
                                 f"got {self.parameterisation!r}")

    @property
    def layer_sizes(self) -> list[tuple[int, int]]:
        """(fan_in, fan_out) of each linear layer."""
        dims = [self.input_dim] + [self.width] * self.depth + [self.n_classes]
        return list(zip(dims[:-1], dims[1:]))

    @property
    def n_params(self) -> int:
        return sum(i * o + o for i, o in self.layer_sizes)


def _multiplier(parameterisation: str, fan_in: int, last: bool) -> float:
    if parameterisation == "standard":
        return 1.0
    if parameterisation == "mean_field" and last:
        return 1.0 / fan_in
    return 1.0 / math.sqrt(fan_in)


class MLP(nn.Module):
    """Parameters `layers.{l}.weight`, `layers.{l}.bias`; `multipliers[l]` the fixed weight multiplier."""

    def __init__(self, config: MLPConfig):
        super().__init__()
        self.config = config
        sizes = config.layer_sizes
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in sizes)
        self.multipliers = [_multiplier(config.parameterisation, i, k == len(sizes) - 1)
                            for k, (i, _) in enumerate(sizes)]
        g = torch.Generator().manual_seed(config.seed)
        with torch.no_grad():
            for k, (layer, m) in enumerate(zip(self.layers, self.multipliers)):
                last = k == len(sizes) - 1
                gain2 = 1.0 if last else 2.0
                if config.parameterisation == "mean_field" and last:
                    std = 1.0
                else:
                    std = math.sqrt(gain2 / layer.in_features) / m
                layer.weight.normal_(0.0, std, generator=g)
                layer.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.layers) - 1
        for k, (layer, m) in enumerate(zip(self.layers, self.multipliers)):
            w = layer.weight if m == 1.0 else layer.weight * m
            x = F.linear(x, w, layer.bias)
            if k < last:
                x = F.relu(x)
        return x

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def to_standard(model: MLP) -> MLP:
    """The same function in the standard parameterisation: W_std = m · W, biases unchanged."""
    out = MLP(MLPConfig(**{**model.config.__dict__, "parameterisation": "standard"}))
    with torch.no_grad():
        for src, dst, m in zip(model.layers, out.layers, model.multipliers):
            dst.weight.copy_(src.weight * m if m != 1.0 else src.weight)
            dst.bias.copy_(src.bias)
    return out


def rescale_relu_neurons(model: MLP, layer: int, scale: torch.Tensor) -> MLP:
    """Function-preserving ReLU symmetry: hidden neuron j of `layer` gets incoming weights and bias
    × scale[j] > 0 and outgoing weights ÷ scale[j] (relu(c·z) = c·relu(z) for c > 0). Returns a copy."""
    if not 0 <= layer < len(model.layers) - 1:
        raise UserInputError(f"layer must index a hidden layer in [0, {len(model.layers) - 1}), got {layer}")
    scale = torch.as_tensor(scale, dtype=torch.float32)
    if scale.shape != (model.layers[layer].out_features,) or not bool((scale > 0).all()):
        raise UserInputError("scale must be a positive vector with one entry per hidden neuron")
    out = copy.deepcopy(model)
    with torch.no_grad():
        out.layers[layer].weight.mul_(scale[:, None])
        out.layers[layer].bias.mul_(scale)
        out.layers[layer + 1].weight.div_(scale[None, :])
    return out


def relu_symmetries(model: MLP) -> list[ScalingSymmetry]:
    """The function-preserving rescalings of every hidden ReLU neuron (see rescale_relu_neurons): hidden
    layer l's incoming weight row and bias × c_j, the next layer's weight column ÷ c_j. The weight
    multipliers are constants and commute with the rescaling. Permutations of neurons are the other
    symmetry; isotropic noise is blind to them."""
    out = []
    for k in range(len(model.layers) - 1):
        out.append(ScalingSymmetry(f"relu layer {k}", model.layers[k].out_features, (
            Factor(f"layers.{k}.weight", 0, 1), Factor(f"layers.{k}.bias", 0, 1),
            Factor(f"layers.{k + 1}.weight", 1, -1))))
    return out
