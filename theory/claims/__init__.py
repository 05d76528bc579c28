"""The claims registry and its one judge.

registry   every claim once: id, statement (with the paper version), quantity and unit, criterion region
           with its justification, the paper's number, kind (empirical claim / theorem check), multiplicity
           rule and the requirements a measurement must meet (empirical, theorems)
records    Claim, Requirement, Measurement (what toy, figure and real-model producers hand the judge)
judge      Measurements → ClaimResult: per-entry interval verdict, intersection–union / Holm across
           entries, and the per-seed rule
document   the claims.json document: schema version, rows, counts by kind
statistics transition-ratio nulls, prediction intervals, log-log slopes, the sign test
"""

from theory.claims.document import SCHEMA_VERSION, counts, document, rows_from_document
from theory.claims.judge import judge, judge_all
from theory.claims.records import EMPIRICAL, THEOREM, Claim, Measurement, Requirement
from theory.claims.registry import CLAIM_IDS, CLAIMS, EMPIRICAL_IDS, THEOREM_IDS, get

__all__ = ["CLAIMS", "CLAIM_IDS", "EMPIRICAL", "EMPIRICAL_IDS", "SCHEMA_VERSION", "THEOREM", "THEOREM_IDS", "Claim",
           "Measurement", "Requirement", "counts", "document", "get", "judge", "judge_all", "rows_from_document"]
