"""What-if evaluation, diffs, re-planning and sweeps; the CLI commands over them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import pytest
from scipy.spatial.distance import cdist

from conftest import UTM, X0, Y0, write_toy_city
from coverage import InputError, load_scenario, plan
from coverage import cli
from coverage.cli import main
from coverage.sweep import parse_range, sweep_budgets, sweep_radius, sweep_targets

ROOT = Path(__file__).resolve().parents[1]


def covered_by(result, site_rows) -> np.ndarray:
    """Cells within reach of the given site rows, computed from distances directly."""
    sites = result.sites.iloc[list(site_rows)]
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    cells = np.column_stack([result.cells["x"], result.cells["y"]])
    if len(xy) == 0:
        return np.zeros(len(cells), dtype=bool)
    return (cdist(xy, cells) <= sites["radius_m"].to_numpy()[:, None]).any(axis=0)


def test_evaluate_add_and_remove_by_id(toy_plan):
    chosen = toy_plan.site_ids
    unused = [s for s in toy_plan.sites["site_id"] if s not in chosen]
    result = toy_plan.evaluate(add=[unused[0]], remove=[chosen[-1], chosen[-2]])
    assert result.kind == "what-if"
    assert result.site_ids == chosen[:-2] + [unused[0]]
    expected = covered_by(result, result.solution.order)
    assert np.array_equal(result.covered, expected)
    population = result.cells["population"].to_numpy()
    assert result.summary()["coverage_population"] == pytest.approx(population[expected].sum() / population.sum())
    assert result.summary()["stop_reason"] == "evaluated"
    # the base plan is untouched
    assert toy_plan.site_ids == chosen


def test_evaluate_new_site_by_coordinates(toy_plan):
    import geopandas as gpd
    import shapely

    point = gpd.GeoSeries([shapely.Point(X0 + 1234, Y0 + 567)], crs=UTM).to_crs("EPSG:4326")
    result = toy_plan.evaluate(add=[(point.x[0], point.y[0], "library", "Pop-up library")])
    new = result.sites.iloc[-1]
    assert new["site_id"] == f"NEW-library-{point.x[0]:.5f}-{point.y[0]:.5f}"
    assert new["name"] == "Pop-up library" and new["radius_m"] == 200
    assert new.geometry.x == pytest.approx(X0 + 1234, abs=1e-3)
    assert np.array_equal(result.covered, covered_by(result, result.solution.order))
    assert result.summary()["n_selected"] == toy_plan.summary()["n_selected"] + 1
    # and as a dict, with an id of our own
    again = toy_plan.evaluate(add={"lon": point.x[0], "lat": point.y[0], "category": "school", "site_id": "MY-1"})
    assert again.site_ids[-1] == "MY-1"


def test_evaluate_errors(toy_plan):
    with pytest.raises(InputError, match="unknown site id.*NOPE"):
        toy_plan.evaluate(add=["NOPE"])
    with pytest.raises(InputError, match="not in the plan"):
        toy_plan.evaluate(remove=[s for s in toy_plan.sites["site_id"] if s not in toy_plan.site_ids][:1])
    with pytest.raises(InputError, match="already in the plan"):
        toy_plan.evaluate(add=[toy_plan.site_ids[0]])
    with pytest.raises(InputError, match="unknown category 'museum'"):
        toy_plan.evaluate(add=[(114.0, 22.5, "museum")])
    with pytest.raises(InputError, match="swapped"):
        toy_plan.evaluate(add=[(22.5, 114.0, "school")])
    with pytest.raises(InputError, match="outside the study area"):
        toy_plan.evaluate(add=[(100.0, 10.0, "school")])
    with pytest.raises(InputError, match="not a number"):
        toy_plan.evaluate(add=[("east", 22.5, "school")])


def test_diff_against_independent_sets(toy_plan):
    chosen = toy_plan.site_ids
    unused = [s for s in toy_plan.sites["site_id"] if s not in chosen][:3]
    other = toy_plan.evaluate(add=unused, remove=chosen[2:6])
    diff = toy_plan.diff(other)
    assert diff.sites_added == unused and diff.sites_removed == chosen[2:6]
    was, now = toy_plan.covered, other.covered
    assert diff.cells_gained == int((now & ~was).sum()) and diff.cells_lost == int((was & ~now).sum())
    population = toy_plan.cells["population"].to_numpy()
    assert diff.population_gained == pytest.approx(population[now & ~was].sum())
    change = diff.overall.loc["coverage_population", "change"]
    assert change == pytest.approx(other.summary()["coverage_population"] - toy_plan.summary()["coverage_population"])
    east = diff.districts.set_index("name").loc["East"]
    assert east["coverage_population_after"] == pytest.approx(other.summary()["by_district"]["East"])
    json.dumps(diff.to_dict())  # serialisable
    assert "sites added (3)" in diff.format()


def test_replan_reuses_the_matrix_and_matches_a_fresh_plan(toy_scenario):
    scenario = load_scenario(toy_scenario)
    base = plan(scenario)
    lower = base.replan(target=0.5)
    assert lower.matrix is base.matrix and lower.cells is base.cells
    assert lower.site_ids == plan(scenario.replace(target=0.5)).site_ids
    wider = base.replan(categories=scenario.with_category("school", radius_m=300).categories)
    fresh = plan(scenario.with_category("school", radius_m=300))
    assert wider.site_ids == fresh.site_ids
    assert wider.summary()["coverage_population"] == pytest.approx(fresh.summary()["coverage_population"])


def test_sweeps(tmp_path):
    base = plan(load_scenario(write_toy_city(tmp_path / "c", n_schools=150, target=0.99)))
    targets = sweep_targets(base, [0.8, 0.9, 0.95])
    assert targets["target"].tolist() == [0.8, 0.9, 0.95]
    assert targets["total_cost"].is_monotonic_increasing
    assert targets["target_met"].all()
    row = targets.set_index("target").loc[0.9]
    assert row["total_cost"] == plan(base.scenario.replace(target=0.9)).summary()["total_cost"]
    budgets = sweep_budgets(base, max_sites=[2, 5, 10])
    assert budgets["n_new"].tolist() == [2, 5, 10]
    assert budgets["coverage_population"].is_monotonic_increasing
    radii = sweep_radius(base, "school", [100, 150, 250])
    assert radii["radius_m"].tolist() == [100, 150, 250]
    with pytest.raises(InputError, match="unknown category"):
        sweep_radius(base, "museum", [100])


def test_parse_range():
    assert parse_range("0.9:0.99:0.03", "--target") == [0.9, 0.93, 0.96, 0.99]
    assert parse_range("1,2,5", "--budget") == [1.0, 2.0, 5.0]
    with pytest.raises(InputError, match="start:stop:step"):
        parse_range("0.9:x:1", "--target")


def run(capsys, *args):
    code = main(["-q", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_whatif_compare_sweep(toy_scenario, tmp_path, capsys):
    base = tmp_path / "base"
    assert run(capsys, "plan", toy_scenario, "--out", base, "--no-map")[0] == 0
    selected = pd.read_csv(base / "selected_sites.csv")
    first_new = selected.loc[~selected["existing"], "site_id"].iloc[0]
    centre = gpd.GeoSeries([shapely.Point(X0 + 1000, Y0 + 500)], crs=UTM).to_crs("EPSG:4326")
    lonlat = pd.Series({"lon": centre.x[0] - 0.001, "lat": centre.y[0]})
    whatif = tmp_path / "whatif"
    code, out, err = run(capsys, "whatif", base, "--remove", first_new, "--add",
                         f"{lonlat.lon + 0.001},{lonlat.lat},library,Pop-up", "--out", whatif, "--no-map")
    assert code == 0, err
    assert "sites removed (1)" in out and "sites added (1)" in out
    diff = json.loads((whatif / "diff.json").read_text())
    new_id = f"NEW-library-{lonlat.lon + 0.001:.5f}-{lonlat.lat:.5f}"
    assert diff["sites_removed"] == [first_new] and diff["sites_added"] == [new_id]
    summary = json.loads((whatif / "summary.json").read_text())
    assert summary["kind"] == "what-if" and summary["n_selected"] == len(selected)

    # a what-if of a what-if: the added site is rebuilt from the folder
    again = tmp_path / "again"
    assert run(capsys, "whatif", whatif, "--remove", new_id, "--out", again, "--no-map")[0] == 0
    from coverage.planning import load_plan

    expected = load_plan(base).evaluate(remove=[first_new])  # what-if of what-if = base minus first_new
    assert json.loads((again / "summary.json").read_text())["coverage"] == pytest.approx(expected.coverage, abs=1e-12)
    assert pd.read_csv(again / "selected_sites.csv")["site_id"].tolist() == expected.site_ids

    code, out, err = run(capsys, "compare", base, whatif)
    assert code == 0 and "coverage_population" in out and first_new in out

    sweep = tmp_path / "sweep"
    code, out, err = run(capsys, "sweep", toy_scenario, "--target", "0.5:0.7:0.1", "--out", sweep)
    assert code == 0, err
    table = pd.read_csv(sweep / "sweep.csv")
    assert table["target"].tolist() == [0.5, 0.6, 0.7]
    assert (sweep / "sweep.svg").read_text().startswith("<svg")


def test_console_entry_point_flushes_and_writes_everything_before_it_exits(toy_plan, tmp_path, capsys):
    """``python -m coverage.cli`` (coverage.cli.run) leaves with os._exit without freeing
    the plans: its output through a pipe, its exit status and the whole folder (the map
    drawn by a forked child included) are still there, the same as main() in process."""
    base = toy_plan.write(tmp_path / "base", map=False)
    remove = toy_plan.site_ids[-1]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout block-buffered in a pipe
    argv = ["whatif", str(base), "--remove", remove, "--out"]
    done = subprocess.run([sys.executable, "-m", "coverage.cli", "-q", *argv, str(tmp_path / "console")],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    code, out, err = run(capsys, *argv, tmp_path / "inproc")
    assert code == 0, err
    assert done.stdout.replace(str(tmp_path / "console"), "OUT") == out.replace(str(tmp_path / "inproc"), "OUT")
    assert "sites removed (1)" in done.stdout and done.stdout.rstrip().endswith(f"against {base})")
    for name in ("diff.json", "selected_sites.csv", "map.html", "scenario.toml"):
        assert (tmp_path / "console" / name).read_bytes() == (tmp_path / "inproc" / name).read_bytes(), name
    assert cli.KEPT is None  # main() called from Python keeps nothing alive
    bad = subprocess.run([sys.executable, "-m", "coverage.cli", "-q", "whatif", str(base), "--remove", "NOPE-1",
                          "--out", str(tmp_path / "bad")], capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and not (tmp_path / "bad").exists()


@pytest.mark.parametrize("args,message", [
    (["--add", "NOPE-1"], r"unknown site id.*NOPE-1"),
    (["--add", "114.05,22.55"], r"LON,LAT,CATEGORY"),
    (["--add", "114.05,north,school"], r"numbers in degrees"),
    (["--add", "114.05,22.55,museum"], r"unknown category 'museum'"),
])
def test_cli_whatif_errors(toy_plan, tmp_path, capsys, args, message):
    base = toy_plan.write(tmp_path / "base", map=False)
    code, out, err = run(capsys, "whatif", base, *args, "--out", tmp_path / "w", "--no-map")
    assert code == 2 and re.search(message, err) and "Traceback" not in err
    assert not (tmp_path / "w").exists()


def test_cli_sweep_errors(toy_scenario, tmp_path, capsys):
    code, _, err = run(capsys, "sweep", toy_scenario, "--radius", "museum=50:100:25", "--out", tmp_path / "s")
    assert code == 2 and "unknown category 'museum'" in err
    code, _, err = run(capsys, "sweep", toy_scenario, "--target", "0.5:1.5:0.5", "--out", tmp_path / "s")
    assert code == 2 and "fractions" in err
    code, _, err = run(capsys, "sweep", toy_scenario, "--budget", "trees=1:3:1", "--out", tmp_path / "s")
    assert code == 2 and "sites=RANGE" in err


def test_not_a_plan_folder(tmp_path, capsys):
    code, _, err = run(capsys, "whatif", tmp_path, "--out", tmp_path / "w")
    assert code == 2 and "not a plan folder" in err
    code, _, err = run(capsys, "compare", tmp_path, tmp_path)
    assert code == 2 and "not a plan folder" in err and "summary.json" in err


def test_example_script_runs(toy_scenario, tmp_path):
    script = ROOT / "scripts" / "whatif_example.py"
    done = subprocess.run([sys.executable, str(script), str(toy_scenario), str(tmp_path / "ex")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "coverage" in done.stdout
    assert (tmp_path / "ex" / "sweep.csv").exists()


def readme_block(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {title}", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_whatif_in_five_lines_runs_as_written(monkeypatch, tmp_path):
    code = readme_block("What-if in five lines")
    assert len([line for line in code.splitlines() if line.strip() and not line.startswith("#")]) <= 6
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["what_if"].kind == "what-if"


def test_diff_says_which_constraints_a_what_if_breaks(toy_plan):
    base = toy_plan.replan(target=0.5)
    assert base.summary(network=False)["target_met"]
    other = base.evaluate(remove=base.site_ids[:3])
    diff = base.diff(other)
    # the target is judged from the covered cells, not from the what-if's summary
    population = base.cells["population"].to_numpy()
    after = population[other.covered].sum() / population.sum()
    assert after < 0.5  # the three first sites are the plan's biggest gains
    [target] = diff.constraints
    assert (target["constraint"], target["met_before"], target["met_after"]) == ("target", True, False)
    assert target["after"] == pytest.approx(after)
    assert "target 50%: met → NOT MET" in diff.format()
    assert base.diff(base).constraints == []  # nothing changed, everything met
    assert json.loads(json.dumps(diff.to_dict()))["constraints"][0]["met_after"] is False


def test_constraint_changes_lists_floors_lost_gained_and_still_unmet():
    from coverage.compare import constraint_changes

    def summary(coverage, floors):
        return {"target": 0.9, "coverage": coverage, "target_met": coverage >= 0.9,
                "equity": {"constraints": [{"district": d, "min_coverage": 0.8, "coverage": c, "met": c >= 0.8}
                                           for d, c in floors.items()]}}

    before = summary(0.95, {"A": 0.85, "B": 0.7, "C": 0.7, "D": 0.9})
    after = summary(0.899, {"A": 0.79, "B": 0.81, "C": 0.75, "D": 0.9})
    changes = {c["district"]: (c["met_before"], c["met_after"]) for c in constraint_changes(before, after)}
    assert changes == {None: (True, False), "A": (True, False), "B": (False, True), "C": (False, False)}
    assert constraint_changes({}, {}) == []  # no target, no floors
