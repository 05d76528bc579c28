"""The symbolic derivations: every one holds, every mutant is caught, the derived expressions agree with
the numpy closed forms, and the CLI's exit codes."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import theory.__main__ as cli
from theory.bounds import certified_lower_bound, certified_radius, lipschitz_concentration_bound
from theory.counterexample import EXACT
from theory.derivations import CHECKED, FAILED, PROVED, REGISTRY, core, derivations, mutants
from theory.derivations.core import Derivation, Step
from theory.derivations.smoothing import p, q, r, sigma, strong_bound

KEYS = [entry.key for entry in REGISTRY]


def by_key(key: str) -> Derivation:
    return next(d for d in derivations() if d.key == key)


def test_at_least_a_to_h_present():
    assert set("abcdefgh") <= set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_derivation_holds(key):
    d = by_key(key)
    assert d.verdict in (PROVED, CHECKED), [(s.statement, s.verdict, s.note) for s in d.steps]


@pytest.mark.parametrize("key", KEYS)
def test_mutant_is_caught(key):
    desc, d = next((desc, d) for desc, d in mutants() if d.key == key)
    assert d.verdict == FAILED, desc


def test_checker_distinguishes_proved_checked_failed():
    """Φ⁻¹(1 − p) = −Φ⁻¹(p) holds but sympy (1.14) does not simplify it: 'checked numerically', not proved;
    a 1e-12 error is 'failed'; one numerically-checked step makes a derivation 'checked numerically'."""
    pp = sp.Symbol("p", positive=True)
    x = sp.Symbol("x", positive=True)
    ranges = {pp: (0.01, 0.99), x: (0.1, 3)}
    assert core.identity("odd quantile", core.Phi_inv(1 - pp), -core.Phi_inv(pp), ranges).verdict == CHECKED
    assert core.identity("wrong", sp.gamma(x), sp.gamma(x) + sp.Float("1e-12"), ranges).verdict == FAILED
    assert core.identity("exact", sp.gamma(x + 1), x * sp.gamma(x), ranges).verdict == PROVED
    assert core.nonnegative("sign", -sp.exp(-x), ranges).verdict == FAILED
    mixed = Derivation("z", "t", "c", x, (Step("s", x, PROVED), Step("n", x, CHECKED)))
    assert mixed.verdict == CHECKED


@settings(max_examples=40)
@given(pa=st.floats(0.01, 0.99), dist=st.floats(0.0, 5.0), sd=st.floats(0.1, 3.0), frac=st.floats(0.01, 1.0))
def test_derived_expressions_match_the_closed_forms(pa, dist, sd, frac):
    bound = sp.lambdify((p, r, sigma), strong_bound(p, r, sigma), "mpmath")
    assert float(bound(pa, dist, sd)) == pytest.approx(certified_lower_bound(pa, dist, sd), rel=1e-9, abs=1e-12)
    radius_expr = by_key("d").expression.rhs
    radius = sp.lambdify((p, q, sigma), radius_expr, "mpmath")
    qq = frac * pa
    assert float(radius(pa, qq, sd)) == pytest.approx(certified_radius(pa, qq, sd), rel=1e-9, abs=1e-12)


def test_concentration_expression_matches_closed_form():
    expr = by_key("k").expression.rhs
    f = sp.lambdify(sorted(expr.free_symbols, key=str), expr, "mpmath")  # (L, delta, sigma)
    for L, delta, sd in [(1.0, 0.1, 0.5), (2.5, 1e-6, 0.01)]:
        assert float(f(L, delta, sd)) == pytest.approx(-lipschitz_concentration_bound(0.0, L, sd, delta), rel=1e-12)


def test_counterexample_exact_values_agree_with_symbolic():
    c = 1 / (2 * sp.sqrt(2))
    assert float(sp.N(core.Phi(c), 20)) == pytest.approx(EXACT["p_a"], abs=1e-15)
    assert float(sp.N(core.Phi(c - 1), 20)) == pytest.approx(EXACT["heuristic_bound"], abs=1e-15)
    assert float(sp.N(core.Phi(-c), 20)) == pytest.approx(EXACT["x_prime_embedding_noise"], abs=1e-15)
    assert EXACT["p_a"] == pytest.approx(0.638, abs=5e-4) and EXACT["heuristic_bound"] == pytest.approx(0.259, abs=5e-4)


def test_cli_prints_verdicts_and_writes_report(tmp_path, capsys):
    report = tmp_path / "theory.md"
    assert cli.main(["--report", str(report)]) == 0
    out = capsys.readouterr().out
    for key in KEYS:
        assert f"({key}) " in out
    assert "mutants caught" in out
    text = report.read_text(encoding="utf-8")
    assert "| derivation | claim | verdict |" in text and "## Mutants" in text


def test_cli_exits_1_when_a_derivation_fails(monkeypatch, capsys):
    broken = Derivation("x", "broken", "0 = 1", sp.Integer(0), (Step("0 = 1", sp.Integer(1), FAILED),))
    monkeypatch.setattr(cli, "derivations", lambda: (*derivations(), broken))
    assert cli.main([]) == 1


def test_cli_exits_1_when_a_mutant_escapes(monkeypatch):
    escaped = Derivation("y", "escaped", "c", sp.Integer(0), (Step("s", sp.Integer(0), PROVED),))
    monkeypatch.setattr(cli, "mutants", lambda: (*mutants(), ("a mutant that passes", escaped)))
    assert cli.main([]) == 1


def test_cli_user_error_is_one_line_exit_2(tmp_path, capsys):
    assert cli.main(["--report", str(tmp_path / "missing" / "r.md")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")


def test_numbers_in_cli_output_are_finite():
    assert np.isfinite(EXACT["x_prime_embedding_noise"])
