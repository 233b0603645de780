"""End to end: scenario files in, a plan out; numbers checked independently."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial.distance import cdist

from conftest import UTM, write_toy_city
from coverage import Budget, load_scenario, plan
from coverage.cli import main


def selected_in_utm(out: Path) -> gpd.GeoDataFrame:
    table = pd.read_csv(out / "selected_sites.csv")
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(table.lon, table.lat), crs="EPSG:4326").to_crs(UTM)


def test_population_coverage_matches_union_of_buffers(toy_scenario, tmp_path):
    """Coverage from the plan = population inside the union of the selected sites' circles."""
    out = tmp_path / "out"
    assert main(["-q", "plan", str(toy_scenario), "--out", str(out), "--no-map"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    sites = selected_in_utm(out)
    union = shapely.union_all(shapely.buffer(sites.geometry.array, sites["radius_m"].to_numpy(), quad_segs=64))
    population = gpd.read_file(toy_scenario.parent / "population.gpkg")
    inside = shapely.intersects(union, population.geometry.array)
    expected = population.loc[inside, "population"].sum() / population["population"].sum()
    assert summary["coverage_population"] == pytest.approx(expected, abs=1e-12)
    assert summary["n_selected"] == len(sites)
    # per district, the same way
    districts = gpd.read_file(toy_scenario.parent / "districts.gpkg")
    for _, district in districts.iterrows():
        mine = shapely.within(population.geometry.array, district.geometry) | shapely.touches(
            population.geometry.array, district.geometry)
        share = population.loc[mine & inside, "population"].sum() / population.loc[mine, "population"].sum()
        assert summary["by_district"][district["name"]] == pytest.approx(share, abs=1e-12)


def test_area_coverage_matches_cell_centres_and_geometry(toy_plan):
    """Area coverage: exact against cell centres, and close to the true covered area."""
    summary = toy_plan.summary()
    sites = toy_plan.selected_sites().to_crs(UTM)
    xy = shapely.get_coordinates(sites.geometry.array)
    # the toy city is 2,000 × 1,000 m of whole 100 m cells
    cx, cy = np.meshgrid(800_050 + 100 * np.arange(20), 2_490_050 + 100 * np.arange(10))
    centres = np.column_stack([cx.ravel(), cy.ravel()])
    covered = (cdist(xy, centres) <= sites["radius_m"].to_numpy()[:, None] + 1e-6).any(axis=0)
    assert summary["coverage_area"] == pytest.approx(covered.mean(), abs=1e-12)
    union = shapely.union_all(shapely.buffer(sites.geometry.array, sites["radius_m"].to_numpy(), quad_segs=64))
    true_share = shapely.intersection(union, shapely.box(800_000, 2_490_000, 802_000, 2_491_000)).area / 2e6
    assert summary["coverage_area"] == pytest.approx(true_share, abs=0.05)


def test_marginal_gains_add_up(toy_plan):
    sites = toy_plan.selected_sites()
    summary = toy_plan.summary()
    assert sites["rank"].tolist() == list(range(1, len(sites) + 1))
    assert sites["marginal_population"].sum() == pytest.approx(summary["coverage_population"] * summary["total_population"])
    assert sites["cumulative_coverage"].is_monotonic_increasing
    assert sites["cumulative_coverage"].iloc[-1] == pytest.approx(summary["coverage"])
    # existing hotspots come first and cost nothing
    assert sites["existing"].iloc[:2].all() and (sites.loc[sites["existing"], "cost"] == 0).all()
    assert summary["total_cost"] == pytest.approx(sites["cost"].sum())


def test_target_reached_when_reachable(tmp_path):
    scenario = load_scenario(write_toy_city(tmp_path / "c", n_schools=200, n_libraries=30, target=0.95))
    result = plan(scenario)
    summary = result.summary()
    assert summary["max_reachable_coverage"] >= 0.95
    assert summary["target_met"] and summary["stop_reason"] == "target_met"
    assert 0.95 <= summary["coverage_population"] < 1.0
    # a lower target needs no more sites
    assert plan(scenario.replace(target=0.8)).summary()["n_selected"] <= summary["n_selected"]


def test_unreachable_target_reported_with_where(toy_plan):
    summary = toy_plan.summary()
    assert not summary["target_met"] and summary["stop_reason"] == "unreachable"
    assert summary["coverage"] == pytest.approx(summary["max_reachable_coverage"])
    missing = sum(d["unreachable_population"] for d in summary["districts"])
    assert missing == pytest.approx((1 - summary["max_reachable_coverage"]) * summary["total_population"])
    assert summary["n_unreachable_cells"] > 0


def test_budget_limits(tmp_path):
    scenario = load_scenario(write_toy_city(tmp_path / "c", n_schools=200, target=0.99))
    by_sites = plan(scenario.replace(budget=Budget(max_sites=5))).summary()
    assert by_sites["n_new"] == 5 and by_sites["stop_reason"] == "budget_sites"
    by_cost = plan(scenario.replace(budget=Budget(max_cost=7.0))).summary()
    assert by_cost["total_cost"] <= 7.0 and by_cost["stop_reason"] in ("budget_cost", "target_met")


def test_forced_and_forbidden(tmp_path):
    scenario = load_scenario(write_toy_city(tmp_path / "c"))
    base = plan(scenario).selected_sites()
    first_school = base.loc[base["category"] == "school", "site_id"].iloc[0]
    result = plan(scenario.replace(forced=("SC-024",), forbidden=(first_school,))).selected_sites()
    assert "SC-024" in result["site_id"].tolist()
    assert result["site_id"].iloc[2] == "SC-024"  # after the two existing hotspots
    assert first_school not in result["site_id"].tolist()


def test_same_inputs_same_plan(tmp_path):
    path = write_toy_city(tmp_path / "c", n_schools=120)
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["-q", "plan", str(path), "--out", str(out), "--no-map"]) == 0
        outs.append(out)
    assert (outs[0] / "selected_sites.csv").read_bytes() == (outs[1] / "selected_sites.csv").read_bytes()
    a, b = (without_timings(json.loads((o / "summary.json").read_text())) for o in outs)
    assert a == b


def without_timings(value):
    """A summary without its wall-clock figures (runtime_s, seconds), which differ run to run."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in ("runtime_s", "seconds")}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def test_outputs_follow_the_contract(toy_plan, tmp_path):
    out = toy_plan.write(tmp_path / "out", map=False)
    summary = json.loads((out / "summary.json").read_text())
    for key in ("target", "metric", "coverage_population", "coverage_area", "target_met", "max_reachable_coverage",
                "n_selected", "total_cost", "n_candidates", "n_cells", "by_district", "by_category", "runtime_s"):
        assert key in summary
    import pyogrio

    layers = dict(pyogrio.list_layers(out / "plan.gpkg"))
    assert {"selected_sites", "candidates", "demand_cells", "districts", "study_area"} <= set(layers)
    selected = gpd.read_file(out / "plan.gpkg", layer="selected_sites")
    assert selected.crs.to_epsg() == 4326
    for column in ("site_id", "name", "category", "radius_m", "cost", "rank", "marginal_gain", "cumulative_coverage"):
        assert column in selected.columns
    cells = gpd.read_file(out / "plan.gpkg", layer="demand_cells")
    assert {"cell_id", "population", "area_m2", "covered"} <= set(cells.columns)
    assert cells["population"].sum() == pytest.approx(summary["total_population"])
    districts = gpd.read_file(out / "plan.gpkg", layer="districts")
    assert sorted(districts["name"]) == ["East", "West"]
    assert {"population", "coverage"} <= set(districts.columns)
    candidates = gpd.read_file(out / "plan.gpkg", layer="candidates")
    assert (candidates["status"] == "selected").sum() == summary["n_selected"]
    csv = pd.read_csv(out / "selected_sites.csv")
    assert {"lon", "lat"} <= set(csv.columns) and len(csv) == summary["n_selected"]
    assert not list(out.glob(".hotspots-*"))  # no temporary folder left behind


def digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_inputs_never_modified(toy_scenario, tmp_path):
    before = digest(toy_scenario.parent)
    assert main(["-q", "plan", str(toy_scenario), "--out", str(tmp_path / "o"), "--no-map"]) == 0
    assert digest(toy_scenario.parent) == before


def test_failed_run_leaves_previous_outputs_alone(toy_scenario, tmp_path, monkeypatch):
    out = tmp_path / "o"
    assert main(["-q", "plan", str(toy_scenario), "--out", str(out), "--no-map"]) == 0
    before = digest(out)

    import coverage.outputs as outputs

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(outputs, "write_sites_csv", broken)
    assert main(["-q", "plan", str(toy_scenario), "--out", str(out), "--no-map", "--target", "0.5"]) == 2
    assert digest(out) == before
    assert not list(out.glob(".hotspots-*")) and not list(tmp_path.glob(".hotspots-*"))


def test_cli_prints_a_summary_table(toy_scenario, tmp_path, capsys):
    assert main(["plan", str(toy_scenario), "--out", str(tmp_path / "o"), "--no-map"]) == 0
    captured = capsys.readouterr()
    assert "district" in captured.out and "West" in captured.out and "school" in captured.out
    assert "max reachable" in captured.out
    assert "coverage matrix" in captured.err  # progress goes to stderr


def test_cli_overrides(toy_scenario, tmp_path):
    out = tmp_path / "o"
    assert main(["-q", "plan", str(toy_scenario), "--out", str(out), "--no-map", "--target", "0.5",
                 "--max-sites", "3", "--metric", "area", "--cell-size", "200"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["target"] == 0.5 and summary["metric"] == "area" and summary["cell_size_m"] == 200
    assert summary["n_new"] <= 3 and summary["n_cells"] == 50


def test_quality_greedy_improved_and_bound(tmp_path):
    scenario = load_scenario(write_toy_city(tmp_path / "c", n_schools=200, target=0.95))
    summary = plan(scenario).summary(network=False)
    greedy, improved = summary["greedy"], summary["improved"]
    assert improved["cost"] <= greedy["cost"] + 1e-9
    assert improved["coverage"] >= 0.95 - 1e-9 and summary["target_met"]
    assert summary["total_cost"] <= improved["cost"] + 1e-9  # the Lagrangian solver may find cheaper
    assert summary["bound_status"] == "optimal" and summary["bound_method"] == "milp-optimal"
    assert summary["lower_bound"] <= summary["total_cost"] + 1e-9
    assert summary["gap"] == pytest.approx((summary["total_cost"] - summary["lower_bound"]) / summary["lower_bound"])
    import dataclasses

    plain = plan(scenario.replace(solver=dataclasses.replace(scenario.solver, local_search=False, bound=False)))
    assert plain.summary(network=False)["total_cost"] == pytest.approx(greedy["cost"])
    assert plain.summary(network=False)["lower_bound"] is None


def test_cli_solver_switches(toy_scenario, tmp_path):
    out = tmp_path / "o"
    assert main(["-q", "plan", str(toy_scenario), "--out", str(out), "--no-map", "--no-local-search", "--no-bound"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["improved"] is None and summary["lower_bound"] is None and summary["greedy"] is not None
    assert main(["-q", "plan", str(toy_scenario), "--out", str(out), "--no-map", "--exact"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exact"]["status"] in ("optimal", "trivial")
    assert summary["total_cost"] <= summary["greedy"]["cost"] + 1e-9


def test_max_reachable_against_distances(toy_plan):
    """Max reachable coverage = people within reach of any candidate, by cdist on cell centres."""
    sites = toy_plan.sites
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    cells = np.column_stack([toy_plan.cells["x"], toy_plan.cells["y"]])
    reach = (cdist(xy, cells) <= sites["radius_m"].to_numpy()[:, None]).any(axis=0)
    population = toy_plan.cells["population"].to_numpy()
    summary = toy_plan.summary()
    assert summary["max_reachable_coverage"] == pytest.approx(population[reach].sum() / population.sum(), abs=1e-12)
    assert summary["n_unreachable_cells"] == int((~reach).sum())


def test_district_minimums_reach_the_solver(tmp_path):
    """[equity] district minimums become solver constraints and the plan meets each one.

    The scenario's ``equity`` field comes from the scenario workstream; a stand-in object
    carries it here so this test does not depend on that schema landing first.
    """
    from types import SimpleNamespace

    from coverage.planning import build_instance, district_constraints, prepare, solve

    problem = prepare(load_scenario(write_toy_city(tmp_path / "c", n_schools=120, target=0.5)))
    names = sorted(set(problem.cells["district"]))
    equity = SimpleNamespace(min_coverage=0.6, districts={names[0]: 0.95})

    class WithEquity:
        def __init__(self, scenario):
            self._s, self.equity = scenario, equity

        def __getattr__(self, name):
            return getattr(self._s, name)

    groups = district_constraints(problem.cells["district"].to_numpy(), equity)
    assert [(name, share) for _, share, name in groups] == [(names[0], 0.95)] + [(n, 0.6) for n in names[1:]]
    import dataclasses

    constrained = dataclasses.replace(problem, scenario=WithEquity(problem.scenario))
    assert len(build_instance(constrained).constraints) == len(names)
    result = solve(constrained)
    weights = result.weights
    for cols, share, name in groups:
        got = weights[cols][result.covered[cols]].sum() / weights[cols].sum()
        assert got >= share - 1e-9, name
    assert result.coverage >= 0.5 - 1e-9


def test_columns_by_name_matches_one_comparison_per_name():
    """District groups come from one factorisation: same columns, same sorted names as
    comparing every column with each name in turn."""
    from coverage.planning import columns_by_name, district_constraints

    rng = np.random.default_rng(5)
    names = np.array(["Luohu", "Bao'an", "Futian", "(no district)", "罗湖"], dtype=object)
    district = names[rng.integers(0, len(names), 500)]
    got = columns_by_name(district)
    assert list(got) == sorted(set(district.tolist()))
    for name, columns in got.items():
        assert np.array_equal(columns, np.flatnonzero(district == name))
    assert columns_by_name(np.array([], dtype=object)) == {}
    from types import SimpleNamespace

    equity = SimpleNamespace(min_coverage=0.5, districts={"Futian": 0.9})
    from_array, from_groups = district_constraints(district, equity), district_constraints(got, equity)
    assert [(n, s) for _, s, n in from_array] == [(n, s) for _, s, n in from_groups]
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(from_array, from_groups))


def test_the_full_summary_completes_a_cached_network_free_one(toy_plan):
    """``hotspots whatif`` makes the network-free summary while a child checks the network:
    the full summary then adds the network sections to it, as summarising afresh does."""
    import dataclasses

    from coverage import analyse
    from coverage.planfolder import json_text

    plan_ = dataclasses.replace(toy_plan, _cache={})
    plain = plan_.summary(network=False)
    assert "channels" not in plain
    full = plan_.summary()
    assert json_text(full) == json_text(analyse.summarise(dataclasses.replace(toy_plan, _cache={})))
    assert "channels" in full and plan_.summary(network=False) is plain
