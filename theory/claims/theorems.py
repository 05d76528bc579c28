"""The five theorem checks: a theorem is true, so these test the implementation and the measurement (a
check that cannot fail proves nothing, hence the guards)."""

from __future__ import annotations

from theory.claims.records import NO_HOLDS, THEOREM, Claim, Measurement, Requirement
from theory.verdict import Region

V1 = "arXiv 2505.17646v1 (May 2025)"
ATTACK_STRENGTH_REQUIRED = 0.5

ATTACK = Requirement(
    "attack_strength", lambda s: s >= ATTACK_STRENGTH_REQUIRED,
    f"an adversarial displacement must use at least {ATTACK_STRENGTH_REQUIRED} of the bound's slack at r_cert; "
    "a bound never stressed cannot be shown to hold", unmet=NO_HOLDS)
ADVERSARIAL = Requirement("adversarial_displacement", lambda x: x is True,
                          "the checks must include an adversarial displacement (random and SFT ones stress nothing)")


def _below_delta(m: Measurement) -> Region | str:
    return Region(hi=float(m.extra["delta"]))


CLAIMS: tuple[Claim, ...] = (
    Claim("thm42-holds", "Thm 4.2: smoothed score >= p_A - r/(sqrt(2 pi) sigma)", V1 + ", Thm 4.2",
          "min over displacements (random, SFT, adversarial) of measured smoothed score - bound", "score",
          Region(lo=0.0), kind=THEOREM, requires=(ADVERSARIAL, ATTACK),
          justification="A true bound leaves a non-negative margin for every displacement; the minimum over "
          "displacements is judged, with its simultaneous interval. Without an adversarial displacement of "
          "sufficient strength a 'holds' is vacuous."),
    Claim("thm43-holds", "Thm 4.3: smoothed score >= Phi(Phi^-1(p_A) - r/sigma)", V1 + ", Thm 4.3 / Lemma E.1",
          "min over displacements (random, SFT, adversarial) of measured smoothed score - bound", "score",
          Region(lo=0.0), kind=THEOREM, requires=(ADVERSARIAL, ATTACK),
          justification="As for Thm 4.2; the strong bound is exact for half-spaces, so an adversarial "
          "displacement can come close to it, which is what makes the check able to fail."),
    Claim("thm44-holds", "Thm 4.4: S(theta+eps) >= E S - L sigma sqrt(2 log(1/delta)) w.p. >= 1 - delta",
          V1 + ", Thm 4.4", "share of single draws below the bound", "fraction", Region(hi=1.0), kind=THEOREM,
          region_from=_below_delta, criterion_text="holds if the violation rate's interval lies below delta; the "
          "check must also reject the L/2 mutant",
          requires=(Requirement("delta", lambda d: 0 < d < 1, "the bound's delta"),
                    Requirement("mutant_rejected", lambda x: x is True, "a check that accepts the bound with L/2 "
                                "cannot detect a wrong constant", unmet=NO_HOLDS)),
          justification="The theorem bounds the violation probability by delta; a rate interval below delta "
          "agrees with it. Since the bound is loose even for a linear score, the same check run with L/2 must "
          "report violations, else the check cannot tell a right constant from a wrong one."),
    Claim("thm45-embedding-holds", "Thm 4.5 with input-embedding noise holds", V1 + ", Thm 4.5 (rigorous form)",
          "min over examples of smoothed outcome after substitution - bound", "score", Region(lo=0.0),
          kind=THEOREM, justification="With independent noise N(0, sigma_emb^2 I) on each position's input "
          "embedding the Phi bound is a theorem (the per-example distance runs over all substituted positions, "
          "repeats included), so the measured margin over every example must be non-negative; a negative one "
          "would be an implementation error."),
    Claim("thm45-heuristic-fails", "Thm 4.5 as stated (parameter noise) fails for repeated tokens",
          V1 + ", Thm 4.5 (as stated)", "smoothed score on x' - heuristic bound, repeated-token counter-example",
          "score", Region(hi=0.0), kind=THEOREM,
          justification="On the counter-example (a, b) -> (a, a) the parameter-smoothed score on x' is 0 while "
          "the heuristic bound is 0.259: a negative margin shows the statement false as stated."),
)
