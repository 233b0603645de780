"""The demand surface: square grid cells clipped to the study area, weighted by people and area.

All geometry here is in the plan's metric CRS (metres). A cell's *demand point* is
the centroid of its clipped polygon (the square's centre for whole cells); a site
covers a cell when the demand point lies within the site's radius.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError

log = logging.getLogger(__name__)

NO_DISTRICT = "(no district)"
SLIVER = 1e-6  # clipped cells smaller than this fraction of a full cell are dropped


def build_grid(area: shapely.Geometry, cell_size_m: float, crs, block: int = 20) -> gpd.GeoDataFrame:
    """Square cells of ``cell_size_m`` metres covering ``area``, clipped to it.

    The grid is aligned to multiples of the cell size in ``crs``, so the same area and
    size always give the same cells. Returns a GeoDataFrame in ``crs`` with columns
    ``cell_id`` (0…n-1, row-major from the south-west), ``ix``, ``iy`` (grid indices),
    ``area_m2`` (clipped area), ``x``, ``y`` (demand point, metres) and the clipped
    cell polygon as geometry.

    Cells are tested in blocks of ``block`` × ``block``: blocks wholly inside the area
    need no test per cell, and cells of edge blocks are clipped against the block's
    small piece of the area rather than against the whole (often very long) outline.
    """
    s = float(cell_size_m)
    minx, miny, maxx, maxy = area.bounds
    n_cells = (np.ceil(maxx / s) - np.floor(minx / s)) * (np.ceil(maxy / s) - np.floor(miny / s))
    if n_cells > 50_000_000:
        raise InputError(
            f"a {s:g} m grid over this study area would have {n_cells:,.0f} cells; use a larger cell_size_m"
        )
    blocks, pieces, whole_block, bx, by = _touching_blocks(area, s, block)
    clipped, ix, iy, whole = _clipped_cells(blocks, pieces, whole_block, bx, by, s, block)

    areas = np.where(whole, s * s, shapely.area(clipped))
    x = (ix + 0.5) * s
    y = (iy + 0.5) * s
    if (~whole).any():
        centroids = shapely.centroid(clipped[~whole])
        x[~whole], y[~whole] = shapely.get_x(centroids), shapely.get_y(centroids)
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


def _touching_blocks(area: shapely.Geometry, s: float, block: int):
    """Blocks of ``block`` × ``block`` cells touching ``area``: their boxes, the piece of the
    area inside each, whether the area holds the whole block, and their block indices."""
    bs = block * s
    minx, miny, maxx, maxy = area.bounds
    bx, by = _grid_indices(minx, miny, maxx, maxy, bs)
    blocks = shapely.box(bx * bs, by * bs, (bx + 1) * bs, (by + 1) * bs)
    shapely.prepare(area)
    touching = shapely.intersects(area, blocks)
    bx, by, blocks = bx[touching], by[touching], blocks[touching]
    whole_block = shapely.contains_properly(area, blocks)
    pieces = blocks.copy()
    pieces[~whole_block] = shapely.intersection(blocks[~whole_block], area)
    return blocks, pieces, whole_block, bx, by


def _clipped_cells(blocks, pieces, whole_block, bx, by, s: float, block: int):
    """Every cell of the touching blocks clipped to its block's piece of the area, slivers
    dropped, sorted row-major: (clipped polygons, ix, iy, whether each cell is whole)."""
    offset = np.arange(block * block)
    owner = np.repeat(np.arange(len(blocks)), block * block)
    ix = np.repeat(bx * block, block * block) + np.tile(offset % block, len(blocks))
    iy = np.repeat(by * block, block * block) + np.tile(offset // block, len(blocks))
    boxes = shapely.box(ix * s, iy * s, (ix + 1) * s, (iy + 1) * s)

    whole = whole_block[owner]
    test = np.flatnonzero(~whole)
    piece = pieces[owner[test]]
    shapely.prepare(piece)
    whole[test] = shapely.contains_properly(piece, boxes[test])
    edge = test[~whole[test] & shapely.intersects(piece, boxes[test])]
    clipped = boxes.copy()
    clipped[edge] = shapely.intersection(boxes[edge], pieces[owner[edge]])
    keep = np.zeros(len(boxes), dtype=bool)
    keep[whole] = True
    keep[edge] = shapely.area(clipped[edge]) > SLIVER * s * s  # drop slivers along the boundary
    order = np.lexsort((ix[keep], iy[keep]))
    return clipped[keep][order], ix[keep][order], iy[keep][order], whole[keep][order]


def _grid_indices(minx: float, miny: float, maxx: float, maxy: float, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Column and row indices of the squares of side ``size`` that cover the bounds."""
    ix0, iy0 = int(np.floor(minx / size)), int(np.floor(miny / size))
    nx, ny = max(int(np.ceil(maxx / size)) - ix0, 1), max(int(np.ceil(maxy / size)) - iy0, 1)
    iy, ix = np.divmod(np.arange(nx * ny, dtype=np.int64), nx)
    return ix + ix0, iy + iy0


def demand_points(cells: gpd.GeoDataFrame) -> np.ndarray:
    """The (n, 2) array of demand points in metres."""
    return np.column_stack([cells["x"].to_numpy(), cells["y"].to_numpy()])


def allocate_population(cells: gpd.GeoDataFrame, population: gpd.GeoDataFrame, column: str,
                        where: str = "population layer") -> np.ndarray:
    """People per cell from a population layer in the cells' CRS.

    Polygons (census blocks, a population grid) share their count among the cells in
    proportion to the overlapping area; points (addresses, buildings) add their count
    to the cell that contains them; a layer mixing both is allocated feature by feature
    by each one's type. What falls outside the study area is logged.
    """
    counts = _counts(population, column, where)
    geoms = np.asarray(population.geometry.array)
    cell_geoms = np.asarray(cells.geometry.array)
    tree = shapely.STRtree(cell_geoms)
    # A layer may mix both kinds: each feature is allocated by its own geometry type.
    polygonal = np.flatnonzero(population.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy())
    points = np.setdiff1d(np.arange(len(geoms)), polygonal)
    people = np.zeros(len(cells))
    if len(polygonal):
        src, cell = _overlapping_pairs(tree, geoms[polygonal])
        src = polygonal[src]
        overlap = cells["area_m2"].to_numpy()[cell]  # cells wholly inside a polygon
        partial = ~shapely.contains_properly(geoms[src], cell_geoms[cell])
        overlap[partial] = intersection_area(geoms[src[partial]], cell_geoms[cell[partial]])
        people += np.bincount(cell, weights=counts[src] * overlap / shapely.area(geoms)[src], minlength=len(cells))
    if len(points):
        src, cell = tree.query(geoms[points], predicate="intersects")
        first = np.unique(src, return_index=True)[1]  # a point on a shared edge counts once
        src, cell = points[src[first]], cell[first]
        people += np.bincount(cell, weights=counts[src], minlength=len(cells))
    lost = counts.sum() - people.sum()
    if counts.sum() > 0 and lost > 1e-6 * counts.sum():
        log.warning(
            "%s: %.0f of %.0f people (%.2f %%) lie outside the study area and are not counted",
            where, lost, counts.sum(), 100 * lost / counts.sum(),
        )
    return people


def intersection_area(a: np.ndarray, b: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    """Area of ``a[i] ∩ b[i]`` for each i, in the geometries' units (m²)."""
    return shapely.area(intersection(a, b, chunk))


def intersection(a: np.ndarray, b: np.ndarray, chunk: int = 20_000) -> np.ndarray:
    """``a[i] ∩ b[i]`` for each i (polygon parts only when both are polygons).

    Shapely releases the GIL in its vectorised operations, so chunks run on all cores
    in threads; the result does not depend on the number of threads.
    """
    bounds = range(0, len(a), chunk)
    workers = min(os.cpu_count() or 1, max(len(bounds), 1))
    if workers <= 1:
        return shapely.intersection(a, b)
    with ThreadPoolExecutor(workers) as pool:
        return np.concatenate(list(pool.map(lambda i: shapely.intersection(a[i:i + chunk], b[i:i + chunk]), bounds)))


def _overlapping_pairs(tree: shapely.STRtree, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(polygon, cell) index pairs that share area; each polygon is prepared once."""
    shapely.prepare(polygons)
    return tree.query(polygons, predicate="intersects")


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


def split_at_districts(cells: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None,
                       name_column: str) -> gpd.GeoDataFrame:
    """The cells cut along district borders, each piece with a ``district`` column.

    A cell inside one district keeps its geometry and demand point. A cell that a border
    crosses becomes one piece per district, with its clipped area and its centroid as
    demand point, so a population layer clipped to the districts (a census grid) puts
    each district's people in that district's cells and the per-district totals add up.
    A part of a cell in no district keeps the name of the nearest one. Where districts
    overlap, a cell is not cut but named after the district holding its demand point.
    Same CRS (metres) for both; ``cell_id`` is renumbered 0…n-1 in (iy, ix, district) order.
    """
    if districts is None or len(districts) <= 1:
        out = cells.copy()
        out["district"] = assign_districts(cells, districts, name_column)
        return out
    names_of = districts[name_column].astype(str).to_numpy()
    shapes = np.asarray(districts.geometry.array)
    geoms, area = np.asarray(cells.geometry.array), cells["area_m2"].to_numpy()
    shapely.prepare(shapes)
    district, cell = shapely.STRtree(geoms).query(shapes, predicate="intersects")
    inside = shapely.covers(shapes[district], geoms[cell])
    n_inside = np.bincount(cell[inside], minlength=len(cells))
    whole = np.zeros(len(cells), dtype=object)
    whole[cell[inside][::-1]] = names_of[district[inside][::-1]]  # first district wins
    pairs = np.flatnonzero(n_inside[cell] == 0)
    pieces = _polygon_parts(_cut(geoms[cell[pairs]], shapes, district[pairs]))
    piece_area = shapely.area(pieces)
    tol = SLIVER * area
    cut_area = np.bincount(cell[pairs], weights=piece_area, minlength=len(cells))
    kept = (n_inside == 1) | ((n_inside == 0) & (cut_area > tol) & (cut_area <= area + tol))
    use = kept[cell[pairs]] & (piece_area > tol[cell[pairs]])
    pairs, pieces = pairs[use], pieces[use]
    parts = [
        _pieces(cells, np.flatnonzero(n_inside == 1), None, whole[n_inside == 1]),
        _pieces(cells, cell[pairs], pieces, names_of[district[pairs]]),
    ]
    rest = np.flatnonzero(~kept)  # overlapping districts, or none: the demand point decides
    parts.append(_pieces(cells, rest, None, nearest_names(shapely.points(demand_points(cells.iloc[rest])),
                                                          districts, name_column)))
    short = np.flatnonzero(kept & (n_inside == 0) & (cut_area < area - tol))
    if len(short):  # parts of cut cells outside every district
        owner = cell[pairs]
        left = np.array([shapely.difference(geoms[c], shapely.union_all(pieces[owner == c])) for c in short])
        left = _polygon_parts(left)
        parts.append(_pieces(cells, short, left, nearest_names(shapely.centroid(left), districts, name_column)))
    out = pd.concat(parts, ignore_index=True)
    order = np.lexsort((out["district"].to_numpy().astype(str), out["ix"].to_numpy(), out["iy"].to_numpy()))
    out = out.iloc[order].reset_index(drop=True)
    out["cell_id"] = np.arange(len(out), dtype=np.int64)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=cells.crs)


def _cut(cell_geoms: np.ndarray, shapes: np.ndarray, shape_of: np.ndarray, block: int = 20) -> np.ndarray:
    """``cell_geoms[i] ∩ shapes[shape_of[i]]``, each long outline cut once per block of cells.

    Intersecting a 100 m cell with a whole district costs as much as the district's
    outline is long; cutting the district to a block of ``block`` × ``block`` cells
    first, once per block, makes the per-cell intersections small.
    """
    if len(cell_geoms) == 0:
        return cell_geoms
    b = shapely.bounds(cell_geoms)
    size = max((b[:, 2] - b[:, 0]).max(), (b[:, 3] - b[:, 1]).max())
    span = block * size
    key = np.column_stack([shape_of, np.floor(b[:, 0] / span), np.floor(b[:, 1] / span)])
    keys, which = np.unique(key, axis=0, return_inverse=True)
    frames = shapely.box(keys[:, 1] * span - size, keys[:, 2] * span - size,
                         (keys[:, 1] + 1) * span + size, (keys[:, 2] + 1) * span + size)
    local = intersection(shapes[keys[:, 0].astype(np.int64)], frames)
    return intersection(cell_geoms, local[which.ravel()])


def _pieces(cells: gpd.GeoDataFrame, rows: np.ndarray, geoms: np.ndarray | None, names) -> pd.DataFrame:
    """Rows of ``cells`` (with new geometries, areas and centroid demand points if given) and names."""
    out = pd.DataFrame(cells.iloc[rows].reset_index(drop=True))
    if geoms is not None:
        centroids = shapely.centroid(geoms)
        out["area_m2"], out["x"], out["y"] = shapely.area(geoms), shapely.get_x(centroids), shapely.get_y(centroids)
        out["geometry"] = geoms
    out["district"] = np.asarray(names, dtype=object)
    return out


def _polygon_parts(geoms: np.ndarray) -> np.ndarray:
    """Each geometry reduced to its polygons (an intersection may add lines and points)."""
    geoms = np.asarray(geoms, dtype=object)
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == 7)  # GeometryCollection
    for k in mixed:
        polys = [g for g in shapely.get_parts(geoms[k]) if shapely.get_type_id(g) in (3, 6)]
        geoms[k] = shapely.union_all(polys) if polys else shapely.Polygon()
    return geoms


def assign_districts(cells: gpd.GeoDataFrame, districts: gpd.GeoDataFrame | None, name_column: str) -> np.ndarray:
    """The district name of each cell: the district holding (or nearest to) its demand point."""
    if districts is None or len(districts) == 0:
        return np.full(len(cells), NO_DISTRICT, dtype=object)
    points = shapely.points(demand_points(cells))
    return nearest_names(points, districts, name_column)


def nearest_names(points: np.ndarray, polygons: gpd.GeoDataFrame, name_column: str) -> np.ndarray:
    """For each point, the name of the polygon that holds it, or else the nearest one.

    Containment is tested first (fast, with an STRtree); only points in no polygon —
    on the coast, in a gap between districts — pay for a nearest-polygon search.
    """
    names_of = polygons[name_column].astype(str).to_numpy()
    shapes = np.asarray(polygons.geometry.array)
    polygon, point = shapely.STRtree(points).query(shapes, predicate="intersects")  # shapes prepared once
    order = np.lexsort((polygon, point))
    point, polygon = point[order], polygon[order]
    first = np.unique(point, return_index=True)[1]  # a point on a shared border takes the first polygon
    names = np.full(len(points), NO_DISTRICT, dtype=object)
    names[point[first]] = names_of[polygon[first]]
    orphan = np.flatnonzero(names == NO_DISTRICT)
    if len(orphan):
        point, polygon = shapely.STRtree(shapes).query_nearest(points[orphan], all_matches=False)
        names[orphan[point]] = names_of[polygon]
    return names
