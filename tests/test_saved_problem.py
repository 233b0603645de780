"""A plan folder keeps the problem it was solved on: what-if runs read it instead of prepare()."""

import json
import re

import numpy as np
import pandas as pd
import pytest

import coverage.planning as planning
from coverage import load_scenario, plan
from coverage.errors import InputError
from coverage.planfolder import PROBLEM_DIR, PROBLEM_MANIFEST, PROBLEM_MATRIX
from coverage.planning import Plan

from conftest import write_toy_city


@pytest.fixture
def saved(tmp_path):
    scenario_path = write_toy_city(tmp_path / "city")
    result = plan(load_scenario(scenario_path))
    out = tmp_path / "out"
    result.write(out, map=False)
    return scenario_path, result, out


def _no_prepare(monkeypatch):
    def refuse(scenario):
        raise AssertionError("prepare() was called")

    monkeypatch.setattr(planning, "prepare", refuse)


def _same_problem(a, b):
    assert (a.matrix != b.matrix).nnz == 0 and a.matrix.shape == b.matrix.shape
    assert a.matrix.dtype == b.matrix.dtype
    pd.testing.assert_frame_equal(pd.DataFrame(a.cells.drop(columns="geometry")),
                                  pd.DataFrame(b.cells.drop(columns="geometry")), check_dtype=False)
    pd.testing.assert_frame_equal(pd.DataFrame(a.sites.drop(columns="geometry")),
                                  pd.DataFrame(b.sites.drop(columns="geometry")), check_dtype=False)
    assert a.cells.geometry.geom_equals_exact(b.cells.geometry, 0).all()
    assert a.sites.geometry.geom_equals_exact(b.sites.geometry, 0).all()
    assert a.crs == b.crs


def test_the_folder_holds_the_problem_and_loads_without_prepare(saved, monkeypatch):
    _, result, out = saved
    assert (out / PROBLEM_DIR / PROBLEM_MATRIX).is_file()
    _no_prepare(monkeypatch)
    loaded = Plan.from_folder(out)
    _same_problem(loaded.problem, result.problem)
    assert loaded.site_ids == result.site_ids
    assert np.array_equal(loaded.covered, result.covered)
    assert loaded.coverage == result.coverage
    assert np.array_equal(loaded.allowed, result.allowed)


def test_a_whatif_from_the_folder_equals_one_from_a_fresh_prepare(saved, monkeypatch):
    scenario_path, result, out = saved
    fresh = Plan.from_folder(out)  # reference: the same what-if on a freshly prepared problem
    fresh = planning.Plan(problem=planning.prepare(fresh.scenario), scenario=fresh.scenario,
                          solution=fresh.solution, allowed=fresh.allowed)
    chosen = result.site_ids
    unused = [s for s in result.sites["site_id"] if s not in chosen][0]
    new_site = {"lon": 114.06, "lat": 22.54, "category": "library", "site_id": "NEW-1"}
    lonlat = result.sites.iloc[[0]].to_crs(4326).geometry
    new_site.update(lon=float(lonlat.x.iloc[0]) + 0.001, lat=float(lonlat.y.iloc[0]) + 0.001)
    expected = fresh.evaluate(add=[unused, new_site], remove=[chosen[-1]])

    _no_prepare(monkeypatch)
    got = Plan.from_folder(out).evaluate(add=[unused, new_site], remove=[chosen[-1]])
    assert got.site_ids == expected.site_ids
    assert np.array_equal(got.covered, expected.covered)
    _same_problem(got.problem, expected.problem)
    keys = ("coverage_population", "coverage_area", "n_selected", "total_cost", "by_district", "districts")
    a, b = got.summary(network=False), expected.summary(network=False)
    assert {k: a[k] for k in keys} == {k: b[k] for k in keys}

    # and a what-if folder, written and read again, still needs no prepare
    again = tmp = out.parent / "whatif"
    got.write(tmp, map=False)
    reread = Plan.from_folder(again)
    assert reread.site_ids == got.site_ids and np.array_equal(reread.covered, got.covered)


def test_a_changed_layer_is_refused_in_one_line(saved):
    scenario_path, _, out = saved
    layer = next(p for p in scenario_path.parent.iterdir() if p.name.startswith("schools"))
    layer.write_bytes(layer.read_bytes() + b" ")
    with pytest.raises(InputError, match=rf"{layer.name} has changed since the plan .*hotspots plan") as info:
        Plan.from_folder(out)
    assert "\n" not in str(info.value)


def test_an_edited_scenario_or_an_old_folder_is_prepared_again(saved, monkeypatch):
    _, result, out = saved
    calls = []
    real = planning.prepare
    monkeypatch.setattr(planning, "prepare", lambda s: calls.append(1) or real(s))
    scenario_file = out / "scenario.toml"
    scenario_file.write_text(scenario_file.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert Plan.from_folder(out).site_ids == result.site_ids and calls == [1]
    (out / PROBLEM_DIR / PROBLEM_MANIFEST).unlink()  # a folder from before problem/ existed
    assert Plan.from_folder(out).site_ids == result.site_ids and calls == [1, 1]


def test_a_damaged_matrix_is_refused_in_one_line(saved):
    _, _, out = saved
    path = out / PROBLEM_DIR / PROBLEM_MATRIX
    with np.load(path) as data:
        parts = dict(data)
    parts["indices"] = parts["indices"] + 10_000_000
    np.savez(path, **parts)
    with pytest.raises(InputError, match="cannot read the saved problem"):
        Plan.from_folder(out)


def test_the_manifest_names_every_layer_with_its_hash(saved):
    scenario_path, _, out = saved
    manifest = json.loads((out / PROBLEM_DIR / PROBLEM_MANIFEST).read_text(encoding="utf-8"))
    scenario = load_scenario(scenario_path)
    layers = {str(src.path.resolve()) for src in [scenario.study_area, scenario.districts, scenario.population]
              + [s.source for s in scenario.sites] if src is not None}
    assert set(manifest["layers"]) == layers
    assert all(len(h) == 64 for h in manifest["layers"].values())


def test_demand_points_are_read_without_geometry_and_made_exactly_when_asked(tmp_path, monkeypatch):
    import geopandas as gpd

    from coverage.savedproblem import write_problem

    scenario_path = write_toy_city(tmp_path / "city", extra="demand_points_per_cell = 2")
    result = plan(load_scenario(scenario_path))
    assert isinstance(result.problem.demand, gpd.GeoDataFrame)  # prepared: demand is cells
    assert result.problem.cells is result.problem.demand
    out = result.write(tmp_path / "out", map=False)
    _no_prepare(monkeypatch)
    loaded = Plan.from_folder(out).problem
    assert not isinstance(loaded.demand, gpd.GeoDataFrame) and "geometry" not in loaded.demand.columns
    assert "cells" not in loaded.__dict__  # no points made by the load
    # the figures need no geometry; the points, when asked, are the prepared ones, column for column
    assert Plan.from_folder(out).coverage == result.coverage
    from geopandas.testing import assert_geodataframe_equal

    assert_geodataframe_equal(loaded.cells, result.problem.cells)
    assert loaded.cells.geometry.geom_equals_exact(result.problem.cells.geometry, 0).all()
    assert list(loaded.cells.columns) == list(result.problem.cells.columns)
    # written again from the loaded problem (no base to copy from): the same demand.parquet
    again = tmp_path / "again"
    again.mkdir()
    (again / "scenario.toml").write_bytes((out / "scenario.toml").read_bytes())
    write_problem(loaded, again, again / "scenario.toml")
    name = "demand.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(again / PROBLEM_DIR / name), pd.read_parquet(out / PROBLEM_DIR / name))
    manifests = [json.loads((f / PROBLEM_DIR / PROBLEM_MANIFEST).read_text()) for f in (out, again)]
    assert manifests[0]["points"][name] == manifests[1]["points"][name]


def test_a_whatif_written_from_a_folder_makes_no_demand_points(tmp_path, monkeypatch):
    scenario_path = write_toy_city(tmp_path / "city", extra="demand_points_per_cell = 2")
    out = plan(load_scenario(scenario_path)).write(tmp_path / "out", map=False)
    loaded = Plan.from_folder(out)
    result = loaded.evaluate(remove=loaded.site_ids[-1:])
    result.write(tmp_path / "whatif", map=False)
    assert "cells" not in result.problem.__dict__  # demand.parquet copied, figures from the table


def test_the_cells_layer_takes_a_reprojected_grid_and_the_whatif_map_equals_the_folders(tmp_path):
    from coverage.maps import render_map
    from coverage.outputs import cells_layer

    scenario_path = write_toy_city(tmp_path / "city", extra="demand_points_per_cell = 2")
    result = plan(load_scenario(scenario_path))
    grid = result.problem.cell_polygons
    assert cells_layer(result).crs == grid.crs  # nothing reprojected, nothing kept
    assert "grid_cells_wgs84" not in result.problem.__dict__
    result.problem.grid_cells_wgs84  # noqa: B018 - as hotspots whatif makes it
    layer = cells_layer(result)
    assert layer.crs.to_epsg() == 4326 and layer["cell_id"].tolist() == grid["cell_id"].tolist()
    assert layer.geometry.geom_equals_exact(grid.geometry.to_crs("EPSG:4326"), 0).all()
    out = result.write(tmp_path / "out", map_options={"offline": True})
    loaded = Plan.from_folder(out)
    whatif = loaded.evaluate(remove=loaded.site_ids[:1]).write(tmp_path / "whatif", map_options={"offline": True})
    for folder in (out, whatif):  # drawn from the layers in memory = drawn from the folder
        again = render_map(folder, tmp_path / f"{folder.name}.html", offline=True)
        undated = [re.sub(rb"\d{4}-\d{2}-\d{2}", b"<date>", page)  # the header's day (runs cross midnight)
                   for page in (again.read_bytes(), (folder / "map.html").read_bytes())]
        assert undated[0] == undated[1]
