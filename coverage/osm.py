"""Import real candidate sites from OpenStreetMap into a ready-to-plan folder.

:func:`import_osm` turns a place name ("Shenzhen, China") or a boundary file into a
folder holding the study area, three site layers (schools, libraries, transport hubs),
the footprints of the sites mapped as areas, and a ``scenario.toml`` that plans them::

    boundary.geojson                  the study area (OSM admin boundary, or your file)
    schools.geojson                   points: amenity=school/kindergarten/college/university
    libraries.geojson                 points: amenity=library
    transport_hubs.geojson            points: railway=station/halt, public_transport=station,
                                      amenity=bus_station/ferry_terminal, aeroway=terminal
    <layer>_footprints.geojson        polygons of the sites mapped as areas (for the map)
    scenario.toml

Everything is GeoJSON in WGS84 (EPSG:4326); OSM data is WGS84 already, so no Chinese
coordinate conversion is involved. Every row carries ``source = "OpenStreetMap"`` and the
ODbL attribution, which anyone publishing a map of it must show.

All network access goes through one function, ``fetch(query) -> dict``, from
:mod:`coverage.overpass` (the client, the queries and the parsing of answers): the
place-name lookup, the boundary geometry and the features alike. Tests pass a function
that answers from recorded files, so the parsing path is the same as for a live answer.
With ``cache_dir`` every answer is kept under the hash of its query and reused.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError
from .overpass import (
    CATEGORY_TAGS,
    Fetch,
    Progress,
    boundary_candidates_query,
    boundary_geometry_query,
    cached_fetch,
    checked,
    clean_text,
    features_query,
    overpass_fetch,
    parse_features,
    relation_area,
    report,
)
from .planfolder import check_output_folder, replacing_folder
from .scenario import Category, LayerSource, Scenario, SiteLayer, scenario_to_dict

log = logging.getLogger(__name__)

SOURCE = "OpenStreetMap"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
HEADER = "# Written by `hotspots import-osm`"
WGS84 = "EPSG:4326"

LAYER_NAMES = {"school": "schools", "library": "libraries", "transport_hub": "transport_hubs"}
#: Every file an import writes: a folder holding only these (and scenario.toml) is a previous import.
FOLDER_NAMES = frozenset({"boundary.geojson", "scenario.toml"}
                         | {f"{n}{suffix}.geojson" for n in LAYER_NAMES.values() for suffix in ("", "_footprints")})

# Same settings as the bundled Shenzhen scenario (outdoor 2.4 GHz, 20 dBm EIRP, -67 dBm
# design target): radius in metres, cost in relative units (1.0 = one access point on a
# public building with power and fibre).
CATEGORIES = {
    "school": Category("school", radius_m=100, cost=1.0, label="School"),
    "library": Category("library", radius_m=120, cost=1.0, label="Library"),
    "transport_hub": Category("transport_hub", radius_m=250, cost=4.0, label="Transport hub"),
}

SITE_COLUMNS = ["site_id", "osm_type", "osm_id", "name", "name_en", "category", "osm_tag", "source", "attribution"]
FOOTPRINT_COLUMNS = ["site_id", "osm_type", "osm_id", "name", "category", "source", "attribution"]
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".kml", ".gml")
_TYPE_ORDER = {"node": 0, "way": 1, "relation": 2}


# --- the public entry point ------------------------------------------------------------


def import_osm(
    place: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    boundary: str | os.PathLike | None = None,
    population: str | os.PathLike | None = None,
    population_column: str = "population",
    fetch: Fetch | None = None,
    cache_dir: str | os.PathLike | None = None,
    timeout_s: int = 180,
    progress: Progress | None = None,
) -> Path:
    """Write a ready-to-plan folder for ``place`` into ``out_dir``; return the scenario file's path.

    ``place`` is an administrative area's name, optionally followed by the area it lies
    in ("Shenzhen, China", "福田区, 深圳市"), or the path of a boundary file. ``boundary``
    (a polygon layer in any CRS the layer reader accepts) replaces the OSM boundary; then
    ``place`` only names the scenario. ``population`` (a layer with ``population_column``)
    makes the scenario plan for people; without it the target is a share of the area.
    ``fetch`` sends one Overpass QL query and returns the JSON answer (default: the public
    Overpass API, :func:`overpass_fetch`); ``cache_dir`` keeps answers by query hash;
    ``timeout_s`` is the server-side query limit in seconds. ``progress`` receives each
    progress message (they are also logged at INFO). All files are EPSG:4326 GeoJSON,
    written to a temporary folder and moved into place only when all succeeded.
    """
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    place_text = str(place)
    if boundary is None and _looks_like_file(place):
        boundary = place
        place_text = Path(place).stem
    inputs = [p for p in (boundary, population, cache_dir) if p is not None]
    check_output_folder(out_dir, inputs, names=FOLDER_NAMES, products=("scenario.toml",))
    if population is not None and not Path(population).exists():
        raise InputError(f"population layer {population} does not exist")
    timeout_s = _check_timeout(timeout_s)
    fetch = checked(fetch or overpass_fetch(timeout_s))
    if cache_dir is not None:
        fetch = cached_fetch(fetch, cache_dir, progress)

    if boundary is not None:
        report(progress, f"Reading the study area from {boundary}")
        area = boundary_from_file(boundary, place_text)
    else:
        report(progress, f"Looking up the boundary of {place_text!r} in OpenStreetMap (Overpass) …")
        area = find_boundary(place_text, fetch, timeout_s, progress)
    report(progress, f"Fetching schools, libraries and transport hubs (Overpass, up to {timeout_s} s) …")
    answer = fetch(features_query(area.total_bounds, timeout_s))
    features = parse_features(answer)
    sites, footprints = site_layers(features, area.union_all(), progress)
    if len(sites) == 0:
        raise InputError(
            f"OpenStreetMap has no schools, libraries or transport hubs inside the study area of {place_text!r}; "
            "check the boundary (or pass --boundary FILE)"
        )
    report(progress, f"Writing {out_dir}")
    scenario_path = write_folder(out_dir, place_text, area, sites, footprints, answer, population, population_column,
                                 inputs=inputs)
    report(progress, f"  done: {scenario_path}")
    return scenario_path


# --- boundary --------------------------------------------------------------------------


def find_boundary(place: str, fetch: Fetch, timeout_s: int = 180, progress: Progress | None = None) -> gpd.GeoDataFrame:
    """The administrative boundary named ``place`` as a one-row GeoDataFrame in EPSG:4326.

    Among several matches the largest unit (lowest ``admin_level``) wins, then the lowest
    relation id; the others are logged so the user can be more specific.
    """
    answer = fetch(boundary_candidates_query(place, timeout_s))
    candidates = [e for e in answer["elements"] if e.get("type") == "relation"]
    if not candidates:
        raise InputError(
            f"OpenStreetMap has no administrative boundary named {place!r}; check the spelling, try the "
            "local name (e.g. \"深圳市\") or \"Name, Country\", or pass --boundary FILE"
        )
    candidates.sort(key=lambda e: (_admin_level(e), e["id"]))
    chosen = candidates[0]
    tags = chosen.get("tags", {})
    report(progress, f"  found relation {chosen['id']}: {_describe(tags)} (admin_level {tags.get('admin_level', '?')})")
    if len(candidates) > 1:
        others = "; ".join(f"{e['id']} {_describe(e.get('tags', {}))}" for e in candidates[1:6])
        log.warning("%d other boundaries match %r (%s); to pick another, add the area it lies in "
                    "(\"Name, Province\") or pass --boundary FILE", len(candidates) - 1, place, others)
    answer = fetch(boundary_geometry_query(chosen["id"], timeout_s))
    relation = next((e for e in answer["elements"]
                     if e.get("type") == "relation" and e.get("id") == chosen["id"]), None)
    outline = relation_area(relation.get("members", [])) if relation else None
    if outline is None or outline.is_empty:
        raise InputError(
            f"the OpenStreetMap boundary relation {chosen['id']} of {place!r} has no closed outline; "
            "pass --boundary FILE with the study area"
        )
    return gpd.GeoDataFrame(
        {"name": [clean_text(tags.get("name")) or place], "name_en": [clean_text(tags.get("name:en")) or None],
         "osm_type": ["relation"], "osm_id": [int(chosen["id"])], "admin_level": [tags.get("admin_level")],
         "source": [SOURCE], "attribution": [ATTRIBUTION]},
        geometry=[outline], crs=WGS84,
    )


def boundary_from_file(path: str | os.PathLike, name: str) -> gpd.GeoDataFrame:
    """A polygon layer (any supported format and CRS) dissolved into one study-area row in EPSG:4326."""
    from .layers import read_polygons

    polygons = read_polygons(LayerSource(Path(path)), "boundary")
    return gpd.GeoDataFrame(
        {"name": [name], "source": [str(Path(path).name)]}, geometry=[polygons.union_all()], crs=WGS84,
    )


def _admin_level(element: dict) -> int:
    try:
        return int(element.get("tags", {}).get("admin_level", 99))
    except (TypeError, ValueError):
        return 99


def _describe(tags: dict) -> str:
    names = [clean_text(tags.get("name")), clean_text(tags.get("name:en"))]
    return " / ".join(dict.fromkeys(n for n in names if n)) or "(unnamed)"


# --- site layers -----------------------------------------------------------------------


def site_layers(features: gpd.GeoDataFrame, area: shapely.Geometry,
                progress: Progress | None = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Candidate-site points inside ``area`` and the footprints of those mapped as areas.

    A polygon becomes ``shapely.point_on_surface`` of its (repaired) footprint, a point
    always inside it; a line its ``point_on_surface`` too. Sites whose point lies outside
    the study area are dropped (the planner would drop them). Both tables are EPSG:4326,
    sorted by category, element type and id; ``site_id`` is "osm-<type>-<id>".
    """
    geoms = shapely.make_valid(np.asarray(features.geometry.array))
    points = shapely.point_on_surface(geoms)
    shapely.prepare(area)
    inside = shapely.intersects(area, points)
    if (~inside).any():
        log.info("  %d feature(s) outside the study area left out", int((~inside).sum()))
    table = pd.DataFrame(features.drop(columns=features.geometry.name)).assign(
        site_id=lambda t: "osm-" + t["osm_type"] + "-" + t["osm_id"].astype(str),
        source=SOURCE, attribution=ATTRIBUTION,
    )
    table["name"] = [name or f"(unnamed {tag.split('=')[1].replace('_', ' ')})"
                     for name, tag in zip(table["name"], table["osm_tag"])]
    table["_order"] = table["osm_type"].map(_TYPE_ORDER)
    table = table.assign(_point=points, _footprint=geoms)[inside]
    table = table.sort_values(["category", "_order", "osm_id"], kind="stable").reset_index(drop=True)
    sites = gpd.GeoDataFrame(table[SITE_COLUMNS], geometry=list(table["_point"]), crs=WGS84)
    footprint_types = shapely.get_type_id(np.asarray(table["_footprint"], dtype=object))
    is_area = np.isin(footprint_types, (3, 6))  # Polygon, MultiPolygon
    footprints = gpd.GeoDataFrame(table.loc[is_area, FOOTPRINT_COLUMNS].reset_index(drop=True),
                                  geometry=list(table.loc[is_area, "_footprint"]), crs=WGS84)
    counts = sites["category"].value_counts()
    report(progress, "  " + ", ".join(f"{counts.get(c, 0)} {LAYER_NAMES[c].replace('_', ' ')}" for c in CATEGORY_TAGS)
            + f" ({len(footprints)} mapped as areas)")
    return sites, footprints


# --- writing the folder ----------------------------------------------------------------


def write_folder(out_dir: Path, place: str, area: gpd.GeoDataFrame, sites: gpd.GeoDataFrame,
                 footprints: gpd.GeoDataFrame, answer: dict, population=None,
                 population_column: str = "population", inputs=()) -> Path:
    """Write the layers and scenario.toml as the folder ``out_dir``, whole and atomically
    (:func:`coverage.planfolder.replacing_folder`: a previous import is replaced, a folder
    holding other files or one of ``inputs`` is refused); return the scenario path."""
    out_dir = Path(out_dir)
    final = out_dir.resolve()
    files: dict[str, gpd.GeoDataFrame] = {"boundary.geojson": area}
    layers = []
    for category in CATEGORY_TAGS:
        rows = sites[sites["category"] == category].reset_index(drop=True)
        if len(rows) == 0:
            continue  # an empty layer cannot be planned; leave it out of the scenario
        name = LAYER_NAMES[category]
        files[f"{name}.geojson"] = rows
        layers.append((category, final / f"{name}.geojson"))
        shapes = footprints[footprints["category"] == category].reset_index(drop=True)
        if len(shapes):
            files[f"{name}_footprints.geojson"] = shapes
    scenario = _scenario(place, final, layers, population, population_column)
    text = _scenario_text(scenario, final, answer)
    with replacing_folder(out_dir, inputs, names=FOLDER_NAMES, products=("scenario.toml",)) as tmp:
        for filename, gdf in files.items():
            gdf.to_file(tmp / filename, driver="GeoJSON", engine="pyogrio")
        (tmp / "scenario.toml").write_text(text, encoding="utf-8")
    return out_dir / "scenario.toml"


def _scenario(place: str, folder: Path, layers, population, population_column: str) -> Scenario:
    used = [category for category, _ in layers]
    return Scenario(
        name=place,
        target=0.99,
        metric="population" if population is not None else "area",
        cell_size_m=100.0,
        study_area=LayerSource(folder / "boundary.geojson"),
        population=LayerSource(Path(population).resolve()) if population is not None else None,
        population_column=population_column,
        categories={c: CATEGORIES[c] for c in used},
        sites=tuple(SiteLayer(LayerSource(path), category=category, id_column="site_id", name_column="name")
                    for category, path in layers),
    )


def _scenario_text(scenario: Scenario, folder: Path, answer: dict) -> str:
    import tomli_w

    stamp = (answer.get("osm3s") or {}).get("timestamp_osm_base", "unknown")
    metric_note = (
        "# metric = \"population\": the target is a share of the people in the population layer."
        if scenario.metric == "population" else
        "# metric = \"area\": no population layer was supplied, so the target is a share of the\n"
        "# study area's surface. Add [population] (path, column) and set metric = \"population\"\n"
        "# to plan for people instead (e.g. a WorldPop raster converted to points or polygons)."
    )
    header = "\n".join([
        f"{HEADER} from OpenStreetMap data of {stamp}.",
        f"# {ATTRIBUTION}: credit OpenStreetMap on any map or report made from these layers.",
        "# Site layers: schools (amenity=school/kindergarten/college/university), libraries",
        "# (amenity=library), transport_hubs (railway=station/halt, public_transport=station,",
        "# amenity=bus_station/ferry_terminal, aeroway=terminal); *_footprints.geojson hold the",
        "# outlines of sites mapped as areas. All layers are WGS84 (EPSG:4326).",
        metric_note,
        "# Radii: outdoor 2.4 GHz, 20 dBm EIRP, -67 dBm design target (as the bundled Shenzhen",
        "# scenario); costs in relative units (1.0 = one access point on a public building).",
    ])
    return header + "\n" + tomli_w.dumps(scenario_to_dict(scenario, relative_to=folder))


def _check_out_dir(out_dir: Path) -> None:
    scenario = out_dir / "scenario.toml"
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"output folder {out_dir} is a file; choose a folder for --out")
    if scenario.exists() and not scenario.read_text(encoding="utf-8", errors="replace").startswith(HEADER):
        raise InputError(
            f"{out_dir} already holds a scenario.toml not written by import-osm; choose another --out folder"
        )


def _check_timeout(timeout_s) -> int:
    try:
        value = int(timeout_s)
    except (TypeError, ValueError):
        value = 0
    if value < 1 or value != timeout_s:
        raise InputError(f"timeout must be a whole number of seconds ≥ 1; got {timeout_s!r}")
    return value


def _looks_like_file(place) -> bool:
    path = Path(place)
    return path.suffix.lower() in VECTOR_SUFFIXES and path.exists()
