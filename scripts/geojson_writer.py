"""The deterministic GeoJSON writer of scripts/build_gis_data.py, and its polygon helpers.

Fixed property order, fixed rounding, one feature per line, no timestamps: the same
features always give the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely


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
