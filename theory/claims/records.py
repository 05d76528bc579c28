"""The records of the claims registry: a `Claim` (what the paper says and how it is judged), a
`Requirement` (what a measurement must record before its interval can decide), and a `Measurement`
(what a producer hands the judge).

A claim's criterion is a pair of regions for its measured quantity x:
  holds  if the whole interval [lo, hi] lies in `holds`,
  fails  if it lies in `fails` (default: the complement of `holds`, i.e. the interval misses `holds`),
  inconclusive otherwise.
A claim may instead take its `holds` region from the measurement (`region_from`), e.g. the prediction
interval [X₍₁₎, X₍K₎] of a reference sample.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from theory.errors import InternalError
from theory.estimate import Estimate
from theory.verdict import Region

EMPIRICAL = "empirical claim"
THEOREM = "theorem check"
KINDS = (EMPIRICAL, THEOREM)

# The one multiplicity rule (every claim states it, so a claim measured over several entries — widths,
# capabilities, models, parameterisations — is judged the same way everywhere):
INTERSECTION_UNION = ("holds iff every entry holds at level alpha (intersection-union test, no correction); "
                      "fails for the entries Holm's step-down names at family level alpha; otherwise "
                      "inconclusive with the per-entry verdicts; never best-of selection")

NOT_MEASURED = "not-measured"   # a requirement not met: the interval cannot decide the claim
NO_HOLDS = "no-holds"           # a requirement not met: a "holds" becomes "inconclusive" (a guard)

VARIED = ("noise", "examples", "directions", "training seeds")

_ABSOLUTE = re.compile(r"(?<![\w.~-])/(?:[^\s/:;,()\[\]]+/)+([^\s/:;,()\[\]]+)")


def scrub_paths(text: str) -> str:
    """`text` with every absolute path /a/b/c replaced by its last component c (no machine path in output)."""
    return _ABSOLUTE.sub(lambda m: m.group(1), text)


@dataclass(frozen=True)
class Requirement:
    """`Measurement.extra[key]` must be present and pass `test`; `reason` says why the claim needs it.
    Missing key: not-measured ("<producer> does not record <key>: <reason>"). Present but failing: the
    `unmet` action — NOT_MEASURED, or NO_HOLDS (a holds is downgraded to inconclusive)."""

    key: str
    test: Callable[[Any], bool]
    reason: str
    unmet: str = NOT_MEASURED


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, judged by one pre-registered criterion (see the module doc)."""

    id: str
    statement: str
    paper_version: str
    quantity: str
    unit: str
    holds: Region
    justification: str
    kind: str
    fails: Region | None = None
    paper_value: str | None = None
    entries: str = "one entry per model"
    multiplicity: str = INTERSECTION_UNION
    requires: tuple[Requirement, ...] = ()
    region_from: Callable[[Measurement], Region | str] | None = None
    criterion_text: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InternalError(f"claim {self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if not self.justification.strip():
            raise InternalError(f"claim {self.id}: a criterion needs its justification")

    @property
    def criterion(self) -> str:
        """The criterion in words (the holds region, and the fails region when it is not the complement)."""
        if self.criterion_text:
            return self.criterion_text
        text = f"holds if the interval lies in {self.holds.describe(self.unit)}"
        if self.fails is not None:
            text += f"; fails if it lies in {self.fails.describe(self.unit)}"
        return text


@dataclass(frozen=True)
class Measurement:
    """What a producer hands the judge: an Estimate (None when the quantity could not be measured, with
    `reason`) of one claim's quantity on one entry of one model at one training seed.

    claim_id:      a registry id
    estimate:      the measured quantity with its interval; its `coverage` (else `confidence`) is the level
    model, source: what was measured and by which producer (no absolute paths)
    n:             directions / draws / examples behind the interval
    seeds:         the seeds of the noise, directions and examples
    varied:        what the interval's randomness covers (a subset of VARIED)
    entry:         which entry of a multi-entry claim ("" for a single one)
    training_seed: the seed of the trained model (None: one model, named in `model`)
    subject:       the table row it belongs to: "toy models", or a named real model (its own row)
    p_fails:       optional p-value of "the entry fails" (null: it lies in the holds region), for Holm;
                   without it the judge bounds it by 1 − coverage when the interval misses the holds region
    extra:         what the claim's Requirements read (e.g. a reference sample, an attack strength)
    """

    claim_id: str
    estimate: Estimate | None
    model: str
    source: str
    n: int = 0
    seeds: tuple[int, ...] = ()
    varied: tuple[str, ...] = ()
    entry: str = ""
    training_seed: int | None = None
    subject: str = "toy models"
    p_fails: float | None = None
    reason: str = ""
    note: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.varied) - set(VARIED)
        if unknown:
            raise InternalError(f"Measurement.varied must be a subset of {VARIED}, got {sorted(unknown)}")
        if self.estimate is None and not self.reason:
            raise InternalError(f"a Measurement of {self.claim_id} without an estimate needs its reason")
        if self.p_fails is not None and not 0.0 <= self.p_fails <= 1.0:
            raise InternalError(f"p_fails must lie in [0, 1], got {self.p_fails}")
        for name in ("model", "source", "reason", "note", "entry"):
            object.__setattr__(self, name, scrub_paths(str(getattr(self, name))))

    @property
    def level(self) -> float:
        """The coverage of the interval (the guaranteed one when it differs from the nominal)."""
        e = self.estimate
        if e is None:
            return math.nan
        return e.coverage if e.coverage is not None else e.confidence
