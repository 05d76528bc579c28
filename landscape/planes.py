"""2-D planes θ₀ + α·δ₁ + β·δ₂ with δ₂ Gram–Schmidt orthogonalised against δ₁ (norm of δ₂ kept).

δ₂' = a·δ₂ + b·δ₁ with b = −a⟨δ₁,δ₂⟩/‖δ₁‖² and a = ‖δ₂‖/√(‖δ₂‖² − ⟨δ₁,δ₂⟩²/‖δ₁‖²); both are per-tensor
seeded, so δ₂' is never stored: a point of the plane is the combination (α + βb)·δ₁ + βa·δ₂.
The cosine before and after (re-measured on the materialised δ₂') is reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from landscape.directions import DirectionSpec, bind
from theory.errors import UserInputError


@dataclass(frozen=True)
class Plane:
    """first δ₁, second δ₂ (as given), coefficients (a, b) of δ₂' = a·δ₂ + b·δ₁, cosines, norms."""

    first: DirectionSpec
    second: DirectionSpec
    a: float
    b: float
    cosine_before: float
    cosine_after: float
    norm_first: float
    norm_second: float

    @property
    def second_orthogonal(self) -> DirectionSpec:
        return DirectionSpec("combination", terms=((self.a, self.second), (self.b, self.first)))

    def at(self, alpha: float, beta: float) -> DirectionSpec:
        """The direction α·δ₁ + β·δ₂' (probe it with perturbed(model, plane.at(α, β), 1.0))."""
        return DirectionSpec("combination", terms=((alpha + beta * self.b, self.first), (beta * self.a, self.second)))


def make_plane(model: torch.nn.Module, first: DirectionSpec, second: DirectionSpec) -> Plane:
    """Orthogonalise `second` against `first` on this model (which must hold θ₀); two passes over δ."""
    b1, b2 = bind(first, model), bind(second, model)
    dot, n1, n2 = b1.inner(b2)
    residual = n2 - dot * dot / n1
    if n1 <= 0 or residual <= 1e-12 * n2:
        raise UserInputError("plane directions are (numerically) parallel or zero; choose another second direction")
    a = math.sqrt(n2 / residual)
    b = -a * dot / n1
    ortho = DirectionSpec("combination", terms=((a, second), (b, first)))
    dot_after, _, n_after = b1.inner(bind(ortho, model))
    return Plane(first=first, second=second, a=a, b=b, cosine_before=dot / math.sqrt(n1 * n2),
                 cosine_after=dot_after / math.sqrt(n1 * n_after), norm_first=math.sqrt(n1), norm_second=math.sqrt(n2))
