"""The one judge: Measurements → a ClaimResult per claim (and per subject), by the registry's criteria.

Per entry (one Measurement), with holds region H and fails region F (default: the complement of H):
  not-measured  no estimate, or a Requirement's key is not recorded (or an unmet NOT_MEASURED one);
  holds         [lo, hi] ⊂ H (downgraded to inconclusive by an unmet NO_HOLDS guard);
  fails         [lo, hi] ⊂ F;  inconclusive otherwise.
Across the m entries of one training seed (level α = 1 − min coverage of the measured entries):
  holds   iff every entry holds — the intersection–union test: H₀ = ∪ᵢ{entry i outside H} is rejected at
          level α when each H₀ᵢ is rejected at level αᵢ ≤ α, with no correction;
  fails   for the entries E named by Holm's step-down on p-values pᵢ of "entry i fails" (pᵢ from the
          producer, else pᵢ ≤ 1 − coverageᵢ when the interval lies in F, else 1): sort p₍₁₎ ≤ … ≤ p₍ₘ₎,
          reject while p₍ⱼ₎ ≤ α/(m − j + 1); family-wise error ≤ α;
  else inconclusive, with the per-entry verdicts. There is no best-of selection.
Across training seeds: holds iff it holds for every seed, fails iff it fails for every seed, not-measured
iff no seed was measured, inconclusive iff every seed is inconclusive, else "inconclusive: seed-dependent"
with the per-seed verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from theory.claims.records import NO_HOLDS, NOT_MEASURED, Claim, Measurement
from theory.claims.registry import CLAIM_IDS, get
from theory.errors import InternalError
from theory.verdict import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    SEED_DEPENDENT,
    ClaimResult,
    Region,
    is_measured,
    not_measured,
)


def interval_verdict(ci: tuple[float, float], holds: Region, fails: Region | None = None) -> str:
    """holds / fails / inconclusive for [lo, hi] against the holds region and the fails region
    (None: the complement of `holds`)."""
    lo, hi = float(ci[0]), float(ci[1])
    if math.isnan(lo) or math.isnan(hi):
        return INCONCLUSIVE
    if lo >= holds.lo and hi <= holds.hi:
        return HOLDS
    if fails is None:
        return FAILS if (hi < holds.lo or lo > holds.hi) else INCONCLUSIVE
    return FAILS if (lo >= fails.lo and hi <= fails.hi) else INCONCLUSIVE


def entry_verdict(claim: Claim, m: Measurement) -> tuple[str, str]:
    """(verdict, note) of one Measurement under `claim`'s criterion."""
    if m.estimate is None:
        return not_measured(m.reason), ""
    for req in claim.requires:
        if req.key not in m.extra:
            return not_measured(f"{m.source} does not record {req.key}: {req.reason}"), ""
    region = claim.holds
    if claim.region_from is not None:
        got = claim.region_from(m)
        if isinstance(got, str):
            return not_measured(got), ""
        region = got
    v = interval_verdict(m.estimate.ci, region, claim.fails)
    notes = []
    for req in claim.requires:
        if req.test(m.extra[req.key]):
            continue
        if req.unmet == NOT_MEASURED:
            return not_measured(f"{req.key} = {m.extra[req.key]!r}: {req.reason}"), ""
        if req.unmet == NO_HOLDS and v == HOLDS:
            v = INCONCLUSIVE
        notes.append(f"guard {req.key} = {m.extra[req.key]!r} not met: {req.reason}")
    return v, "; ".join(notes)


def holm(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down: which hypotheses are rejected at family-wise level alpha."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    for j, i in enumerate(order):
        if p_values[i] > alpha / (len(p_values) - j):
            break
        rejected[i] = True
    return rejected


def _describe(m: Measurement, v: str, note: str) -> str:
    head = f"{m.entry or m.model}: {v}"
    if m.estimate is not None:
        head += f", {m.estimate.brief()} {m.estimate.unit} (level {m.level:.3g}, n={m.estimate.n})"
    return head + (f" [{note}]" if note else "")


def combine_entries(claim: Claim, ms: Sequence[Measurement]) -> tuple[str, list[str]]:
    """(verdict, per-entry lines) of one training seed's entries by the intersection–union / Holm rule."""
    judged = [(m, *entry_verdict(claim, m)) for m in ms]
    lines = [_describe(m, v, note) for m, v, note in judged]
    measured = [(m, v) for m, v, _ in judged if is_measured(v)]
    if not measured:
        reasons = sorted({v[len("not-measured ("):-1] for _, v, _ in judged})
        return not_measured("; ".join(reasons)), lines
    if len(measured) == len(judged) and all(v == HOLDS for _, v in measured):
        return HOLDS, lines
    alpha = 1.0 - min(m.level for m, _ in measured)
    p = [m.p_fails if m.p_fails is not None else (1.0 - m.level if v == FAILS else 1.0) for m, v in measured]
    p += [1.0] * (len(judged) - len(measured))  # an unmeasured entry is a hypothesis never rejected
    named = [m.entry or m.model for (m, _), r in zip(measured, holm(p, alpha)) if r]
    if named:
        return FAILS, lines + [f"fails for {', '.join(named)} (Holm, family level {alpha:.3g}, {len(p)} entries)"]
    return INCONCLUSIVE, lines


def combine_seeds(per_seed: Mapping[int | None, str]) -> str:
    """The per-seed rule: holds / fails only when every seed agrees."""
    verdicts = list(per_seed.values())
    if len(verdicts) == 1:
        return verdicts[0]
    if all(not is_measured(v) for v in verdicts):
        return not_measured("; ".join(dict.fromkeys(v[len("not-measured ("):-1] for v in verdicts)))
    if all(v == HOLDS for v in verdicts):
        return HOLDS
    if all(v == FAILS for v in verdicts):
        return FAILS
    if all(v == INCONCLUSIVE for v in verdicts):
        return INCONCLUSIVE  # undecided on every seed: not a dependence on the seed
    return SEED_DEPENDENT


def judge(measurements: Iterable[Measurement], claim_id: str | None = None) -> ClaimResult:
    """The ClaimResult of one claim from all its Measurements (one subject); with none, not-measured."""
    ms = list(measurements)
    ids = {m.claim_id for m in ms} | ({claim_id} if claim_id else set())
    if len(ids) != 1:
        raise InternalError(f"judge() takes the measurements of one claim, got ids {sorted(ids)}")
    claim = get(ids.pop())
    if not ms:
        return ClaimResult.unmeasured(claim.id, claim.statement, claim.criterion, "no measurement in this run")
    by_seed: dict[int | None, list[Measurement]] = {}
    for m in ms:
        by_seed.setdefault(m.training_seed, []).append(m)
    per_seed, lines = {}, []
    for seed, group in by_seed.items():
        per_seed[seed], entry_lines = combine_entries(claim, group)
        prefix = "" if len(by_seed) == 1 else f"seed {seed} -> {per_seed[seed]}: "
        lines += [prefix + line for line in entry_lines]
    verdict = combine_seeds(per_seed)
    with_est = [m for m in ms if m.estimate is not None]
    one = with_est[0] if len(ms) == 1 and with_est else None
    units = sorted({m.estimate.unit for m in with_est})
    return ClaimResult(
        id=claim.id, claim=claim.statement, criterion=claim.criterion,
        value=None if one is None else one.estimate.estimate, ci=None if one is None else one.estimate.ci,
        confidence=min((m.level for m in with_est), default=None), unit="; ".join(units),
        n=min((m.estimate.n for m in with_est), default=None), model="; ".join(dict.fromkeys(m.model for m in ms)),
        source="; ".join(dict.fromkeys(m.source + (f" ({m.note})" if m.note else "") for m in ms)),
        verdict=verdict, kind=claim.kind, entries=tuple(lines),
        subject="; ".join(dict.fromkeys(m.subject for m in ms)))


TOY = "toy models"


def judge_all(measurements: Iterable[Measurement], reasons: Mapping[str, str] | None = None,
              default_reason: str = "no measurement in this run") -> list[ClaimResult]:
    """One row per (claim, subject) in registry order (toy subject first); a claim with no measurement
    gets not-measured with reasons[id] or `default_reason`."""
    groups: dict[tuple[str, str], list[Measurement]] = {}
    for m in measurements:
        get(m.claim_id)
        groups.setdefault((m.claim_id, m.subject), []).append(m)
    rows = []
    for cid in CLAIM_IDS:
        keys = [k for k in groups if k[0] == cid]
        if not keys:
            claim = get(cid)
            rows.append(ClaimResult.unmeasured(cid, claim.statement, claim.criterion,
                                               (reasons or {}).get(cid, default_reason)))
            rows[-1] = ClaimResult(**{**rows[-1].__dict__, "kind": claim.kind, "subject": TOY})
        rows += [judge(groups[k]) for k in keys]
    return rows
