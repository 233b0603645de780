"""The demand surface: square grid cells clipped to the study area, weighted by people and area.

All geometry here is in the plan's metric CRS (metres). A cell's *demand point* is
the centroid of its clipped polygon (the square's centre for whole cells); a site
covers a cell when the demand point lies within the site's radius.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import shapely

from .errors import InputError

log = logging.getLogger(__name__)

NO_DISTRICT = "(no district)"
SLIVER = 1e-6  # clipped cells smaller than this fraction of a full cell are dropped


def build_grid(area: shapely.Geometry, cell_size_m: float, crs) -> gpd.GeoDataFrame:
    """Square cells of ``cell_size_m`` metres covering ``area``, clipped to it.

    The grid is aligned to multiples of the cell size in ``crs``, so the same area and
    size always give the same cells. Returns a GeoDataFrame in ``crs`` with columns
    ``cell_id`` (0…n-1, row-major from the south-west), ``ix``, ``iy`` (grid indices),
    ``area_m2`` (clipped area), ``x``, ``y`` (demand point, metres) and the clipped
    cell polygon as geometry.
    """
    s = float(cell_size_m)
    minx, miny, maxx, maxy = area.bounds
    ix0, iy0 = int(np.floor(minx / s)), int(np.floor(miny / s))
    nx, ny = int(np.ceil(maxx / s)) - ix0, int(np.ceil(maxy / s)) - iy0
    if nx * ny > 50_000_000:
        raise InputError(
            f"a {s:g} m grid over this study area would have {nx * ny:,} cells; use a larger cell_size_m"
        )
    iy, ix = np.divmod(np.arange(nx * ny, dtype=np.int64), nx)
    ix, iy = ix + ix0, iy + iy0
    boxes = shapely.box(ix * s, iy * s, (ix + 1) * s, (iy + 1) * s)

    shapely.prepare(area)
    touching = shapely.intersects(area, boxes)
    ix, iy, boxes = ix[touching], iy[touching], boxes[touching]
    inside = shapely.contains_properly(area, boxes)
    clipped = boxes.copy()
    edge = ~inside
    clipped[edge] = shapely.intersection(boxes[edge], area)
    areas = shapely.area(clipped)
    keep = areas > SLIVER * s * s  # drop slivers from rounding along the boundary
    clipped, ix, iy, areas = clipped[keep], ix[keep], iy[keep], areas[keep]

    points = shapely.centroid(clipped)
    whole = inside[keep]
    x = np.where(whole, (ix + 0.5) * s, shapely.get_x(points))
    y = np.where(whole, (iy + 0.5) * s, shapely.get_y(points))
    return gpd.GeoDataFrame(
        {
            "cell_id": np.arange(len(clipped), dtype=np.int64),
            "ix": ix,
            "iy": iy,
            "area_m2": areas,
            "x": x,
            "y": y,
        },
        geometry=clipped,
        crs=crs,
    )


def demand_points(cells: gpd.GeoDataFrame) -> np.ndarray:
    """The (n, 2) array of demand points in metres."""
    return np.column_stack([cells["x"].to_numpy(), cells["y"].to_numpy()])


def allocate_population(cells: gpd.GeoDataFrame, population: gpd.GeoDataFrame, column: str,
                        where: str = "population layer") -> np.ndarray:
    """People per cell from a population layer in the cells' CRS.

    Polygons (census blocks, a population grid) share their count among the cells in
    proportion to the overlapping area; points (addresses, buildings) add their count
    to the cell that contains them. What falls outside the study area is logged.
    """
    counts = _counts(population, column, where)
    geoms = population.geometry.array
    tree = shapely.STRtree(cells.geometry.array)
    if population.geom_type.isin(["Polygon", "MultiPolygon"]).all():
        src, cell = tree.query(geoms, predicate="intersects")
        overlap = shapely.area(shapely.intersection(np.asarray(geoms)[src], cells.geometry.array[cell]))
        share = counts[src] * overlap / shapely.area(np.asarray(geoms))[src]
    else:
        src, cell = tree.query(geoms, predicate="intersects")
        first = np.unique(src, return_index=True)[1]  # a point on a shared edge counts once
        src, cell = src[first], cell[first]
        share = counts[src]
    people = np.bincount(cell, weights=share, minlength=len(cells))
    lost = counts.sum() - people.sum()
    if counts.sum() > 0 and lost > 1e-6 * counts.sum():
        log.warning(
            "%s: %.0f of %.0f people (%.2f %%) lie outside the study area and are not counted",
            where, lost, counts.sum(), 100 * lost / counts.sum(),
        )
    return people


def _counts(population: gpd.GeoDataFrame, column: str, where: str) -> np.ndarray:
    values = population[column]
    numeric = np.asarray(values, dtype=object)
    try:
        counts = values.astype(float).to_numpy()
    except (TypeError, ValueError):
        bad = next(i for i, v in enumerate(numeric) if not _is_float(v))
        raise InputError(
            f"{where}: feature {bad + 1} has {numeric[bad]!r} in column {column!r}, which is not a number"
        ) from None
    bad = np.flatnonzero(~np.isfinite(counts) | (counts < 0))
    if len(bad):
        raise InputError(
            f"{where}: feature {bad[0] + 1} has population {numeric[bad[0]]!r} in column {column!r}; "
            "populations must be numbers ≥ 0"
        )
    return counts


def _is_float(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def assign_districts(cells: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None, name_column: str) -> np.ndarray:
    """The district name of each cell: the district holding (or nearest to) its demand point."""
    if districts is None or len(districts) == 0:
        return np.full(len(cells), NO_DISTRICT, dtype=object)
    points = shapely.points(demand_points(cells))
    tree = shapely.STRtree(districts.geometry.array)
    cell, district = tree.query_nearest(points, all_matches=False)
    names = np.full(len(cells), NO_DISTRICT, dtype=object)
    names[cell] = districts[name_column].astype(str).to_numpy()[district]
    return names
