"""The bundled Shenzhen default, end to end, and real metro stations as candidates.

The metro stations live in ../shared/data/shenzhen-real (never copied into gis_data);
those tests skip when the folder is absent.
"""

from __future__ import annotations

import json
import textwrap

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
    # synthetic candidates with 100–250 m radii cannot reach 99 %: the run says so and where
    assert not summary["target_met"] and summary["stop_reason"] == "unreachable"
    assert summary["coverage_population"] == pytest.approx(summary["max_reachable_coverage"])
    unreachable = sum(d["unreachable_population"] for d in summary["districts"])
    assert unreachable == pytest.approx((1 - summary["max_reachable_coverage"]) * summary["total_population"], rel=1e-9)
    for name in ("map.html", "plan.gpkg", "selected_sites.csv"):
        assert (default_run / name).exists()


def test_default_scenario_is_found():
    assert default_scenario().name == "scenario.toml"
    assert default_scenario().parent.name == "shenzhen"


def metro_scenario(tmp_path):
    """The default scenario plus the real metro stations as a 'metro' category, 200 m cells."""
    if not METRO.exists():
        pytest.skip("../shared/data/shenzhen-real is absent")
    base = default_scenario()
    text = base.read_text(encoding="utf-8")
    text = text.replace('path = "', f'path = "{base.parent.as_posix()}/')
    stations = pd.read_csv(METRO)
    stations["site_id"] = [f"M-{i:03d}" for i in range(1, len(stations) + 1)]
    stations["source"] = "shared/data/shenzhen-real (validation only)"
    stations.to_csv(tmp_path / "metro.csv", index=False)
    text += textwrap.dedent("""
        [categories.metro]
        radius_m = 150
        cost = 2.0
        label = "Metro station"

        [[sites]]
        path = "metro.csv"
        category = "metro"
        id_column = "site_id"
        name_column = "name_en"
        """)
    text = text.replace("cell_size_m = 100", "cell_size_m = 200")
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_metro_stations_as_transport_layer(tmp_path):
    """All 407 real stations fall inside the converted boundary and raise coverage."""
    scenario = load_scenario(metro_scenario(tmp_path))
    with_metro = plan(scenario)
    summary = with_metro.summary()
    assert summary["dropped_sites"] == []  # no station outside the (converted) city outline
    assert (with_metro.sites["category"] == "metro").sum() == 407
    without = plan(scenario.replace(sites=scenario.sites[:-1])).summary()
    assert summary["max_reachable_coverage"] > without["max_reachable_coverage"]
    chosen = with_metro.selected_sites()
    assert (chosen["category"] == "metro").sum() > 100


def test_metro_stations_inside_boundary_only_after_gcj02_conversion():
    """A cheap check that the boundary was converted: stations sit well inside it."""
    if not METRO.exists():
        pytest.skip("../shared/data/shenzhen-real is absent")
    boundary = gpd.read_file(default_scenario().parent / "boundary.geojson").to_crs("EPSG:32650")
    stations = pd.read_csv(METRO)
    points = gpd.GeoSeries(gpd.points_from_xy(stations.lon, stations.lat), crs="EPSG:4326").to_crs("EPSG:32650")
    outline = shapely.union_all(boundary.geometry.array)
    assert shapely.within(points.geometry.array, outline).all()
