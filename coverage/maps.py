"""Interactive map of a saved plan (``DIR/map.html``).

The map is a pure function of a plan folder written by ``hotspots plan`` (see
``docs/outputs.md``): ``summary.json`` and ``plan.gpkg``. It never re-solves.

What it shows: districts coloured by achieved coverage, uncovered demand dissolved into
a few polygons shaded by population density, the selected hotspots one layer per
category with their coverage circles, the unselected candidates (off by default), a
legend, a summary panel with a coverage curve, a layer control, fullscreen, a scale bar
and a minimap. When the plan has the network checks (issue #6), site popups show band,
channel, backhaul and load; backhaul orphans and sites with channel conflicts or too
few APs are ringed (layers on by default), a "Channels" layer (off) colours sites by
channel, and the panel sums up radii, conflicts, orphans and overload. Older plan
folders without them render as before.

Safety: every string that comes from the data is escaped with :func:`esc` before it
reaches HTML (popups, tooltips, the legend, layer names, the panel), and all data is
embedded as JSON that cannot close a ``<script>`` element.

Size: points are drawn as canvas circle markers from one compact JSON table per
layer (popups are built in the browser when opened), coordinates are rounded to
6 decimals and polygons are dissolved and lightly simplified.

Offline (``offline=True``): Leaflet's JS and CSS are inlined from the ``XStatic-Leaflet``
package (the same Leaflet 1.9.3 folium uses) and no tile layer is added, so the page
fetches nothing; fullscreen and the minimap are implemented here on plain Leaflet, so
they work offline too.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from .charts import line_chart_svg
from .errors import InputError

__all__ = ["render_map", "render_compare_map", "esc", "category_colours",
           "find_fetched_urls"]

LEAFLET_JS_URL = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS_URL = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"

#: Colours of the categories the planner ships with.
KNOWN_CATEGORY_COLOURS = {
    "school": "#1f5fbf",
    "library": "#7b3fb0",
    "transport_hub": "#e07b00",
    "existing": "#222222",
}
#: Colours handed out (deterministically, by name) to any other category.
EXTRA_PALETTE = [
    "#0f9d9a", "#b5179e", "#8c564b", "#6a8d00", "#c2185b",
    "#00838f", "#5d4037", "#827717", "#4527a0", "#ad1457",
]

#: District choropleth: coverage class edges (fractions) and colours (low -> high).
COVERAGE_BREAKS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0000001]
COVERAGE_COLOURS = ["#f7fcb9", "#d9f0a3", "#addd8e", "#78c679", "#31a354", "#006837"]

#: Uncovered demand: population density classes (persons / km²) and colours.
DENSITY_BREAKS = [0.0, 1.0, 1_000.0, 5_000.0, 20_000.0, math.inf]
DENSITY_LABELS = ["no residents", "< 1,000 /km²", "1,000–5,000 /km²",
                  "5,000–20,000 /km²", "≥ 20,000 /km²"]
UNCOVERED_COLOURS = ["#bdbdbd", "#fcbba1", "#fb6a4a", "#de2d26", "#99000d"]
DENSITY_COLOURS = ["#f7f7f7", "#fee8c8", "#fdbb84", "#e34a33", "#7f0000"]

COORD_DECIMALS = 6

#: Network rings (issue #6): backhaul orphans, channel conflicts, overloaded sites.
ORPHAN_COLOUR, CONFLICT_COLOUR, OVERLOAD_COLOUR = "#d00000", "#c51b7d", "#00b5cc"
#: The "Channels" layer: colours handed out to the plan's channel numbers in order.
CHANNEL_PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e6ab02", "#1f78b4", "#e7298a",
                   "#66a61e", "#a6761d", "#6a3d9a", "#17becf"]
#: Orphans named in the legend (the layer and the popups have them all).
LEGEND_ORPHANS = 8


# --------------------------------------------------------------------------- escaping

def esc(value: Any) -> str:
    """Escape a data string for HTML *and* for JavaScript template literals.

    ``html.escape`` handles ``< > & " '``; backticks and ``$`` become character
    references too, so the result is inert inside a template literal that is later
    assigned to ``innerHTML`` (folium does that with tooltips and layer names).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("`", "&#96;").replace("$", "&#36;")


def _js_json(obj: Any) -> str:
    """JSON that is safe to paste inside a ``<script>`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# --------------------------------------------------------------------------- colours

def category_colours(categories) -> dict[str, str]:
    """Colour per category: fixed for known ones, hash-chosen for the rest.

    An unknown category's colour depends only on its name, unless two names hash to
    the same palette slot; then the later one (in sorted order) takes the next free
    slot, so the result is still deterministic.
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for cat in sorted({str(c) for c in categories}):
        if cat in KNOWN_CATEGORY_COLOURS:
            out[cat] = KNOWN_CATEGORY_COLOURS[cat]
            continue
    for cat in sorted({str(c) for c in categories}):
        if cat in out:
            continue
        start = int(hashlib.sha1(cat.encode("utf-8")).hexdigest(), 16) % len(EXTRA_PALETTE)
        for k in range(len(EXTRA_PALETTE)):
            colour = EXTRA_PALETTE[(start + k) % len(EXTRA_PALETTE)]
            if colour not in used:
                break
        else:  # more categories than colours: reuse
            colour = EXTRA_PALETTE[start]
        used.add(colour)
        out[cat] = colour
    return out


def _class_index(values: np.ndarray, breaks: list[float]) -> np.ndarray:
    idx = np.searchsorted(np.asarray(breaks[1:-1]), values, side="right")
    return np.clip(idx, 0, len(breaks) - 2)


def _coverage_colour(fraction: float | None) -> str:
    if fraction is None or not np.isfinite(fraction):
        return "#cccccc"
    return COVERAGE_COLOURS[int(_class_index(np.array([fraction]), COVERAGE_BREAKS)[0])]


# --------------------------------------------------------------------------- reading

@dataclass
class PlanData:
    summary: dict
    selected: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame | None
    districts: gpd.GeoDataFrame | None
    cells: gpd.GeoDataFrame | None
    study_area: gpd.GeoDataFrame | None


def _read_layer(gpkg: Path, layer: str, columns=None) -> gpd.GeoDataFrame | None:
    import pyogrio

    try:
        names = {row[0] for row in pyogrio.list_layers(gpkg)}
    except Exception:  # noqa: BLE001 - missing/corrupt file handled by caller
        return None
    if layer not in names:
        return None
    # Arrow: about twice as fast on a big layer (Shenzhen's 216k demand cells: 1.4 s
    # instead of 2.4 s), same dtypes as the default reader.
    gdf = gpd.read_file(gpkg, layer=layer, columns=columns, use_arrow=True)
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    return gdf


def load_plan(plan_dir: str | os.PathLike) -> PlanData:
    """Read the parts of a plan folder the map needs (InputError if it is not one)."""
    plan_dir = Path(plan_dir)
    summary_path = plan_dir / "summary.json"
    gpkg = plan_dir / "plan.gpkg"
    missing = [p.name for p in (summary_path, gpkg) if not p.is_file()]
    if missing:
        what = "does not exist" if not plan_dir.exists() else \
            f"has no {' and no '.join(missing)}"
        raise InputError(
            f"{plan_dir} is not a plan folder: it {what}; a plan folder holds summary.json "
            "and plan.gpkg, written by `hotspots plan --out DIR` (or `hotspots whatif`)")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{summary_path} is not valid JSON ({exc}); re-run "
                         "`hotspots plan --out DIR` to write the plan folder again") from None
    if not isinstance(summary, dict):
        raise InputError(f"{summary_path} should hold a JSON object (docs/outputs.md)")
    selected = _read_layer(gpkg, "selected_sites")
    if selected is None:
        raise InputError(f"{gpkg} has no layer 'selected_sites' (or is not a GeoPackage); "
                         "re-run `hotspots plan --out DIR` to write the plan folder again")
    return PlanData(
        summary=summary,
        selected=selected,
        candidates=_read_layer(gpkg, "candidates"),
        districts=_read_layer(gpkg, "districts"),
        cells=_read_layer(gpkg, "demand_cells",
                          columns=["cell_id", "population", "area_m2", "covered",
                                   "reachable"]),
        study_area=_read_layer(gpkg, "study_area"),
    )


# --------------------------------------------------------------------------- geometry

def _round_geoms(geoms, decimals: int = COORD_DECIMALS):
    return shapely.transform(np.asarray(geoms, dtype=object),
                             lambda xy: np.round(xy, decimals))


def _simplify(geoms, tolerance: float):
    return shapely.simplify(np.asarray(geoms, dtype=object), tolerance, preserve_topology=True)


def _geojson(geoms, props: list[dict]) -> dict:
    feats = []
    for g, p in zip(geoms, props):
        if g is None or shapely.is_empty(g):
            continue
        feats.append({"type": "Feature", "properties": p,
                      "geometry": shapely.geometry.mapping(g)})
    return {"type": "FeatureCollection", "features": feats}


def _dissolve(geoms) -> Any:
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return None
    arr = np.asarray(geoms, dtype=object)
    try:
        merged = shapely.coverage_union_all(arr)
    except Exception:  # noqa: BLE001 - not a valid coverage (overlaps): slower union
        merged = shapely.union_all(shapely.make_valid(arr))
    if merged is None or merged.is_empty:
        return None
    return merged


def _district_tolerance(summary: dict) -> float:
    """Simplification tolerance in degrees: a fifth of a cell, at most ~20 m."""
    size = summary.get("cell_size_m") or 100.0
    return min(float(size) / 5.0, 20.0) / 111_000.0


#: Above this many uncovered cells, they are binned to a coarser display grid before
#: dissolving, so a fragmented pattern cannot blow up the page (or the render time).
UNCOVERED_CELL_LIMIT = 15_000
#: Longest side of the population-density image, in pixels.
DENSITY_IMAGE_MAX_PX = 1200


def _cell_arrays(cells: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    pop = pd.to_numeric(cells["population"], errors="coerce").fillna(0).to_numpy(float) \
        if "population" in cells else np.zeros(len(cells))
    if "area_m2" in cells:
        area = pd.to_numeric(cells["area_m2"], errors="coerce").fillna(0).to_numpy(float)
    else:  # approximate from degrees
        b = cells.geometry.bounds
        area = ((b.maxx - b.minx) * 111_320 * np.cos(np.radians((b.miny + b.maxy) / 2))
                * (b.maxy - b.miny) * 110_574).to_numpy(float)
    reach = _bools(cells["reachable"]) if "reachable" in cells else \
        np.ones(len(cells), bool)
    return {"pop": pop, "area": area, "reach": reach}


def _density_class(pop: np.ndarray, area: np.ndarray) -> np.ndarray:
    dens = np.where(area > 0, pop / np.maximum(area, 1e-9) * 1e6, 0.0)
    cls = _class_index(dens, DENSITY_BREAKS)
    cls[pop <= 0] = 0
    return cls


def _cell_centroids(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Centroid (lon, lat) of every cell; computed once per map, it is not cheap."""
    return shapely.get_coordinates(shapely.centroid(cells.geometry.to_numpy()))


def _dissolve_cells(cells: gpd.GeoDataFrame, mask: np.ndarray, cell_m: float,
                    limit: int = UNCOVERED_CELL_LIMIT,
                    centroids: np.ndarray | None = None) -> tuple[list, float | None]:
    """Dissolve the cells in ``mask`` by population-density class: a few multipolygons.

    Used for uncovered demand, and for coverage gained / lost in the compare map.

    Up to ``limit`` cells are dissolved exactly. Beyond that the cells are binned (by
    centroid) into a coarser lon/lat grid whose squares are dissolved instead; the
    totals in the tooltips stay exact. Returns the classes and the bin size used (m),
    or None when exact.
    """
    idx = np.flatnonzero(mask)
    if not len(idx):
        return [], None
    a = _cell_arrays(cells.iloc[idx])
    geoms = cells.geometry.to_numpy()[idx]
    bin_m = None
    if len(idx) <= limit:
        cls = _density_class(a["pop"], a["area"])
        shapes = geoms
        groups = cls
        pieces = None
    else:
        cxy = (shapely.get_coordinates(shapely.centroid(geoms)) if centroids is None
               else centroids[idx])
        lat0 = float(np.nanmean(cxy[:, 1]))
        k = 2.0
        while True:
            bin_m = k * cell_m
            bx = bin_m / (111_320 * math.cos(math.radians(lat0)))
            by = bin_m / 110_574
            ix = np.floor((cxy[:, 0] - cxy[:, 0].min()) / bx).astype(np.int64)
            iy = np.floor((cxy[:, 1] - cxy[:, 1].min()) / by).astype(np.int64)
            key = ix * (int(iy.max()) + 1) + iy
            uniq, inv = np.unique(key, return_inverse=True)
            if len(uniq) <= limit:
                break
            k *= 1.5
        bpop = np.bincount(inv, a["pop"])
        barea = np.bincount(inv, a["area"])
        groups = _density_class(bpop, barea)
        ux, uy = uniq // (int(iy.max()) + 1), uniq % (int(iy.max()) + 1)
        x0, y0 = cxy[:, 0].min(), cxy[:, 1].min()
        shapes = shapely.box(x0 + ux * bx, y0 + uy * by, x0 + (ux + 1) * bx, y0 + (uy + 1) * by)
        pieces = inv
    out = []
    for c in range(len(DENSITY_LABELS)):
        sel = groups == c
        if not sel.any():
            continue
        merged = _dissolve(shapes[sel])
        if merged is None:
            continue
        # a tiny tolerance drops the collinear vertices of the grid staircase, cheaply
        merged = shapely.simplify(merged, 1e-7, preserve_topology=False)
        merged = _round_geoms([merged])[0]
        cell_sel = sel if pieces is None else sel[pieces]
        out.append({
            "class": c, "geometry": merged,
            "population": float(a["pop"][cell_sel].sum()),
            "area_m2": float(a["area"][cell_sel].sum()),
            "unreachable_population": float(a["pop"][cell_sel & ~a["reach"]].sum()),
            "n_cells": int(cell_sel.sum()),
        })
    return out, bin_m


def _mercator_y(lat: np.ndarray) -> np.ndarray:
    lat = np.clip(lat, -85.0, 85.0)
    return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def _density_image(cells: gpd.GeoDataFrame, cell_m: float,
                   max_px: int = DENSITY_IMAGE_MAX_PX,
                   centroids: np.ndarray | None = None) -> tuple[np.ndarray, list] | None:
    """Population density of all cells as an RGBA image in Web Mercator rows.

    A raster is a few tens of kB whatever the number of cells, where polygons of a
    noisy population grid would be megabytes. Pixels are about 1.5 cells wide so the
    (slightly rotated) metric cell grid leaves no empty stripes.
    """
    if cells is None or not len(cells):
        return None
    a = _cell_arrays(cells)
    cxy = _cell_centroids(cells) if centroids is None else centroids
    ok = np.isfinite(cxy).all(axis=1)
    if not ok.any():
        return None
    cxy, pop, area = cxy[ok], a["pop"][ok], a["area"][ok]
    west, east = cxy[:, 0].min(), cxy[:, 0].max()
    south, north = cxy[:, 1].min(), cxy[:, 1].max()
    lat0 = (south + north) / 2
    deg_x = 1.5 * cell_m / (111_320 * math.cos(math.radians(lat0)))
    span = max(east - west, (north - south) / math.cos(math.radians(lat0)), deg_x)
    deg_x = max(deg_x, span / max_px)
    # pad by half a pixel so the outermost centroids fall inside
    west, east = west - deg_x / 2, east + deg_x / 2
    my = _mercator_y(cxy[:, 1])
    my_s = _mercator_y(np.array([south]))[0] - math.radians(deg_x) / 2
    my_n = _mercator_y(np.array([north]))[0] + math.radians(deg_x) / 2
    step_y = math.radians(deg_x)  # Mercator y is in radians of longitude
    nx = max(1, int(math.ceil((east - west) / deg_x)))
    ny = max(1, int(math.ceil((my_n - my_s) / step_y)))
    ix = np.clip(((cxy[:, 0] - west) / deg_x).astype(int), 0, nx - 1)
    iy = np.clip(((my_n - my) / step_y).astype(int), 0, ny - 1)  # row 0 = north
    flat = iy * nx + ix
    bpop = np.bincount(flat, pop, minlength=nx * ny)
    barea = np.bincount(flat, area, minlength=nx * ny)
    has = np.bincount(flat, minlength=nx * ny) > 0
    cls = _density_class(bpop, barea)
    palette = np.array([[int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16), 200]
                        for c in DENSITY_COLOURS], dtype=np.uint8)
    rgba = palette[cls]
    rgba[~has] = 0
    rgba[has & (cls == 0), 3] = 90  # no residents: faint
    img = rgba.reshape(ny, nx, 4)
    south_edge = math.degrees(2 * math.atan(math.exp(my_n - ny * step_y)) - math.pi / 2)
    north_edge = math.degrees(2 * math.atan(math.exp(my_n)) - math.pi / 2)
    bounds = [[south_edge, west], [north_edge, west + nx * deg_x]]
    return img, bounds


# --------------------------------------------------------------------------- formatting

def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _pct(fraction: Any, digits: int = 1) -> str:
    f = _num(fraction)
    return "–" if f is None else f"{100.0 * f:.{digits}f} %"


def _int(value: Any) -> str:
    f = _num(value)
    return "–" if f is None else f"{f:,.0f}"


def _money(value: Any) -> str:
    f = _num(value)
    if f is None:
        return "–"
    return f"{f:,.0f}" if abs(f - round(f)) < 1e-9 else f"{f:,.2f}"


def _km2(m2: Any) -> str:
    f = _num(m2)
    return "–" if f is None else f"{f / 1e6:,.2f} km²"


def _metric_name(summary: dict) -> str:
    return "area" if summary.get("metric") == "area" else "population"


def _category_label(summary: dict, cat: str) -> str:
    for key in ("categories", "by_category"):
        info = (summary.get(key) or {}).get(cat)
        if isinstance(info, dict) and info.get("label"):
            return str(info["label"])
    return cat.replace("_", " ").capitalize()


# --------------------------------------------------------------------------- coverage curve

def coverage_curve_svg(selected: pd.DataFrame, target: float | None, metric: str = "population",
                       width: int = 300, height: int = 150, max_points: int = 400) -> str:
    """Inline SVG: sites added (rank) vs. cumulative coverage (%), with the target line."""
    if "rank" in selected and "cumulative_coverage" in selected and len(selected):
        df = selected[["rank", "cumulative_coverage"]].apply(pd.to_numeric, errors="coerce")
        df = df.dropna().sort_values("rank")
        ranks = df["rank"].to_numpy(float)
        cov = np.clip(df["cumulative_coverage"].to_numpy(float), 0, 1)
    else:
        ranks = cov = np.array([])
    t = _num(target)
    return line_chart_svg(np.concatenate([[0.0], ranks]), 100 * np.concatenate([[0.0], cov]),
                          x_label="sites added (greedy order)", y_label=f"{metric} covered %",
                          target=None if t is None else 100 * t, y_range=(0.0, 100.0),
                          width=width, height=height, max_points=max_points)


# --------------------------------------------------------------------------- elements

class _PointLayer(MacroElement):
    """Canvas circle markers (and optional coverage circles) from a compact JSON table.

    Rows are ``[lon, lat, <popup fields...>]``; every string field is already escaped
    with :func:`esc`. Popups are built when opened, so the page stays small.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var t = {{ this.table }};
  var st = {{ this.style }};
  var grp = {{ this._parent.get_name() }};
  var cols = t.cols;
  function fmt(v, kind) {
    if (v === null || v === undefined || v === '') { return '–'; }
    if (kind === 'int') { return Math.round(v).toLocaleString('en-US'); }
    if (kind === 'pct') { return (100 * v).toFixed(2) + ' %'; }
    if (kind === 'm') { return Math.round(v).toLocaleString('en-US') + ' m'; }
    if (kind === 'km2') { return (v / 1e6).toLocaleString('en-US', {maximumFractionDigits: 3}) + ' km²'; }
    if (kind === 'num') { return (+v).toLocaleString('en-US', {maximumFractionDigits: 2}); }
    return v;  /* already-escaped text */
  }
  function ix(key) { return cols.findIndex(function (c) { return c[0] === key; }); }
  function s_(n) { return n === 1 ? '' : 's'; }
  /* Network columns (plans written since issue #6); -1 when the plan has none. */
  var N = {band: ix('band'), ch: ix('channel'), conf: ix('channel_conflicts'),
           wired: ix('wired'), hops: ix('hops'), orphan: ix('orphan'),
           users: ix('concurrent_users'), aps: ix('aps_needed'), extra: ix('extra_aps')};
  function val(row, i) { return i >= 0 && row[i] !== undefined ? row[i] : null; }
  function net(row) {
    return {band: val(row, N.band), ch: val(row, N.ch), conf: val(row, N.conf) || 0,
            wired: val(row, N.wired), hops: val(row, N.hops), orphan: val(row, N.orphan) === 1,
            users: val(row, N.users), aps: val(row, N.aps), extra: val(row, N.extra) || 0};
  }
  function netRows(row) {
    var k = net(row), out = [];
    if (N.band >= 0 || N.ch >= 0) {
      var r = [];
      if (k.band !== null && k.band !== '') { r.push(k.band + ' GHz'); }
      if (k.ch !== null) { r.push('channel ' + k.ch); }
      var radio = r.join(', ') || '–';
      if (k.conf > 0) {
        radio += ', <b class="hs-bad">' + k.conf + ' same-channel neighbour' + s_(k.conf) + '</b>';
      }
      out.push(['Radio', radio]);
    }
    if (N.orphan >= 0 || N.wired >= 0 || N.hops >= 0) {
      var b;
      if (k.orphan) { b = '<b class="hs-bad">ORPHAN: no path to a wired site</b>'; }
      else if (k.wired === 1 || k.hops === 0) { b = 'fibre (wired)'; }
      else if (k.hops !== null) { b = 'wireless mesh, ' + k.hops + ' hop' + s_(k.hops) + ' to fibre'; }
      else { b = 'wireless mesh'; }
      out.push(['Backhaul', b]);
    }
    if (k.users !== null) { out.push(['Concurrent users', fmt(k.users, 'int') + ' expected']); }
    if (k.aps !== null) {
      var a = k.aps + ' AP' + s_(k.aps) + ' needed';
      if (k.extra > 0) {
        a += ', <b class="hs-bad">overloaded: ' + k.extra + ' extra AP' + s_(k.extra) + '</b>';
      }
      out.push(['Access points', a]);
    }
    return out;
  }
  function popup(row) {
    var h = '<table class="hs-pop">';
    for (var i = 2; i < cols.length; i++) {
      if (cols[i][2].indexOf('hide') === 0) { continue; }
      var v = row[i];
      if ((v === null || v === '') && cols[i][3]) { continue; }
      h += '<tr><th>' + cols[i][1] + '</th><td>' + fmt(v, cols[i][2]) + '</td></tr>';
    }
    netRows(row).forEach(function (r) { h += '<tr><th>' + r[0] + '</th><td>' + r[1] + '</td></tr>'; });
    return h + '</table>';
  }
  /* st.register: the network layers (orphans, issues, channels) draw these sites too. */
  var reg = null;
  if (st.register) {
    window.__hsSites = window.__hsSites || {};
    reg = window.__hsSites[{{ this.map_name|tojson }}] =
      window.__hsSites[{{ this.map_name|tojson }}] || [];
  }
  var iRadius = cols.findIndex(function (c) { return c[0] === 'radius_m'; });
  var iSource = cols.findIndex(function (c) { return c[0] === 'source_key'; });
  var iExisting = cols.findIndex(function (c) { return c[0] === 'existing_key'; });
  var iName = cols.findIndex(function (c) { return c[0] === 'name'; });
  var iStatus = cols.findIndex(function (c) { return c[0] === 'status_key'; });
  var markers = [];
  function scale(z) { return z >= 14 ? 1 : (z >= 12 ? 0.8 : 0.6); }
  t.rows.forEach(function (row) {
    var ll = [row[1], row[0]];
    /* st.flat: plain filled dots (no synthetic/existing/forbidden styling) */
    var synthetic = !st.flat && iSource >= 0 && row[iSource] === 'synthetic';
    var existing = !st.flat && iExisting >= 0 && row[iExisting] === 1;
    var forbidden = iStatus >= 0 && row[iStatus] === 'forbidden';
    if (st.circles && iRadius >= 0 && row[iRadius] > 0) {
      L.circle(ll, {radius: row[iRadius], color: st.colour, weight: 1, opacity: 0.45,
                    fillColor: st.colour, fillOpacity: 0.07, interactive: false,
                    hsKind: 'circle'}).addTo(grp);
    }
    var m = L.circleMarker(ll, {
      radius: existing ? st.radius + 1 : st.radius,
      color: forbidden ? '#b00020' : (existing ? '#000' : (synthetic ? st.colour : '#fff')),
      weight: synthetic || existing || forbidden ? 2 : (st.flat ? 0 : 1),
      fillColor: synthetic ? '#fff' : st.colour,
      fillOpacity: st.fillOpacity, hsKind: st.kind, hsGroup: st.group});
    m.bindPopup(function () { return popup(row); }, {maxWidth: 320});
    if (iName >= 0 && row[iName]) {
      m.bindTooltip(function () { return row[iName]; }, {direction: 'top', offset: [0, -4]});
    }
    m.hsBase = m.options.radius;
    if (!st.fixed) { markers.push(m); }  /* st.fixed: same size at every zoom */
    m.addTo(grp);
    if (reg) {
      reg.push({ll: ll, net: net(row), name: iName >= 0 ? row[iName] : null,
                popup: function () { return popup(row); }});
    }
  });
  var map = {{ this.map_name }};
  var last = null;
  function resize() {
    var s = scale(map.getZoom());
    if (s === last) { return; }
    last = s;
    markers.forEach(function (m) { m.setRadius(Math.max(2, m.hsBase * s)); });
  }
  map.whenReady(resize);
  map.on('zoomend', resize);
})();
{% endmacro %}
""")

    def __init__(self, table: dict, style: dict, map_name: str):
        super().__init__()
        self._name = "HotspotPoints"
        self.map_name = map_name
        self.table = _js_json(table)
        self.style = _js_json(style)


class _NetLayer(MacroElement):
    """Rings around (or dots on) the sites the site layers registered (``register``).

    ``config``: ``{"rings": [{"test": "orphan"|"conflict"|"overload", "colour", "radius",
    "weight", "dash", "kind"}]}`` draws a ring per site that passes a test;
    ``{"channels": {channel: colour}, "kind": ...}`` draws every site as a dot in its
    channel's colour. Each marker opens the site's own popup. Must be added after the
    site layers (their script registers the sites).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var grp = {{ this._parent.get_name() }};
  var net = {{ this.config }};
  var reg = (window.__hsSites || {})[{{ this.map_name|tojson }}] || [];
  var tests = {
    orphan: function (k) { return k.orphan; },
    conflict: function (k) { return k.conf > 0; },
    overload: function (k) { return k.extra > 0; }
  };
  function add(m, s) {
    m.bindPopup(s.popup, {maxWidth: 320});
    if (s.name) { m.bindTooltip(function () { return s.name; }, {direction: 'top', offset: [0, -4]}); }
    m.addTo(grp);
  }
  reg.forEach(function (s) {
    (net.rings || []).forEach(function (r) {
      if (!tests[r.test](s.net)) { return; }
      add(L.circleMarker(s.ll, {radius: r.radius, color: r.colour, weight: r.weight,
                                dashArray: r.dash || null, fill: false, hsKind: r.kind}), s);
    });
    if (net.channels && s.net.ch !== null) {
      add(L.circleMarker(s.ll, {radius: 4, color: '#fff', weight: 0.5,
                                fillColor: net.channels[String(s.net.ch)] || '#777',
                                fillOpacity: 0.95, hsKind: net.kind}), s);
    }
  });
})();
{% endmacro %}
""")

    def __init__(self, config: dict, map_name: str):
        super().__init__()
        self._name = "HotspotNetwork"
        self.map_name = map_name
        self.config = _js_json(config)


class _Panels(MacroElement):
    """Legend, summary panel, fullscreen button and minimap on plain Leaflet."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.hs-panel { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 5px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.35); font: 12px/1.35 "Helvetica Neue", Arial, sans-serif;
  color: #222; max-width: 330px; }
.hs-panel h4 { margin: 0 0 4px; font-size: 13px; }
.hs-panel summary { cursor: pointer; font-weight: bold; font-size: 13px; }
.hs-panel table { border-collapse: collapse; }
.hs-panel td, .hs-panel th { padding: 0 6px 0 0; text-align: left; vertical-align: top; }
.hs-panel th { font-weight: normal; color: #555; }
.hs-legend { max-height: 58vh; overflow-y: auto; }
.hs-legend .row { display: flex; align-items: center; margin: 2px 0; }
.hs-legend .sw { width: 14px; height: 14px; margin-right: 6px; flex: 0 0 auto;
  border: 1px solid #777; box-sizing: border-box; }
.hs-legend .dot { border-radius: 50%; border: 1px solid #fff; box-shadow: 0 0 0 1px #999; }
.hs-legend .sect { margin-top: 5px; font-weight: bold; }
.hs-legend .ramp { display: flex; align-items: flex-start; margin: 2px 0 0; }
.hs-legend .rc { display: flex; flex-direction: column; align-items: flex-start; }
.hs-legend .rb { width: 34px; height: 11px; border: 1px solid #999; margin-right: -1px; }
.hs-legend .rb.rn { width: 27px; }
.hs-legend .rl { font-size: 10px; color: #444; }
.hs-legend .ru { font-size: 10px; color: #444; align-self: flex-end; margin-left: 4px; }
.hs-legend .note { margin-top: 5px; color: #7a4a00; max-width: 230px; }
.hs-summary .met { color: #006837; font-weight: bold; }
.hs-summary .notmet { color: #b00020; font-weight: bold; }
.hs-summary .note { color: #555; margin-top: 3px; }
.hs-cmp td { text-align: right; padding: 0 0 0 8px; white-space: nowrap; }
.hs-cmp th { padding-right: 4px; }
.hs-pop th { font-weight: normal; color: #555; padding-right: 8px; text-align: left; }
.hs-bad { color: #b00020; }
.hs-summary .net td { white-space: normal; }
.hs-summary .sect { margin-top: 4px; font-weight: bold; }
.hs-summary [title] { border-bottom: 1px dotted #888; cursor: help; }
.hs-legend .orph { margin: 0 0 2px 20px; color: #555; max-width: 230px; }
.hs-fs a { font-size: 18px; line-height: 30px; text-align: center; text-decoration: none;
  color: #222; background: #fff; display: block; width: 30px; height: 30px; }
.hs-minimap { width: 150px; height: 150px; border: 2px solid rgba(0,0,0,0.3);
  border-radius: 4px; background: #eef0f2; }
.leaflet-container.hs-nobase { background: #eef0f2; }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this.map_name }};
  var cfg = {{ this.config }};
  if (!cfg.basemap) { map.getContainer().classList.add('hs-nobase'); }
  /* Until the user touches the map, keep the whole plan in view when the page or
     the map is resized (also when switching to full screen). */
  var touched = false;
  ['mousedown', 'wheel', 'keydown', 'touchstart'].forEach(function (ev) {
    map.getContainer().addEventListener(ev, function () { touched = true; }, {passive: true});
  });
  map.on('resize', function () {
    if (!touched && cfg.bounds) { map.fitBounds(cfg.bounds, {animate: false}); }
  });
  function panel(pos, cls, inner) {
    var c = L.control({position: pos});
    c.onAdd = function () {
      var d = L.DomUtil.create('div', 'hs-panel ' + cls);
      d.innerHTML = inner;  /* built in Python from escaped strings */
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    };
    c.addTo(map);
    return c;
  }
  /* Fullscreen: the Fullscreen API on the map's container, no plugin needed. */
  var fs = L.control({position: 'topleft'});
  fs.onAdd = function () {
    var d = L.DomUtil.create('div', 'leaflet-bar hs-fs');
    var a = L.DomUtil.create('a', '', d);
    a.href = '#'; a.title = 'Full screen'; a.setAttribute('role', 'button');
    a.innerHTML = '<svg width="16" height="16" viewBox="0 0 16 16" style="vertical-align:middle">' +
      '<path d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5" fill="none" stroke="#333" stroke-width="2"/></svg>';
    L.DomEvent.on(a, 'click', function (e) {
      L.DomEvent.preventDefault(e);
      var el = map.getContainer();
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (el.requestFullscreen) { el.requestFullscreen(); }
    });
    L.DomEvent.disableClickPropagation(d);
    return d;
  };
  fs.addTo(map);
  document.addEventListener('fullscreenchange', function () { map.invalidateSize(); });
  panel('topright', 'hs-summary', cfg.summary_html);
  panel('bottomleft', 'hs-legend', cfg.legend_html);
  /* Minimap: a second, passive Leaflet map with the study area and the view box. */
  var mm = L.control({position: 'bottomright'});
  mm.onAdd = function () {
    var d = L.DomUtil.create('div', 'hs-minimap');
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    return d;
  };
  mm.addTo(map);
  var mini = L.map(mm.getContainer(), {attributionControl: false, zoomControl: false,
    dragging: false, scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false,
    keyboard: false, touchZoom: false, preferCanvas: true});
  mini.setView(map.getCenter(), Math.max(0, map.getZoom() - 4), {animate: false});
  if (cfg.basemap) {
    L.tileLayer(cfg.minimap_tiles, {maxZoom: 18}).addTo(mini);
  }
  if (cfg.outline) {
    L.geoJSON(cfg.outline, {interactive: false,
      style: {color: '#444', weight: 1, fill: true, fillColor: '#fff', fillOpacity: 0.5}}).addTo(mini);
  }
  var box = L.rectangle(map.getBounds(), {color: '#d62728', weight: 1.5, fillOpacity: 0.1,
                                          interactive: false}).addTo(mini);
  function sync() {
    mini.setView(map.getCenter(), Math.max(0, map.getZoom() - 4), {animate: false});
    box.setBounds(map.getBounds());
  }
  map.on('moveend zoomend', sync);
  mini.on('click', function (e) { map.panTo(e.latlng); });
  map.whenReady(function () { setTimeout(function () { mini.invalidateSize(); sync(); }, 0); });
})();
{% endmacro %}
""")

    def __init__(self, map_name: str, config: dict):
        super().__init__()
        self._name = "HotspotPanels"
        self.map_name = map_name
        self.config = _js_json(config)


# --------------------------------------------------------------------------- HTML pieces

def _summary_html(summary: dict, selected: pd.DataFrame, offline: bool) -> str:
    metric = _metric_name(summary)
    target = _num(summary.get("target"))
    met = summary.get("target_met")
    if met is True:
        met_html = '<span class="met">&#10004; target met</span>'
    elif met is False:
        reason = esc(str(summary.get("stop_reason") or "").replace("_", " "))
        met_html = '<span class="notmet">&#10008; target not met</span>'
        if reason:
            met_html += f" <span>({reason})</span>"
    else:
        met_html = "–"
    n_sel, n_new, n_ex = (summary.get("n_selected"), summary.get("n_new"),
                          summary.get("n_existing"))
    if n_sel is None:
        n_sel = len(selected)
    sites = _int(n_sel)
    if n_new is not None or n_ex is not None:
        sites += f" ({_int(n_new)} new, {_int(n_ex)} existing kept)"
    rows = [
        ("Target", f"{_pct(target)} of {metric}" if target is not None else "–"),
        ("Result", met_html),
        ("Population covered", _pct(summary.get("coverage_population"), 2)),
        ("Area covered", _pct(summary.get("coverage_area"), 2)),
    ]
    if summary.get("max_reachable_coverage") is not None:
        rows.append(("Best reachable", _pct(summary.get("max_reachable_coverage"), 2)))
    rows += [("Sites", sites), ("Total cost (new)", _money(summary.get("total_cost")))]
    budget = summary.get("budget") or {}
    limits = []
    if budget.get("max_sites") is not None:
        limits.append(f"{_int(budget['max_sites'])} sites")
    if budget.get("max_cost") is not None:
        limits.append(f"cost {_money(budget['max_cost'])}")
    if limits:
        rows.append(("Budget", ", ".join(limits)))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    title = "Hotspot plan"
    if summary.get("scenario"):
        title += f": {esc(summary['scenario'])}"
    curve = coverage_curve_svg(selected, target, metric)
    network = _network_summary_html(summary)
    notes = ""
    if offline:
        notes += ('<div class="note">Offline map: no basemap tiles; all plan layers are '
                  'shown.</div>')
    return (f'<details open><summary>{title}</summary><table>{body}</table>{network}'
            f'<div class="sect">Coverage curve ({esc(metric)})</div>{curve}{notes}</details>')


def _network_summary_html(summary: dict) -> str:
    """The panel's network lines from summary.json's radio / channels / backhaul /
    capacity sections; empty for plans written before them. Each line stands alone, so
    a partial or odd section shows what it can."""
    def section(key):
        v = summary.get(key)
        return v if isinstance(v, dict) and v else None

    def plural(n, word):
        return f"{_int(n)} {word}{'' if _num(n) == 1 else 's'}"

    rows = []
    radio = section("radio")
    if radio:
        items = []
        for cat, r in radio.items():
            if not isinstance(r, dict):
                continue
            src = str(r.get("source") or "")
            how = "link budget" if "link" in src.lower() else ("fixed" if src else "")
            tip = r.get("explanation") or src
            items.append(f'{esc(_category_label(summary, str(cat)))} '
                         f'<span title="{esc(tip)}">{_int(r.get("radius_m"))} m</span>'
                         + (f" ({how})" if how else ""))
        if items:
            rows.append(("Radius", "<br>".join(items)))
    channels = section("channels")
    if channels:
        items = []
        for band, c in channels.items():
            if not isinstance(c, dict):
                continue
            chs = "/".join(_int(x) for x in (c.get("channels") or []) if _num(x) is not None)
            conflicts = _num(c.get("conflicts"))
            text = f"{esc(band)} GHz" + (f" ({chs})" if chs else "") + ": "
            if conflicts is None:
                text += "–"
            elif conflicts == 0:
                text += "no same-channel conflicts"
            else:
                text += (f'<span class="notmet">{plural(conflicts, "conflict")}</span> '
                         f'({plural(c.get("sites_with_conflicts"), "site")})')
            items.append(text)
        if items:
            rows.append(("Channels", "<br>".join(items)))
    back = section("backhaul")
    if back:
        orphans = back.get("orphans")
        n_orph = len(orphans) if isinstance(orphans, list) else _num(orphans)
        text = f"{_int(back.get('wired_sites'))} fibre, {_int(back.get('wireless_sites'))} wireless"
        if n_orph:
            text += f'; <span class="notmet">{plural(n_orph, "orphan")}</span> (no path to fibre)'
        elif n_orph == 0:
            text += "; no orphans"
        if _num(back.get("max_hops")):
            text += f"; ≤ {plural(back.get('max_hops'), 'hop')}"
        rows.append(("Backhaul", text))
    cap = section("capacity")
    if cap:
        text = f"{_int(cap.get('concurrent_users'))} concurrent users"
        over = _num(cap.get("overloaded_sites"))
        if over:
            text += (f'; <span class="notmet">{plural(over, "overloaded site")}</span> '
                     f'need{"s" if over == 1 else ""} '
                     f'{plural(cap.get("extra_aps"), "extra AP")}')
        elif over == 0:
            text += "; no site overloaded"
        rows.append(("Capacity", text))
    if not rows:
        return ""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<div class="sect">Network</div><table class="net">{body}</table>'


def _ramp_html(items: list[tuple[str, str]], unit: str, narrow: bool = False) -> str:
    """A horizontal row of colour boxes with their (lower-bound) labels under them."""
    rb = "rb rn" if narrow else "rb"
    cells = "".join(f'<span class="rc"><span class="{rb}" style="background:{c}"></span>'
                    f'<span class="rl">{lab}</span></span>' for c, lab in items)
    return f'<div class="ramp">{cells}<span class="ru">{unit}</span></div>'


def _legend_row(colour: str, label_html: str, style: str = "", dot: bool = True) -> str:
    """One legend line: a swatch (a dot, or a square) and an already-escaped label."""
    shape = "sw dot" if dot else "sw"
    return (f'<div class="row"><span class="{shape}" style="background:{colour};{style}">'
            f'</span>{label_html}</div>')


def _ring_row(colour: str, label_html: str, dashed: bool = False) -> str:
    style = (f"background:transparent;border:2px {'dashed' if dashed else 'solid'} {colour};"
             "box-shadow:none")
    return _legend_row("transparent", label_html, style)


def _legend_html(cats: list[tuple[str, str, str, int]], any_synthetic: bool,
                 any_existing_elsewhere: bool, uncovered_classes: list[int],
                 density_layer: bool = False, network: dict | None = None) -> str:
    parts = ['<details open><summary>Legend</summary>']
    parts.append('<div class="sect">Selected hotspots</div>')
    for _cat, label, colour, count in cats:
        parts.append(_legend_row(colour, f"{esc(label)} ({count:,})"))
    if any_existing_elsewhere:
        parts.append(_legend_row("#888", "existing hotspot (black ring)",
                                 "box-shadow:0 0 0 2px #000"))
    if any_synthetic:
        parts.append(_legend_row("#fff", "synthetic site (hollow)", "box-shadow:0 0 0 2px #555"))
    parts.append(_legend_row("#9e9e9e", "candidate not selected (layer off)",
                             "width:10px;height:10px;margin:2px 8px 2px 2px"))
    if network is not None:
        parts.append(_network_legend_html(network))
    parts.append('<div class="sect">District coverage</div>')
    ramp = [(c, f"{COVERAGE_BREAKS[k] * 100:g}") for k, c in enumerate(COVERAGE_COLOURS)]
    parts.append(_ramp_html(ramp, "%"))
    if uncovered_classes:
        parts.append('<div class="sect">Uncovered demand, residents/km²</div>')
        short = ["none", "<1k", "1k", "5k", "20k+"]
        parts.append(_ramp_html([(UNCOVERED_COLOURS[k], short[k]) for k in uncovered_classes],
                                ""))
    if density_layer:
        parts.append('<div class="sect">Population density layer (off at start)</div>')
        short = ["none", "<1k", "1k", "5k", "20k+"]
        parts.append(_ramp_html(list(zip(DENSITY_COLOURS, short)), "/km²"))
    if any_synthetic:
        parts.append('<div class="note">Hollow markers are <b>synthetic</b> sites: generated '
                     'stand-ins where real site data was missing, not real buildings.</div>')
    parts.append("</details>")
    return "".join(parts)


def _network_legend_html(net: dict) -> str:
    parts = ['<div class="sect">Network</div>']
    if net["orphans"]:
        parts.append(_ring_row(ORPHAN_COLOUR, f"backhaul orphan: no path to fibre "
                                              f"({len(net['orphans']):,})"))
        shown = ", ".join(esc(x) for x in net["orphans"][:LEGEND_ORPHANS])
        more = len(net["orphans"]) - LEGEND_ORPHANS
        parts.append(f'<div class="orph">{shown}{f", … {more:,} more" if more > 0 else ""}'
                     '</div>')
    if net["conflict"]:
        parts.append(_ring_row(CONFLICT_COLOUR, f"same-channel conflict ({net['conflict']:,})",
                               dashed=True))
    if net["overload"]:
        parts.append(_ring_row(OVERLOAD_COLOUR, f"overloaded, needs extra APs "
                                                f"({net['overload']:,})"))
    if not (net["orphans"] or net["conflict"] or net["overload"]):
        parts.append('<div>no orphans, channel conflicts or overloaded sites</div>')
    if net["channels"]:
        parts.append(_ramp_html([(c, _int(ch)) for ch, c in net["channels"].items()],
                                "channel (layer off)", narrow=True))
    return "".join(parts)


def _network_of(sel: pd.DataFrame) -> dict | None:
    """What the network layers and legend show; None for a plan without network columns."""
    if not any(key in sel.columns for key, _kind in NET_COLUMNS):
        return None
    orphan = _bools(_col(sel, "orphan", False))
    conflict = pd.to_numeric(_col(sel, "channel_conflicts", 0), errors="coerce").fillna(0) > 0
    overload = pd.to_numeric(_col(sel, "extra_aps", 0), errors="coerce").fillna(0) > 0
    names = [nm if nm is not None and nm is not pd.NA and nm == nm else i
             for nm, i in zip(_col(sel, "name", None), _col(sel, "site_id", None))]
    chans = pd.to_numeric(_col(sel, "channel", None), errors="coerce").dropna()
    chans = sorted({int(c) if float(c).is_integer() else float(c) for c in chans})
    return {"orphans": [n for n, o in zip(names, orphan) if o],
            "conflict": int(conflict.sum()), "overload": int(overload.sum()),
            "issues": int((conflict | overload).sum()),
            "channels": {ch: CHANNEL_PALETTE[k % len(CHANNEL_PALETTE)]
                         for k, ch in enumerate(chans)}}


def _ring_swatch(colour: str, dashed: bool = False) -> str:
    return (f'<span style="display:inline-block;width:8px;height:8px;border-radius:50%;'
            f'border:2px {"dashed" if dashed else "solid"} {colour};margin-right:4px"></span>')


def _network_layers(m: folium.Map, net: dict) -> None:
    """Backhaul orphans and network issues (rings, on), channels (dots, off)."""
    def group(name, config, show):
        fg = folium.FeatureGroup(name=name, show=show)
        fg.add_child(_NetLayer(config, m.get_name()))
        fg.add_to(m)

    if net["orphans"]:
        group(f"{_ring_swatch(ORPHAN_COLOUR)}Backhaul orphans ({len(net['orphans']):,})",
              {"rings": [{"test": "orphan", "colour": ORPHAN_COLOUR, "radius": 11, "weight": 3,
                          "kind": "orphan"}]}, True)
    if net["issues"]:
        group(f"{_ring_swatch(CONFLICT_COLOUR, True)}{_ring_swatch(OVERLOAD_COLOUR)}"
              f"Network issues ({net['issues']:,} sites)",
              {"rings": [{"test": "overload", "colour": OVERLOAD_COLOUR, "radius": 8,
                          "weight": 2.5, "kind": "overload"},
                         {"test": "conflict", "colour": CONFLICT_COLOUR, "radius": 14,
                          "weight": 2, "dash": "4 3", "kind": "conflict"}]}, True)
    if net["channels"]:
        group("Channels", {"channels": {str(k): v for k, v in net["channels"].items()},
                           "kind": "channel"}, False)


# --------------------------------------------------------------------------- tables

def _col(df: pd.DataFrame, name: str, default=None) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series([default] * len(df), index=df.index, dtype=object)


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    try:
        return bool(v) and not (isinstance(v, float) and math.isnan(v))
    except (TypeError, ValueError):
        return False


def _bools(series: pd.Series) -> np.ndarray:
    """A flag column as a bool array (fast when it already is one)."""
    if pd.api.types.is_bool_dtype(series.dtype) and not series.hasnans:
        return series.to_numpy(bool)
    return series.map(_bool).to_numpy(bool)


#: Digits kept per value kind in the JSON tables (what the popups can show, no more).
_DIGITS = {"int": 0, "m": 1, "pct": 6, "km2": 0, "num": 2, "hide_num": 2}


def _numbers(values: pd.Series, kind: str) -> list:
    """Numbers for a JSON table: rounded for ``kind``, integral ones as ints, None if missing."""
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    arr = np.round(arr, _DIGITS.get(kind, 6))
    return [None if not math.isfinite(v) else (int(v) if v.is_integer() and abs(v) < 1e15
                                                else v) for v in arr.tolist()]


def _texts(values) -> list:
    """Escaped strings for a JSON table (None when missing)."""
    out = []
    for v in values:
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        else:
            out.append(esc(v))
    return out


#: Network columns of ``selected_sites`` (docs/outputs.md): hidden table columns the
#: popups and the network layers read, and how each is stored.
NET_COLUMNS = [("band", "hide_text"), ("channel", "hide_num"), ("channel_conflicts", "hide_num"),
               ("wired", "hide_bool"), ("hops", "hide_num"), ("orphan", "hide_bool"),
               ("concurrent_users", "hide_num"), ("aps_needed", "hide_num"),
               ("extra_aps", "hide_num")]


def _site_table(df: gpd.GeoDataFrame, summary: dict, selected: bool) -> dict:
    """Compact table: cols = [key, label (HTML), kind, hide-if-empty], rows = lists.

    Kinds starting with ``hide`` are not popup rows: the drawing code reads them (the
    network columns of selected sites, when the plan has them, make the popup's network
    lines and the orphan / issue / channel layers). Built column by column, so a
    city's thousands of sites take milliseconds.
    """
    metric = _metric_name(summary)
    cols = [("lon", "", "hide", False), ("lat", "", "hide", False),
            ("name", "Name", "text", False), ("category_label", "Category", "text", False),
            ("source", "Source", "text", False), ("site_id", "Site id", "text", False),
            ("radius_m", "Radius", "m", False), ("cost", "Cost", "num", False)]
    if selected:
        cols += [("rank", "Rank (greedy order)", "int", False),
                 ("marginal_population", "Population gained", "int", True)]
        if metric == "area":
            cols.append(("marginal_area_m2", "Area gained", "km2", True))
        cols += [("cumulative_coverage", f"Coverage after it ({metric})", "pct", False),
                 ("flags", "Note", "text", True)]
        cols += [(key, "", kind, False) for key, kind in NET_COLUMNS if key in df.columns]
    else:
        cols.append(("status", "Status", "text", False))
    cols += [("source_key", "", "hide", False), ("existing_key", "", "hide", False)]
    if not selected:
        cols.append(("status_key", "", "hide", False))

    xs = np.round(df.geometry.x.to_numpy(float), COORD_DECIMALS)
    ys = np.round(df.geometry.y.to_numpy(float), COORD_DECIMALS)
    ok = np.isfinite(xs) & np.isfinite(ys)
    df, xs, ys = df[ok], xs[ok], ys[ok]
    n = len(df)
    cats = _col(df, "category", "").astype(str).tolist()
    src = [str(v).strip().lower() if v is not None and v is not pd.NA and v == v else "real"
           for v in _col(df, "source", "real").tolist()]
    existing = _bools(_col(df, "existing", False))
    ids = _col(df, "site_id", None).tolist()
    names = [nm if nm is not None and nm is not pd.NA and nm == nm else i
             for nm, i in zip(_col(df, "name", None).tolist(), ids)]
    labels = {c: _category_label(summary, c) for c in set(cats)}
    values: dict[str, list] = {
        "lon": xs.tolist(), "lat": ys.tolist(),
        "name": _texts(names), "category_label": _texts(labels[c] for c in cats),
        "source": _texts(src), "site_id": _texts(ids),
        "source_key": ["synthetic" if v == "synthetic" else "real" for v in src],
        "existing_key": existing.astype(int).tolist(),
    }
    if selected:
        forced = _bools(_col(df, "forced", False))
        values["flags"] = [
            "; ".join(f for f, on in (("existing hotspot, kept", e), ("forced by the scenario", f_))
                      if on) or None for e, f_ in zip(existing, forced)]
    else:
        status = _col(df, "status", "not_selected").astype(str).tolist()
        values["status"] = _texts(v.replace("_", " ") for v in status)
        values["status_key"] = ["forbidden" if v == "forbidden" else "ok" for v in status]
    for key, _label, kind, _opt in cols:
        if key in values:
            continue
        if kind == "hide_bool":
            values[key] = _bools(df[key]).astype(int).tolist()
        elif kind in ("text", "hide_text"):
            values[key] = _texts(_col(df, key, None).tolist())
        else:
            values[key] = _numbers(_col(df, key, None), kind)
    columns = [values[key] for key, *_ in cols]
    rows = [list(r) for r in zip(*columns)] if n else []
    return {"cols": [list(c) for c in cols], "rows": rows}


# --------------------------------------------------------------------------- offline assets

def _leaflet_assets() -> tuple[str, str]:
    """leaflet.js and leaflet.css (images as data URIs) from XStatic-Leaflet."""
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise RuntimeError("offline maps need the package XStatic-Leaflet "
                           "(pip install XStatic-Leaflet)") from exc
    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        rel = match.group(1).strip("'\"")
        path = base / rel
        if not path.is_file():
            return match.group(0)
        b64 = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{b64})"

    css = re.sub(r"url\((images/[^)]+)\)", data_uri, css)
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover
        raise RuntimeError("cannot inline Leaflet: it contains a closing tag")
    return js, css


_FETCH_PATTERNS = [
    re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.I),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.I),
    re.compile(r"<(?:img|iframe|embed|source|video|audio)\b[^>]*\bsrc\s*=\s*[\"']?([^\"'\s>]+)",
               re.I),
    re.compile(r"url\(\s*[\"']?(https?:[^\"')\s]+)", re.I),
    re.compile(r"@import\s+[\"']?(https?:[^\"';\s]+)", re.I),
]


def find_fetched_urls(page: str) -> list[str]:
    """Remote URLs a browser would fetch from this page (script/link/img/CSS url()).

    Plain links (``<a href>``, e.g. tile attributions) are not fetched and are ignored.
    """
    found = []
    for pat in _FETCH_PATTERNS:
        for m in pat.finditer(page):
            url = m.group(1)
            if re.match(r"(?i)(https?:)?//", url):
                found.append(url)
    return found


# --------------------------------------------------------------------------- test hooks

#: Installed first in <head> with ``test_hooks=True``: records JS errors and dialogs, and
#: on load writes what Leaflet actually holds into data-hs-* attributes on <body>.
TEST_HOOK_SCRIPT = r"""<script>
(function () {
  var errs = [], dialogs = [];
  window.__hsErrors = errs; window.__hsDialogs = dialogs;
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) { errs.push('resource: ' + (t.src || t.href)); }
    else { errs.push('error: ' + (e.message || e) + ' at ' + e.lineno + ':' + e.colno); }
  }, true);
  window.addEventListener('unhandledrejection', function (e) { errs.push('rejection: ' + e.reason); });
  var ce = console.error;
  console.error = function () {
    errs.push('console: ' + Array.prototype.join.call(arguments, ' '));
    return ce.apply(console, arguments);
  };
  ['alert', 'confirm', 'prompt', 'print'].forEach(function (n) {
    window[n] = function (m) { dialogs.push(n + ':' + m); return null; };
  });
  function visible(sel) {
    var el = document.querySelector(sel);
    if (!el) { return false; }
    var r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' &&
      r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight;
  }
  window.addEventListener('load', function () {
    setTimeout(function () {
      var b = document.body, maps = [], sites = 0, circles = 0, districts = 0, uncovered = 0;
      document.querySelectorAll('.folium-map').forEach(function (el) {
        if (window[el.id] && window[el.id].eachLayer) { maps.push(window[el.id]); }
      });
      var siteLayers = [], distLayers = [], ringLayers = [], groups = {}, feats = {}, kinds = {};
      maps.forEach(function (m) {
        m.eachLayer(function (l) {
          var o = l.options || {};
          if (o.hsKind === 'site') { sites++; siteLayers.push(l); }
          if (o.hsKind === 'circle') { circles++; }
          if (o.hsGroup) { groups[o.hsGroup] = (groups[o.hsGroup] || 0) + 1; }
          if (o.hsKind) { kinds[o.hsKind] = (kinds[o.hsKind] || 0) + 1; }
          if (o.hsKind === 'orphan') { ringLayers.push(l); }
          var p = l.feature && l.feature.properties;
          if (p && p.hs_layer && l.getLatLngs) { feats[p.hs_layer] = (feats[p.hs_layer] || 0) + 1; }
          if (p && p.hs_layer === 'district' && l.getLatLngs) { districts++; distLayers.push(l); }
          if (p && p.hs_layer === 'uncovered' && l.getLatLngs) { uncovered++; }
        });
      });
      /* Open up to 30 popups and district tooltips and record the text they show. */
      var popups = [], tooltips = [], ringPopups = [];
      function norm(s) { return s.replace(/\s+/g, ' ').trim(); }
      try {
        siteLayers.slice(0, 30).forEach(function (l) {
          l.openPopup();
          var pe = l.getPopup() && l.getPopup().getElement();
          popups.push(pe ? norm(pe.textContent) : '');
          l.closePopup();
        });
        ringLayers.slice(0, 30).forEach(function (l) {
          l.openPopup();
          var pe = l.getPopup() && l.getPopup().getElement();
          ringPopups.push(pe ? norm(pe.textContent) : '');
          l.closePopup();
        });
        distLayers.slice(0, 30).forEach(function (l) {
          var ev = {latlng: l.getBounds().getCenter(), layer: l};
          l.fire('mouseover', ev, true);
          var tip = null;
          Object.keys(l._eventParents || {}).forEach(function (k) {
            var g = l._eventParents[k];
            if (!tip && g.getTooltip && g.getTooltip()) { tip = g.getTooltip(); }
          });
          var te = tip && tip.getElement();
          tooltips.push(te ? norm(te.textContent) : '');
          l.fire('mouseout', ev, true);
        });
      } catch (e) { errs.push('hook: ' + e); }
      b.setAttribute('data-hs-leaflet', window.L ? L.version : 'none');
      b.setAttribute('data-hs-maps', String(maps.length));
      b.setAttribute('data-hs-size', maps.length ? maps[0].getSize().x + 'x' + maps[0].getSize().y +
        ' window ' + innerWidth + 'x' + innerHeight : '');
      b.setAttribute('data-hs-load-ms', String(Math.round(performance.now())));
      b.setAttribute('data-hs-sites', String(sites));
      b.setAttribute('data-hs-circles', String(circles));
      b.setAttribute('data-hs-districts', String(districts));
      b.setAttribute('data-hs-uncovered', String(uncovered));
      b.setAttribute('data-hs-groups', JSON.stringify(groups));
      b.setAttribute('data-hs-features', JSON.stringify(feats));
      b.setAttribute('data-hs-kinds', JSON.stringify(kinds));
      b.setAttribute('data-hs-ring-popups', JSON.stringify(ringPopups));
      var panel = document.querySelector('.hs-summary');
      b.setAttribute('data-hs-panel-text', panel ? norm(panel.textContent) : '');
      b.setAttribute('data-hs-legend', String(visible('.hs-legend')));
      b.setAttribute('data-hs-summary', String(visible('.hs-summary')));
      b.setAttribute('data-hs-curve', String(!!document.querySelector('.hs-summary svg polyline')));
      b.setAttribute('data-hs-layercontrol', String(!!document.querySelector('.leaflet-control-layers')));
      b.setAttribute('data-hs-scale', String(!!document.querySelector('.leaflet-control-scale')));
      b.setAttribute('data-hs-minimap', String(!!document.querySelector('.hs-minimap.leaflet-container')));
      b.setAttribute('data-hs-fullscreen', String(!!document.querySelector('.hs-fs a')));
      b.setAttribute('data-hs-injected', String(!!document.querySelector(
        'img[src="x"], img[onerror], script[data-hostile], [onerror]')));
      b.setAttribute('data-hs-popups', JSON.stringify(popups));
      b.setAttribute('data-hs-tooltips', JSON.stringify(tooltips));
      b.setAttribute('data-hs-errors', JSON.stringify(errs));
      b.setAttribute('data-hs-dialogs', JSON.stringify(dialogs));
      b.setAttribute('data-hs-done', 'true');
    }, 50);
  });
})();
</script>"""


# --------------------------------------------------------------------------- main entry

def render_map(plan_dir: str | os.PathLike, out_path: str | os.PathLike | None = None,
               offline: bool = False, *, show_candidates: bool = False,
               show_density: bool = False, test_hooks: bool = False) -> Path:
    """Render the interactive map of a saved plan folder; return the HTML path.

    ``plan_dir`` holds ``summary.json`` and ``plan.gpkg`` (docs/outputs.md). The page
    goes to ``out_path`` (default ``plan_dir/map.html``), written atomically.
    ``offline=True`` inlines Leaflet and uses no basemap, so the page needs no network.
    ``show_candidates`` / ``show_density`` switch those layers on initially.
    ``test_hooks=True`` adds a script that reports what the browser rendered as
    ``data-hs-*`` attributes on ``<body>`` (used by the tests).
    """
    plan_dir = Path(plan_dir)
    out = Path(out_path) if out_path is not None else plan_dir / "map.html"
    page = build_map_html(load_plan(plan_dir), offline=offline,
                          show_candidates=show_candidates, show_density=show_density,
                          test_hooks=test_hooks)
    return _write_atomic(out, page)


def _write_atomic(out: Path, page: str) -> Path:
    """Write ``page`` to ``out`` through a temporary file and ``os.replace``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".map-", suffix=".html.tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return out


def _extent(frames) -> tuple[float, float, float, float]:
    """minx, miny, maxx, maxy over the non-empty frames (the world if none)."""
    frames = [f for f in frames if f is not None and len(f)]
    if frames:
        bounds = np.array([f.total_bounds for f in frames])
        minx, miny = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
        maxx, maxy = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    else:
        minx = miny = maxx = maxy = float("nan")
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        minx, miny, maxx, maxy = -180.0, -60.0, 180.0, 75.0
    return float(minx), float(miny), float(maxx), float(maxy)


def _new_map(extent, offline: bool) -> folium.Map:
    """A canvas-rendered folium map that loads only Leaflet (and tiles when online)."""
    minx, miny, maxx, maxy = extent
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=11,
                   tiles=None, prefer_canvas=True, control_scale=True)
    # Only Leaflet is needed: no jQuery / Bootstrap / awesome-markers / Font Awesome.
    m.default_js = [("leaflet", LEAFLET_JS_URL)]
    m.default_css = [("leaflet_css", LEAFLET_CSS_URL)]
    if not offline:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
    return m


def _add_outline(m: folium.Map, plan: PlanData, tol: float) -> dict | None:
    """Draw the study area outline; return it (or the districts' union) for the minimap."""
    if plan.study_area is not None and len(plan.study_area):
        sa = _round_geoms(_simplify(plan.study_area.geometry.to_numpy(), tol * 2), 5)
        outline = _geojson(sa, [{"hs_layer": "study_area"} for _ in sa])
        folium.GeoJson(outline, name="Study area", interactive=False,
                       style_function=lambda f: {"color": "#222", "weight": 2, "fill": False,
                                                 "dashArray": "6 4"}).add_to(m)
        return outline
    if plan.districts is not None and len(plan.districts):
        merged = _round_geoms(_simplify([plan.districts.union_all()], tol * 2), 5)
        return _geojson(merged, [{}])
    return None


def _add_panels(m: folium.Map, extent, offline: bool, outline: dict | None,
                summary_html: str, legend_html: str) -> None:
    """Summary panel, legend, fullscreen, minimap, layer control; fit to ``extent``."""
    minx, miny, maxx, maxy = extent
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    config = {
        "basemap": not offline,
        "bounds": [[miny, minx], [maxy, maxx]],
        "outline": outline,
        "summary_html": summary_html,
        "legend_html": legend_html,
    }
    if not offline:
        config["minimap_tiles"] = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    m.add_child(_Panels(m.get_name(), config))


def build_map_html(plan: PlanData, offline: bool = False, *, show_candidates: bool = False,
                   show_density: bool = False, test_hooks: bool = False) -> str:
    """The map page as a string (see :func:`render_map`)."""
    summary = plan.summary
    sel = plan.selected
    tol = _district_tolerance(summary)

    extent = _extent((plan.study_area, plan.districts, sel))
    m = _new_map(extent, offline)

    # ---- districts choropleth
    if plan.districts is not None and len(plan.districts):
        d = plan.districts
        summ_d = {str(x.get("name")): x for x in (summary.get("districts") or [])
                  if isinstance(x, dict)}
        geoms = _round_geoms(_simplify(d.geometry.to_numpy(), tol))
        props = []
        metric = _metric_name(summary)
        for i in range(len(d)):
            row = d.iloc[i]
            name = row.get("name")
            extra = summ_d.get(str(name), {})
            cov = _num(row.get("coverage"))
            if cov is None:
                cov = _num(extra.get("coverage_population" if metric == "population"
                                     else "coverage_area"))
            pop = row.get("population") if "population" in d else extra.get("population")
            n_sites = row.get("n_sites") if "n_sites" in d else extra.get("n_sites")
            props.append({
                "hs_layer": "district",
                "name": esc(name),
                "population": _int(pop),
                "coverage": _pct(cov),
                "coverage_population": _pct(row.get("coverage_population",
                                                    extra.get("coverage_population"))),
                "coverage_area": _pct(row.get("coverage_area", extra.get("coverage_area"))),
                "n_sites": _int(n_sites),
                "colour": _coverage_colour(cov),
            })
        _district_layer(m, geoms, props, "Districts: coverage",
                        {"name": "District", "population": "Population",
                         "coverage_population": "Population covered",
                         "coverage_area": "Area covered", "n_sites": "Sites"})

    # ---- uncovered demand (and optional density "heat" layer)
    uncovered_classes: list[int] = []
    has_density = False
    cell_m = _num(summary.get("cell_size_m")) or 100.0
    if plan.cells is not None and len(plan.cells):
        cells = plan.cells
        covered = _bools(cells["covered"]) if "covered" in cells \
            else np.zeros(len(cells), bool)
        cxy = _cell_centroids(cells)
        unc, bin_m = _dissolve_cells(cells, ~covered, cell_m, centroids=cxy)
        if unc:
            uncovered_classes = [p["class"] for p in unc]
            label_suffix = "" if bin_m is None else f" (drawn on a {bin_m:,.0f} m grid)"
            props = [{
                "hs_layer": "uncovered",
                "label": DENSITY_LABELS[p["class"]] + label_suffix,
                "population": _int(p["population"]),
                "area": _km2(p["area_m2"]),
                "unreachable": _int(p["unreachable_population"]),
                "colour": UNCOVERED_COLOURS[p["class"]],
            } for p in unc]
            _cells_layer(m, unc, props, "Uncovered demand",
                         {"label": "Uncovered, density", "population": "Residents",
                          "area": "Area",
                          "unreachable": "of them out of reach of every candidate"})
        image = _density_image(cells, cell_m, centroids=cxy)
        has_density = image is not None
        if image is not None:
            folium.raster_layers.ImageOverlay(
                image=image[0], bounds=image[1], name="Population density (all demand)",
                show=show_density, opacity=0.8, pixelated=True, interactive=False,
            ).add_to(m)

    # ---- selected sites, one layer per category
    cats_all = list(_col(sel, "category", "").astype(str))
    cand_cats = [] if plan.candidates is None else \
        list(_col(plan.candidates, "category", "").astype(str))
    colours = category_colours(set(cats_all) | set(cand_cats))
    if "rank" in sel.columns:
        sel = sel.assign(_r=pd.to_numeric(sel["rank"], errors="coerce")).sort_values(
            "_r", kind="stable").drop(columns="_r")
    counts = pd.Series(cats_all).value_counts() if cats_all else pd.Series(dtype=int)
    order = sorted(counts.index, key=lambda c: (c not in KNOWN_CATEGORY_COLOURS,
                                               list(KNOWN_CATEGORY_COLOURS).index(c)
                                               if c in KNOWN_CATEGORY_COLOURS else 0, c))
    legend_cats = []
    sel_cat = _col(sel, "category", "").astype(str)
    for cat in order:
        sub = sel[sel_cat == cat]
        label = _category_label(summary, cat)
        colour = colours[cat]
        _point_group(m, f"{esc(label)} ({len(sub):,})", _site_table(sub, summary, selected=True),
                     {"colour": colour, "radius": 5, "fillOpacity": 0.95, "circles": True,
                      "kind": "site", "register": True}, swatch=True)
        legend_cats.append((cat, label, colour, len(sub)))

    # ---- network checks (issue #6): orphans and issues ringed, channels; after the sites
    network = _network_of(sel)
    if network is not None:
        _network_layers(m, network)

    # ---- candidates not selected
    any_synth = bool((_col(sel, "source", "real").astype(str).str.lower() == "synthetic").any())
    if plan.candidates is not None and len(plan.candidates):
        c = plan.candidates
        any_synth = any_synth or bool(
            (_col(c, "source", "real").astype(str).str.lower() == "synthetic").any())
        status = _col(c, "status", "not_selected").astype(str)
        rest = c[status != "selected"]
        if len(rest):
            _point_group(m, f"Candidates not selected ({len(rest):,})",
                         _site_table(rest, summary, selected=False),
                         {"colour": "#9e9e9e", "radius": 3, "fillOpacity": 0.8,
                          "circles": False, "kind": "candidate"}, show=show_candidates)
    # existing hotspots filed under another category get a black ring; say so
    any_existing = bool((_col(sel, "existing", False).map(_bool)
                         & (_col(sel, "category", "").astype(str) != "existing")).any())

    # ---- study area outline (also the minimap's content), panels
    outline = _add_outline(m, plan, tol)
    _add_panels(m, extent, offline, outline,
                summary_html=_summary_html(summary, sel, offline),
                legend_html=_legend_html(legend_cats, any_synth, any_existing,
                                         uncovered_classes, density_layer=has_density,
                                         network=network))
    title = "Hotspot plan"
    if summary.get("scenario"):
        title += f" – {esc(summary['scenario'])}"
    return _finish_page(m.get_root().render(), title, offline=offline, test_hooks=test_hooks)


def _point_group(m: folium.Map, name: str, table: dict, style: dict, *, show: bool = True,
                 swatch: bool = False) -> None:
    """A layer-control entry ``name`` (escaped HTML) drawing ``table`` as canvas markers."""
    if swatch:
        name = (f'<span style="display:inline-block;width:10px;height:10px;border-radius:50%;'
                f'background:{style["colour"]};margin-right:4px"></span>{name}')
    fg = folium.FeatureGroup(name=name, show=show)
    fg.add_child(_PointLayer(table, style, m.get_name()))
    fg.add_to(m)


def _district_layer(m: folium.Map, geoms, props: list[dict], name: str,
                    tooltip: dict[str, str]) -> None:
    """District polygons filled with ``props[i]["colour"]``, tooltip fields -> labels."""
    folium.GeoJson(
        _geojson(geoms, props), name=name,
        style_function=lambda f: {"color": "#444", "weight": 1.5, "opacity": 0.9,
                                  "fillColor": f["properties"]["colour"],
                                  "fillOpacity": 0.35},
        highlight_function=lambda f: {"weight": 3, "fillOpacity": 0.5},
        tooltip=folium.GeoJsonTooltip(fields=list(tooltip), aliases=list(tooltip.values()),
                                      sticky=True),
        smooth_factor=1.0,
    ).add_to(m)


def _cells_layer(m: folium.Map, pieces: list[dict], props: list[dict], name: str,
                 tooltip: dict[str, str], fill_opacity: float = 0.65) -> None:
    """Dissolved cells (from :func:`_dissolve_cells`) filled with their ``colour``."""
    folium.GeoJson(
        _geojson([p["geometry"] for p in pieces], props), name=name,
        style_function=lambda f: {"color": f["properties"]["colour"], "weight": 0.5,
                                  "fillColor": f["properties"]["colour"],
                                  "fillOpacity": fill_opacity},
        tooltip=folium.GeoJsonTooltip(fields=list(tooltip), aliases=list(tooltip.values()),
                                      sticky=True),
    ).add_to(m)


def _finish_page(page: str, title: str, offline: bool, test_hooks: bool) -> str:
    """Add charset and ``title`` (already escaped), test hooks; inline Leaflet offline."""
    head = f'<meta charset="utf-8">\n<title>{title}</title>\n'
    if test_hooks:
        head = TEST_HOOK_SCRIPT + "\n" + head
    if "<head>" not in page:  # pragma: no cover - folium always writes one
        raise RuntimeError("unexpected folium output: no <head>")
    page = page.replace("<head>", "<head>\n" + head, 1)
    if offline:
        js, css = _leaflet_assets()
        js_tag = re.compile(r'<script\s+src="' + re.escape(LEAFLET_JS_URL) + r'"\s*>\s*</script>')
        css_tag = re.compile(r'<link\s+rel="stylesheet"\s+href="' + re.escape(LEAFLET_CSS_URL)
                             + r'"\s*/?>')
        page, n_js = js_tag.subn(lambda _m: f"<script>{js}</script>", page, count=1)
        page, n_css = css_tag.subn(lambda _m: f"<style>{css}</style>", page, count=1)
        if n_js != 1 or n_css != 1:  # pragma: no cover - folium changed its output
            raise RuntimeError("could not inline Leaflet into the offline map")
        remote = find_fetched_urls(page)
        if remote:  # pragma: no cover - guard against a new CDN tag
            raise RuntimeError(f"offline map would still fetch: {remote[:5]}")
    return page


# --------------------------------------------------------------------------- compare map

#: Change in district coverage, percentage points: class edges and colours (loss -> gain).
#: Fine steps near zero: a what-if of a few sites moves a district by hundredths of a pp.
CHANGE_BREAKS_PP = [-math.inf, -5.0, -1.0, -0.1, -0.01, 0.01, 0.1, 1.0, 5.0, math.inf]
CHANGE_COLOURS = ["#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7",
                  "#d9f0d3", "#a6dba0", "#5aae61", "#1b7837"]
#: Ramp labels: each class's lower edge (pp), the middle class is "no change".
CHANGE_LABELS = ["<−5", "−5", "−1", "−.1", "≈0", "+.01", "+.1", "+1", "+5"]
GAIN_COLOUR, LOSS_COLOUR, KEPT_COLOUR = "#1a9641", "#d7191c", "#8c8c8c"
#: Two plans share a demand grid when these summary.json keys agree (and the cells do).
GRID_KEYS = ("cell_size_m", "crs_metric", "n_cells")


def render_compare_map(before_dir: str | os.PathLike, after_dir: str | os.PathLike,
                       out_path: str | os.PathLike, offline: bool = False, *,
                       test_hooks: bool = False) -> Path:
    """Render a before/after map of two plan folders; return the HTML path.

    One map with a layer pair per change: sites only in ``before_dir`` (removed, red),
    only in ``after_dir`` (added, green) and in both (kept, grey), matched by
    ``site_id``; demand cells that became covered (gained) or uncovered (lost),
    dissolved, when both plans use the same demand grid; districts coloured by the
    change in coverage; and a panel with the overall figures before and after.
    Written atomically to ``out_path``; ``offline`` and ``test_hooks`` as in
    :func:`render_map`. Raises :class:`~coverage.errors.InputError` when a folder
    is not a plan folder.
    """
    a, b = load_plan(before_dir), load_plan(after_dir)
    labels = (_plan_label(a, before_dir), _plan_label(b, after_dir))
    page = build_compare_html(a, b, labels, offline=offline, test_hooks=test_hooks)
    return _write_atomic(Path(out_path), page)


def _plan_label(plan: PlanData, folder) -> str:
    name = Path(folder).resolve().name
    scenario = plan.summary.get("scenario")
    return f"{scenario} ({name})" if scenario and str(scenario) != name else name


def _site_keys(df: pd.DataFrame) -> pd.Series:
    """Match key of each site: its id, or its rounded position when it has none."""
    ids = _col(df, "site_id", None)
    pos = [f"@{x:.6f},{y:.6f}" for x, y in zip(df.geometry.x, df.geometry.y)]
    return pd.Series([str(i) if i is not None and i == i and str(i) else p
                      for i, p in zip(ids, pos)], index=df.index)


def _same_grid(a: PlanData, b: PlanData) -> str | None:
    """None when the two plans' demand cells line up; otherwise why not (plain text)."""
    for key in GRID_KEYS:
        va, vb = a.summary.get(key), b.summary.get(key)
        if va is None or vb is None or va != vb:
            return f"their demand grids differ ({key}: {va} vs {vb})"
    if a.cells is None or b.cells is None or "covered" not in a.cells or "covered" not in b.cells:
        return "a plan has no demand cells with a 'covered' column"
    if len(a.cells) != len(b.cells):
        return f"their demand grids differ ({len(a.cells):,} vs {len(b.cells):,} cells)"
    if "cell_id" in a.cells and "cell_id" in b.cells and not np.array_equal(
            a.cells["cell_id"].to_numpy(), b.cells["cell_id"].to_numpy()):
        return "their demand cells are numbered differently"
    return None


def _district_figures(plan: PlanData, metric: str) -> dict[str, dict]:
    """District name -> {"coverage": fraction in ``metric`` or None, "n_sites": ...}."""
    out: dict[str, dict] = {}
    for rec in plan.summary.get("districts") or []:
        if isinstance(rec, dict) and rec.get("name") is not None:
            out[str(rec["name"])] = {"coverage": _num(rec.get(f"coverage_{metric}")),
                                     "n_sites": _num(rec.get("n_sites"))}
    d = plan.districts
    if d is not None and "name" in d:
        col = f"coverage_{metric}" if f"coverage_{metric}" in d else None
        for i in range(len(d)):
            rec = out.setdefault(str(d["name"].iloc[i]), {"coverage": None, "n_sites": None})
            if col is not None and _num(d[col].iloc[i]) is not None:
                rec["coverage"] = _num(d[col].iloc[i])
            if "n_sites" in d and rec["n_sites"] is None:
                rec["n_sites"] = _num(d["n_sites"].iloc[i])
    return out


def _pp(delta: float | None) -> str:
    if delta is None:
        return "–"
    text = f"{100.0 * delta:+.2f}"
    if float(text) == 0:  # a small change still shows (e.g. a few sites in a big city)
        text = f"{100.0 * delta:+.3f}"
    return ("±0.00" if float(text) == 0 else text.replace("-", "−")) + " pp"


def _change_colour(delta: float | None) -> str:
    if delta is None:
        return "#cccccc"
    return CHANGE_COLOURS[int(_class_index(np.array([100.0 * delta]), CHANGE_BREAKS_PP)[0])]


def _union_bounds(frames, pieces) -> tuple[float, float, float, float] | None:
    boxes = [f.total_bounds for f in frames if f is not None and len(f)]
    boxes += [p["geometry"].bounds for p in pieces]
    boxes = np.array([bx for bx in boxes if np.all(np.isfinite(bx))])
    if not len(boxes):
        return None
    return (float(boxes[:, 0].min()), float(boxes[:, 1].min()),
            float(boxes[:, 2].max()), float(boxes[:, 3].max()))


def _padded(extent, min_span_deg: float = 0.04, pad: float = 0.2):
    minx, miny, maxx, maxy = extent
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    hx = max((maxx - minx) * (1 + pad), min_span_deg) / 2
    hy = max((maxy - miny) * (1 + pad), min_span_deg) / 2
    return cx - hx, cy - hy, cx + hx, cy + hy


def build_compare_html(a: PlanData, b: PlanData, labels: tuple[str, str],
                       offline: bool = False, *, test_hooks: bool = False) -> str:
    """The compare page as a string (see :func:`render_compare_map`)."""
    metric = _metric_name(b.summary)
    tol = _district_tolerance(b.summary)
    full = _extent((a.study_area, b.study_area, a.districts, b.districts,
                    a.selected, b.selected))
    m = _new_map(full, offline)

    # ---- districts: change in coverage
    fig_a, fig_b = _district_figures(a, metric), _district_figures(b, metric)
    dist = b.districts if b.districts is not None and len(b.districts) else a.districts
    if dist is not None and len(dist):
        names = _col(dist, "name", None).tolist()
        props = []
        for name in names:
            fa, fb = fig_a.get(str(name), {}), fig_b.get(str(name), {})
            ca, cb = fa.get("coverage"), fb.get("coverage")
            delta = None if ca is None or cb is None else cb - ca
            props.append({"hs_layer": "district", "name": esc(name),
                          "before": _pct(ca, 2), "after": _pct(cb, 2), "change": _pp(delta),
                          "sites": f"{_int(fa.get('n_sites'))} → {_int(fb.get('n_sites'))}",
                          "colour": _change_colour(delta)})
        _district_layer(m, _round_geoms(_simplify(dist.geometry.to_numpy(), tol)), props,
                        "Districts: change in coverage",
                        {"name": "District", "before": f"Coverage before ({metric})",
                         "after": "after", "change": "change", "sites": "Sites"})

    # ---- coverage gained / lost, when the demand cells line up
    grid_problem = _same_grid(a, b)
    cells_info = None
    changed_pieces: list[dict] = []
    if grid_problem is None:
        cell_m = _num(b.summary.get("cell_size_m")) or 100.0
        was = _bools(a.cells["covered"])
        now = _bools(b.cells["covered"])
        cells_info = {}
        for key, mask, colour, title in (("lost", was & ~now, LOSS_COLOUR, "Coverage lost"),
                                         ("gained", now & ~was, GAIN_COLOUR, "Coverage gained")):
            pieces, bin_m = _dissolve_cells(b.cells, mask, cell_m)
            ar = _cell_arrays(b.cells.iloc[np.flatnonzero(mask)])
            cells_info[key] = {"cells": int(mask.sum()), "population": float(ar["pop"].sum()),
                               "area_m2": float(ar["area"].sum())}
            if not pieces:
                continue
            changed_pieces += pieces
            suffix = "" if bin_m is None else f" (drawn on a {bin_m:,.0f} m grid)"
            props = [{"hs_layer": key, "label": f"{title}, {DENSITY_LABELS[p['class']]}{suffix}",
                      "population": _int(p["population"]), "area": _km2(p["area_m2"]),
                      "n_cells": _int(p["n_cells"]), "colour": colour} for p in pieces]
            _cells_layer(m, pieces, props, f"{title} ({mask.sum():,} cells)",
                         {"label": "", "population": "Residents", "area": "Area",
                          "n_cells": "Cells"}, fill_opacity=0.6)

    # ---- sites: kept (grey, small), removed (red), added (green)
    key_a, key_b = _site_keys(a.selected), _site_keys(b.selected)
    groups = {
        "kept": (b.selected[key_b.isin(set(key_a))], b.summary, KEPT_COLOUR, "Sites in both"),
        "removed": (a.selected[~key_a.isin(set(key_b))], a.summary, LOSS_COLOUR,
                    "Sites removed (only before)"),
        "added": (b.selected[~key_b.isin(set(key_a))], b.summary, GAIN_COLOUR,
                  "Sites added (only after)"),
    }
    for group, (df, summ, colour, title) in groups.items():
        if not len(df):
            continue
        kept = group == "kept"
        style = {"colour": colour, "radius": 3, "fillOpacity": 0.6, "flat": True} if kept \
            else {"colour": colour, "radius": 7, "fillOpacity": 0.95, "fixed": True,
                  "circles": True}
        _point_group(m, f"{title} ({len(df):,})", _site_table(df, summ, selected=True),
                     {**style, "kind": "site", "group": group}, swatch=True)
    counts = {g: len(v[0]) for g, v in groups.items()}
    any_synth = any(bool((_col(groups[g][0], "source", "real").astype(str).str.lower()
                          == "synthetic").any()) for g in ("added", "removed"))

    # ---- view: the changes (with some context), else the whole study area
    changes = _union_bounds([groups["removed"][0], groups["added"][0]], changed_pieces)
    view = _padded(changes) if changes is not None else full
    outline = _add_outline(m, b if b.study_area is not None else a, tol)
    _add_panels(m, view, offline, outline,
                summary_html=_compare_summary_html(a.summary, b.summary, labels, counts,
                                                   cells_info, grid_problem, offline),
                legend_html=_compare_legend_html(counts, cells_info, any_synth))
    title = f"Hotspot plans compared – {esc(labels[0])} → {esc(labels[1])}"
    return _finish_page(m.get_root().render(), title, offline=offline, test_hooks=test_hooks)


def _compare_summary_html(sa: dict, sb: dict, labels: tuple[str, str], counts: dict,
                          cells_info: dict | None, grid_problem: str | None,
                          offline: bool) -> str:
    def delta(key):
        va, vb = _num(sa.get(key)), _num(sb.get(key))
        return None if va is None or vb is None else vb - va

    def signed(v, fmt):
        return "–" if v is None else ("±0" if v == 0 else ("+" if v > 0 else "−") + fmt(abs(v)))

    def met(summary):
        return {True: '<span class="met">&#10004; met</span>',
                False: '<span class="notmet">&#10008; not met</span>'}.get(
                    summary.get("target_met"), "–")

    rows = [
        ("Population covered", _pct(sa.get("coverage_population"), 2),
         _pct(sb.get("coverage_population"), 2), _pp(delta("coverage_population"))),
        ("Area covered", _pct(sa.get("coverage_area"), 2), _pct(sb.get("coverage_area"), 2),
         _pp(delta("coverage_area"))),
        ("Sites", _int(sa.get("n_selected")), _int(sb.get("n_selected")),
         signed(delta("n_selected"), _int)),
        ("New sites", _int(sa.get("n_new")), _int(sb.get("n_new")), signed(delta("n_new"), _int)),
        ("Total cost (new)", _money(sa.get("total_cost")), _money(sb.get("total_cost")),
         signed(delta("total_cost"), _money)),
        ("Target", met(sa), met(sb), ""),
    ]
    body = "".join(f"<tr><th>{k}</th><td>{x}</td><td>{y}</td><td>{d}</td></tr>"
                   for k, x, y, d in rows)
    head = "<tr><th></th><th>before</th><th>after</th><th>change</th></tr>"
    parts = [f'<details open><summary>Plans compared</summary>'
             f'<div><b>Before:</b> {esc(labels[0])}</div>'
             f'<div><b>After:</b> {esc(labels[1])}</div>'
             f'<table class="hs-cmp">{head}{body}</table>',
             f'<div class="sect">Sites: {counts["added"]:,} added, {counts["removed"]:,} '
             f'removed, {counts["kept"]:,} in both</div>']
    if cells_info is not None:
        for key, word in (("gained", "Coverage gained"), ("lost", "Coverage lost")):
            c = cells_info[key]
            parts.append(f'<div>{word}: {c["cells"]:,} cells, {_int(c["population"])} '
                         f'residents, {_km2(c["area_m2"])}</div>')
    else:
        parts.append(f'<div class="note">Cell-level changes can&#39;t be shown: '
                     f'{esc(grid_problem)}. Districts and totals are compared.</div>')
    if _metric_name(sa) != _metric_name(sb):
        parts.append(f'<div class="note">The plans target different metrics '
                     f'({esc(_metric_name(sa))} vs {esc(_metric_name(sb))}); districts show '
                     f'{esc(_metric_name(sb))} coverage.</div>')
    if offline:
        parts.append('<div class="note">Offline map: no basemap tiles.</div>')
    parts.append("</details>")
    return "".join(parts)


def _compare_legend_html(counts: dict, cells_info: dict | None, any_synthetic: bool) -> str:
    parts = ['<details open><summary>Legend</summary><div class="sect">Sites</div>',
             _legend_row(LOSS_COLOUR, f"removed, with its radius ({counts['removed']:,})"),
             _legend_row(GAIN_COLOUR, f"added, with its radius ({counts['added']:,})"),
             _legend_row(KEPT_COLOUR, f"in both plans ({counts['kept']:,})")]
    if any_synthetic:
        parts.append(_legend_row("#fff", "synthetic site (hollow)", "box-shadow:0 0 0 2px #555"))
    if cells_info is not None:
        parts.append('<div class="sect">Demand cells</div>')
        parts.append(_legend_row(GAIN_COLOUR, "coverage gained", dot=False))
        parts.append(_legend_row(LOSS_COLOUR, "coverage lost", dot=False))
    parts.append('<div class="sect">District coverage change</div>')
    parts.append(_ramp_html(list(zip(CHANGE_COLOURS, CHANGE_LABELS)), "pp", narrow=True))
    parts.append("</details>")
    return "".join(parts)
