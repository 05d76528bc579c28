"""Reading llm_check results (--llm-results): claim rows and landscapes; malformed input is a user error."""

from __future__ import annotations

import json

import pytest

from paper_figures import llm_results
from theory.errors import UserInputError
from theory.verdict import ClaimResult


def test_claims_and_landscapes_are_read(tmp_path):
    row = ClaimResult.unmeasured("strict-basin-90pct-at-99", "c", "k", "no GPU", model="Qwen2.5-7B")
    (tmp_path / "claims.json").write_text(json.dumps([row.to_dict()]))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "landscape.json").write_text(json.dumps({"alphas": [0.0, 1.0], "curves": []}))
    (tmp_path / "run" / "other.json").write_text(json.dumps({"x": 1}))
    assert llm_results.claims(tmp_path) == [row]
    assert [name for name, _ in llm_results.landscapes(tmp_path)] == ["run/landscape.json"]
    assert llm_results.claims(None) == [] and llm_results.landscapes(None) == []


@pytest.mark.parametrize("content", ["{not json", json.dumps({"id": "x"}), json.dumps([{"verdict": "holds"}])])
def test_malformed_claims_are_user_errors(tmp_path, content):
    (tmp_path / "claims.json").write_text(content)
    with pytest.raises(UserInputError):
        llm_results.claims(tmp_path)
