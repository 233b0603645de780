"""OpenStreetMap import, offline: recorded Overpass answers go through the live parsing path.

tests/fixtures/osm/ holds three Overpass JSON answers for a small made-up area on the
Shekou waterfront (Shenzhen): the boundary candidates (``out tags``), the chosen
boundary relation (``out geom``: three outer ways, one reversed, and an inner enclave)
and the features (``out geom``: nodes, closed and open ways, a multipolygon relation,
a way known only by its ``center``, a self-intersecting outline, hostile and missing
names, a pier head in the sea and a school in the enclave). No test touches the network.
"""

from __future__ import annotations

import json
import logging
import socket
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import coverage
from coverage.errors import InputError
from coverage.osm import ATTRIBUTION, SITE_COLUMNS, import_osm
from coverage.overpass import (
    boundary_candidates_query,
    cached_fetch,
    features_query,
    overpass_fetch,
    parse_features,
    query_hash,
)

FIXTURES = Path(__file__).parent / "fixtures" / "osm"
PLACE = "Zhaoshang, Shenzhen"


class RecordedOverpass:
    """A ``fetch`` answering from the recorded files by the kind of query; counts calls."""

    def __init__(self, features: dict | None = None):
        self.queries: list[str] = []
        self.features = features

    def __call__(self, query: str) -> dict:
        self.queries.append(query)
        if query.rstrip().endswith("out tags;"):
            return load("boundary_candidates.json")
        if "relation(id:" in query:
            return load("boundary.json")
        if "nwr[" in query:
            return self.features if self.features is not None else load("features.json")
        raise AssertionError(f"unexpected query: {query}")


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> tuple[Path, RecordedOverpass]:
    fetch = RecordedOverpass()
    scenario = import_osm(PLACE, tmp_path_factory.mktemp("osm") / "zhaoshang", fetch=fetch)
    return scenario, fetch


def read(folder: Path, name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(folder / name)


# --- the written folder ----------------------------------------------------------------


def test_folder_plans(imported):
    """The real integration check: the folder is a scenario the planner runs as is."""
    scenario_path, _ = imported
    result = coverage.plan(coverage.load_scenario(scenario_path))
    summary = result.summary()
    assert summary["metric"] == "area"
    assert summary["n_candidates"] == 15
    assert 0 < summary["coverage_area"] <= 1
    assert set(summary["categories"]) == {"school", "library", "transport_hub"}


def test_files_and_scenario(imported):
    scenario_path, _ = imported
    folder = scenario_path.parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "boundary.geojson", "libraries.geojson", "libraries_footprints.geojson", "scenario.toml",
        "schools.geojson", "schools_footprints.geojson", "transport_hubs.geojson",
        "transport_hubs_footprints.geojson",
    ]
    text = scenario_path.read_text(encoding="utf-8")
    assert 'metric = "area"' in text and "no population layer was supplied" in text
    assert ATTRIBUTION in text and "2026-11-20T08:12:34Z" in text
    data = tomllib.loads(text)
    assert [s["path"] for s in data["sites"]] == ["schools.geojson", "libraries.geojson", "transport_hubs.geojson"]
    assert all(s["id_column"] == "site_id" and s["name_column"] == "name" for s in data["sites"])
    assert data["categories"]["transport_hub"]["radius_m"] > data["categories"]["school"]["radius_m"]


def test_site_columns_ids_and_attribution(imported):
    folder = imported[0].parent
    for name, category in [("schools", "school"), ("libraries", "library"), ("transport_hubs", "transport_hub")]:
        sites = read(folder, f"{name}.geojson")
        assert sites.crs.to_epsg() == 4326
        assert list(sites.columns) == SITE_COLUMNS + ["geometry"]
        assert (sites["category"] == category).all()
        assert (sites["source"] == "OpenStreetMap").all()
        assert (sites["attribution"] == "© OpenStreetMap contributors, ODbL 1.0").all()
        assert (sites["site_id"] == "osm-" + sites["osm_type"] + "-" + sites["osm_id"].astype(str)).all()
        assert (sites.geom_type == "Point").all()
    schools = read(folder, "schools.geojson").set_index("site_id")
    assert schools.loc["osm-node-1001", "name"] == "育才第一小学"
    assert schools.loc["osm-node-1001", "name_en"] == "Yucai No. 1 Primary School"
    assert schools.loc["osm-way-2001", "osm_tag"] == "amenity=school"
    assert schools.loc["osm-relation-3001", "osm_tag"] == "amenity=university"
    assert schools.loc["osm-way-2005", "osm_tag"] == "amenity=college"


def test_names_missing_odd_and_hostile(imported):
    folder = imported[0].parent
    schools = read(folder, "schools.geojson").set_index("site_id")
    libraries = read(folder, "libraries.geojson").set_index("site_id")
    hubs = read(folder, "transport_hubs.geojson").set_index("site_id")
    assert schools.loc["osm-node-1002", "name"] == "(unnamed kindergarten)"
    assert hubs.loc["osm-node-1006", "name"] == "(unnamed bus station)"
    assert pd.isna(hubs.loc["osm-node-1006", "name_en"])  # tagged name:en="" counts as missing
    assert libraries.loc["osm-way-2002", "name"] == "招商图书馆"  # only name:zh tagged
    assert schools.loc["osm-node-1009", "name"] == "Bad Name🏫"  # NUL, BEL, zero-width space removed
    hostile = libraries.loc["osm-node-1003", "name"]
    assert hostile == 'Library "Quotes" <b>bold</b> line two tab & semi; DROP TABLE sites;--'  # kept as text
    assert libraries.loc["osm-node-1003", "name_en"] == "Shekou Library"


def test_polygons_become_points_inside_and_keep_footprints(imported):
    folder = imported[0].parent
    schools = read(folder, "schools.geojson").set_index("site_id")
    footprints = read(folder, "schools_footprints.geojson").set_index("site_id")
    assert set(footprints.index) == {"osm-way-2001", "osm-way-2006", "osm-relation-3001"}
    for site_id, outline in footprints.geometry.items():
        assert outline.geom_type in ("Polygon", "MultiPolygon") and outline.is_valid
        assert outline.intersects(schools.loc[site_id, "geometry"])
    university = footprints.loc["osm-relation-3001", "geometry"]
    assert len(university.interiors) == 1  # the courtyard (inner member) is a hole
    courtyard = shapely.box(113.907, 22.4835, 113.909, 22.4855)
    assert not courtyard.contains(schools.loc["osm-relation-3001", "geometry"])
    # an open way (a broken outline) and a centre-only way get a point but no footprint
    assert "osm-way-2004" in schools.index and "osm-way-2004" not in footprints.index
    assert schools.loc["osm-way-2005", "geometry"].equals(shapely.Point(113.91, 22.495))


def test_boundary_assembled_from_relation_members(imported):
    folder = imported[0].parent
    boundary = read(folder, "boundary.geojson")
    assert len(boundary) == 1
    row = boundary.iloc[0]
    assert (row["osm_type"], row["osm_id"], row["name"], row["name_en"]) == ("relation", 5000001, "招商街道", "Zhaoshang")
    outline = row.geometry
    assert outline.is_valid and outline.geom_type == "Polygon"
    assert len(outline.interiors) == 1  # the enclave
    ring = shapely.Polygon([(113.900, 22.480), (113.912, 22.470), (113.930, 22.468), (113.936, 22.480),
                            (113.934, 22.495), (113.918, 22.500), (113.902, 22.494)])
    assert outline.area == pytest.approx(ring.area - 0.004 * 0.004)


def test_features_outside_the_study_area_are_left_out(imported):
    folder = imported[0].parent
    ids = set()
    for name in ("schools", "libraries", "transport_hubs"):
        ids |= set(read(folder, f"{name}.geojson")["site_id"])
    assert "osm-node-1007" not in ids  # pier head in the sea
    assert "osm-node-1008" not in ids  # school in the enclave
    assert "osm-node-1010" not in ids  # a restaurant: no category
    assert len(ids) == 15


def test_queries_name_the_place(imported):
    _, fetch = imported
    candidates, geometry, features = fetch.queries
    assert '"^Zhaoshang$",i]' in candidates and '"^Shenzhen$",i]->.within' in candidates
    assert "relation(id:5000001)" in geometry
    assert "(22.46800,113.90000,22.50000,113.93600)" in features
    for tag in ("kindergarten", "library", "ferry_terminal", "halt", "public_transport", "aeroway"):
        assert tag in features


def test_same_answer_same_bytes(imported, tmp_path):
    first = imported[0].parent
    again = import_osm(PLACE, tmp_path / "again", fetch=RecordedOverpass()).parent
    for path in first.iterdir():
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


# --- parsing details -------------------------------------------------------------------


def test_parse_features_skips_elements_without_category_or_geometry():
    answer = {"elements": [
        {"type": "node", "id": 1, "lat": 22.5, "lon": 114.0, "tags": {"amenity": "cafe"}},
        {"type": "node", "id": 2, "tags": {"amenity": "school"}},  # no coordinates
        {"type": "way", "id": 3, "geometry": [None, {"lat": 22.5, "lon": 114.0}], "tags": {"amenity": "school"}},
    ]}
    features = parse_features(answer)
    assert list(features["osm_id"]) == [3]
    assert features.geometry.iloc[0].equals(shapely.Point(114.0, 22.5))


def test_place_name_is_escaped_for_overpass():
    query = boundary_candidates_query('Shen"zhen (new) .*')
    assert r'"^Shen\"zhen \\(new\\) \\.\\*$",i]' in query


def test_features_query_box_is_widened_to_whole_metres():
    query = features_query((113.9000049, 22.4680001, 113.9360001, 22.4999999))
    assert "(22.46800,113.90000,22.50000,113.93601)" in query


# --- place and boundary variants -------------------------------------------------------


def test_choose_the_largest_unit_among_same_named_boundaries(imported):
    _, fetch = imported
    assert "relation(id:5000001)" in fetch.queries[1]  # admin_level 8 beats the level-9 community


def test_unknown_place_is_a_clear_error(tmp_path):
    def nothing(query):
        return {"elements": []}

    with pytest.raises(InputError, match="no administrative boundary named 'Atlantis'.*--boundary FILE"):
        import_osm("Atlantis", tmp_path / "out", fetch=nothing)
    assert not (tmp_path / "out" / "scenario.toml").exists()


def test_boundary_file_replaces_the_osm_boundary(tmp_path):
    area = shapely.box(113.905, 22.475, 113.925, 22.495)
    path = tmp_path / "my_area.gpkg"
    gpd.GeoDataFrame({"name": ["mine"]}, geometry=[area], crs="EPSG:4326").to_crs("EPSG:32649").to_file(path)
    fetch = RecordedOverpass()
    scenario = import_osm("My area", tmp_path / "out", boundary=path, fetch=fetch)
    assert len(fetch.queries) == 1 and "nwr[" in fetch.queries[0]
    sites = gpd.read_file(scenario.parent / "schools.geojson")
    assert shapely.intersects(area.buffer(1e-9), sites.geometry.array).all()
    assert coverage.load_scenario(scenario).name == "My area"
    # a boundary file given as the place itself
    again = import_osm(str(path), tmp_path / "again", fetch=RecordedOverpass())
    assert coverage.load_scenario(again).name == "my_area"


def test_population_layer_makes_a_population_scenario(tmp_path):
    pop = tmp_path / "pop.geojson"
    gpd.GeoDataFrame({"people": [100, 200]}, geometry=[shapely.Point(113.915, 22.485), shapely.Point(113.92, 22.49)],
                     crs="EPSG:4326").to_file(pop)
    scenario_path = import_osm(PLACE, tmp_path / "out", population=pop, population_column="people",
                               fetch=RecordedOverpass())
    scenario = coverage.load_scenario(scenario_path)
    assert scenario.metric == "population" and scenario.population.path == pop.resolve()
    assert scenario.population_column == "people"
    assert coverage.plan(scenario).summary()["total_population"] == 300


def test_empty_categories_are_left_out_of_the_scenario(tmp_path):
    features = load("features.json")
    features["elements"] = [e for e in features["elements"] if (e.get("tags") or {}).get("amenity") != "library"]
    scenario_path = import_osm(PLACE, tmp_path / "out", fetch=RecordedOverpass(features))
    scenario = coverage.load_scenario(scenario_path)
    assert set(scenario.categories) == {"school", "transport_hub"}
    assert not (tmp_path / "out" / "libraries.geojson").exists()
    coverage.plan(scenario)


def test_no_sites_at_all_is_a_clear_error(tmp_path):
    features = load("features.json") | {"elements": []}
    with pytest.raises(InputError, match="no schools, libraries or transport hubs"):
        import_osm(PLACE, tmp_path / "out", fetch=RecordedOverpass(features))


def test_refuses_to_overwrite_a_foreign_scenario(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "scenario.toml").write_text('name = "hand made"\n', encoding="utf-8")
    with pytest.raises(InputError, match="not written by import-osm"):
        import_osm(PLACE, out, fetch=RecordedOverpass())
    assert (out / "scenario.toml").read_text(encoding="utf-8") == 'name = "hand made"\n'


def test_reimport_overwrites_its_own_folder(tmp_path):
    out = tmp_path / "out"
    import_osm(PLACE, out, fetch=RecordedOverpass())
    import_osm(PLACE, out, fetch=RecordedOverpass())
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary leftovers


# --- network failures, server errors, caching, progress ---------------------------------


def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_offline_is_a_clear_error(tmp_path, monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOTSPOTS_OVERPASS_URL", f"http://127.0.0.1:{closed_port()}/api/interpreter")
    with pytest.raises(InputError) as info:
        import_osm(PLACE, tmp_path / "out", timeout_s=5)
    message = str(info.value)
    assert message.startswith("cannot reach the Overpass API (http://127.0.0.1:")
    assert message.endswith("check the connection or pass --cache-dir with a cached answer")
    assert not (tmp_path / "out" / "scenario.toml").exists()


def test_silent_server_times_out_with_a_clear_error(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as server:  # accepts connections (backlog) but never answers
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        fetch = overpass_fetch(timeout_s=1, url=f"http://127.0.0.1:{server.getsockname()[1]}/", grace_s=0)
        with pytest.raises(InputError, match="did not answer within 1 s"):
            fetch("[out:json][timeout:1];node(1);out;")


def test_server_side_error_is_reported_and_not_cached(tmp_path):
    def overloaded(query):
        return {"elements": [], "remark": "runtime error: Query timed out in \"query\" at line 3 after 181 seconds."}

    with pytest.raises(InputError, match="stopped the query: runtime error: Query timed out.*larger --timeout"):
        import_osm(PLACE, tmp_path / "out", fetch=overloaded, cache_dir=tmp_path / "cache")
    assert not list(tmp_path.glob("cache/*.json"))


def test_second_import_with_cache_does_not_fetch(tmp_path):
    cache = tmp_path / "cache"
    first = RecordedOverpass()
    import_osm(PLACE, tmp_path / "one", fetch=first, cache_dir=cache)
    assert len(first.queries) == 3
    assert len(list(cache.glob("overpass-*.json"))) == 3

    def offline(query):
        raise AssertionError("fetch called despite a cached answer")

    scenario = import_osm(PLACE, tmp_path / "two", fetch=offline, cache_dir=cache, timeout_s=600)
    assert (tmp_path / "two" / "schools.geojson").read_bytes() == (tmp_path / "one" / "schools.geojson").read_bytes()
    coverage.plan(coverage.load_scenario(scenario))


def test_cache_key_ignores_the_timeout_but_not_the_query():
    assert query_hash("[out:json][timeout:180];\nrelation(id:1);\nout geom;") == \
        query_hash("[out:json][timeout:25];\nrelation(id:1);\nout geom;")
    assert query_hash("[out:json][timeout:180];\nrelation(id:1);\nout geom;") != \
        query_hash("[out:json][timeout:180];\nrelation(id:2);\nout geom;")


def test_unreadable_cache_file_is_refetched(tmp_path):
    calls = []

    def fetch(query):
        calls.append(query)
        return {"elements": [{"type": "node", "id": 1}]}

    query = "[out:json][timeout:5];node(1);out;"
    (tmp_path / f"overpass-{query_hash(query)}.json").write_text("{not json", encoding="utf-8")
    assert cached_fetch(fetch, tmp_path)(query) == {"elements": [{"type": "node", "id": 1}]}
    assert len(calls) == 1
    assert cached_fetch(fetch, tmp_path)(query) == {"elements": [{"type": "node", "id": 1}]}
    assert len(calls) == 1


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_progress_is_reported_and_logged(tmp_path):
    messages = []
    handler = Collect()
    logger = logging.getLogger("coverage")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        import_osm(PLACE, tmp_path / "out", fetch=RecordedOverpass(), progress=messages.append)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert any("found relation 5000001" in m for m in messages)
    assert any("8 schools, 2 libraries, 5 transport hubs" in m for m in messages)
    info = [r.getMessage() for r in handler.records if r.levelno == logging.INFO]
    assert all(m in info for m in messages)  # every progress message is also logged
    warnings = [r.getMessage() for r in handler.records if r.levelno == logging.WARNING]
    assert any("1 other boundaries match 'Zhaoshang, Shenzhen' (4000001 招商社区 / Zhaoshang)" in w for w in warnings)


@pytest.mark.parametrize("timeout", [0, -5, 2.5, "soon"])
def test_bad_timeout_is_refused(tmp_path, timeout):
    with pytest.raises(InputError, match="timeout must be a whole number"):
        import_osm(PLACE, tmp_path / "out", fetch=RecordedOverpass(), timeout_s=timeout)


def test_points_are_deterministically_ordered(imported):
    folder = imported[0].parent
    schools = read(folder, "schools.geojson")
    order = schools["osm_type"].map({"node": 0, "way": 1, "relation": 2}).to_numpy() * 10**12 + schools["osm_id"].to_numpy()
    assert np.all(np.diff(order) > 0)
