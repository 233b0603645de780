"""Layer specs shared by the plan map and the compare map (plain data for map.js).

Each spec is a dict with ``kind`` ("geojson", "labels", "image", "points", "net"), a
layer-control ``name`` (plain text, shown as text) and ``show`` (on at start).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import shapely

from .geometry import geojson, round_geoms, simplify
from .palette import (CONFLICT_COLOUR, ORPHAN_COLOUR, OVERLOAD_COLOUR)

__all__ = ["geojson_layer", "points_layer", "network_layers", "label_layer", "outline_of"]


def geojson_layer(name: str, geoms, props: list[dict], *, show: bool = True,
                  tooltip: dict[str, str] | None = None, fill_opacity: float = 0.3,
                  weight: float = 1.0, stroke: str | None = None, highlight: bool = False,
                  fill: bool = True, dash: str | None = None) -> dict:
    """Polygons filled with ``props[i]["colour"]``; tooltip: property key -> label."""
    return {"kind": "geojson", "name": name, "show": show, "data": geojson(geoms, props),
            "tooltip": [[k, v] for k, v in tooltip.items()] if tooltip else None,
            "fillOpacity": fill_opacity, "weight": weight, "stroke": stroke,
            "highlight": highlight, "fill": fill, "dash": dash}


#: A layer that is off at start and has more rows than this ships its table as one JSON
#: string inside the page's blob, parsed by the page only when the layer is switched on
#: (a city's 300,000 candidates would otherwise cost a second of parsing at every load).
LAZY_ROWS = 2000


def points_layer(name: str, table: dict, style: dict, *, show: bool = True,
                 swatch: bool = False) -> dict:
    """Canvas circle markers (and optional coverage circles) drawn from ``table``."""
    spec = {"kind": "points", "name": name, "show": show, "table": table, "style": style,
            "swatches": [{"colour": style["colour"]}] if swatch else []}
    if not show and len(table["rows"]) > LAZY_ROWS:
        del spec["table"]
        spec["table_json"] = json.dumps(_columnar(table), ensure_ascii=False,
                                        separators=(",", ":"), allow_nan=False)
    return spec


def _columnar(table: dict) -> dict:
    """``table`` by columns, a column of few distinct values as ``{"dict", "codes"}``
    (the page rebuilds the rows when the layer is switched on); half the bytes for a
    city's candidates, whose category, source and status repeat."""
    rows = table["rows"]
    columns = [list(c) for c in zip(*rows)] if rows else [[] for _ in table["cols"]]
    out = []
    for values in columns:
        # a column holds one kind of value (tables.py: whole numbers as ints, flags as
        # 0/1), so equal keys here are equal values
        uniq = list(dict.fromkeys(values))
        if len(uniq) * 8 < len(values):
            code = {k: i for i, k in enumerate(uniq)}
            out.append({"dict": uniq, "codes": [code[v] for v in values]})
        else:
            out.append(values)
    return {"cols": table["cols"], "n": len(rows), "columns": out}


#: Above this many sites with issues the rings would cover a city view: that layer starts off
#: (the panel still gives the counts; the layer control turns it on).
MANY_ISSUES = 1_000


def network_layers(net: dict, w: dict, fmt) -> list[dict]:
    """Backhaul orphans (rings, on), network issues (rings, on unless there are more than
    :data:`MANY_ISSUES`), channels (dots, off)."""
    out = []
    if net["orphans"]:
        out.append({"kind": "net", "show": True, "swatches": [{"colour": ORPHAN_COLOUR, "ring": True}],
                    "name": f"{w['layer_orphans']} ({fmt.int(len(net['orphans']))})",
                    "config": {"rings": [{"test": "orphan", "colour": ORPHAN_COLOUR, "radius": 11,
                                          "weight": 3, "kind": "orphan"}]}})
    if net["issues"]:
        out.append({"kind": "net", "show": net["issues"] <= MANY_ISSUES,
                    "swatches": [{"colour": CONFLICT_COLOUR, "ring": True, "dash": True},
                                 {"colour": OVERLOAD_COLOUR, "ring": True}],
                    "name": f"{w['layer_issues']} ({w['issues_sites'].format(n=fmt.int(net['issues']))})",
                    "config": {"rings": [
                        {"test": "overload", "colour": OVERLOAD_COLOUR, "radius": 8, "weight": 2.5,
                         "kind": "overload"},
                        {"test": "conflict", "colour": CONFLICT_COLOUR, "radius": 14, "weight": 2,
                         "dash": "4 3", "kind": "conflict"}]}})
    if net["channels"]:
        out.append({"kind": "net", "show": False, "name": w["layer_channels"],
                    "config": {"channels": {str(k): v for k, v in net["channels"].items()},
                               "kind": "channel"}})
    return out


def label_layer(name: str, districts: gpd.GeoDataFrame, lang: str) -> dict | None:
    """District names at a point inside each district: Chinese and English where present."""
    if districts is None or not len(districts) or "name" not in districts:
        return None
    pts = shapely.point_on_surface(districts.geometry.to_numpy())
    zh = districts["name_zh"] if "name_zh" in districts else [None] * len(districts)
    labels = []
    for p, en, cn in zip(pts, districts["name"], zh):
        if p is None or p.is_empty:
            continue
        names = [str(x) for x in ((cn, en) if lang == "zh" else (en, cn))
                 if x is not None and x == x and str(x)]
        names = list(dict.fromkeys(names))
        if names:
            labels.append({"lat": round(p.y, 5), "lon": round(p.x, 5), "lines": names})
    return {"kind": "labels", "name": name, "show": True, "labels": labels}


def outline_of(study_area, districts, tol: float) -> dict | None:
    """The study area (or the districts' union) simplified, as GeoJSON (for the minimap)."""
    if study_area is not None and len(study_area):
        geoms = round_geoms(simplify(study_area.geometry.to_numpy(), tol * 2), 5)
    elif districts is not None and len(districts):
        geoms = round_geoms(simplify([districts.union_all()], tol * 2), 5)
    else:
        return None
    return geojson(geoms, [{} for _ in geoms])


def district_names(districts: gpd.GeoDataFrame) -> np.ndarray:
    """Display name of each district: ``name_zh / name`` when both are present."""
    en = districts["name"].astype(str).to_numpy() if "name" in districts else \
        np.array([""] * len(districts))
    if "name_zh" not in districts:
        return en
    zh = districts["name_zh"]
    return np.array([f"{z} / {e}" if z is not None and z == z and str(z) and str(z) != e else e
                     for z, e in zip(zh, en)])
