"""The claims table of a run (claims.md + claims.json): toymodels.claims rows, llm_check rows, and rows
derived from this package's figure data for the ids toymodels.claims does not report.

A deriver whose data is missing (paper_figures.stored.MissingData, or an upstream module that is not
installed) gives an honest not-measured row with the reason; any other error is a crash and propagates.
"""

from __future__ import annotations

from pathlib import Path

from paper_figures import claims_table
from paper_figures.context import FigureRun
from paper_figures.cost import Work
from paper_figures.figure import PLOTTED, FigureResult
from paper_figures.registry import Figure
from paper_figures.stored import MissingData
from theory.verdict import ClaimResult

NAME = "claims"
TITLE = "Claims table"
PAPER_ONLY = ClaimResult.unmeasured(
    "strict-basin-90pct-at-99", claims_table.CLAIMS["strict-basin-90pct-at-99"][0],
    "CP 99 % lower bound of the flat fraction > 0.9 at sigma = 0.01, 50 safety prompts",
    "needs Qwen2.5-7B-Instruct and the paper's safety prompts; run llm_check and pass --llm-results",
    model="Qwen2.5-7B-Instruct (paper's headline)", source="paper")


def _is_measured(row: ClaimResult) -> bool:
    return not row.verdict.startswith("not-measured")


def toymodels_rows(run: FigureRun) -> tuple[list[ClaimResult], str | None]:
    """Rows of toymodels.claims.measure_all_claims (cached), or ([], reason) when it is not available."""
    try:
        from toymodels.claims import measure_all_claims
    except ModuleNotFoundError as exc:
        return [], f"toymodels.claims not available ({exc.name})"
    from paper_figures import enlargement

    def compute() -> list[dict]:
        sweep = enlargement.path(run) if enlargement.entries(run) else None
        rows = measure_all_claims(run.out / "toymodels" / run.settings, run.quick, enlargement=sweep)
        return [r.to_dict() for r in rows]

    return [claims_table.from_dict(d) for d in run.cached("toymodels_claims", compute)], None


def rows(run: FigureRun, derivers: dict | None = None) -> list[ClaimResult]:
    """Every claim id's rows for this run (derivers: claim id → function of the run, default
    claims_from_figures.DERIVERS)."""
    from paper_figures import llm_results

    if derivers is None:
        from paper_figures.claims_from_figures import DERIVERS as derivers
    toy_rows, toy_reason = toymodels_rows(run)
    llm_rows = llm_results.claims(run.llm_results)
    sources = toy_rows + llm_rows
    measured = [r for r in sources if _is_measured(r)]
    have = {r.id for r in measured}
    reasons: dict[str, str] = {}
    done: set = set()
    for cid, derive in derivers.items():
        if cid in have or derive in done:
            continue
        done.add(derive)
        try:
            out = derive(run)
        except (MissingData, ModuleNotFoundError) as exc:  # no data for it in this run: an honest not-measured row
            reasons[cid] = f"no data: {exc}"
            continue
        for row in out if isinstance(out, list) else [out]:
            if row.id not in have:
                (measured if _is_measured(row) else sources).append(row)
    have = {r.id for r in measured}
    unmeasured = [r for r in sources if not _is_measured(r) and r.id not in have]
    if not any(r.id == PAPER_ONLY.id for r in llm_rows):
        measured.append(PAPER_ONLY)
    default = toy_reason or "not reported by toymodels.claims and no figure data for it"
    return claims_table.assemble(measured + unmeasured, reasons, default_reason=default)


def data(run: FigureRun) -> list[dict]:
    return [r.to_dict() for r in rows(run)]


def work(run: FigureRun) -> Work:
    """toymodels.claims (rough: its MLP width sweep, checkpoints, theorem draws, forgetting and the small
    transformer, from its QUICK/FULL sizes) plus the SFT-direction edges of the derived rows."""
    from paper_figures import cost, toy
    from toymodels.claims import FULL, QUICK
    from toymodels.train import ALIGN, FINETUNE, MLP_TRAIN, PRETRAIN

    works = [toy.edges_work(run, "align", cap, f"sft-{kind}", k=1)
             for kind, cap in (("benign", "basic"), ("adversarial", "safety"), ("adversarial", "basic"))]
    if not run.has("toymodels_claims"):
        c = QUICK if run.quick else FULL
        edge = c.k * toy.EDGE_EVALS_PER_DIRECTION
        tf_steps = round(c.tf_scale * (PRETRAIN.steps + ALIGN.steps + sum(f.steps for f in FINETUNE.values())))
        works.append(cost.Work(
            {"claims-mlp": (cost.MLP, len(c.widths) * MLP_TRAIN.steps + 2 * MLP_TRAIN.steps + 2 * c.forget_steps),
             "claims-tf": (cost.TRANSFORMER, tf_steps)},
            {"claims-mlp-edges": (cost.MLP, len(c.widths) * 3 * edge + MLP_TRAIN.steps // c.checkpoint_every * edge),
             "claims-mlp-draws": (cost.MLP_TRIAL, 6 * c.n_draws),
             "claims-tf": (cost.TRANSFORMER, 8 * edge + c.strict_k * 2 + 2 * c.k * c.curve_points)}))
    return toy.merge(*works)


def plot(data: list[dict], out: Path) -> FigureResult:
    table = [claims_table.from_dict(d) for d in data]
    files = claims_table.write(table, out)
    counts: dict[str, int] = {}
    for r in table:
        key = r.verdict.split(" ")[0]
        counts[key] = counts.get(key, 0) + 1
    return FigureResult(NAME, TITLE, tuple(files), PLOTTED,
                        f"{len(table)} rows: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


FIGURE = Figure(NAME, TITLE, data, plot, work)
