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

All network access goes through one function, ``fetch(query) -> dict``, that sends an
Overpass QL query and returns the decoded JSON answer: the place-name lookup, the
boundary geometry and the features alike. The default, :func:`overpass_fetch`, is a thin
standard-library client; tests pass a function that answers from recorded files, so the
parsing path is the same as for a live answer. With ``cache_dir`` every answer is kept
under the hash of its query and reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError
from .planfolder import check_output_folder, replacing_folder, write_text
from .scenario import Category, LayerSource, Scenario, SiteLayer, scenario_to_dict

log = logging.getLogger(__name__)

Fetch = Callable[[str], dict]
Progress = Callable[[str], None]

OVERPASS_URL = "https://overpass-api.de/api/interpreter"
"""Default Overpass endpoint; override with the environment variable ``HOTSPOTS_OVERPASS_URL``
(e.g. a mirror such as https://overpass.kumi.systems/api/interpreter)."""

USER_AGENT = "hotspot-coverage/0.1 (public Wi-Fi planning; OpenStreetMap import)"
SOURCE = "OpenStreetMap"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"
HEADER = "# Written by `hotspots import-osm`"
WGS84 = "EPSG:4326"

# category → the OSM tags (key, values) that make a feature one of them, in priority order
CATEGORY_TAGS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "school": (("amenity", ("school", "kindergarten", "college", "university")),),
    "library": (("amenity", ("library",)),),
    "transport_hub": (
        ("railway", ("station", "halt")),
        ("public_transport", ("station",)),
        ("amenity", ("bus_station", "ferry_terminal")),
        ("aeroway", ("terminal",)),
    ),
}
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
_AREA_RELATION_TYPES = ("multipolygon", "boundary")


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
    fetch = _checked(fetch or overpass_fetch(timeout_s))
    if cache_dir is not None:
        fetch = cached_fetch(fetch, cache_dir, progress)

    if boundary is not None:
        _report(progress, f"Reading the study area from {boundary}")
        area = boundary_from_file(boundary, place_text)
    else:
        _report(progress, f"Looking up the boundary of {place_text!r} in OpenStreetMap (Overpass) …")
        area = find_boundary(place_text, fetch, timeout_s, progress)
    _report(progress, f"Fetching schools, libraries and transport hubs (Overpass, up to {timeout_s} s) …")
    answer = fetch(features_query(area.total_bounds, timeout_s))
    features = parse_features(answer)
    sites, footprints = site_layers(features, area.union_all(), progress)
    if len(sites) == 0:
        raise InputError(
            f"OpenStreetMap has no schools, libraries or transport hubs inside the study area of {place_text!r}; "
            "check the boundary (or pass --boundary FILE)"
        )
    _report(progress, f"Writing {out_dir}")
    scenario_path = write_folder(out_dir, place_text, area, sites, footprints, answer, population, population_column,
                                 inputs=inputs)
    _report(progress, f"  done: {scenario_path}")
    return scenario_path


# --- Overpass client -------------------------------------------------------------------


def overpass_fetch(timeout_s: int = 180, url: str | None = None, grace_s: float = 15.0) -> Fetch:
    """A ``fetch(query) -> dict`` that POSTs Overpass QL to the Overpass API (standard library only).

    The HTTP read timeout is ``timeout_s + grace_s`` seconds (the server's own limit is in
    the query). Network failures become :class:`InputError` with what to do next.
    """
    url = url or os.environ.get("HOTSPOTS_OVERPASS_URL") or OVERPASS_URL

    def fetch(query: str) -> dict:
        data = urllib.parse.urlencode({"data": query}).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_s + grace_s) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(url, exc) from None
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise InputError(
                    f"the Overpass API ({url}) did not answer within {timeout_s + grace_s:.0f} s: "
                    "retry later, with a larger --timeout, or pass --cache-dir with a cached answer"
                ) from None
            raise InputError(
                f"cannot reach the Overpass API ({url}: {reason}): "
                "check the connection or pass --cache-dir with a cached answer"
            ) from None
        try:
            return json.loads(body)
        except ValueError:
            raise InputError(
                f"the Overpass API ({url}) answered with something that is not JSON "
                f"({body[:120]!r}); retry later or set HOTSPOTS_OVERPASS_URL to another server"
            ) from None

    return fetch


def _http_error(url: str, exc: urllib.error.HTTPError) -> InputError:
    if exc.code in (429, 503, 504):
        return InputError(
            f"the Overpass API ({url}) is busy (HTTP {exc.code}); wait a minute and retry, "
            "set HOTSPOTS_OVERPASS_URL to another server, or pass --cache-dir with a cached answer"
        )
    detail = exc.read(300).decode("utf-8", "replace") if exc.fp else ""
    return InputError(f"the Overpass API ({url}) refused the query (HTTP {exc.code}): {_one_line(detail)}")


def cached_fetch(fetch: Fetch, cache_dir: str | os.PathLike, progress: Progress | None = None) -> Fetch:
    """Wrap ``fetch`` so each answer is stored in ``cache_dir`` as ``overpass-<sha256>.json``.

    The key is the hash of the query without its ``[out:json][timeout:N];`` settings, so a
    different timeout reuses the same answer. A cached answer is returned without calling
    ``fetch``; files are written atomically. Delete the folder to refresh the data.
    """
    cache_dir = Path(cache_dir)

    def cached(query: str) -> dict:
        path = cache_dir / f"overpass-{query_hash(query)}.json"
        if path.exists():
            try:
                answer = json.loads(path.read_text(encoding="utf-8"))
                _report(progress, f"  using the cached answer {path}")
                return answer
            except (OSError, ValueError):
                log.warning("ignoring unreadable cache file %s", path)
        answer = fetch(query)
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            write_text(path, json.dumps(answer, ensure_ascii=False))
        except OSError as exc:
            log.warning("could not cache the Overpass answer in %s: %s", cache_dir, exc.strerror)
        return answer

    return cached


def query_hash(query: str) -> str:
    """SHA-256 (hex) of an Overpass query without its settings line: the cache key."""
    body = re.sub(r"^\s*\[out:json\]\[timeout:\d+\];\s*", "", query)
    return hashlib.sha256(body.strip().encode("utf-8")).hexdigest()


def _checked(fetch: Fetch) -> Fetch:
    """Wrap ``fetch`` to refuse answers that are not complete Overpass JSON (never cached)."""

    def checked(query: str) -> dict:
        answer = fetch(query)
        if not isinstance(answer, dict) or not isinstance(answer.get("elements"), list):
            raise InputError("the Overpass API's answer has no list of elements; retry later or use another server")
        remark = str(answer.get("remark") or "")
        if "error" in remark.lower():
            raise InputError(
                f"the Overpass API stopped the query: {_one_line(remark)}; "
                "retry with a larger --timeout or a smaller area"
            )
        return answer

    return checked


# --- queries ---------------------------------------------------------------------------


def _settings(timeout_s: int) -> str:
    return f"[out:json][timeout:{timeout_s}];\n"


def boundary_candidates_query(place: str, timeout_s: int = 180) -> str:
    """Overpass QL listing (tags only) the administrative boundaries named like ``place``.

    "Name, Within, …": Name must equal a ``name`` or ``name:<lang>`` tag (case ignored);
    Within, when given, is an administrative area it must lie in.
    """
    parts = [p.strip() for p in place.split(",") if p.strip()]
    if not parts:
        raise InputError("the place name is empty; give a name such as \"Shenzhen, China\" or a boundary file")
    name_filter = f'[~"^name(:[a-zA-Z_-]+)?$"~"^{_regex_literal(parts[0])}$",i]'
    lines = [_settings(timeout_s)]
    scope = ""
    if len(parts) > 1:
        lines.append(f'area["boundary"="administrative"][~"^name(:[a-zA-Z_-]+)?$"~"^{_regex_literal(parts[1])}$",i]->.within;\n')
        scope = "(area.within)"
    lines.append(f'relation["boundary"="administrative"]{name_filter}{scope};\n')
    lines.append("out tags;")
    return "".join(lines)


def boundary_geometry_query(relation_id: int, timeout_s: int = 180) -> str:
    """Overpass QL for one relation with the geometry of its members."""
    return f"{_settings(timeout_s)}relation(id:{int(relation_id)});\nout geom;"


def features_query(bounds, timeout_s: int = 180) -> str:
    """Overpass QL for every candidate-site feature in ``bounds`` (minx, miny, maxx, maxy degrees).

    The box is widened to 5 decimals (~1 m); features are clipped to the study area after.
    """
    west, south, east, north = bounds
    bbox = f"({np.floor(south * 1e5) / 1e5:.5f},{np.floor(west * 1e5) / 1e5:.5f}," \
           f"{np.ceil(north * 1e5) / 1e5:.5f},{np.ceil(east * 1e5) / 1e5:.5f})"
    by_key: dict[str, list[str]] = {}
    for rules in CATEGORY_TAGS.values():
        for key, values in rules:
            by_key.setdefault(key, []).extend(v for v in values if v not in by_key.get(key, []))
    statements = "".join(f'  nwr["{key}"~"^({"|".join(values)})$"]{bbox};\n' for key, values in by_key.items())
    return f"{_settings(timeout_s)}(\n{statements});\nout geom;"


def _regex_literal(text: str) -> str:
    """``text`` as an Overpass (POSIX ERE) regex matching it literally, inside a "…" string."""
    escaped = re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)
    return escaped.replace("\\", "\\\\").replace('"', '\\"')


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
    _report(progress, f"  found relation {chosen['id']}: {_describe(tags)} (admin_level {tags.get('admin_level', '?')})")
    if len(candidates) > 1:
        others = "; ".join(f"{e['id']} {_describe(e.get('tags', {}))}" for e in candidates[1:6])
        log.warning("%d other boundaries match %r (%s); to pick another, add the area it lies in "
                    "(\"Name, Province\") or pass --boundary FILE", len(candidates) - 1, place, others)
    answer = fetch(boundary_geometry_query(chosen["id"], timeout_s))
    relation = next((e for e in answer["elements"] if e.get("type") == "relation" and e.get("id") == chosen["id"]), None)
    outline = _relation_area(relation.get("members", [])) if relation else None
    if outline is None or outline.is_empty:
        raise InputError(
            f"the OpenStreetMap boundary relation {chosen['id']} of {place!r} has no closed outline; "
            "pass --boundary FILE with the study area"
        )
    return gpd.GeoDataFrame(
        {"name": [_clean(tags.get("name")) or place], "name_en": [_clean(tags.get("name:en")) or None],
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
    names = [_clean(tags.get("name")), _clean(tags.get("name:en"))]
    return " / ".join(dict.fromkeys(n for n in names if n)) or "(unnamed)"


# --- parsing Overpass JSON -------------------------------------------------------------


def parse_features(answer: dict) -> gpd.GeoDataFrame:
    """Overpass ``out geom`` (or ``out center``) JSON → one row per candidate feature, EPSG:4326.

    Columns: ``osm_type``, ``osm_id``, ``category``, ``osm_tag`` ("amenity=school"),
    ``name``, ``name_en`` and the element's geometry: a Point (nodes, or ways/relations
    known only by their centre), a Polygon/MultiPolygon (closed ways, multipolygon
    relations) or a LineString (open ways). Elements of no category are skipped.
    """
    rows, geoms = [], []
    for element in answer.get("elements", []):
        tags = element.get("tags") or {}
        match = classify(tags)
        geom = element_geometry(element)
        if match is None or geom is None:
            continue
        category, osm_tag = match
        rows.append({
            "osm_type": element["type"], "osm_id": int(element["id"]), "category": category, "osm_tag": osm_tag,
            "name": _clean(tags.get("name")) or _clean(tags.get("name:zh")) or _clean(tags.get("name:en")),
            "name_en": _clean(tags.get("name:en")) or None,
        })
        geoms.append(geom)
    columns = ["osm_type", "osm_id", "category", "osm_tag", "name", "name_en"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns), geometry=geoms, crs=WGS84)


def classify(tags: dict) -> tuple[str, str] | None:
    """(category, "key=value") of the first rule in :data:`CATEGORY_TAGS` the tags match, else None."""
    for category, rules in CATEGORY_TAGS.items():
        for key, values in rules:
            value = tags.get(key)
            if value in values:
                return category, f"{key}={value}"
    return None


def element_geometry(element: dict) -> shapely.Geometry | None:
    """The shapely geometry (lon/lat degrees) of one Overpass element, or None if it has none."""
    kind = element.get("type")
    if kind == "node":
        if "lon" in element and "lat" in element:
            return shapely.Point(element["lon"], element["lat"])
        return None
    geom = None
    if kind == "way":
        geom = _way_geometry(element.get("geometry"))
    elif kind == "relation" and (element.get("tags") or {}).get("type") in _AREA_RELATION_TYPES:
        geom = _relation_area(element.get("members", []))
    if geom is None and isinstance(element.get("center"), dict):
        geom = shapely.Point(element["center"]["lon"], element["center"]["lat"])
    if geom is None and kind == "relation":
        coords = _member_coordinates(element.get("members", []))
        geom = shapely.MultiPoint(coords).centroid if len(coords) else None
    return geom


def _coords(points) -> list[tuple[float, float]]:
    """[{lat, lon}, …] → [(lon, lat), …], skipping nulls (nodes outside a clipped query)."""
    return [(p["lon"], p["lat"]) for p in (points or []) if isinstance(p, dict) and "lon" in p and "lat" in p]


def _way_geometry(points) -> shapely.Geometry | None:
    coords = _coords(points)
    if len(coords) >= 4 and coords[0] == coords[-1]:
        return shapely.Polygon(coords)
    if len(coords) >= 2:
        return shapely.LineString(coords)
    return shapely.Point(coords[0]) if coords else None


def _relation_area(members: list[dict]) -> shapely.Geometry | None:
    """Outer minus inner rings of a multipolygon/boundary relation's member ways, or None.

    Member ways may run in any direction and split a ring in several pieces;
    ``shapely.polygonize`` joins them at shared end nodes. Invalid results are repaired.
    """
    def area(role_ok) -> shapely.Geometry:
        lines = [shapely.LineString(c) for m in members
                 if m.get("type") == "way" and role_ok(m.get("role") or "") and len(c := _coords(m.get("geometry"))) >= 2]
        if not lines:
            return shapely.Polygon()
        faces = shapely.polygonize(lines)
        return shapely.union_all(shapely.make_valid(np.asarray(shapely.get_parts(faces))))

    outer = area(lambda role: role in ("outer", ""))
    if outer.is_empty:
        return None
    inner = area(lambda role: role == "inner")
    result = outer.difference(inner) if not inner.is_empty else outer
    result = shapely.make_valid(result)
    polygons = [g for g in shapely.get_parts(result) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(polygons) if polygons else None


def _member_coordinates(members: list[dict]) -> list[tuple[float, float]]:
    coords = []
    for m in members:
        if "lon" in m and "lat" in m:
            coords.append((m["lon"], m["lat"]))
        coords.extend(_coords(m.get("geometry")))
    return coords


_KEEP_FORMAT_CHARS = {"\u200c", "\u200d"}  # zero-width (non-)joiners: needed by some scripts and emoji


def _clean(value) -> str:
    """Tag text fit for a table cell and a map popup label.

    NFC-normalised; control characters become spaces; invisible format characters
    (zero-width spaces, byte-order marks, bidirectional overrides that can make a name
    display as something else) are removed, except the zero-width (non-)joiners; runs
    of whitespace collapse to one space. HTML is left as text: escaping is the map's job.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(
        " " if unicodedata.category(c) == "Cc" else ""
        if unicodedata.category(c) == "Cf" and c not in _KEEP_FORMAT_CHARS else c
        for c in text
    )
    return " ".join(text.split())


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
    is_area = np.isin(shapely.get_type_id(np.asarray(table["_footprint"], dtype=object)), (3, 6))  # Polygon, MultiPolygon
    footprints = gpd.GeoDataFrame(table.loc[is_area, FOOTPRINT_COLUMNS].reset_index(drop=True),
                                  geometry=list(table.loc[is_area, "_footprint"]), crs=WGS84)
    counts = sites["category"].value_counts()
    _report(progress, "  " + ", ".join(f"{counts.get(c, 0)} {LAYER_NAMES[c].replace('_', ' ')}" for c in CATEGORY_TAGS)
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


def _report(progress: Progress | None, message: str) -> None:
    log.info("%s", message)
    if progress is not None:
        progress(message)
