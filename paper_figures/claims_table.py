"""The claims table: one row per claim of the paper (ids and statements: CLAIMS), as claims.md + claims.json.

Rows come from measurements (toymodels.claims, this package's figure data, llm_check results: see
paper_figures.claims, the pipeline step); each is a
`theory.verdict.ClaimResult` whose verdict is the confidence interval judged against the criterion's
region: holds (inside), fails (outside), inconclusive (straddles). Every id without a measurement gets
not-measured (reason), so the table always lists every claim.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from theory.estimate import Estimate
from theory.verdict import ClaimResult, Region

CLAIMS: dict[str, tuple[str, str]] = {
    "basin-flat-then-collapse": ("0–1 scores stay flat along random directions, then collapse to chance",
                                 "strict-basin fraction near the edge and collapse to chance beyond it"),
    "nll-smooth": ("NLL landscapes are smooth (no basin) along the same directions",
                   "NLL changes already well inside the 0–1 basin"),
    "basins-nested": ("specific-capability basins lie inside the basic-capability basin",
                      "edge(specific) / edge(basic) <= 1"),
    "worst-much-narrower": ("worst-case directions collapse 10–100x sooner at equal norm",
                            "edge(most-case) / edge(worst-case) in [10, 100]"),
    "benign-sft-like-random": ("benign SFT directions behave like random directions",
                               "edge(benign SFT) / median edge(random) in [0.5, 2]"),
    "adversarial-sft-kills-safety-first": ("adversarial SFT destroys safety before other capabilities",
                                           "edge(safety) / edge(basic) along the adversarial direction < 1"),
    "adversarial-sft-near-worst-case": ("adversarial SFT directions resemble the worst case",
                                        "edge(adversarial) / edge(worst) <= 2"),
    "basins-widen-with-size": ("basins widen with model size (raw and invariant units)",
                               "slope of log sigma_basin vs log params > 0 in both units"),
    "basins-widen-with-training": ("basins widen during training", "edge(final) / edge(early) > 1"),
    "strict-basin-90pct-at-99": ("> 90 % of directions are exactly flat at 99 % confidence at the stated sigma",
                                 "Clopper–Pearson 99 % lower bound of the flat fraction > 0.9"),
    "thm42-holds": ("Thm 4.2: smoothed score >= p_A - r/(sqrt(2 pi) sigma)",
                    "measured smoothed score minus the bound >= 0"),
    "thm43-holds": ("Thm 4.3: smoothed score >= Phi(Phi^-1(p_A) - r/sigma)",
                    "measured smoothed score minus the bound >= 0"),
    "thm44-holds": ("Thm 4.4: S(theta+eps) >= p_A - L sigma sqrt(2 log(1/delta)) w.p. >= 1 - delta",
                    "violation rate <= delta"),
    "thm45-embedding-holds": ("Thm 4.5 with input-embedding noise holds",
                              "measured smoothed score after substitution minus the bound >= 0"),
    "thm45-heuristic-fails": ("Thm 4.5 as stated (parameter noise) fails for repeated tokens",
                              "measured smoothed score after substitution minus the bound < 0"),
    "go-enlarges-5x": ("GO enlarges the basin about 5x (invariant unit decides)",
                       "invariant enlargement factor >= 5"),
    "go-forgets-less": ("GO-trained models forget less under the same later fine-tune",
                        "forgetting(plain) - forgetting(GO) > 0"),
}
CLAIM_IDS: tuple[str, ...] = tuple(CLAIMS)


def judge(claim_id: str, estimate: Estimate, region: Region, *, model: str, source: str,
          criterion: str | None = None) -> ClaimResult:
    """A measured row: the Estimate's interval judged against `region` (unit from the Estimate)."""
    row = ClaimResult.judged(claim_id, CLAIMS[claim_id][0], region, estimate.estimate, estimate.ci,
                             estimate.confidence, estimate.unit, estimate.n, model, source)
    if criterion is None:
        return row
    return ClaimResult(**{**row.__dict__, "criterion": criterion})


def from_dict(d: Mapping) -> ClaimResult:
    """A ClaimResult back from its JSON form, the claim text defaulting to this table's statement."""
    return ClaimResult.from_dict(d, default_claim=CLAIMS.get(str(d.get("id")), ("", ""))[0])


def assemble(measured: Iterable[ClaimResult], missing_reasons: Mapping[str, str] | None = None,
             default_reason: str = "no measurement available in this run") -> list[ClaimResult]:
    """Rows in CLAIM_IDS order (measured rows of an id kept in their order; ids outside the list appended
    after); ids without a row become not-measured with missing_reasons[id] or `default_reason`."""
    reasons = dict(missing_reasons or {})
    by_id: dict[str, list[ClaimResult]] = {}
    for row in measured:
        by_id.setdefault(row.id, []).append(row)
    rows: list[ClaimResult] = []
    for cid in CLAIM_IDS:
        if cid in by_id:
            rows.extend(by_id.pop(cid))
        else:
            claim, criterion = CLAIMS[cid]
            rows.append(ClaimResult.unmeasured(cid, claim, criterion, reasons.get(cid, default_reason)))
    for extra in by_id.values():
        rows.extend(extra)
    return rows


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.4g}"


def to_markdown(rows: Sequence[ClaimResult]) -> str:
    lines = ["# Claims table", "",
             "Verdict: *holds* if the confidence interval lies inside the criterion's region, *fails* if it "
             "lies outside, *inconclusive* otherwise; *not-measured (reason)* when this run could not measure it.",
             "", "| id | verdict | value | CI | conf. | unit | n | criterion | model | source |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ci = "–" if r.ci is None else f"[{_fmt(r.ci[0])}, {_fmt(r.ci[1])}]"
        cells = [r.id, r.verdict, _fmt(r.value), ci, _fmt(r.confidence), r.unit or "–",
                 "–" if r.n is None else str(r.n), r.criterion, r.model or "–", r.source or "–"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", "Claims:", ""] + [f"- `{cid}`: {text}" for cid, (text, _) in CLAIMS.items()]
    return "\n".join(lines) + "\n"


def write(rows: Sequence[ClaimResult], out_dir: str | Path) -> list[Path]:
    """claims.json (a list of row dicts) and claims.md in out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "claims.json", out / "claims.md"]
    paths[0].write_text(json.dumps([r.to_dict() for r in rows], indent=1, allow_nan=False) + "\n")
    paths[1].write_text(to_markdown(rows))
    return paths
