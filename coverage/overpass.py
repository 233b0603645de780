"""Talking to OpenStreetMap's Overpass API: the client, the queries and the answers.

All network access of :mod:`coverage.osm` goes through one function, ``fetch(query) ->
dict``, that sends an Overpass QL query and returns the decoded JSON answer.
:func:`overpass_fetch` is a thin standard-library client; :func:`cached_fetch` keeps
every answer under the hash of its query; tests pass a function that answers from
recorded files, so parsing (:func:`parse_features`, :func:`element_geometry`) is the same
as for a live answer. Coordinates in answers are WGS84 (EPSG:4326).
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
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError
from .planfolder import write_text

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
Fetch = Callable[[str], dict]
Progress = Callable[[str], None]

OVERPASS_URL = "https://overpass-api.de/api/interpreter"
"""Default Overpass endpoint; override with the environment variable ``HOTSPOTS_OVERPASS_URL``
(e.g. a mirror such as https://overpass.kumi.systems/api/interpreter)."""

USER_AGENT = "hotspot-coverage/0.1 (public Wi-Fi planning; OpenStreetMap import)"
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
_AREA_RELATION_TYPES = ("multipolygon", "boundary")


# --- Overpass client -------------------------------------------------------------------


def overpass_fetch(timeout_s: int = 180, url: str | None = None, grace_s: float = 15.0) -> Fetch:
    """A ``fetch(query) -> dict`` that POSTs Overpass QL to the Overpass API (standard library only).

    The HTTP read timeout is ``timeout_s + grace_s`` seconds (the server's own limit is in
    the query). Network failures become :class:`InputError` with what to do next.
    """
    url = url or os.environ.get("HOTSPOTS_OVERPASS_URL") or OVERPASS_URL

    def fetch(query: str) -> dict:
        data = urllib.parse.urlencode({"data": query}).encode("utf-8")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        request = urllib.request.Request(url, data=data, headers=headers)
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
                report(progress, f"  using the cached answer {path}")
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


def checked(fetch: Fetch) -> Fetch:
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
            "name": clean_text(tags.get("name")) or clean_text(tags.get("name:zh")) or clean_text(tags.get("name:en")),
            "name_en": clean_text(tags.get("name:en")) or None,
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
        geom = relation_area(element.get("members", []))
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


def relation_area(members: list[dict]) -> shapely.Geometry | None:
    """Outer minus inner rings of a multipolygon/boundary relation's member ways, or None.

    Member ways may run in any direction and split a ring in several pieces;
    ``shapely.polygonize`` joins them at shared end nodes. Invalid results are repaired.
    """
    def area(role_ok) -> shapely.Geometry:
        lines = [shapely.LineString(c) for m in members
                 if m.get("type") == "way" and role_ok(m.get("role") or "")
                 and len(c := _coords(m.get("geometry"))) >= 2]
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


def clean_text(value) -> str:
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


def report(progress: Progress | None, message: str) -> None:
    log.info("%s", message)
    if progress is not None:
        progress(message)
