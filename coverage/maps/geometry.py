"""Geometry for the map pages: rounding, simplifying, dissolving cells, a density image.

Input geometries are in EPSG:4326 (lon/lat degrees); sizes are in metres.
"""

from __future__ import annotations

import base64
import math
import struct
import zlib
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .palette import DENSITY_BREAKS, DENSITY_COLOURS
from .tables import bools

__all__ = ["round_geoms", "simplify", "geojson", "district_tolerance", "cell_arrays",
           "cell_centroids", "dissolve_cells", "density_image", "png_data_uri", "extent",
           "union_bounds", "padded", "class_index"]

COORD_DECIMALS = 6
#: Above this many uncovered cells, they are binned to a coarser display grid before
#: dissolving, so a fragmented pattern cannot blow up the page (or the render time).
UNCOVERED_CELL_LIMIT = 15_000
#: Longest side of the population-density image, in pixels.
DENSITY_IMAGE_MAX_PX = 1200
N_DENSITY_CLASSES = len(DENSITY_BREAKS) - 1


def round_geoms(geoms, decimals: int = COORD_DECIMALS):
    return shapely.transform(np.asarray(geoms, dtype=object),
                             lambda xy: np.round(xy, decimals))


def simplify(geoms, tolerance: float):
    return shapely.simplify(np.asarray(geoms, dtype=object), tolerance, preserve_topology=True)


def geojson(geoms, props: list[dict]) -> dict:
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


def district_tolerance(summary: dict) -> float:
    """Simplification tolerance in degrees: a fifth of a cell, at most ~20 m."""
    size = summary.get("cell_size_m") or 100.0
    return min(float(size) / 5.0, 20.0) / 111_000.0


def cell_arrays(cells: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    pop = pd.to_numeric(cells["population"], errors="coerce").fillna(0).to_numpy(float) \
        if "population" in cells else np.zeros(len(cells))
    if "area_m2" in cells:
        area = pd.to_numeric(cells["area_m2"], errors="coerce").fillna(0).to_numpy(float)
    else:  # approximate from degrees
        b = cells.geometry.bounds
        area = ((b.maxx - b.minx) * 111_320 * np.cos(np.radians((b.miny + b.maxy) / 2))
                * (b.maxy - b.miny) * 110_574).to_numpy(float)
    reach = bools(cells["reachable"]) if "reachable" in cells else \
        np.ones(len(cells), bool)
    return {"pop": pop, "area": area, "reach": reach}


def _density_class(pop: np.ndarray, area: np.ndarray) -> np.ndarray:
    dens = np.where(area > 0, pop / np.maximum(area, 1e-9) * 1e6, 0.0)
    cls = class_index(dens, DENSITY_BREAKS)
    cls[pop <= 0] = 0
    return cls


def cell_centroids(cells: gpd.GeoDataFrame) -> np.ndarray:
    """Centroid (lon, lat) of every cell; computed once per map, it is not cheap."""
    return shapely.get_coordinates(shapely.centroid(cells.geometry.to_numpy()))


def _bin_cells(cxy: np.ndarray, cell_m: float, limit: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Square bins (lon/lat boxes) of at least twice the cell size holding the cell
    centroids ``cxy``, coarse enough that at most ``limit`` are used: the boxes, the bin
    of each cell, and the bin size in metres."""
    lat0 = float(np.nanmean(cxy[:, 1]))
    x0, y0 = cxy[:, 0].min(), cxy[:, 1].min()
    k = 2.0
    while True:
        bin_m = k * cell_m
        bx = bin_m / (111_320 * math.cos(math.radians(lat0)))
        by = bin_m / 110_574
        ix = np.floor((cxy[:, 0] - x0) / bx).astype(np.int64)
        iy = np.floor((cxy[:, 1] - y0) / by).astype(np.int64)
        ny = int(iy.max()) + 1
        uniq, inv = np.unique(ix * ny + iy, return_inverse=True)
        if len(uniq) <= limit:
            break
        k *= 1.5
    ux, uy = uniq // ny, uniq % ny
    boxes = shapely.box(x0 + ux * bx, y0 + uy * by, x0 + (ux + 1) * bx, y0 + (uy + 1) * by)
    return boxes, inv, bin_m


def dissolve_cells(cells: gpd.GeoDataFrame, mask: np.ndarray, cell_m: float,
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
    a = cell_arrays(cells.iloc[idx])
    geoms = cells.geometry.to_numpy()[idx]
    if len(idx) <= limit:
        shapes, groups, pieces, bin_m = geoms, _density_class(a["pop"], a["area"]), None, None
    else:
        cxy = (shapely.get_coordinates(shapely.centroid(geoms)) if centroids is None
               else centroids[idx])
        shapes, pieces, bin_m = _bin_cells(cxy, cell_m, limit)
        groups = _density_class(np.bincount(pieces, a["pop"]), np.bincount(pieces, a["area"]))
    out = []
    for c in range(N_DENSITY_CLASSES):
        sel = groups == c
        if not sel.any():
            continue
        merged = _dissolve(shapes[sel])
        if merged is None:
            continue
        # a tiny tolerance drops the collinear vertices of the grid staircase, cheaply
        merged = shapely.simplify(merged, 1e-7, preserve_topology=False)
        merged = round_geoms([merged])[0]
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


def density_image(cells: gpd.GeoDataFrame, cell_m: float,
                   max_px: int = DENSITY_IMAGE_MAX_PX,
                   centroids: np.ndarray | None = None,
                   colours: list[str] = DENSITY_COLOURS) -> tuple[np.ndarray, list] | None:
    """Population density of the cells as an RGBA image in Web Mercator rows.

    ``colours``: one per density class. Pixels without a cell are transparent, so an
    image of the uncovered cells shows covered ones as holes.

    A raster is a few tens of kB whatever the number of cells, where polygons of a
    noisy population grid would be megabytes. Pixels are about 1.5 cells wide so the
    (slightly rotated) metric cell grid leaves no empty stripes.
    """
    if cells is None or not len(cells):
        return None
    a = cell_arrays(cells)
    cxy = cell_centroids(cells) if centroids is None else centroids
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
                        for c in colours], dtype=np.uint8)
    rgba = palette[cls]
    rgba[~has] = 0
    rgba[has & (cls == 0), 3] = 90  # no residents: faint
    img = rgba.reshape(ny, nx, 4)
    south_edge = math.degrees(2 * math.atan(math.exp(my_n - ny * step_y)) - math.pi / 2)
    north_edge = math.degrees(2 * math.atan(math.exp(my_n)) - math.pi / 2)
    bounds = [[south_edge, west], [north_edge, west + nx * deg_x]]
    return img, bounds


def extent(frames) -> tuple[float, float, float, float]:
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


def union_bounds(frames, pieces) -> tuple[float, float, float, float] | None:
    boxes = [f.total_bounds for f in frames if f is not None and len(f)]
    boxes += [p["geometry"].bounds for p in pieces]
    boxes = np.array([bx for bx in boxes if np.all(np.isfinite(bx))])
    if not len(boxes):
        return None
    return (float(boxes[:, 0].min()), float(boxes[:, 1].min()),
            float(boxes[:, 2].max()), float(boxes[:, 3].max()))


def padded(extent, min_span_deg: float = 0.04, pad: float = 0.2):
    minx, miny, maxx, maxy = extent
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    hx = max((maxx - minx) * (1 + pad), min_span_deg) / 2
    hy = max((maxy - miny) * (1 + pad), min_span_deg) / 2
    return cx - hx, cy - hy, cx + hx, cy + hy


def class_index(values: np.ndarray, breaks: list[float]) -> np.ndarray:
    idx = np.searchsorted(np.asarray(breaks[1:-1]), values, side="right")
    return np.clip(idx, 0, len(breaks) - 2)


def png_data_uri(rgba: np.ndarray) -> str:
    """An RGBA uint8 image (rows north to south) as a ``data:image/png`` URI."""
    h, w, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[r].tobytes() for r in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
