"""The claims registry: every claim id, once (theory.claims.empirical and theory.claims.theorems)."""

from __future__ import annotations

from theory.claims import empirical, theorems
from theory.claims.records import EMPIRICAL, THEOREM, Claim
from theory.errors import InternalError

CLAIMS: tuple[Claim, ...] = empirical.CLAIMS + theorems.CLAIMS
CLAIM_IDS: tuple[str, ...] = tuple(c.id for c in CLAIMS)
_BY_ID = {c.id: c for c in CLAIMS}
if len(_BY_ID) != len(CLAIMS):
    raise InternalError("a claim id is registered twice")
EMPIRICAL_IDS = tuple(c.id for c in CLAIMS if c.kind == EMPIRICAL)
THEOREM_IDS = tuple(c.id for c in CLAIMS if c.kind == THEOREM)


def get(claim_id: str) -> Claim:
    """The registered claim; an unknown id is an internal error (producers use registry ids only)."""
    try:
        return _BY_ID[claim_id]
    except KeyError:
        raise InternalError(f"{claim_id!r} is not a registered claim id") from None


FIVE_X_REGION = get("go-enlarges-5x").holds  # the 5x criterion, for the sweeps that label their own entries
