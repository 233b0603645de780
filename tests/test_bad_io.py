"""Bad input files, output folders and interruptions: one table, one contract (issue #11).

Every row runs the real command in-process (``coverage.cli.main``) or the API and
asserts: exit status 2 (130 for Ctrl-C and SIGTERM), one line on stderr naming
the file and the row, column or layer and the fix, no traceback, no output left (an
existing output folder byte-identical, a new one not created, no ``.hotspots-*``
temporary anywhere) and every input byte-identical.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from coverage.cli import main
from coverage.errors import InputError

from conftest import UTM, X0, Y0, write_toy_city


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """The toy city and a plan folder of it, written once and copied into each case."""
    root = tmp_path_factory.mktemp("bad-io")
    scenario = write_toy_city(root / "city")
    assert main(["-q", "plan", str(scenario), "--out", str(root / "plan"), "--no-map"]) == 0
    return root


def digest(folder: Path) -> dict:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


# --- setups: each edits the case's copy and returns the command-line arguments ------------------


def plan_args(w) -> list:
    return ["plan", str(w.city / "scenario.toml"), "--out", str(w.out), "--no-map"]


def edit_scenario(w, old: str, new: str) -> None:
    path = w.city / "scenario.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def schools(w, transform: Callable[[str], str] | None = None, raw: bytes | None = None):
    path = w.city / "schools.csv"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(transform(path.read_text(encoding="utf-8")), encoding="utf-8")
    return plan_args(w)


def school_cell(row: int, column: str, value: str):
    """Set one cell of schools.csv (``row`` as a spreadsheet shows it: header = 1)."""
    def setup(w):
        table = pd.read_csv(w.city / "schools.csv", dtype=str)
        table.loc[row - 2, column] = value
        table.to_csv(w.city / "schools.csv", index=False)
        return plan_args(w)
    return setup


def libraries_geojson(text: str):
    def setup(w):
        (w.city / "libraries.geojson").write_text(text, encoding="utf-8")
        return plan_args(w)
    return setup


def libraries_points(coords, crs="EPSG:4326"):
    def setup(w):
        gpd.GeoDataFrame({"site_id": [f"LB-{i}" for i in range(len(coords))], "name": "x"},
                         geometry=[shapely.Point(c) if c else None for c in coords], crs=crs
                         ).to_file(w.city / "libraries.geojson", driver="GeoJSON")
        return plan_args(w)
    return setup


def point_feature(lon, lat) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"site_id": "LB-1", "name": "x"},
         "geometry": {"type": "Point", "coordinates": [lon, lat]}}]})


def excel_sites(w, sheets: dict, key: str = ""):
    path = w.city / "sites.xlsx"
    with pd.ExcelWriter(path) as book:
        for name, frame in sheets.items():
            frame.to_excel(book, sheet_name=name, index=False)
    edit_scenario(w, 'path = "schools.csv"', f'path = "sites.xlsx"\n{key}')
    return plan_args(w)


GOOD_ROWS = pd.DataFrame({"site_id": ["X-1"], "name": ["a"], "lon": ["114.06"], "lat": ["22.5"]})


def previous_plan(w) -> None:
    shutil.copytree(w.root / "plan", w.out)


def interrupt(target: str, attr: str, exc=KeyboardInterrupt):
    def setup(w):
        module = __import__(target, fromlist=[attr])

        def broken(*args, **kwargs):
            raise exc()
        w.monkeypatch.setattr(module, attr, broken)
        return plan_args(w)
    return setup


def with_previous(setup):
    def wrapped(w):
        previous_plan(w)
        return setup(w)
    return wrapped


def signal_during_swap(w):
    """A real SIGINT arriving in the middle of swapping the new folder in."""
    import coverage.planfolder as planfolder

    previous_plan(w)
    calls = []
    real = os.rename

    def rename(src, dst):
        calls.append(dst)
        real(src, dst)
        if len(calls) == 2:  # old folder moved aside and the new one in place: Ctrl-C now
            os.kill(os.getpid(), signal.SIGINT)
    w.monkeypatch.setattr(planfolder.os, "rename", rename)
    return plan_args(w)


def sigterm_while_writing(w):
    import coverage.outputs as outputs

    previous_plan(w)
    real = outputs.write_sites_csv

    def write(*args, **kwargs):
        real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)
    w.monkeypatch.setattr(outputs, "write_sites_csv", write)
    return plan_args(w)


def unwritable(which: str):
    def setup(w):
        previous_plan(w)
        target = w.out if which == "out" else w.out.parent
        real = os.access
        w.monkeypatch.setattr(os, "access", lambda p, mode, **k: False if Path(p) == target else real(p, mode, **k))
        return plan_args(w)
    return setup


def whatif(out_of: Callable, *extra):
    def setup(w):
        base = w.root / "base"
        shutil.copytree(w.root / "plan", base)
        w.inputs.append(base)
        return ["whatif", str(base), "--out", str(out_of(w, base)), "--no-map", *extra]
    return setup


def add_layer_inside_out(w):
    base = w.root / "base"
    shutil.copytree(w.root / "plan", base)
    w.out.mkdir()
    gpd.GeoDataFrame({"category": ["school"]}, geometry=[shapely.Point(X0 + 500, Y0 + 500)], crs=UTM
                     ).to_file(w.out / "new.geojson", driver="GeoJSON")
    w.inputs.append(w.out)
    return ["whatif", str(base), "--add-layer", str(w.out / "new.geojson"), "--out", str(w.out), "--no-map"]


# --- the table ----------------------------------------------------------------------------------


@dataclass
class Case:
    id: str
    setup: Callable
    words: tuple[str, ...]
    code: int = 2


CLI_CASES = [
    # layer files: CSV/TSV tables
    Case("csv-lon-inf", school_cell(4, "longitude", "inf"), ("schools.csv", "row 4", "finite", "114.0579")),
    Case("csv-lon-minus-inf", school_cell(3, "longitude", "-inf"), ("schools.csv", "row 3", "finite")),
    Case("csv-lat-nan", school_cell(5, "latitude", "nan"), ("schools.csv", "row 5", "'latitude'")),
    Case("csv-lat-95", school_cell(6, "latitude", "95"), ("schools.csv", "row 6", "latitude 95", "outside ±90")),
    Case("csv-lat-minus-91", school_cell(2, "latitude", "-91"), ("schools.csv", "row 2", "outside ±90")),
    Case("csv-lon-200", school_cell(7, "longitude", "200"), ("schools.csv", "row 7", "outside ±180")),
    Case("csv-lon-text", school_cell(3, "longitude", "east"), ("schools.csv", "row 3", "'east'", "decimal degrees")),
    Case("csv-lon-empty", school_cell(9, "longitude", ""), ("schools.csv", "row 9", "empty", "fill in")),
    Case("csv-lon-comma-decimal", school_cell(2, "longitude", "114,05"), ("schools.csv", "row 2",)),
    Case("csv-swapped", lambda w: schools(w, lambda t: t.replace("longitude,latitude", "latitude,longitude")),
         ("schools.csv", "swapped", "longitude first")),
    Case("csv-header-only", lambda w: schools(w, lambda t: t.splitlines()[0] + "\n"),
         ("schools.csv", "empty", "no data rows")),
    Case("csv-zero-bytes", lambda w: schools(w, raw=b""), ("schools.csv", "empty", "header")),
    Case("csv-not-text", lambda w: schools(w, raw=b"site_id,name,lon,lat\nA,\xff\xfe\x80,1,2\n"),
         ("schools.csv", "line 2", "neither UTF-8 nor GBK", "encoding =")),
    Case("csv-no-lon-column", lambda w: schools(w, lambda t: t.replace("longitude", "easting")),
         ("schools.csv", "no longitude column", "lon_column")),
    Case("csv-declared-column-missing",
         lambda w: (edit_scenario(w, 'path = "schools.csv"', 'path = "schools.csv"\nlon_column = "x_gcj"'),
                    plan_args(w))[1], ("schools.csv", "'x_gcj'", "is not a column")),
    Case("csv-unclosed-quote", lambda w: schools(w, lambda t: t.replace("School 3", '"School 3')),
         ("schools.csv",)),
    Case("csv-duplicate-ids", lambda w: schools(w, lambda t: t.replace("SC-002", "SC-001")),
         ("schools.csv", "SC-001")),
    Case("csv-bad-crs", lambda w: (edit_scenario(w, 'path = "schools.csv"', 'path = "schools.csv"\ncrs = "EPSG:99999"'),
                                   plan_args(w))[1], ("schools.csv", "EPSG:99999", "not a coordinate system")),
    Case("tsv-bad-number", lambda w: (
        (w.city / "schools.tsv").write_text("site_id\tname\tlon\tlat\nT-1\tt\t114.06\tabc\n", encoding="utf-8"),
        edit_scenario(w, 'path = "schools.csv"', 'path = "schools.tsv"'), plan_args(w))[2],
        ("schools.tsv", "row 2", "'abc'")),
    # layer files: Excel
    Case("xlsx-unknown-sheet", lambda w: excel_sites(w, {"Sites": GOOD_ROWS}, 'layer = "Schools"'),
         ("sites.xlsx", "no sheet 'Schools'", "its sheets: Sites", "sheet =")),
    Case("xlsx-not-a-workbook", lambda w: (
        (w.city / "sites.xlsx").write_text("just text", encoding="utf-8"),
        edit_scenario(w, 'path = "schools.csv"', 'path = "sites.xlsx"'), plan_args(w))[2],
        ("sites.xlsx", "not an Excel workbook")),
    Case("xlsx-empty-sheet", lambda w: excel_sites(w, {"Sites": GOOD_ROWS.iloc[:0]}), ("sites.xlsx", "empty")),
    Case("xlsx-lat-text", lambda w: excel_sites(w, {"Sites": GOOD_ROWS.assign(lat=["north"])}),
         ("sites.xlsx", "row 2", "'north'")),
    Case("xlsx-lat-95", lambda w: excel_sites(w, {"Sites": GOOD_ROWS.assign(lat=["95"])}),
         ("sites.xlsx", "row 2", "outside ±90")),
    # layer files: vector formats
    Case("file-missing", lambda w: ((w.city / "libraries.geojson").unlink(), plan_args(w))[1],
         ("libraries.geojson", "does not exist")),
    Case("file-is-folder", lambda w: ((w.city / "libraries.geojson").unlink(),
                                      (w.city / "libraries.geojson").mkdir(), plan_args(w))[2],
         ("libraries.geojson", "is a folder")),
    Case("gpkg-garbage", lambda w: ((w.city / "districts.gpkg").write_bytes(b"\x00garbage" * 50), plan_args(w))[1],
         ("districts.gpkg", "not a file format the planner reads", "GeoPackage, GeoJSON")),
    Case("geojson-broken", libraries_geojson('{"type": "FeatureCollection", "features": [ {'),
         ("libraries.geojson", "cannot read")),
    Case("geojson-empty", libraries_geojson('{"type": "FeatureCollection", "features": []}'),
         ("libraries.geojson", "empty", "remove")),
    Case("geojson-lat-95", libraries_geojson(point_feature(114.06, 95)),
         ("libraries.geojson", "feature 1", "latitude 95", "outside ±90")),
    Case("geojson-lon-190", libraries_geojson(point_feature(190, 22.5)),
         ("libraries.geojson", "feature 1", "longitude 190", "outside ±180")),
    Case("geojson-projected", libraries_points([(X0 + 50, Y0 + 50)], crs=None),
         ("libraries.geojson", "projected", "crs =")),
    Case("geojson-no-geometry", libraries_points([(114.06, 22.5), None]),
         ("libraries.geojson", "feature 2", "no geometry")),
    Case("geojson-polygon-site", libraries_geojson(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"site_id": "LB-1", "name": "x"}, "geometry": {
            "type": "Polygon", "coordinates": [[[114, 22.5], [114.01, 22.5], [114.01, 22.51], [114, 22.5]]]}}]})),
         ("libraries.geojson", "feature 1", "Polygon", "points")),
    Case("gpkg-missing-layer",
         lambda w: (edit_scenario(w, 'path = "districts.gpkg"', 'path = "districts.gpkg"\nlayer = "wards"'),
                    plan_args(w))[1], ("districts.gpkg", "no layer 'wards'", "its layers: districts", "layer =")),
    Case("gpkg-no-crs", lambda w: (gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.box(X0, Y0, X0 + 20, Y0 + 10)])
                                   .to_file(w.city / "boundary.gpkg"), plan_args(w))[1],
         ("boundary.gpkg", "no coordinate reference system", "crs =")),
    Case("study-area-points", lambda w: (gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs=UTM)
                                         .to_file(w.city / "boundary.gpkg"), plan_args(w))[1],
         ("boundary.gpkg", "feature 1", "Point", "polygons")),
    Case("population-no-column", lambda w: (edit_scenario(w, 'column = "population"', 'column = "residents"'),
                                            plan_args(w))[1], ("population.gpkg", "'residents'")),
    Case("districts-no-name-column", lambda w: (edit_scenario(w, 'name_column = "name"\n', 'name_column = "ward"\n'),
                                                plan_args(w))[1], ("districts.gpkg", "'ward'")),
    # output folders
    Case("out-is-scenario-folder", lambda w: ["plan", str(w.city / "scenario.toml"), "--out", str(w.city), "--no-map"],
         ("output folder", "scenario.toml", "input of this run", "another --out")),
    Case("out-holds-a-layer-folder", lambda w: ["plan", str(w.city / "scenario.toml"), "--out", str(w.root),
                                                "--no-map"], ("output folder", "input of this run")),
    Case("out-is-a-file", lambda w: ["plan", str(w.city / "scenario.toml"), "--out", str(w.city / "schools.csv"),
                                     "--no-map"], ("schools.csv", "is a file", "--out")),
    Case("out-under-a-file", lambda w: ["plan", str(w.city / "scenario.toml"), "--out",
                                        str(w.city / "schools.csv" / "o"), "--no-map"], ("schools.csv", "--out")),
    Case("out-foreign-files", lambda w: (w.out.mkdir(), (w.out / "notes.txt").write_text("mine"), plan_args(w))[2],
         ("not written by hotspots", "notes.txt", "--out")),
    Case("out-someones-scenario", lambda w: (w.out.mkdir(), (w.out / "scenario.toml").write_text("# mine"),
                                             plan_args(w))[2], ("not written by hotspots", "--out")),
    Case("out-previous-plus-foreign", lambda w: (previous_plan(w), (w.out / "notes.txt").write_text("x"),
                                                 plan_args(w))[2], ("notes.txt", "not written by hotspots")),
    Case("out-read-only", unwritable("out"), ("read-only", "--out")),
    Case("out-parent-read-only", unwritable("parent"), ("permission denied", "--out")),
    Case("whatif-out-is-base", whatif(lambda w, base: base, "--remove", "SC-001"),
         ("base", "input of this run", "another --out")),
    Case("whatif-out-holds-base", whatif(lambda w, base: w.root, "--remove", "SC-001"), ("input of this run",)),
    Case("whatif-out-holds-add-layer", add_layer_inside_out, ("new.geojson", "input of this run")),
    Case("disk-full-while-writing", with_previous(interrupt("coverage.outputs", "write_sites_csv",
                                                            lambda: OSError(28, "No space left on device"))),
         ("No space left on device", "--out")),
    Case("osm-out-holds-boundary", lambda w: ["import-osm", "Toy", "--boundary", str(w.city / "boundary.gpkg"),
                                              "--out", str(w.root)], ("boundary.gpkg", "input of this run")),
    Case("osm-out-holds-cache", lambda w: ["import-osm", "Toy", "--cache-dir", str(w.city / "cache"),
                                           "--out", str(w.root)], ("cache", "input of this run")),
    Case("osm-out-foreign-files", lambda w: (w.out.mkdir(), (w.out / "notes.txt").write_text("x"),
                                             ["import-osm", "Toy", "--out", str(w.out)])[2],
         ("notes.txt", "not written by hotspots")),
    Case("osm-out-is-a-file", lambda w: ["import-osm", "Toy", "--out", str(w.city / "schools.csv")],
         ("schools.csv", "is a file")),
    # interruptions (Ctrl-C and SIGTERM = 130): the output folder is exactly as it was
    Case("ctrl-c-reading-layers", interrupt("coverage.problem", "load_sites"), ("interrupted",), 130),
    Case("ctrl-c-solving", interrupt("coverage.planning", "run_greedy"), ("interrupted",), 130),
    Case("ctrl-c-network-new-out", interrupt("coverage.engineering", "network_report"), ("interrupted",), 130),
    Case("ctrl-c-network-previous", with_previous(interrupt("coverage.engineering", "network_report")),
         ("interrupted",), 130),
    Case("ctrl-c-geopackage", with_previous(interrupt("coverage.outputs", "geopackage_layers")), ("interrupted",), 130),
    Case("ctrl-c-geopackage-finish", with_previous(interrupt("coverage.outputs", "finish_geopackage")),
         ("interrupted",), 130),
    Case("ctrl-c-geopackage-while-drawing", lambda w: (previous_plan(w), w.monkeypatch.setattr(
        "coverage.outputs.finish_geopackage", _raise_ki), plan_args(w)[:-1])[2], ("interrupted",), 130),
    Case("map-process-fails", lambda w: (previous_plan(w), w.monkeypatch.setattr(
        "coverage.maps.render_map", _raise(OSError(28, "No space left on device"))), plan_args(w)[:-1])[2],
         ("No space left on device", "--out")),
    Case("map-process-input-error", lambda w: (previous_plan(w), w.monkeypatch.setattr(
        "coverage.maps.render_map", _raise(InputError("--basemap x: not a basemap; use osm"))), plan_args(w)[:-1])[2],
         ("--basemap x", "use osm")),
    Case("map-process-dies", lambda w: (previous_plan(w), w.monkeypatch.setattr(
        "coverage.maps.render_map", lambda *a, **k: os._exit(9)), plan_args(w)[:-1])[2],
         ("map", "exit code 9", "--out")),
    Case("ctrl-c-csv-new-out", interrupt("coverage.outputs", "write_sites_csv"), ("interrupted",), 130),
    Case("ctrl-c-scenario", with_previous(interrupt("coverage.outputs", "save_scenario")), ("interrupted",), 130),
    Case("ctrl-c-qgis-styles", with_previous(interrupt("coverage.outputs", "add_styles")), ("interrupted",), 130),
    Case("ctrl-c-during-swap", signal_during_swap, ("interrupted",), 130),
    Case("ctrl-c-drawing-map", lambda w: (previous_plan(w), w.monkeypatch.setattr("coverage.maps.render_map", _raise_ki),
                                          plan_args(w)[:-1])[2], ("interrupted",), 130),
    Case("late-network-input-error", with_previous(interrupt("coverage.engineering", "network_report", lambda: InputError(
        "[network] mesh_range_m: no wired site; set wired = true for a category"))), ("[network]", "wired = true")),
    Case("sigterm-while-writing", sigterm_while_writing, ("interrupted",), 130),
    # the files that do not depend on the chosen sites are written by a forked child while solving
    Case("fixed-files-disk-full", with_previous(interrupt("coverage.outputs", "write_problem",
                                                          lambda: OSError(28, "No space left on device"))),
         ("No space left on device", "--out")),
    Case("fixed-files-disk-full-new-out", interrupt("coverage.outputs", "static_layers",
                                                    lambda: OSError(28, "No space left on device")),
         ("No space left on device", "--out")),
    Case("fixed-files-process-dies", lambda w: (previous_plan(w), w.monkeypatch.setattr(
        "coverage.outputs.static_layers", lambda *a, **k: os._exit(9)), plan_args(w))[2],
         ("fixed files", "exit code 9", "--out")),
    Case("fixed-files-input-error-no-fork", lambda w: (w.monkeypatch.setenv("COVERAGE_NO_FORK", "1"),
                                                       with_previous(interrupt("coverage.outputs", "write_problem",
                                                                               lambda: OSError(28, "disk full")))(w))[1],
         ("disk full", "--out")),
    Case("ctrl-c-solving-previous", with_previous(interrupt("coverage.planning", "run_greedy")), ("interrupted",), 130),
    Case("ctrl-c-solving-no-fork", lambda w: (w.monkeypatch.setenv("COVERAGE_NO_FORK", "1"),
                                              with_previous(interrupt("coverage.planning", "run_greedy"))(w))[1],
         ("interrupted",), 130),
    Case("ctrl-c-fixed-files-patch", with_previous(interrupt("coverage.outputs", "patch_geopackage")),
         ("interrupted",), 130),
    Case("ctrl-c-whatif-write", lambda w: (w.monkeypatch.setattr("coverage.outputs.geopackage_layers", _raise_ki),
                                           whatif(lambda w, base: w.out, "--remove", "SC-001")(w))[1],
         ("interrupted",), 130),
]


def _raise_ki(*args, **kwargs):
    raise KeyboardInterrupt


def _raise(exc):
    def broken(*args, **kwargs):
        raise exc
    return broken


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_bad_input_cli(case, templates, tmp_path, monkeypatch, capsys):
    root = tmp_path / "w"
    shutil.copytree(templates / "city", root / "city")
    shutil.copytree(templates / "plan", root / "plan")
    w = SimpleNamespace(root=root, city=root / "city", out=tmp_path / "runs" / "out", monkeypatch=monkeypatch,
                        inputs=[root / "city"])
    w.out.parent.mkdir()
    argv = [str(a) for a in case.setup(w)]
    inputs_before = {str(p): digest(p) for p in w.inputs}
    out_before = digest(w.out)
    out_existed = w.out.exists()
    capsys.readouterr()
    try:
        code = main(["-q", *argv])
    except SystemExit as exc:  # SIGTERM: the writer cleans up, then the process exits 143
        code = exc.code
    err = capsys.readouterr().err
    assert code == case.code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    if case.words:
        assert len(lines) == 1, err
        for word in case.words:
            assert word in lines[0], (word, lines[0])
    for path, before in inputs_before.items():
        assert digest(Path(path)) == before, f"input {path} changed"
    assert w.out.exists() == out_existed
    assert digest(w.out) == out_before
    assert not list(tmp_path.rglob(".hotspots-*")), "temporary files left"


# --- API rows: keys the scenario file cannot carry until the scenario fields land --------------


def source(path: Path, **keys):
    base = dict(path=path, layer=None, crs=None, lon_column=None, lat_column=None, encoding=None, sheet=None,
                header_row=None)
    return SimpleNamespace(**{**base, **keys})


def api_read(setup, **keys):
    def run(tmp: Path):
        from coverage.layers import read_points

        path = setup(tmp)
        before = digest(tmp)
        try:
            read_points(source(path, **keys), "schools")
        finally:
            assert digest(tmp) == before
    return run


def gbk_file(tmp: Path) -> Path:
    path = tmp / "学校.csv"
    path.write_bytes("site_id,name,lon,lat\nA,北京路小学,114.06,22.55\n".encode("gbk"))
    return path


def title_sheet(tmp: Path) -> Path:
    path = tmp / "sites.xlsx"
    frame = pd.DataFrame([["深圳市学校名录", "", "", ""], ["site_id", "name", "lon", "lat"],
                          ["A", "x", "114.06", "east"]])
    frame.to_excel(path, index=False, header=False, sheet_name="名录")
    return path


def evaluate_with(**kwargs):
    def run(tmp: Path):
        from coverage import load_scenario, plan

        result = plan(load_scenario(write_toy_city(tmp / "c")))
        before = digest(tmp)
        try:
            result.evaluate(**kwargs)
        finally:
            assert digest(tmp) == before
    return run


@dataclass
class ApiCase:
    id: str
    run: Callable
    words: tuple[str, ...] = field(default_factory=tuple)


API_CASES = [
    ApiCase("declared-utf8-on-gbk", api_read(gbk_file, encoding="utf-8"),
            ("学校.csv", "line 2", "not valid utf-8", "encoding =")),
    ApiCase("unknown-encoding", api_read(gbk_file, encoding="klingon"), ("学校.csv", "'klingon'", "gbk")),
    ApiCase("header-row-zero", api_read(gbk_file, header_row=0), ("学校.csv", "header_row", "≥ 1")),
    ApiCase("header-row-past-end", api_read(gbk_file, header_row=9), ("学校.csv", "header_row = 9", "2 line")),
    ApiCase("title-row-bad-value", api_read(title_sheet, header_row=2), ("sites.xlsx", "row 3", "'east'")),
    ApiCase("sheet-number-out-of-range", api_read(title_sheet, sheet=3, header_row=2),
            ("sites.xlsx", "no sheet 3", "名录")),
    ApiCase("evaluate-bad-crs", evaluate_with(add=[(114.06, 22.55, "school")], crs="EPSG:99999"),
            ("EPSG:99999", "not a coordinate system")),
    ApiCase("evaluate-lat-95-gcj02", evaluate_with(add=[(114.06, 95, "school")], crs="gcj02"),
            ("(114.06, 95", "not a longitude/latitude")),
]


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_bad_input_api(case, tmp_path):
    with pytest.raises(InputError) as error:
        case.run(tmp_path)  # each run also checks that its inputs are byte-identical afterwards
    message = str(error.value)
    assert "\n" not in message
    for word in case.words:
        assert word in message, (word, message)


def test_table_size():
    assert len(CLI_CASES) + len(API_CASES) >= 50
