"""Reaching the target end to end (issue #14): phases, required categories, generated
gap-fill sites, demand points with a coverage margin, district floors and the roll-out.

Every figure the planner reports is recomputed here independently: coverage by brute-force
distances from the selected sites to the demand points (numpy, no k-d tree, no coverage
matrix), counts and costs from the written CSV, and the finer-grid agreement on Futian.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage import load_scenario
from coverage.cli import main
from coverage.planning import prepare, solve
from helpers import edited, toy_dict, write_scenario

from conftest import write_toy_city

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "gis_data" / "shenzhen" / "scenario.toml"
MARGIN = 25.0


def reach_dict(folder: Path, **changes) -> dict:
    """The toy city with schools required in phase 1, libraries in phase 2, street gap-fill
    in phase 3, 2 × 2 demand points per cell and a 25 m margin."""
    data = toy_dict(write_toy_city(folder, n_schools=12, n_libraries=6))
    data = edited(data, **{
        "target": 0.95, "demand_points_per_cell": 2, "coverage_margin_m": MARGIN,
        "categories.school.phase": 1, "categories.school.required": True,
        "categories.library.phase": 2,
        "categories.street": {"radius_m": 100.0, "cost": 1.0, "wired": False, "phase": 3, "label": "Street"},
        "gapfill": {"category": "street", "spacing_m": 75.0},
        "solver": {"bound": False},
    })
    return edited(data, **changes)


def covered_by(points: np.ndarray, site_xy: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Brute force: is each point within ``reach`` of some site (chunks of points)?"""
    out = np.zeros(len(points), dtype=bool)
    for start in range(0, len(points), 2000):
        p = points[start:start + 2000]
        d2 = ((p[:, None, :] - site_xy[None, :, :]) ** 2).sum(axis=2)
        out[start:start + 2000] = (d2 <= reach[None, :] ** 2 + 1e-6).any(axis=1)
    return out


def site_xy(sites: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(sites.geometry.array)


@pytest.fixture(scope="module")
def reach_plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reach")
    data = reach_dict(folder / "city", rollout={"start_year": 2011, "sites_per_year": 7},
                      equity={"min_coverage": 0.9})
    path = write_scenario(folder / "reach.toml", data)
    out = folder / "out"
    assert main(["-q", "plan", str(path), "--out", str(out), "--no-map"]) == 0
    plan = solve(prepare(load_scenario(path)))
    return plan, out


def test_required_categories_are_installed_in_their_phase(reach_plan):
    plan, out = reach_plan
    table = pd.read_csv(out / "selected_sites.csv", encoding="utf-8-sig")
    schools = plan.sites[plan.sites["category"] == "school"]
    chosen = table[table["category"] == "school"]
    assert set(chosen["site_id"]) == set(schools["site_id"])  # every school, required
    assert (chosen["phase"] == 1).all()
    assert (table.loc[table["existing"], "phase"] == 0).all()
    new = table[~table["existing"]]
    assert (np.diff(new["phase"].to_numpy()) >= 0).all()  # phases in order along the ranks
    assert set(new.loc[new["category"] == "street", "phase"]) <= {3}


def test_each_phase_starts_from_the_earlier_ones_and_its_coverage_is_true(reach_plan):
    plan, out = reach_plan
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    table = plan.table()
    points = np.column_stack([plan.cells["x"].to_numpy(), plan.cells["y"].to_numpy()])
    weight = plan.cells["population"].to_numpy()
    assert [p["phase"] for p in summary["phases"]] == [1, 2, 3]
    for p in summary["phases"]:
        upto = table[table["phase"] <= p["phase"]]  # existing (0) and every earlier phase
        reach = upto["radius_m"].to_numpy() - MARGIN
        expected = weight[covered_by(points, site_xy(upto), reach)].sum() / weight.sum()
        assert p["coverage"] == pytest.approx(expected, abs=1e-9)
        assert p["n_sites"] == int((table["phase"] == p["phase"]).sum())
        assert p["cost"] == pytest.approx(table.loc[table["phase"] == p["phase"], "cost"].sum())
    assert summary["coverage"] >= 0.95 - 1e-9 and summary["target_met"]


def test_gapfill_sites_avoid_layer_reach_stay_inside_and_are_marked(reach_plan, tmp_path):
    plan, out = reach_plan
    sites = plan.sites
    generated = sites[sites["source"] == "generated"]
    layer = sites[sites["source"] != "generated"]
    assert len(generated) > 0
    gen_xy, layer_xy = site_xy(generated), site_xy(layer)
    d2 = ((gen_xy[:, None, :] - layer_xy[None, :, :]) ** 2).sum(axis=2)
    assert (d2 > (layer["radius_m"].to_numpy() - MARGIN)[None, :] ** 2).all()  # never inside a layer site's reach
    assert shapely.intersects(plan.problem.area, generated.geometry.array).all()  # never outside the study area
    assert (generated["radius_m"] == 100.0).all() and (generated["category"] == "street").all()
    table = pd.read_csv(out / "selected_sites.csv", encoding="utf-8-sig")
    gpkg = gpd.read_file(out / "plan.gpkg", layer="selected_sites")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    street_csv = table[table["category"] == "street"]
    assert len(street_csv) > 0 and (street_csv["source"] == "generated").all()
    assert (gpkg.loc[gpkg["category"] == "street", "source"] == "generated").all()
    assert summary["gapfill"]["selected"] == len(street_csv)
    assert summary["gapfill"]["cost"] == pytest.approx(street_csv["cost"].sum())
    assert summary["gapfill"]["candidates"] == len(generated)
    again = prepare(plan.scenario)  # deterministic: the same candidates, ids and positions
    regenerated = again.sites[again.sites["source"] == "generated"]
    assert regenerated["site_id"].tolist() == generated["site_id"].tolist()
    assert np.array_equal(site_xy(regenerated), gen_xy)


def test_rollout_never_exceeds_its_yearly_limit_and_year_coverage_is_true(reach_plan):
    plan, out = reach_plan
    table = pd.read_csv(out / "selected_sites.csv", encoding="utf-8-sig")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    new = table[~table["existing"]]
    assert new["year"].notna().all() and table.loc[table["existing"], "year"].isna().all()
    assert new.groupby("year").size().max() <= 7
    assert (np.diff(new["year"].to_numpy()) >= 0).all()  # plan order kept: earlier phases first
    points = np.column_stack([plan.cells["x"].to_numpy(), plan.cells["y"].to_numpy()])
    weight = plan.cells["population"].to_numpy()
    sites = plan.table()
    for y in summary["rollout"]["years"]:
        upto = sites[sites["existing"].to_numpy() | (sites["year"].fillna(0).to_numpy() <= y["year"])]
        expected = weight[covered_by(points, site_xy(upto), upto["radius_m"].to_numpy() - MARGIN)].sum() / weight.sum()
        assert y["coverage"] == pytest.approx(expected, abs=1e-9)
        assert y["n_sites"] == int((new["year"] == y["year"]).sum())


def test_rollout_cost_budget_never_exceeded_end_to_end(tmp_path):
    data = reach_dict(tmp_path / "city", rollout={"start_year": 2011, "budget_per_year": 10.0})
    plan = solve(prepare(load_scenario(write_scenario(tmp_path / "s.toml", data))))
    table = plan.table()
    new = table[~table["existing"]]
    spent = new.groupby("year")["cost"].sum()
    assert len(spent) > 1 and (spent <= 10.0 + 1e-9).all()
    assert plan.summary(network=False)["rollout"]["unscheduled"] == 0


def test_equity_floors_are_reported_met_or_short(reach_plan):
    plan, out = reach_plan
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    points = np.column_stack([plan.cells["x"].to_numpy(), plan.cells["y"].to_numpy()])
    weight = plan.cells["population"].to_numpy()
    sites = plan.table()
    covered = covered_by(points, site_xy(sites), sites["radius_m"].to_numpy() - MARGIN)
    district = plan.cells["district"].to_numpy()
    rows = {r["district"]: r for r in summary["equity"]["constraints"]}
    assert set(rows) == {"East", "West"}
    for name, row in rows.items():
        mine = district == name
        value = weight[mine & covered].sum() / weight[mine].sum()
        assert row["coverage"] == pytest.approx(value, abs=1e-9)
        assert row["met"] == (value >= 0.9 - 1e-9)
        assert row["shortfall"] == pytest.approx(0.0 if row["met"] else 0.9 - value)


def test_a_budget_reports_each_districts_coverage_and_unmet_floors(tmp_path):
    data = reach_dict(tmp_path / "city", budget={"max_sites": 15}, equity={"min_coverage": 0.99})
    plan = solve(prepare(load_scenario(write_scenario(tmp_path / "s.toml", data))))
    summary = plan.summary(network=False)
    assert summary["n_new"] <= 15
    assert not summary["equity"]["all_met"]
    for row in summary["equity"]["constraints"]:
        assert row["coverage"] == pytest.approx(summary["by_district"][row["district"]])
        assert row["met"] or row["shortfall"] == pytest.approx(0.99 - row["coverage"])


def test_demand_points_share_each_cells_population(reach_plan):
    plan, _ = reach_plan
    grid, points = plan.problem.grid_cells, plan.cells
    assert len(points) > len(grid)
    per_cell = points.groupby("cell_id")["population"].sum().reindex(grid["cell_id"]).to_numpy()
    assert np.allclose(per_cell, grid["population"].to_numpy())
    assert points["population"].sum() == pytest.approx(grid["population"].sum())
    from coverage.analyse import cell_coverage

    cells = cell_coverage(plan)
    assert cells["cell_id"].tolist() == sorted(grid["cell_id"].tolist())
    assert ((cells["covered_share"] >= 0) & (cells["covered_share"] <= 1)).all()
    assert cells["population"].sum() == pytest.approx(grid["population"].sum())


def test_per_site_overrides_reach_the_plan_end_to_end(tmp_path):
    folder = tmp_path / "city"
    data = toy_dict(write_toy_city(folder, n_schools=12, n_libraries=6))
    schools = pd.read_csv(folder / "schools.csv")
    schools["cost"] = np.where(np.arange(len(schools)) % 2 == 0, 3.0, 0.5)
    schools["radius_m"] = np.where(np.arange(len(schools)) % 3 == 0, 60.0, 240.0)
    schools.to_csv(folder / "schools.csv", index=False)
    data = edited(data, target=1.0, **{"categories.school.required": True})
    plan = solve(prepare(load_scenario(write_scenario(tmp_path / "s.toml", data))))
    table = plan.table().set_index("site_id")
    expected = schools.set_index("site_id")
    assert set(expected.index) <= set(table.index)  # required: all of them
    assert np.allclose(table.loc[expected.index, "cost"], expected["cost"])
    assert np.allclose(table.loc[expected.index, "radius_m"], expected["radius_m"])
    points = np.column_stack([plan.cells["x"].to_numpy(), plan.cells["y"].to_numpy()])
    weight = plan.cells["population"].to_numpy()
    allsites = plan.table()
    covered = covered_by(points, site_xy(allsites), allsites["radius_m"].to_numpy())
    assert plan.coverage == pytest.approx(weight[covered].sum() / weight.sum(), abs=1e-12)


def test_margin_must_be_below_every_radius(tmp_path):
    data = reach_dict(tmp_path / "city", coverage_margin_m=100.0)
    path = write_scenario(tmp_path / "s.toml", data)
    with pytest.raises(Exception, match="coverage_margin_m = 100 is not below .categories.street. radius_m"):
        load_scenario(path)


def test_a_what_if_does_not_keep_the_base_plans_phases_and_years(reach_plan):
    plan, _ = reach_plan
    assert plan.phases is not None and plan.rollout is not None
    what_if = plan.evaluate(remove=[plan.site_ids[-1]])
    assert what_if.phases is None and what_if.rollout is None
    summary = what_if.summary(network=False)
    assert not summary.get("phases") and not summary.get("rollout")
    assert "year" not in what_if.selected_sites().columns or what_if.selected_sites()["year"].isna().all()


def test_chinese_terminal_summary(reach_plan):
    from coverage.report import format_summary

    plan, _ = reach_plan
    text = format_summary(plan.summary(network=False), lang="zh")
    first = text.splitlines()[0]
    assert first.startswith("人口覆盖目标 95%：已达到")
    assert "第 1 期" in first and "年份" in text and "年末覆盖率" in text
    english = format_summary(plan.summary(network=False))
    assert english.startswith("Target 95% of population: MET")
    summary = plan.summary(network=False)
    labelled = {**summary, "categories": {name: {**c, "label_zh": f"类别{i}"}
                                          for i, (name, c) in enumerate(summary["categories"].items())}}
    text = format_summary(labelled, lang="zh")
    assert all(f"类别{i}" in text for i in range(len(summary["by_category"])))  # label_zh in the table


@pytest.mark.skipif(not DEFAULT.exists(), reason="bundled data absent")
def test_futian_coverage_agrees_with_a_grid_four_times_finer(tmp_path):
    """Plan the default clipped to Futian; recount coverage on 12.5 m sub-squares (four
    times finer than the 2 × 2 demand points) with the sites' full radii: within 1 pp."""
    from finegrid import finer_grid_coverage

    import tomllib

    districts = gpd.read_file(DEFAULT.parent / "districts.geojson")
    districts[districts["name"] == "Futian"][["name", "geometry"]].to_file(tmp_path / "futian.geojson", driver="GeoJSON")
    data = tomllib.loads(DEFAULT.read_text(encoding="utf-8"))
    for key in ("districts", "population"):
        data[key]["path"] = str(DEFAULT.parent / data[key]["path"])
    for layer in data["sites"]:
        layer["path"] = str(DEFAULT.parent / layer["path"])
    data["study_area"] = {"path": str(tmp_path / "futian.geojson")}
    data["solver"] = {"bound": False, "local_search": False}  # the check is of coverage counting, not of cost
    data.pop("rollout", None)
    plan = solve(prepare(load_scenario(write_scenario(tmp_path / "futian.toml", data))))
    assert plan.target_met
    grid = plan.problem.grid_cells
    sites = plan.table()
    k = plan.scenario.demand_points_per_cell
    check = finer_grid_coverage(grid, grid["population"].to_numpy(), plan.scenario.cell_size_m, site_xy(sites),
                                sites["radius_m"].to_numpy(), factor=4 * k)
    planner = plan.summary(network=False)["by_district"]["Futian"]
    assert abs(100 * (planner - check.fine)) <= 1.0, (planner, check.fine)


@pytest.mark.parametrize("phased", [True, False])
def test_greedy_alone_meets_district_floors_above_the_target(tmp_path, phased):
    """Without the Lagrangian solver (which models the floors), the greedy's floor repair
    still meets every reachable floor; checked by brute-force distances."""
    changes = {"target": 0.5, "equity": {"min_coverage": 0.97}, "solver": {"bound": False, "local_search": False}}
    if not phased:
        changes.update({"categories.school.required": False, "categories.library.phase": 1,
                        "categories.street.phase": 1})
    data = reach_dict(tmp_path / "city", **changes)
    plan = solve(prepare(load_scenario(write_scenario(tmp_path / "s.toml", data))))
    assert (plan.phases is not None) == phased
    sites = plan.table()
    points = np.column_stack([plan.cells["x"].to_numpy(), plan.cells["y"].to_numpy()])
    weight = plan.cells["population"].to_numpy()
    covered = covered_by(points, site_xy(sites), sites["radius_m"].to_numpy() - MARGIN)
    district = plan.cells["district"].to_numpy()
    for name in ("East", "West"):
        mine = district == name
        assert weight[mine & covered].sum() / weight[mine].sum() >= 0.97 - 1e-9, name
    assert plan.summary(network=False)["equity"]["all_met"]


def test_a_budget_below_the_required_sites_is_refused_in_one_line(tmp_path):
    data = reach_dict(tmp_path / "city", budget={"max_cost": 5.0})  # 12 required schools cost 12
    path = write_scenario(tmp_path / "s.toml", data)
    assert main(["-q", "plan", str(path), "--out", str(tmp_path / "out"), "--no-map"]) == 2
    assert not (tmp_path / "out").exists()


def test_a_layer_id_that_clashes_with_a_generated_id_is_refused(tmp_path, capsys):
    folder = tmp_path / "city"
    data = reach_dict(folder)
    path = write_scenario(tmp_path / "s.toml", data)
    generated = prepare(load_scenario(path)).sites
    taken = generated.loc[generated["source"] == "generated", "site_id"].iloc[0]
    schools = pd.read_csv(folder / "schools.csv")
    schools.loc[0, "site_id"] = taken
    schools.to_csv(folder / "schools.csv", index=False)
    assert main(["-q", "plan", str(path), "--out", str(tmp_path / "out"), "--no-map"]) == 2
    assert f"site id '{taken}'" in capsys.readouterr().err


def test_a_radius_change_regenerates_the_gapfill_candidates(reach_plan):
    plan, _ = reach_plan
    wider = plan.scenario.with_category("school", radius_m=300.0)
    problem = plan.problem.with_scenario(wider)
    fresh = prepare(wider)
    assert problem.sites["site_id"].tolist() == fresh.sites["site_id"].tolist()
    assert (problem.sites["source"] == "generated").sum() < (plan.sites["source"] == "generated").sum()


def test_per_site_wired_reaches_the_backhaul_check(tmp_path):
    """A library layer's wired column overrides the category: the backhaul section and the
    selected sites' wired column follow the file, not the category default."""
    folder = tmp_path / "city"
    data = toy_dict(write_toy_city(folder, n_schools=12, n_libraries=6))
    libraries = gpd.read_file(folder / "libraries.geojson")
    libraries["wired"] = ["no", "yes", "no", "yes", "no", "yes"]
    libraries.to_file(folder / "libraries.geojson", driver="GeoJSON")
    data = edited(data, target=1.0, **{"categories.library.required": True})
    plan = solve(prepare(load_scenario(write_scenario(tmp_path / "s.toml", data))))
    table = plan.table(network=True).set_index("site_id")
    expected = dict(zip(libraries["site_id"], [False, True, False, True, False, True]))
    assert {k: bool(table.loc[k, "wired"]) for k in expected} == expected
    wireless = int((~table["wired"].astype(bool)).sum())
    assert plan.summary()["backhaul"]["wireless_sites"] == wireless >= 3


def test_terminal_names_the_fibre_drops(reach_plan):
    from coverage.report import format_summary

    plan, _ = reach_plan
    summary = dict(plan.summary())
    backhaul = summary["backhaul"]
    summary["backhaul"] = {**backhaul, "fibre_drops": ["street-1_2", "street-3_4"], "max_hops_after_drops": 5}
    text = format_summary(summary)
    assert "fibre drops: 2 site(s) to connect to fibre so none is orphaned (street-1_2, street-3_4); then at most 5 hops" in text
    summary["backhaul"] = {**backhaul, "fibre_drops": []}
    assert "fibre drops" not in format_summary(summary)


def test_solver_line_in_both_languages_after_a_swap_search(reach_plan):
    """When the solver's plan replaced the swap search's, both reports say so, starting
    from the swap search's figures (the Chinese one once printed nothing then)."""
    from coverage.report import format_summary

    plan, _ = reach_plan
    summary = plan.summary(network=False)
    improved = {"n_sites": summary["n_selected"] + 7, "cost": summary["total_cost"] + 7.0}
    solver = {**summary, "greedy": {"n_sites": improved["n_sites"] + 5, "cost": improved["cost"] + 5.0},
              "improved": improved, "bound": {**(summary.get("bound") or {}), "plan": "solver"}}
    before = f"{improved['n_sites']:,}"
    english = [line for line in format_summary(solver).splitlines() if line.strip().startswith("solver")]
    chinese = [line for line in format_summary(solver, lang="zh").splitlines() if line.strip().startswith("求解器")]
    assert len(english) == 1 and "improved " + before in english[0]
    assert len(chinese) == 1 and "改进 " + before in chinese[0]
    assert f"{summary['n_selected']:,}" in chinese[0]
