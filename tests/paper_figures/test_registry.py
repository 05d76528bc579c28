"""The figure registry: every item has a data and a plot function, plots read only stored data (no torch,
no data function), the package has no import cycle, claims crash loudly, cost estimates add up."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from pf_synthetic import populate

import paper_figures
from paper_figures import claims, cost, registry
from paper_figures.context import FigureRun
from paper_figures.stored import MissingData
from theory.estimate import Estimate, format_interval
from theory.verdict import ClaimResult

PACKAGE = Path(paper_figures.__file__).parent
PLOTTED_FROM_SYNTHETIC = ("fig01_most_case", "fig02_scale", "fig03_worst_case", "fig04_sft_case",
                          "fig05_strict_basin", "fig06_bounds", "fig07_training", "fig08_go", "fig09_enlargement",
                          "fig10_nll", "fig11_input_robustness", "table01_inside_basin")


def test_every_item_has_data_and_plot_and_is_named_by_its_module():
    figures = [registry.figure(m) for m in registry.MODULES]
    assert [f.id for f in figures] == list(registry.MODULES)
    assert all(callable(f.data) and callable(f.plot) and (f.work is None or callable(f.work)) for f in figures)


def test_every_module_with_a_figure_is_registered():
    """Adding a figure = one new module + one MODULES line: a FIGURE outside MODULES would be silently skipped."""
    defining = {p.stem for p in PACKAGE.glob("*.py")
                if any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "FIGURE" for t in node.targets)
                       for node in ast.parse(p.read_text()).body)}
    assert defining == set(registry.MODULES)


def _imports(path: Path) -> set[str]:
    """paper_figures modules imported anywhere in `path` (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("paper_figures"):
            if node.module == "paper_figures":
                found |= {f"paper_figures.{a.name}" for a in node.names}
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("paper_figures.")}
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (module → modules it imports), or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt, path + [nxt])):
                return cycle
        state[node] = "done"
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module, [module])):
            return cycle
    return None


def test_no_import_cycle_inside_paper_figures():
    graph = {f"paper_figures.{p.stem}": _imports(p) for p in PACKAGE.glob("*.py")}
    assert find_cycle(graph) is None


def test_the_cycle_scan_finds_a_cycle_through_function_level_imports(tmp_path):
    a, b, c = tmp_path / "a.py", tmp_path / "b.py", tmp_path / "c.py"
    a.write_text("def f():\n    from paper_figures.b import g\n")
    b.write_text("from paper_figures import c\n")
    c.write_text("import paper_figures.a\n")
    graph = {f"paper_figures.{p.stem}": _imports(p) for p in (a, b, c)}
    assert find_cycle(graph) == ["paper_figures.a", "paper_figures.b", "paper_figures.c", "paper_figures.a"]
    assert find_cycle({**graph, "paper_figures.c": set()}) is None


@pytest.fixture(scope="module")
def stored(tmp_path_factory, tiny_sweep):
    """Synthetic measurements, every item's data computed from them and stored."""
    out = tmp_path_factory.mktemp("registry")
    populate(out, tiny_sweep[1])
    run = FigureRun(out=out, quick=True)
    for name in PLOTTED_FROM_SYNTHETIC:
        registry.store_data(run, registry.figure(name))
    return run


PLOT_WITHOUT_TORCH = """
import dataclasses, sys
from pathlib import Path

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("plot functions must not import torch: " + name)

sys.meta_path.insert(0, NoTorch())
from paper_figures import registry
from paper_figures.context import FigureRun

def fail(run):
    raise AssertionError("a plot called its data function")

run = FigureRun(out=Path(sys.argv[1]), quick=True)
for name in sys.argv[2:]:
    fig = dataclasses.replace(registry.figure(name), data=fail, work=None)
    result = registry.plot_stored(run, fig)
    assert all(p.stat().st_size > 0 for p in result.files), name
    print(name, result.status)
assert "torch" not in sys.modules
"""


def test_plots_read_only_stored_data_and_import_no_torch(stored):
    for p in stored.out.glob("fig*.p*"):
        p.unlink()
    done = subprocess.run([sys.executable, "-c", PLOT_WITHOUT_TORCH, str(stored.out), *PLOTTED_FROM_SYNTHETIC],
                          capture_output=True, text=True, cwd=Path(__file__).parent, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == [w for name in PLOTTED_FROM_SYNTHETIC for w in (name, "plotted")]
    assert (stored.out / "fig03_worst_case.png").exists() and (stored.out / "table01_inside_basin.md").exists()


def test_stored_figure_data_is_plain_json(stored):
    for name in PLOTTED_FROM_SYNTHETIC:
        json.loads(registry.data_path(stored, registry.figure(name)).read_text())


def test_fig09_names_every_entry_and_counts_the_clipped_whiskers(stored, tiny_sweep):
    """The summary lists each entry's verdict; every drawn interval (each GO arm's factor in both units, the
    unit control's two ratios) whose lower end is 0 is counted as clipped."""
    fig = registry.figure("fig09_enlargement")
    result = registry.plot_stored(stored, fig)
    entries = tiny_sweep[1]
    for e in entries:
        assert f"{e['kind']}-{e['width']}-s{e['seed']}: {e['verdict']}" in result.summary
    drawn = [a[k]["factor"] for e in entries for a in e["protocol"]["arms"] if a.get("sigma_train") is not None
             for k in ("test", "test_multiplicative")]
    drawn += [e["protocol"]["unit_control"][k] for e in entries if "unit_control" in e["protocol"]
              for k in ("raw_ratio", "canonical_ratio")]
    zero = sum(1 for d in drawn if not d["ci"][0] or d["ci"][0] <= 0)
    assert (f"{zero} lower interval end(s) at 0 drawn clipped" in result.summary) == (zero > 0)


def test_fig02_title_claims_only_resolved_trends():
    from paper_figures.fig02_scale import trend

    def row(lo, hi):
        return {"sigma_basin": {"before": Estimate((lo + hi) / 2, (lo, hi), 0.975, 48, "sigma").to_dict()}}

    assert trend([row(0.1, 0.2), row(0.3, 0.4)], "sigma_basin") == "grows"
    assert trend([row(0.253, 0.253), row(0.253, 0.253)], "sigma_basin") == "not resolved"
    assert trend([row(0.3, 0.4), row(0.1, 0.2)], "sigma_basin") == "shrinks"


def test_fig03_grid_resolves_an_edge_far_below_the_linear_grid():
    from paper_figures.fig03_worst_case import worst_grid

    linear = [i * 0.01 for i in range(-10, 11)]
    alphas = worst_grid(linear, Estimate(1e-4, (9e-5, 1.1e-4), 0.999, 1, "alpha"))
    below = [a for a in alphas if 0 < a < 1e-4]
    above = [a for a in alphas if 1e-4 <= a < 0.01]
    assert len(below) >= 10 and len(above) >= 10 and set(linear) <= set(alphas)


# ----------------------------------------------------------------------------- claims
def test_claim_result_round_trips_through_its_dict():
    rows = [ClaimResult("x", "c", "k", 3.0, (1.5, math.inf), 0.95, "ratio", 8, "m", "s", "holds",
                        "empirical claim", ("e1: holds", "e2: holds")),
            ClaimResult("y", "c", "k", -2.0, (-math.inf, 0.0), 0.99, "u", 1, "m", "s", "fails"),
            ClaimResult.unmeasured("z", "c", "k", "no GPU", model="m")]
    for row in rows:
        assert ClaimResult.from_dict(json.loads(json.dumps(row.to_dict()))) == row


@pytest.fixture()
def claims_run(tmp_path):
    run = FigureRun(out=tmp_path, quick=True)
    run.results_dir.mkdir(parents=True)
    (run.results_dir / "toymodels_measurements.json").write_text("[]")  # toymodels.claims measured nothing
    return run


def test_a_crashing_claim_producer_raises(claims_run):
    def crash(run):
        raise ZeroDivisionError("bug in a producer")

    with pytest.raises(ZeroDivisionError):
        claims.rows(claims_run, [(crash, ("nll-smooth",))])


def test_missing_data_gives_a_not_measured_row(claims_run):
    def missing(run):
        raise MissingData("the width sweep stored no entries")

    by_id = {r.id: r for r in claims.rows(claims_run, [(missing, ("go-enlarges-5x",))])}
    assert by_id["go-enlarges-5x"].verdict == "not-measured (no data: the width sweep stored no entries)"


# ----------------------------------------------------------------------------- stdout numbers
def test_intervals_are_formatted_not_printed_as_tuples():
    assert format_interval(1.58, (0.0, 6.324555320336757)) == "1.58 [0, 6.32]"
    assert Estimate(1.58, (0.0, 6.324555320336757), 0.95, 4, "ratio").brief() == "1.58 [0, 6.32]"
    assert Estimate(2.0, (1.0, math.inf), 0.95, 4, "ratio").brief() == "2 [1, inf]"


def test_cost_estimate_pays_shared_jobs_once():
    units = cost.UnitCosts(train_step_s={"transformer": 0.5, "mlp": 0.01}, eval_s={"transformer": 0.1, "mlp": 0.002})
    first = cost.Work({"tf-pretrain": ("transformer", 100)}, {"landscape_basic": ("transformer", 50)})
    second = cost.Work({"tf-pretrain": ("transformer", 100), "mlp-plain": ("mlp", 400)},
                       {"landscape_basic": ("transformer", 50), "edges": ("mlp", 1000)})
    a, b = cost.estimate([first, second], units)
    assert (a.train_s, a.eval_s, a.train_steps, a.evals) == (50.0, 5.0, 100, 50)
    assert (b.train_s, b.eval_s, b.train_steps, b.evals) == (4.0, 2.0, 400, 1000)
    assert a.line() == "~55 s (training 50 s: 100 steps; 50 evaluations 5 s)"


def test_fully_stored_items_declare_no_work(stored):
    for name in ("fig05_strict_basin", "fig06_bounds", "fig07_training", "fig08_go", "fig09_enlargement",
                 "fig11_input_robustness", "table01_inside_basin", "fig01_most_case", "fig10_nll"):
        work = registry.figure(name).work(stored)
        assert not work.train and not work.evals, name
