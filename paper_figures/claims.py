"""The claims table of a run (claims.md + claims.json): Measurements from toymodels.claims, from llm_check
results and from this package's figure data (for the claims toymodels.claims does not measure), all judged
by the one registry (theory.claims.judge_all).

A producer whose data is missing (paper_figures.stored.MissingData, or an upstream module that is not
installed) leaves its claims not-measured with the reason; any other error is a crash and propagates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from paper_figures import claims_table
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from paper_figures.stored import MissingData
from theory.claims import CLAIM_IDS, Measurement, get, judge_all
from theory.claims.document import counts, measurement_from_dict, measurement_to_dict
from theory.verdict import ClaimResult

NAME = "claims"
TITLE = "Claims table"
QWEN = "Qwen2.5-7B-Instruct (paper's headline)"
PAPER_ONLY = Measurement("strict-basin-90pct-at-99", None, model=QWEN, source="paper", subject=QWEN,
                         reason="needs Qwen2.5-7B-Instruct and the paper's safety prompts; run llm_check and pass "
                                "--llm-results")


def toymodels_measurements(run: FigureRun) -> tuple[list[Measurement], str | None]:
    """toymodels.claims.measure_all (cached), or ([], reason) when it is not available."""
    try:
        from toymodels.claims import measure_all
    except ModuleNotFoundError as exc:
        return [], f"toymodels.claims not available ({exc.name})"
    from paper_figures import enlargement

    def compute() -> list[dict]:
        sweep = enlargement.path(run) if enlargement.entries(run) else None
        return [measurement_to_dict(m) for m in measure_all(run.out / "toymodels" / run.settings, run.quick,
                                                            enlargement=sweep)]

    return [measurement_from_dict(d) for d in run.cached("toymodels_measurements", compute)], None


def merge(primary: Sequence[Measurement], secondary: Sequence[Measurement]) -> list[Measurement]:
    """Per claim id: `primary`'s measurements when one of them has an estimate; else `secondary`'s when one
    of those has; else both (their not-measured reasons are joined by the judge)."""
    out: list[Measurement] = []
    for cid in dict.fromkeys([m.claim_id for m in primary] + [m.claim_id for m in secondary]):
        p = [m for m in primary if m.claim_id == cid]
        s = [m for m in secondary if m.claim_id == cid]
        if any(m.estimate is not None for m in p):
            out += p
        elif any(m.estimate is not None for m in s):
            out += s
        else:
            out += p + s
    return out


def rows(run: FigureRun, producers: Sequence | None = None) -> list[ClaimResult]:
    """Every claim's rows for this run (producers: (function of the run, claim ids it measures) pairs,
    default claims_from_figures.PRODUCES)."""
    from paper_figures import llm_results

    if producers is None:
        from paper_figures.claims_from_figures import PRODUCES as producers
    toy, toy_reason = toymodels_measurements(run)
    have = {m.claim_id for m in toy if m.estimate is not None}
    reasons: dict[str, str] = {}
    derived: list[Measurement] = []
    for produce, ids in producers:
        if all(cid in have for cid in ids):
            continue
        try:
            derived += produce(run)
        except (MissingData, ModuleNotFoundError) as exc:  # no data for it in this run: not-measured, with why
            reasons.update({cid: f"no data: {exc}" for cid in ids if cid not in have})
    llm = llm_results.measurements(run.llm_results)
    legacy = llm_results.claims(run.llm_results)
    ms = merge(toy, derived) + llm
    if not any(m.claim_id == PAPER_ONLY.claim_id and m.subject != "toy models" for m in llm) and \
            not any(r.id == PAPER_ONLY.claim_id for r in legacy):
        ms.append(PAPER_ONLY)
    default = toy_reason or "not reported by toymodels.claims and no figure data for it"
    table = judge_all(ms, reasons, default_reason=default)
    table += [ClaimResult(**{**r.__dict__, "kind": get(r.id).kind if r.id in CLAIM_IDS else r.kind,
                             "subject": r.subject or r.model or "llm_check"}) for r in legacy]
    order = {cid: i for i, cid in enumerate(CLAIM_IDS)}
    return sorted(table, key=lambda r: order.get(r.id, len(order)))


def data(run: FigureRun) -> list[dict]:
    return [r.to_dict() for r in rows(run)]


def work(run: FigureRun) -> Work:
    """toymodels.claims (rough: per training seed its MLP width sweep, checkpoints, theorem draws, forgetting
    and the small transformer, from its QUICK/FULL sizes) plus the SFT-direction edges of the derived rows."""
    from paper_figures import cost, toy
    from theory.claims.statistics import PREDICTION_K_MIN
    from toymodels.claims import FULL, QUICK
    from toymodels.train import ALIGN, FINETUNE, MLP_TRAIN, PRETRAIN

    works = [toy.edges_work(run, "align", cap, f"sft-{kind}", k=1)
             for kind, cap in (("benign", "basic"), ("adversarial", "safety"), ("adversarial", "basic"))]
    if not run.has("toymodels_measurements"):
        c = QUICK if run.quick else FULL
        edge = c.k * toy.EDGE_EVALS_PER_DIRECTION
        reference = PREDICTION_K_MIN * toy.EDGE_EVALS_PER_DIRECTION
        tf_steps = round(c.tf_scale * (PRETRAIN.steps + ALIGN.steps + sum(f.steps for f in FINETUNE.values())))
        s = len(c.seeds)
        works.append(cost.Work(
            {"claims-mlp": (cost.MLP, s * (len(c.widths) * MLP_TRAIN.steps + 2 * MLP_TRAIN.steps + 4 * c.forget_steps)),
             "claims-tf": (cost.TRANSFORMER, s * tf_steps)},
            {"claims-mlp-edges": (cost.MLP, s * (len(c.widths) * 3 * edge
                                                 + MLP_TRAIN.steps // c.checkpoint_every * edge)),
             "claims-mlp-draws": (cost.MLP_TRIAL, s * 6 * c.n_draws),
             "claims-tf": (cost.TRANSFORMER, s * (9 * edge + reference + c.strict_k * 2 + 2 * c.k * c.curve_points))}))
    return toy.merge(*works)


def plot(data: list[dict], out: Path) -> FigureResult:
    table = [claims_table.from_dict(d) for d in data]
    files = claims_table.write(table, out)
    summary = "; ".join(f"{kind}: {c['total']} rows, " + ", ".join(f"{k} {v}" for k, v in c.items() if k != "total" and v)
                        for kind, c in counts(table).items())
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED, f"{len(table)} rows: {summary}")


FIGURE = Figure(NAME, TITLE, data, plot, work)
