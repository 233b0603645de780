"""The bundled Shenzhen default, end to end, and real metro stations as candidates.

The default carries the metro stations (built from gis_data/sources/); the tests that
compare with ../shared/data/shenzhen-real skip when that folder is absent.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import SHARED
from coverage import load_scenario, plan
from coverage.cli import default_scenario, main

METRO = SHARED / "data" / "shenzhen-real" / "metro_stations.csv"


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """`hotspots plan` with no scenario argument, once per session."""
    out = tmp_path_factory.mktemp("default") / "plan"
    assert main(["-q", "plan", "--out", str(out)]) == 0
    return out


def test_default_run_plans_shenzhen_and_reports_reachability(default_run):
    summary = json.loads((default_run / "summary.json").read_text())
    assert summary["scenario"] == "Shenzhen" and summary["target"] == 0.99
    assert summary["n_cells"] > 200_000  # 100 m cells over ~2,140 km²
    # census total (17,494,398) within rounding of polygons cut into cells
    assert summary["total_population"] == pytest.approx(17_494_398, abs=50)
    assert len(summary["by_district"]) == 9
    # phase 1: every school, library, station and hub; phase 2: generated street sites to 99 %
    assert summary["target_met"] and summary["coverage_population"] >= 0.99 - 1e-9
    assert [p["phase"] for p in summary["phases"]] == [1, 2]
    assert summary["phases"][0]["n_sites"] == summary["n_candidates"] - summary["gapfill"]["candidates"]
    assert summary["phases"][1]["n_sites"] == summary["gapfill"]["selected"] > 0
    assert [y["year"] for y in summary["rollout"]["years"]] == [2011, 2012, 2013, 2014, 2015]
    assert summary["rollout"]["unscheduled"] == 0
    assert len(summary["equity"]["constraints"]) == 9
    unreachable = sum(d["unreachable_population"] for d in summary["districts"])
    assert unreachable == pytest.approx((1 - summary["max_reachable_coverage"]) * summary["total_population"], rel=1e-9)
    for name in ("map.html", "plan.gpkg", "selected_sites.csv"):
        assert (default_run / name).exists()


CENSUS_2020 = {  # restated, not imported from the build script
    "Futian": 1_553_225, "Luohu": 1_143_801, "Yantian": 214_225, "Nanshan": 1_795_826,
    "Bao'an": 4_476_554, "Longgang": 3_979_037 + 156_236, "Longhua": 2_528_872,
    "Pingshan": 551_333, "Guangming": 1_095_289,
}


def test_default_run_reports_census_population_per_district(default_run):
    """Cells cut at district borders: each district's people stay in its cells (within 0.05 %)."""
    summary = json.loads((default_run / "summary.json").read_text())
    reported = {d["name"]: d["population"] for d in summary["districts"]}
    assert set(reported) == set(CENSUS_2020)
    for name, census in CENSUS_2020.items():
        assert reported[name] == pytest.approx(census, rel=5e-4), name
        assert abs(reported[name] - census) < 10, name  # in fact to a few people (polygon rounding)


def test_default_scenario_is_found():
    assert default_scenario().name == "scenario.toml"
    assert default_scenario().parent.name == "shenzhen"


def coarse_default(tmp_path):
    """The default scenario with absolute layer paths and 200 m cells, one point per cell,
    without gap-fill, floors or roll-out (the layers' own reach, faster)."""
    import tomllib

    import tomli_w

    base = default_scenario()
    data = tomllib.loads(base.read_text(encoding="utf-8"))
    for table in [data["study_area"], data["districts"], data["population"], *data["sites"]]:
        table["path"] = f"{base.parent.as_posix()}/{table['path']}"
    data.update(cell_size_m=200, demand_points_per_cell=1, coverage_margin_m=0)
    for key in ("gapfill", "equity", "rollout"):
        data.pop(key, None)
    path = tmp_path / "scenario.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def test_metro_stations_as_transport_layer(tmp_path):
    """All 334 real stations are candidates inside the boundary, and they raise coverage."""
    scenario = load_scenario(coarse_default(tmp_path))
    with_metro = plan(scenario)
    summary = with_metro.summary()
    assert summary["dropped_sites"] == []  # no station outside the (converted) city outline
    assert (with_metro.sites["category"] == "metro_station").sum() == 334
    others = tuple(layer for layer in scenario.sites if layer.category != "metro_station")
    without = plan(scenario.replace(sites=others)).summary()
    assert summary["max_reachable_coverage"] > without["max_reachable_coverage"]
    chosen = with_metro.selected_sites()
    assert (chosen["category"] == "metro_station").sum() > 100


def test_metro_stations_inside_boundary_only_after_gcj02_conversion():
    """A cheap check that the boundary was converted: stations sit well inside it."""
    if not METRO.exists():
        pytest.skip("../shared/data/shenzhen-real is absent")
    boundary = gpd.read_file(default_scenario().parent / "boundary.geojson").to_crs("EPSG:32650")
    stations = pd.read_csv(METRO)
    points = gpd.GeoSeries(gpd.points_from_xy(stations.lon, stations.lat), crs="EPSG:4326").to_crs("EPSG:32650")
    outline = shapely.union_all(boundary.geometry.array)
    assert shapely.within(points.geometry.array, outline).all()
