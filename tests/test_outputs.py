"""The plan folder: CSVs that round-trip and carry no formulas, BOM, QGIS styles, whole
replacement, and input tables as Chinese offices have them (issues #11, #12, #16)."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage import load_scenario, plan
from coverage.cli import main
from coverage.planfolder import (
    FORMULA_START, PlanFolder, csv_text, neutralise, read_csv, restore, same_grid, write_csv,
)
from coverage.planning import Plan

from conftest import UTM, X0, Y0, write_toy_city

HOSTILE = ["line\rbreak", "two\nlines", "=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-3", "@SUM(A1)", "\tTab",
           "'=quoted", "''-two", "plain, with comma", "\"quoted\"", "中文 学校", "'apostrophe"]


@pytest.mark.parametrize("value", HOSTILE + ["", "ok"])
def test_neutralise_round_trips(value):
    assert restore(neutralise(value)) == value
    if value[:1] in FORMULA_START:
        assert neutralise(value).startswith("'")


def test_csv_round_trips_through_csv_and_pandas(tmp_path):
    frame = pd.DataFrame({"name": HOSTILE, "n": np.arange(len(HOSTILE)), "x": np.linspace(-1, 1, len(HOSTILE))})
    path = write_csv(frame, tmp_path / "t.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel on Chinese Windows reads UTF-8
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert len(rows) == len(HOSTILE) + 1
    assert not any(cell[:1] in FORMULA_START for row in rows[1:] for cell in row[:1])  # no live formula
    assert len(pd.read_csv(path, encoding="utf-8-sig")) == len(HOSTILE)
    back = read_csv(path)
    assert back["name"].tolist() == HOSTILE and back["n"].tolist() == list(range(len(HOSTILE)))
    plain = write_csv(frame, tmp_path / "plain.csv", bom=False)
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    assert csv_text(frame).encode("utf-8") == plain.read_bytes()


def _pandas_csv(frame: pd.DataFrame) -> str:
    """The reference csv_text is fast for: pandas' own writer on the neutralised frame."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].map(neutralise)
    return out.to_csv(index=False, lineterminator="\r\n")


def test_csv_text_is_exactly_what_pandas_writes():
    n = len(HOSTILE) + 3
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "name": HOSTILE + ["", None, "ok"], "text": pd.Series(HOSTILE + [None, " lead", "x"], dtype="str"),
        "mixed": pd.Series([1, "a", None, 2.5, True, np.nan, "x,y"] + list(range(n - 7)), dtype=object),
        "n": np.arange(n), "u": np.arange(n, dtype=np.uint8), "flag": [True, False] * (n // 2),
        "maybe": pd.array([True, None] * (n // 2), dtype="boolean"),
        "year": pd.array([2011, None] * (n // 2), dtype="Int64"),
        "x": [1e-5, 1e16, 123456789.123, -0.0, np.inf, np.nan, 0.1, 1 / 3, 2.5e-300, 1e22, 5.0, 1e15, 0.0001, -1.5, 7.0, 12345678901234567.0],
        "f32": np.arange(n, dtype=np.float32) / 3,
    })
    assert csv_text(frame) == _pandas_csv(frame)
    for column in frame.columns:  # one column alone: an empty cell must not make a blank line
        assert csv_text(frame[[column]]) == _pandas_csv(frame[[column]]), column
    assert csv_text(frame.rename(columns={"name": "na,me", "n": 'q"n'})) == \
        _pandas_csv(frame.rename(columns={"name": "na,me", "n": 'q"n'}))
    assert csv_text(frame.iloc[:0]) == _pandas_csv(frame.iloc[:0])
    floats = pd.DataFrame({"v": rng.standard_normal(20000) * 10.0 ** rng.integers(-30, 30, 20000)})
    assert csv_text(floats) == _pandas_csv(floats)


@pytest.fixture(scope="module")
def hostile_plan(tmp_path_factory):
    """The toy city with schools named like formulas and with line breaks, planned and written."""
    folder = tmp_path_factory.mktemp("hostile")
    scenario = write_toy_city(folder / "city", n_schools=47)
    schools = pd.read_csv(folder / "city" / "schools.csv", dtype=str)
    schools["name"] = [HOSTILE[i % len(HOSTILE)] + f" {i}" for i in range(len(schools))]
    schools.loc[0, "site_id"] = "=SC-001"
    schools.loc[1, "site_id"] = "-SC-002"
    schools.to_csv(folder / "city" / "schools.csv", index=False, lineterminator="\r\n")  # quotes the CRs
    result = plan(load_scenario(scenario).replace(target=0.999))
    out = result.write(folder / "out", map=False)
    return result, out


def test_selected_sites_csv_has_one_row_per_site(hostile_plan):
    result, out = hostile_plan
    n = len(result.site_ids)
    with open(out / "selected_sites.csv", newline="", encoding="utf-8-sig") as f:
        assert len(list(csv.reader(f))) == n + 1
    assert len(pd.read_csv(out / "selected_sites.csv", encoding="utf-8-sig")) == n
    table = PlanFolder(out).sites_table
    assert table["site_id"].tolist() == result.site_ids
    assert table["name"].tolist() == result.table()["name"].tolist()


def test_whatif_reloads_its_own_plan_with_hostile_names(hostile_plan, tmp_path, capsys):
    result, out = hostile_plan
    again = Plan.from_folder(out)
    assert again.site_ids == result.site_ids
    assert again.coverage == pytest.approx(result.coverage, abs=1e-12)
    assert main(["-q", "whatif", str(out), "--remove", result.site_ids[-1], "--out", str(tmp_path / "w"),
                 "--no-map"]) == 0


def test_plan_gpkg_opens_styled_in_qgis(hostile_plan):
    from coverage.maps import category_colours
    from coverage.maps.palette import CANDIDATE_COLOUR, coverage_classes

    result, out = hostile_plan
    with sqlite3.connect(out / "plan.gpkg") as db:
        styles = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles WHERE useAsDefault").fetchall())
        geometry = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        columns = dict(db.execute("SELECT f_table_name, f_geometry_column FROM layer_styles").fetchall())
    db.close()
    assert set(styles) == set(geometry) == {"selected_sites", "candidates", "demand_cells", "districts", "study_area"}
    assert columns == geometry
    colours = category_colours(sorted(result.scenario.categories))
    for category, colour in colours.items():
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert f'value="{r},{g},{b},255"' in styles["selected_sites"], category
    assert 'attr="category"' in styles["selected_sites"] and 'attr="coverage"' in styles["districts"]
    # districts in the map's classes relative to the plan's target, candidates in the map's grey

    def rgba(colour, alpha):
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        return f'value="{r},{g},{b},{round(255 * alpha)}"'

    for _low, _high, colour in coverage_classes(result.scenario.target):
        assert rgba(colour, 0.7) in styles["districts"], colour
    assert rgba(CANDIDATE_COLOUR, 0.5) in styles["candidates"]
    with sqlite3.connect(out / "plan.gpkg") as db:
        sld = dict(db.execute("SELECT f_table_name, styleSLD FROM layer_styles").fetchall())
    db.close()
    assert "<ogc:PropertyName>covered</ogc:PropertyName>" in sld["demand_cells"]  # a field, not an expression


def test_previous_folder_replaced_whole(toy_scenario, tmp_path):
    out = tmp_path / "o"
    assert main(["-q", "plan", str(toy_scenario), "--out", str(out), "--offline"]) == 0
    assert (out / "map.html").exists()
    assert main(["-q", "plan", str(toy_scenario), "--out", str(out), "--no-map"]) == 0
    assert not (out / "map.html").exists()  # no stale map beside the new plan
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"] or not list(tmp_path.glob(".hotspots-*"))


def test_reader_is_lazy_and_shares_the_grid_check(toy_plan, tmp_path):
    out = toy_plan.write(tmp_path / "a", map=False)
    folder = PlanFolder(out)
    assert "summary" not in folder.__dict__ and "cells" not in folder.__dict__
    assert folder.summary["n_selected"] == len(toy_plan.site_ids)
    assert "cells" not in folder.__dict__
    assert same_grid(folder, PlanFolder(toy_plan.write(tmp_path / "b", map=False)))
    assert len(folder.cell_table) == len(toy_plan.cells) and folder.selected.crs.to_epsg() == 4326


def test_bom_option(toy_plan, tmp_path):
    plain = toy_plan.write(tmp_path / "p", map=False, bom=False)
    assert not (plain / "selected_sites.csv").read_bytes().startswith(b"\xef\xbb\xbf")


# --- inputs as Chinese offices have them ---------------------------------------------------------


def source(path, **keys):
    from types import SimpleNamespace

    base = dict(path=path, layer=None, crs=None, lon_column=None, lat_column=None, encoding=None, sheet=None,
                header_row=None)
    return SimpleNamespace(**{**base, **keys})


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_csv_encoding_detected(tmp_path, encoding):
    from coverage.layers import read_points

    path = tmp_path / "s.csv"
    path.write_bytes("site_id,名称,经度,纬度\nA,福田区图书馆,114.06,22.55\n".encode(encoding))
    gdf = read_points(source(path), "schools")
    assert gdf["名称"].tolist() == ["福田区图书馆"]
    assert gdf.geometry.x.tolist() == [114.06]


def test_csv_encoding_declared(tmp_path):
    from coverage.layers import read_points

    path = tmp_path / "s.csv"
    path.write_bytes("site_id,name,lon,lat\nA,臺北圖書館,114.06,22.55\n".encode("big5"))
    assert read_points(source(path, encoding="big5"), "schools")["name"].tolist() == ["臺北圖書館"]


def test_excel_title_row_and_named_sheet(tmp_path):
    from coverage.layers import read_points

    path = tmp_path / "sites.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame([["封面"]]).to_excel(book, sheet_name="说明", index=False, header=False)
        pd.DataFrame([["深圳市学校名录 2026", "", "", ""], ["site_id", "name", "lon", "lat"],
                      ["A", "一中", "114.06", "22.55"], ["B", "二中", "114.07", "22.56"]]
                     ).to_excel(book, sheet_name="名录", index=False, header=False)
    gdf = read_points(source(path, sheet="名录", header_row=2), "schools")
    assert gdf["name"].tolist() == ["一中", "二中"]


def test_evaluate_with_declared_crs(toy_plan):
    from coverage.chinacoords import to_wgs84

    x, y = X0 + 700, Y0 + 400
    lon, lat = gpd.GeoSeries([shapely.Point(x, y)], crs=UTM).to_crs(4326).iloc[0].coords[0]
    wgs = toy_plan.evaluate(add=[(lon, lat, "school")])
    # the same place given in GCJ-02 (~500 m off if read as WGS84) is the same site once declared
    from coverage.chinacoords import wgs84_to_gcj02

    glon, glat = (float(v) for v in np.ravel(wgs84_to_gcj02(lon, lat)))
    gcj = toy_plan.evaluate(add=[(float(glon), float(glat), "school")], crs="gcj02")
    back = to_wgs84(np.array([glon]), np.array([glat]), "gcj02")
    assert abs(float(back[0][0]) - lon) < 1e-5
    assert gcj.coverage == pytest.approx(wgs.coverage)
    utm = toy_plan.evaluate(add=[(x, y, "school")], crs=UTM)
    assert utm.coverage == pytest.approx(wgs.coverage)


def test_mixed_population_points_and_polygons_allocated_by_area():
    from coverage.demand import allocate_population

    cells = gpd.GeoDataFrame({"area_m2": [10_000.0] * 4}, geometry=[
        shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100),
        shapely.box(0, 100, 100, 200), shapely.box(100, 100, 200, 200)], crs=UTM)
    population = gpd.GeoDataFrame({"population": [400.0, 7.0]},
                                  geometry=[shapely.box(0, 0, 200, 200), shapely.Point(150, 150)], crs=UTM)
    people = allocate_population(cells, population, "population")
    assert people.tolist() == pytest.approx([100, 100, 100, 107])


def test_out_is_the_current_folder(toy_scenario, tmp_path, monkeypatch):
    """`cd out && hotspots plan ... --out .`: the folder keeps its identity, twice over."""
    out = tmp_path / "here"
    out.mkdir()
    monkeypatch.chdir(out)
    inode = os.stat(".").st_ino
    for _ in range(2):  # new (empty) folder, then a previous output replaced
        assert main(["-q", "plan", str(toy_scenario), "--out", ".", "--no-map"]) == 0
        assert os.stat(".").st_ino == inode and Path("summary.json").exists()
    assert sorted(p.name for p in out.iterdir()) == ["plan.gpkg", "problem", "scenario.toml", "selected_sites.csv",
                                                     "summary.json"]
    assert not list(tmp_path.glob(".hotspots-*"))


def test_late_exception_leaves_no_output(toy_plan, tmp_path, monkeypatch):
    """A bug in a late stage (not an input error) propagates, and still nothing is left."""
    import coverage.outputs as outputs

    def broken(*args, **kwargs):
        raise RuntimeError("late failure")

    monkeypatch.setattr(outputs, "add_styles", broken)
    with pytest.raises(RuntimeError):
        toy_plan.write(tmp_path / "new" / "deeper", map=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # not even the missing parent


def test_styles_escape_hostile_category_names(tmp_path):
    import xml.etree.ElementTree as ET

    from coverage.gpkgstyles import add_styles

    path = tmp_path / "t.gpkg"
    gpd.GeoDataFrame({"category": ["x"]}, geometry=[shapely.Point(0, 0)], crs=4326).to_file(
        path, layer="selected_sites")
    hostile = ['<b onmouseover="x">', "a&b", "{{7*7}}", "'\"]]>"]
    add_styles(path, hostile, {h: h + " label" for h in hostile})
    with sqlite3.connect(path) as db:
        qml, sld = db.execute("SELECT styleQML, styleSLD FROM layer_styles").fetchone()
    db.close()
    root = ET.fromstring(qml.split("'SYSTEM'>", 1)[1])
    assert sorted(c.get("value") for c in root.iter("category")) == sorted(hostile)
    ET.fromstring(sld)


def test_gbk_site_table_planned_end_to_end(tmp_path):
    """A GBK CSV as Excel on Chinese Windows saves it: read without a declaration, names intact."""
    scenario = write_toy_city(tmp_path / "city")
    path = tmp_path / "city" / "schools.csv"
    table = pd.read_csv(path, dtype=str)
    table["name"] = [f"第{i}中学" for i in range(len(table))]
    path.write_bytes(table.to_csv(index=False).encode("gbk"))
    out = tmp_path / "out"
    assert main(["-q", "plan", str(scenario), "--out", str(out), "--no-map"]) == 0
    written = pd.read_csv(out / "selected_sites.csv", encoding="utf-8-sig")
    schools = written[written["category"] == "school"]
    assert len(schools) and schools["name"].str.match(r"第\d+中学").all()


def test_extra_files_written_in_the_same_step(toy_plan, tmp_path):
    out = toy_plan.write(tmp_path / "w", map=False, extra={"diff.json": {"sites_added": ["=X"]}})
    assert json.loads((out / "diff.json").read_text(encoding="utf-8")) == {"sites_added": ["=X"]}
    with pytest.raises(ValueError, match="note.txt"):  # only names the tool owns, or the folder is not its own
        toy_plan.write(tmp_path / "x", map=False, extra={"note.txt": "a"})
    assert not (tmp_path / "x").exists()


def test_in_background_runs_in_a_child_and_hands_back_its_exception(tmp_path):
    import os

    from coverage.outputs import in_background

    marker = tmp_path / "pid.txt"
    job = in_background(lambda: marker.write_text(str(os.getpid())))
    job.result()
    assert int(marker.read_text()) != os.getpid()  # it ran in another process

    def broken():
        raise ValueError("from the child")
    with pytest.raises(ValueError, match="from the child"):
        in_background(broken).result()
    with pytest.raises(OSError, match="exit code 3"):
        in_background(lambda: os._exit(3)).result()


def test_in_background_cancel_stops_the_child_before_it_writes(tmp_path):
    import time

    from coverage.outputs import in_background

    late = tmp_path / "late.txt"
    job = in_background(lambda: (time.sleep(0.3), late.write_text("x")))
    job.cancel()
    time.sleep(0.8)  # well past the moment an uncancelled child would have written
    assert not late.exists()


def test_in_background_without_fork_runs_inline_when_asked(tmp_path, monkeypatch):
    from coverage.outputs import in_background

    monkeypatch.setenv("COVERAGE_NO_FORK", "1")
    calls = []
    job = in_background(lambda: calls.append(1))
    assert calls == []
    job.result()
    assert calls == [1]


@pytest.mark.parametrize("fork", [True, False])
def test_in_background_hands_back_what_the_function_returned(monkeypatch, fork):
    import os

    from coverage.outputs import in_background

    if not fork:
        monkeypatch.setenv("COVERAGE_NO_FORK", "1")
    assert in_background(lambda: {"pid": os.getpid(), "rows": list(range(5))}).result()["rows"] == [0, 1, 2, 3, 4]
    assert (in_background(os.getpid).result() != os.getpid()) == fork


def test_a_plan_written_while_solving_is_the_same_as_one_written_after(toy_plan, tmp_path, monkeypatch):
    """outputs.solve_and_write (the CLI's path: fixed files written by a child while solving,
    the network checked by another) gives the folder Plan.write gives, file by file."""
    import hashlib

    from coverage.outputs import solve_and_write
    from coverage.planfolder import PlanFolder

    after = toy_plan.write(tmp_path / "after", map=False)
    during = solve_and_write(toy_plan.problem, lambda problem: toy_plan, tmp_path / "during", map=False)
    assert during is toy_plan
    for name in ("summary.json", "selected_sites.csv", "problem/matrix.npz", "problem/sites.parquet"):
        same = hashlib.sha256((after / name).read_bytes()).digest() == hashlib.sha256(
            (tmp_path / "during" / name).read_bytes()).digest()
        assert same, name
    a, b = PlanFolder(after), PlanFolder(tmp_path / "during")
    for layer in ("selected", "candidates", "cells", "districts", "study_area"):
        left, right = getattr(a, layer), getattr(b, layer)
        assert list(left.columns) == list(right.columns), layer
        assert left.drop(columns="geometry").equals(right.drop(columns="geometry")), layer
        assert left.geometry.to_wkb().equals(right.geometry.to_wkb()), layer
    assert a.gpkg_layers == b.gpkg_layers
