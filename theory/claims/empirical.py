"""The paper's twelve empirical claims, each with its pre-registered criterion and the justification.

Every criterion is free of the number of examples and directions (they only narrow the interval) and
identical for toy models and language models. α is the per-coordinate σ of raw Gaussian directions; SFT
and worst-case directions are rescaled to norm √d so they share that axis.
"""

from __future__ import annotations

from theory.claims.protocol import FIVE_X_PROTOCOL
from theory.claims.records import EMPIRICAL, NO_HOLDS, Claim, Measurement, Requirement
from theory.claims.statistics import PREDICTION_K_MIN, R_GAUSSIAN, R_QUADRATIC, prediction_coverage
from theory.verdict import Region

V1 = "arXiv 2505.17646v1 (May 2025)"
V23 = "arXiv 2505.17646v2/v3 (ICLR 2026)"


def _prediction_region(m: Measurement) -> Region | str:
    ref = [float(x) for x in m.extra["reference_edges"]]
    if len(ref) < PREDICTION_K_MIN:
        return (f"{len(ref)} random-direction edges measured; the prediction interval [X(1), X(K)] needs "
                f"K >= {PREDICTION_K_MIN} for coverage (K-1)/(K+1) >= 0.95")
    return Region(min(ref), max(ref))


def _true(x) -> bool:
    return x is True


INVARIANT_UNIT = Requirement("unit_kind", lambda u: u in ("invariant", "canonical"),
                             "raw sigma is not invariant to function-preserving rescalings (weight-norm growth "
                             "alone widens raw basins); an invariant unit decides (multiplicative sigma, or raw "
                             "sigma on the canonical representative), raw is reported beside it")

CLAIMS: tuple[Claim, ...] = (
    Claim("basin-flat-then-collapse", "0-1 scores stay flat along random directions, then collapse to chance",
          V1, "transition ratio R = alpha_90 / alpha_10 of the median curve (alpha_p: where the median curve has "
          "lost the fraction p of its drop to chance)", "ratio", Region(hi=R_QUADRATIC), fails=Region(lo=R_GAUSSIAN),
          justification="R is scale-free and does not grow with the number of examples (unlike alpha_collapse / "
          "alpha_first, an extreme order statistic). Its nulls are derived in theory.derivations.transition: a "
          "quadratic onset 1-(alpha/a)^2 gives R = 3, the Gaussian bowl 1-exp(-(alpha/a)^2) (the shape of a "
          "smooth expected score) gives R = sqrt(ln 10/ln(10/9)) = 4.67, a ramp 9, a cliff 1. Holds if R's upper "
          "end is below 3 (sharper than any smooth quadratic onset); fails if its lower end exceeds 4.67 (as "
          "gradual as a smooth bowl); between the two smooth nulls the shape does not decide.",
          kind=EMPIRICAL, criterion_text="holds if R's upper end < 3; fails if its lower end > 4.67; and the "
          "median curve must reach chance + 0.1 (S0 - chance) inside the measured range",
          requires=(Requirement("collapse_reached", _true, "a collapse to chance + 0.1 (S0 - chance) must be "
                                "reached inside the measured range"),)),
    Claim("nll-smooth", "NLL landscapes are smooth (no basin) along the same directions", V1,
          "local exponent of the symmetric NLL rise, log2(rise(alpha0/4) / rise(alpha0/8)), median over directions",
          "exponent", Region(1.5, 2.5), kind=EMPIRICAL,
          justification="A C^2 function's symmetric rise (L(a)+L(-a))/2 - L(0) cancels the linear term and grows "
          "as a^2, so a smooth landscape has exponent 2; a plateau (no rise) or a cliff gives none or a large one. "
          "+-0.5 leaves room for the cubic/quartic terms at alpha0/4. The earlier 'fraction of directions whose "
          "NLL moved' is met by any non-constant function and tests nothing."),
    Claim("basins-nested", "specific-capability basins lie inside the basic-capability basin", V1,
          "median over directions of edge(specific) / edge(basic) along the same direction", "ratio",
          Region(hi=1.0), kind=EMPIRICAL, entries="one entry per specific capability learnt above chance + 0.1",
          justification="Nesting is a per-direction statement: along each direction the specific capability "
          "collapses no later than the basic one. The median of the per-direction ratios has a distribution-free "
          "order-statistic interval; <= 1 for every capability (intersection-union), failures named by Holm on "
          "sign-test p-values."),
    Claim("worst-much-narrower", "worst-case directions collapse 1-2 orders of magnitude sooner at equal norm",
          V1, "edge(random, median) / edge(worst case), equal norm", "ratio", Region(lo=10.0), kind=EMPIRICAL,
          paper_value="10-100x", justification="'One to two orders of magnitude' is at least one order: >= 10. "
          "A larger effect is a stronger version of the claim, so there is no upper cap."),
    Claim("benign-sft-like-random", "benign SFT directions behave like random directions", V1,
          "edge along the normalised benign SFT direction", "alpha per coordinate", Region(), kind=EMPIRICAL,
          criterion_text="holds if the SFT edge's interval lies inside the prediction interval [X(1), X(K)] of "
          f"K >= {PREDICTION_K_MIN} random-direction edges; fails if it lies outside; inconclusive if it straddles",
          region_from=_prediction_region,
          justification="'Like a random direction' means: a plausible draw from the random directions' edge "
          f"distribution. [X(1), X(K)] contains a fresh draw with probability (K-1)/(K+1) = "
          f"{prediction_coverage(PREDICTION_K_MIN):.3f} at K = {PREDICTION_K_MIN}, whatever the distribution; "
          "the former band [0.5, 2] x median was arbitrary.",
          requires=(Requirement("reference_edges", lambda r: len(r) > 0, "the random directions' edges, one per "
                                "direction, on the same score and tau"),)),
    Claim("adversarial-sft-kills-safety-first", "adversarial SFT destroys safety before other capabilities", V1,
          "edge(safety) / edge(basic) along the adversarial SFT direction", "ratio", Region(hi=1.0), kind=EMPIRICAL,
          justification="'First' is an order along the same direction: safety collapses no later than basic. "
          "The ratio is 1 when they collapse together, so the region is <= 1."),
    Claim("adversarial-sft-near-worst-case", "adversarial SFT directions resemble the worst case", V1,
          "edge(adversarial SFT) / edge(worst case), safety score", "ratio", Region(1.0, 3.0), kind=EMPIRICAL,
          justification="The worst case is the most damaging direction at that norm, so a ratio below 1 says the "
          "worst-case search was weaker than a fine-tune and the comparison shows nothing; 'near' is within half "
          "an order of magnitude (3 ~ sqrt(10)), against the 10-100x that separates random from worst."),
    Claim("basins-widen-with-size", "basins widen with model size", V1,
          "slope of log sigma_basin against log d (number of parameters)", "log-log slope", Region(lo=0.0),
          kind=EMPIRICAL, entries="one entry per model family / parameterisation", requires=(INVARIANT_UNIT,),
          justification="A slope over all sizes uses every width (a ratio of the two ends uses two) and is "
          "independent of how many sizes were run; widening is a positive slope. The invariant unit decides."),
    Claim("basins-widen-with-training", "basins widen during training", V1,
          "edge(final checkpoint) / edge(first checkpoint) at one fixed tau", "ratio", Region(lo=1.0),
          kind=EMPIRICAL, justification="Widening is a ratio > 1 of the same quantity at two times; the same "
          "tau at every checkpoint (a tau relative to each checkpoint's own score moves the yardstick), and the "
          "invariant unit, because raw basins widen from weight-norm growth alone.",
          requires=(INVARIANT_UNIT, Requirement("tau_fixed", _true, "one fixed tau at every checkpoint"))),
    Claim("strict-basin-90pct-at-99", "> 90 % of directions are exactly flat at 99 % confidence at the stated sigma",
          V1, "sigma* / median collapse edge, sigma* the largest sigma of a pre-declared ascending grid at which "
          "the one-sided 99 % CP lower bound of the flat fraction (>= 51 fresh directions) is >= 0.9, found by a "
          "fixed-sequence test", "ratio", Region(lo=0.5), kind=EMPIRICAL,
          paper_value="Qwen2.5-7B-Instruct, 50 safety prompts: > 90 % flat at sigma = 0.01",
          justification="The headline puts sigma = 0.01 at the edge of that model's plotted window (+-0.01), i.e. "
          "at the scale where its curves collapse; so the claim is that the strict basin reaches a sizeable "
          "fraction of the collapse edge. Half the edge is the region; the fixed-sequence test over the grid "
          "needs no correction, and the CP bound is one-sided because only 'at least 90 %' is claimed.",
          requires=(Requirement("test", lambda t: t == "fixed-sequence", "sigma* must come from the ascending "
                                "fixed-sequence test over a pre-declared grid, not from one chosen sigma"),
                    Requirement("n_directions", lambda k: k >= 51, "one-sided 99 % CP needs >= 51 directions"))),
    Claim("go-enlarges-5x", "GO enlarges the basin about 5x", V1 + " abstract; GO method in " + V23,
          "enlargement factor sigma_basin(GO) / sigma_basin(control) of the pre-registered protocol's m = 5 arm "
          "(theory.claims.protocol), raw sigma per coordinate after canonicalisation", "factor",
          Region(lo=5.0), kind=EMPIRICAL, paper_value="~5x (Qwen2.5-0.5B, MMLU)",
          entries="one entry per model family, parameterisation and width (no best-of), per training seed",
          justification="'Five times' is the paper's own number, so GO trains at sigma_train = 5 x the control's "
          "basin and must reach 5x. The factor's interval is the ratio of the two sequential sigma-basin "
          "intervals, so its lower end >= 5 is exactly the intersection-union enlargement test (GO certified "
          "inside at 5 s, the control certified outside at s). Raw sigma is measured on the canonical "
          "(minimum-norm) representative of each model under its function-preserving rescalings, so a "
          "reparameterisation cannot fake it. The comparison means something only when GO kept the clean score "
          "(paired TOST within +-tau/2) and trained to its plateau; every entry counts.",
          requires=(Requirement("clean_gate_passed", _true, "clean score not shown equal (paired TOST)"),
                    Requirement("m", lambda m: m == FIVE_X_PROTOCOL.primary_m, "only the primary arm m = 5 decides"),
                    Requirement("unit_kind", lambda u: u == "canonical", "raw sigma after canonicalisation decides"),
                    Requirement("plateau_reached", _true, "GO stopped at its budget, not at its plateau "
                                "(under-trained)", unmet=NO_HOLDS))),
    Claim("go-forgets-less", "GO-trained models forget less under the same later fine-tune", V23,
          "forgetting(AdamW) - forgetting(GO) on the old task, accuracy points", "accuracy points", Region(lo=0.0),
          kind=EMPIRICAL, justification="Less forgetting is a positive difference. It is only a comparison when "
          "both arms start from the same clean score (gate), the difference is paired per example, and it "
          "survives training seeds (>= 3).",
          requires=(Requirement("paired", _true, "a paired per-example analysis"),
                    Requirement("clean_gate_passed", _true, "both arms' clean scores shown equal first"),
                    Requirement("training_seeds", lambda n: n >= 3, ">= 3 training seeds"))),
)
