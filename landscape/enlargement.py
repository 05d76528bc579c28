"""The enlargement test: is GO's σ-basin at least m times the control's? (the function; the protocol that
calls it — arms, training, clean-score gate, units — belongs to the claims registry.)

σ_b = inf{σ : drop(σ) > τ} is the first exit of a model's σ-basin. Both σ-basins come from the sequential
search (landscape.sigma_basin), each σ's decision at its own Bonferroni level, and are read under the
monotonicity reading (drop(σ) nondecreasing between grid points):

- "enlarged" by m (an intersection–union test, each part at the σ-basins' level α, so no correction): for
  a pre-declared s, the control is certified outside at s (so σ_b(control) ≤ s) and GO is certified inside
  at a grid σ ≥ m·s (so σ_b(GO) ≥ m·s under the reading). Then σ_b(GO)/σ_b(control) ≥ m.
- "not enlarged" (fails at m): GO is certified outside at some σ < m·s′ where the control is certified
  inside at s′ (σ_b(control) ≥ s′, σ_b(GO) ≤ σ): σ_b(GO)/σ_b(control) < m. Picking the pair from the data
  needs no correction: each σ-basin's decisions hold at every grid σ at once (its Bonferroni over the whole
  grid), so every pair is covered by the same two events, and the conclusion is again an intersection–union
  test of the two σ-basins' decisions.
- "inconclusive" otherwise, e.g. when GO's grid stops below m × the control's outside point.

The factor's estimate is GO's σ-basin estimate over the control's, with the interval of the two σ-basin
intervals (theory.estimate.ratio_estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

from landscape.sigma_basin import SigmaBasin
from theory.errors import UserInputError
from theory.estimate import Estimate, ratio_estimate

ENLARGED, NOT_ENLARGED, INCONCLUSIVE = "enlarged", "not enlarged", "inconclusive"
_SLACK = 1e-12  # relative: a grid point built as m·s in floating point still counts as m·s


@dataclass(frozen=True)
class EnlargementTest:
    """m, the pre-declared control point s, the outcome and its evidence (σ per the σ-basins' unit)."""

    m: float
    s: float
    verdict: str
    control_outside_at_s: bool
    go_inside_at: float | None
    go_outside_at: float | None
    control_inside_at: float | None
    factor: Estimate


def enlargement_test(control: SigmaBasin, go: SigmaBasin, m: float, s: float | None = None) -> EnlargementTest:
    """Test σ_b(GO) ≥ m·σ_b(control) (module doc). `s`: the pre-declared control σ (default: the smallest
    σ the control's search certified outside — declare it before GO is measured)."""
    if not m > 0:
        raise UserInputError(f"m must be > 0, got {m}")
    if control.kind != go.kind or control.tau != go.tau:
        raise UserInputError("control and GO σ-basins must share the noise kind and τ")
    outside = sorted(p.sigma for p in control.points if p.outside)
    if s is None:
        s = outside[0] if outside else float("nan")
    control_outside = any(p.outside and abs(p.sigma - s) <= _SLACK * s for p in control.points)
    go_inside = [p.sigma for p in go.points if p.inside and p.sigma >= m * s * (1 - _SLACK)]
    go_inside_at = min(go_inside) if go_inside else None
    fails = [(g.sigma, c.sigma) for c in control.points if c.inside
             for g in go.points if g.outside and g.sigma < m * c.sigma * (1 - _SLACK)]
    if control_outside and go_inside_at is not None:
        verdict = ENLARGED
    elif fails:
        verdict = NOT_ENLARGED
    else:
        verdict = INCONCLUSIVE
    go_out, ctl_in = (min(fails)[0], min(fails)[1]) if fails else (None, None)
    factor = ratio_estimate(go.sigma_basin, control.sigma_basin, unit=f"sigma-basin ratio ({go.kind})")
    return EnlargementTest(m=float(m), s=float(s), verdict=verdict, control_outside_at_s=control_outside,
                           go_inside_at=go_inside_at, go_outside_at=go_out, control_inside_at=ctl_in, factor=factor)
