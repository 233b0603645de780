"""A what-if copies what did not change from its base folder: the result equals a fresh write."""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

import coverage.gpkgpatch as gpkgpatch
from conftest import UTM, X0, Y0, write_toy_city
from coverage import load_scenario, plan
from coverage.cli import main
from coverage.planfolder import GEOPACKAGE, LAYERS, PROBLEM_DIR, PROBLEM_MANIFEST
from coverage.planning import load_plan

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from check_same_outputs import differences  # noqa: E402


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A toy plan folder written by the tool (with its map)."""
    root = tmp_path_factory.mktemp("reuse")
    result = plan(load_scenario(write_toy_city(root / "city")))
    return result.write(root / "base", map_options={"offline": True})


def _whatif(base: Path):
    loaded = load_plan(base)
    removed = loaded.site_ids[len(loaded.site_ids) // 2]  # a site in the middle: every later rank moves
    new = gpd.GeoSeries([shapely.Point(X0 + 1234, Y0 + 567)], crs=UTM).to_crs("EPSG:4326")
    return loaded, loaded.evaluate(add=[(new.x[0], new.y[0], "library", "Pop-up")], remove=[removed])


def _same_folders(a: Path, b: Path) -> None:
    assert differences(a, b) == []
    assert (a / "map.html").read_bytes() == (b / "map.html").read_bytes()
    assert [row[0] for row in pyogrio.list_layers(a / GEOPACKAGE)] == \
        [row[0] for row in pyogrio.list_layers(b / GEOPACKAGE)]
    for path in sorted((a / PROBLEM_DIR).iterdir()):
        if path.name != PROBLEM_MANIFEST:  # a copied parquet file may carry other metadata: compare content
            other = b / PROBLEM_DIR / path.name
            if path.suffix == ".parquet":
                pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(other))
            else:
                assert path.read_bytes() == other.read_bytes()


def test_a_whatif_written_by_reuse_equals_one_written_afresh(base, tmp_path, monkeypatch):
    loaded, result = _whatif(base)
    assert loaded.base_folder == base and result.base_folder == base
    updates = []
    real = gpkgpatch.update_rows
    monkeypatch.setattr(gpkgpatch, "update_rows", lambda *a, **k: updates.append(a[1]) or real(*a, **k))
    keyed = gpkgpatch.update_keyed_points
    monkeypatch.setattr(gpkgpatch, "update_keyed_points",
                        lambda *a, **k: updates.append((a[1], keyed(*a, **k))) or updates[-1][1])
    reused = result.write(tmp_path / "reused", map_options={"offline": True})
    assert updates == ["demand_cells", "districts", ("candidates", True)]  # the reuse path ran, in place
    fresh = dataclasses.replace(result, base_folder=None, _cache={}).write(
        tmp_path / "fresh", map_options={"offline": True})
    assert len(updates) == 3  # and the fresh write did not
    _same_folders(reused, fresh)
    # the changed cells really changed: the figures are the what-if's, not the base's
    cells = pyogrio.read_dataframe(reused / GEOPACKAGE, layer="demand_cells", read_geometry=False)
    before = pyogrio.read_dataframe(base / GEOPACKAGE, layer="demand_cells", read_geometry=False)
    assert not cells["covered"].equals(before["covered"])


def test_the_reused_folder_is_a_complete_plan_folder(base, tmp_path, capsys):
    _, result = _whatif(base)
    first = result.write(tmp_path / "first", map=False)
    manifest = json.loads((first / PROBLEM_DIR / PROBLEM_MANIFEST).read_text())
    assert manifest["plan_gpkg"]["format"] == 1
    # a what-if of that what-if reuses it in turn, and equals the same what-if written afresh
    again = load_plan(first)
    assert again.base_folder == first
    removed = again.site_ids[0]
    second = again.evaluate(remove=[removed])
    chained = second.write(tmp_path / "chained", map_options={"offline": True})
    fresh = dataclasses.replace(second, base_folder=None, _cache={}).write(
        tmp_path / "fresh", map_options={"offline": True})
    _same_folders(chained, fresh)
    assert main(["-q", "compare", str(first), str(chained)]) == 0
    assert removed in capsys.readouterr().out


def test_a_changed_base_geopackage_is_not_reused(base, tmp_path, monkeypatch):
    copy = tmp_path / "base"
    import shutil

    shutil.copytree(base, copy)
    with sqlite3.connect(copy / GEOPACKAGE) as db:  # someone edits a figure in QGIS
        db.execute('UPDATE "demand_cells" SET "population" = 0 WHERE fid = 1')
    loaded, result = _whatif(copy)
    updates = []
    monkeypatch.setattr(gpkgpatch, "update_rows", lambda *a, **k: updates.append(a[1]))
    out = result.write(tmp_path / "whatif", map=False)
    assert updates == []  # sha256 differs: written afresh, the edit is not carried over
    fresh = dataclasses.replace(result, base_folder=None, _cache={}).write(tmp_path / "fresh", map=False)
    assert differences(out, fresh) == []


def test_update_rows_refuses_rows_that_do_not_match(base, tmp_path):
    import shutil

    path = tmp_path / GEOPACKAGE
    shutil.copyfile(base / GEOPACKAGE, path)
    table = pyogrio.read_dataframe(path, layer="districts", read_geometry=False)
    renamed = table.assign(name=table["name"] + "x")
    assert not gpkgpatch.update_rows(path, "districts", renamed, ["name"])
    assert not gpkgpatch.update_rows(path, "districts", table.drop(columns=["n_sites"]), ["name"])
    changed = table.assign(n_sites=table["n_sites"] + 1)
    assert gpkgpatch.update_rows(path, "districts", changed, ["name"])  # districts have an R-tree: no geometry touched
    after = pyogrio.read_dataframe(path, layer="districts")
    assert after["n_sites"].tolist() == changed["n_sites"].tolist()
    assert pyogrio.read_dataframe(path, layer="districts").geometry.equals(
        pyogrio.read_dataframe(base / GEOPACKAGE, layer="districts").geometry)
    gpkgpatch.order_layers(path, reversed(LAYERS))
    assert [row[0] for row in pyogrio.list_layers(path)][:len(LAYERS)] == list(reversed(LAYERS))


def test_the_map_drawn_from_memory_equals_the_map_drawn_from_the_folder(base, tmp_path):
    from coverage.maps import render_map

    _, result = _whatif(base)
    out = result.write(tmp_path / "whatif", map_options={"offline": True, "lang": "zh"},
                       extra={"diff.json": {"sites_removed": ["<b>gone</b>"]}})
    for folder in (base, out):  # a plan and a what-if with its diff.json
        options = {"offline": True, "lang": "zh"} if folder == out else {"offline": True}
        again = render_map(folder, tmp_path / f"{folder.name}.html", **options)
        assert _undated(again.read_bytes()) == _undated((folder / "map.html").read_bytes())


def _undated(page: bytes) -> bytes:
    """A page without its dates: the header says the day it was drawn (runs cross midnight)."""
    return re.sub(rb"\d{4}-\d{2}-\d{2}", b"<date>", page)


def test_only_an_exact_reload_keeps_the_saved_summary_and_the_base_folder(base, tmp_path):
    import shutil

    loaded = load_plan(base)
    assert loaded.saved_summary == json.loads((base / "summary.json").read_text(encoding="utf-8"))
    assert loaded.evaluate(remove=[loaded.site_ids[-1]]).saved_summary is None  # a what-if is not its base
    copy = base.parent / "edited"  # beside the base: scenario.toml's relative paths still hold
    shutil.copytree(base, copy)
    with open(copy / "scenario.toml", "a", encoding="utf-8") as f:
        f.write("\n# edited by hand\n")  # problem/ no longer belongs to it: prepared again
    again = load_plan(copy)
    assert again.saved_summary is None and again.base_folder is None


def test_selected_sites_are_written_in_place_when_few_rows_change(base, tmp_path, monkeypatch):
    loaded = load_plan(base)
    new = gpd.GeoSeries([shapely.Point(X0 + 1234, Y0 + 567)], crs=UTM).to_crs("EPSG:4326")
    # the last two sites removed and one added: the ranks before them stay, a few rows change
    result = loaded.evaluate(add=[(new.x[0], new.y[0], "library", "Pop-up")], remove=loaded.site_ids[-2:])
    calls = []
    real = gpkgpatch.update_points
    # on the toy city's 28 sites a third of the rows change (neighbours' load, conflicts): allow that here
    monkeypatch.setattr(gpkgpatch, "update_points",
                        lambda *a, **k: calls.append(real(*a, **{**k, "most": 1.0})) or calls[-1])
    reused = result.write(tmp_path / "reused", map_options={"offline": True})
    assert calls == [True]  # written in place
    fresh = dataclasses.replace(result, base_folder=None, _cache={}).write(
        tmp_path / "fresh", map_options={"offline": True})
    _same_folders(reused, fresh)
    path = reused / GEOPACKAGE
    with sqlite3.connect(path) as db:  # what a fresh write sets: fid sequence, extent, a working R-tree
        for query in ("SELECT seq FROM sqlite_sequence WHERE name = 'selected_sites'",
                      "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'selected_sites'",
                      "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'selected_sites'",
                      "SELECT COUNT(*) FROM rtree_selected_sites_geom"):
            with sqlite3.connect(fresh / GEOPACKAGE) as other:
                assert db.execute(query).fetchall() == other.execute(query).fetchall(), query
    box = (new.x[0] - 1e-4, new.y[0] - 1e-4, new.x[0] + 1e-4, new.y[0] + 1e-4)
    found = pyogrio.read_dataframe(path, layer="selected_sites", bbox=box)  # through the R-tree
    assert found["name"].tolist() == ["Pop-up"]


def test_update_points_refuses_what_it_cannot_write_in_place(base, tmp_path):
    import shutil

    path = tmp_path / GEOPACKAGE
    shutil.copyfile(base / GEOPACKAGE, path)
    layer = pyogrio.read_dataframe(path, layer="selected_sites")
    assert gpkgpatch.update_points(path, "selected_sites", layer)  # nothing changes: nothing to write
    moved = layer.copy()
    moved["geometry"] = layer.geometry.translate(0.001, 0)  # every row changes: a bulk write is faster
    assert not gpkgpatch.update_points(path, "selected_sites", moved)
    assert not gpkgpatch.update_points(path, "selected_sites", layer.drop(columns=["rank"]))
    polygons = layer.copy()
    polygons["geometry"] = shapely.buffer(layer.geometry.to_numpy(), 0.001)
    assert not gpkgpatch.update_points(path, "selected_sites", polygons)
    after = pyogrio.read_dataframe(path, layer="selected_sites")
    assert after.to_wkb().equals(layer.to_wkb())
    # one value for a whole column (a what-if has no roll-out years) and one site moved: in place
    dated = layer.assign(year=pd.array([2031] * len(layer), dtype="Int64"))
    dated.loc[3, "geometry"] = shapely.Point(dated.geometry.x[3] + 0.001, dated.geometry.y[3])
    assert gpkgpatch.update_points(path, "selected_sites", dated)
    after = pyogrio.read_dataframe(path, layer="selected_sites")
    assert after["year"].tolist() == [2031] * len(layer)
    assert after.geometry.to_wkb().tolist() == dated.geometry.to_wkb().tolist()
    box = (dated.geometry.x[3] - 1e-5, dated.geometry.y[3] - 1e-5, dated.geometry.x[3] + 1e-5, dated.geometry.y[3] + 1e-5)
    assert pyogrio.read_dataframe(path, layer="selected_sites", bbox=box)["site_id"].tolist() == [layer["site_id"][3]]


@pytest.fixture(scope="module")
def gapfill_base(tmp_path_factory) -> Path:
    """A toy plan folder with street gap-fill sites selected (they are candidates only when selected)."""
    from helpers import edited, toy_dict, write_scenario

    root = tmp_path_factory.mktemp("reuse-gapfill")
    data = edited(toy_dict(write_toy_city(root / "city", n_schools=12, n_libraries=6)), **{
        "target": 0.95, "categories.street": {"radius_m": 100.0, "cost": 1.0, "wired": False, "label": "Street"},
        "gapfill": {"category": "street", "spacing_m": 75.0}, "solver": {"bound": False}})
    result = plan(load_scenario(write_scenario(root / "scenario.toml", data)))
    return result.write(root / "base", map_options={"offline": True})


def test_candidates_are_written_in_place_when_gapfill_sites_leave(gapfill_base, tmp_path, monkeypatch):
    loaded = load_plan(gapfill_base)
    streets = [s for s in loaded.site_ids if s.startswith("street")]
    assert len(streets) >= 6
    removed = sorted(streets)[2:4]  # two gap-fill sites from the middle of the candidates layer
    new = gpd.GeoSeries([shapely.Point(X0 + 1234, Y0 + 567)], crs=UTM).to_crs("EPSG:4326")
    result = loaded.evaluate(add=[(new.x[0], new.y[0], "library", "Pop-up")], remove=removed)
    calls = []
    real = gpkgpatch.update_keyed_points
    monkeypatch.setattr(gpkgpatch, "update_keyed_points",  # the toy city is small: allow any share of rows
                        lambda *a, **k: calls.append(real(*a, **{**k, "most": 1.0})) or calls[-1])
    reused = result.write(tmp_path / "reused", map_options={"offline": True})
    assert calls == [True]  # written in place
    fresh = dataclasses.replace(result, base_folder=None, _cache={}).write(
        tmp_path / "fresh", map_options={"offline": True})
    _same_folders(reused, fresh)  # the layer reads back as a fresh write of it
    path = reused / GEOPACKAGE
    with sqlite3.connect(path) as db, sqlite3.connect(fresh / GEOPACKAGE) as other:
        for query in ("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = 'candidates'",
                      "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = 'candidates'",
                      "SELECT COUNT(*) FROM rtree_candidates_geom",
                      "SELECT minx, maxx, miny, maxy FROM rtree_candidates_geom ORDER BY minx, maxx, miny, maxy"):
            assert db.execute(query).fetchall() == other.execute(query).fetchall(), query
        # every feature has its own box in the R-tree
        assert db.execute("SELECT COUNT(*) FROM candidates c JOIN rtree_candidates_geom r ON r.id = c.fid"
                          ).fetchone()[0] == db.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
    box = (new.x[0] - 1e-4, new.y[0] - 1e-4, new.x[0] + 1e-4, new.y[0] + 1e-4)
    found = pyogrio.read_dataframe(path, layer="candidates", bbox=box)  # through the R-tree
    assert found["name"].tolist() == ["Pop-up"] and found["status"].tolist() == ["selected"]
    layer = pyogrio.read_dataframe(path, layer="candidates")
    assert not set(removed) & set(layer["site_id"])


def test_update_keyed_points_refuses_what_it_cannot_write_in_place(gapfill_base, tmp_path):
    import shutil

    path = tmp_path / GEOPACKAGE
    shutil.copyfile(gapfill_base / GEOPACKAGE, path)
    layer = pyogrio.read_dataframe(path, layer="candidates")
    before = path.read_bytes()
    assert not gpkgpatch.update_keyed_points(path, "candidates", layer.iloc[::-1], "site_id", ["status"])  # reordered
    assert not gpkgpatch.update_keyed_points(path, "candidates", layer.drop(columns=["cost"]), "site_id", ["status"])
    assert not gpkgpatch.update_keyed_points(path, "candidates", layer.iloc[1:], "site_id", ["status"], most=0.0)
    polygons = layer.copy()
    polygons["geometry"] = shapely.buffer(layer.geometry.to_numpy(), 0.001)
    extra = pd.concat([layer, polygons.iloc[:1].assign(site_id="new")], ignore_index=True)
    assert not gpkgpatch.update_keyed_points(path, "candidates", extra, "site_id", ["status"])  # a polygon to insert
    assert path.read_bytes() == before  # nothing written
    assert gpkgpatch.update_keyed_points(path, "candidates", layer, "site_id", ["status"])  # nothing to change
    changed = layer.iloc[1:].assign(status="not_selected")  # the first leaves, every status changes
    assert gpkgpatch.update_keyed_points(path, "candidates", changed, "site_id", ["status"], most=1.0)
    after = pyogrio.read_dataframe(path, layer="candidates")
    assert after.to_wkb().equals(changed.reset_index(drop=True).to_wkb())
