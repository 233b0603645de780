"""Generated gap-filling candidates: lattice positions over demand the site layers cannot reach.

Site layers (schools, libraries, hubs) cannot reach 99 % of a city's residents; the
planner then needs candidate positions of its own, e.g. access points on lamp posts
("street" category). :func:`gapfill_candidates` puts them on a square lattice of
``spacing_m`` metres, aligned to multiples of the spacing in the metric CRS (so the same
inputs always give the same positions and ids), and keeps only the lattice points that

- lie inside the study area (on its boundary counts as inside),
- lie outside the reach of every layer site given (distance > its radius), and
- reach at least one demand point with positive weight that no layer site reaches.

Demand points that no kept lattice point reaches (a narrow gap between circles, a sliver
of land between the sea and a circle) get a candidate at the demand point itself when
``fill_holes`` is true: it is outside every circle by construction (the point is
unreached) and it is checked to be inside the study area like the rest. Every unreached
demand point with weight inside the study area is then reachable by some candidate.

All coordinates are metres in one projected CRS; nothing here reads or writes files.
Everything is vectorised (a boolean raster of the lattice, k-d trees, shapely 2 array
functions): about a second for a city-sized lattice of a few hundred thousand points.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

from .errors import InputError
from .matrix import cells_reached, coverage_matrix, demand_tree, reach_m
from .progress import stage

GENERATED = "generated"

#: Columns of the candidate table, as in :data:`coverage.sites.SITE_COLUMNS` plus ``wired``.
CANDIDATE_COLUMNS = ["site_id", "name", "category", "source", "existing", "radius_m", "cost", "wired",
                     "lattice_ix", "lattice_iy"]


@dataclass(frozen=True)
class Gapfill:
    """The generated candidates and what it took to find them.

    ``sites`` is a GeoDataFrame of points (metric CRS) with :data:`CANDIDATE_COLUMNS`,
    sorted by ``site_id``. Lattice candidates have ids ``"<category>-<ix>_<iy>"`` (the
    lattice indices: x = ix · spacing); hole fillers ``"<category>-p<cell>"`` with the
    demand point's index and ``lattice_ix``/``lattice_iy`` = -1. Weights are in the
    demand's units (people or m²).
    """

    sites: gpd.GeoDataFrame
    spacing_m: float
    lattice_points: int  # lattice points looked at (bounding box of the unreached demand)
    unreached_points: int  # demand points with weight that no layer site reaches
    unreached_weight: float
    hole_fillers: int
    still_unreached_weight: float  # unreached demand no candidate reaches (outside the area, or no holes filled)
    rows: sp.csr_matrix | None = None  # coverage-matrix rows of ``sites`` (same order) over the demand points


def gapfill_candidates(
    area: shapely.Geometry,
    demand_xy: np.ndarray,
    demand_weight: np.ndarray,
    site_xy: np.ndarray,
    site_radius_m: np.ndarray,
    *,
    spacing_m: float,
    radius_m: float,
    category: str,
    cost: float,
    wired: bool = False,
    label: str | None = None,
    crs=None,
    fill_holes: bool = True,
    reached: np.ndarray | None = None,
    tree: cKDTree | None = None,
) -> Gapfill:
    """Candidate positions for category ``category`` over the demand ``site_xy`` does not reach.

    ``area`` is the study area and ``demand_xy`` (m, 2) the demand points, both in the
    metric CRS (metres); ``demand_weight`` (m,) their demand. ``site_xy`` (n, 2) and
    ``site_radius_m`` (n,) are the layer sites whose reach is excluded (pass all layer
    candidates and existing hotspots). ``spacing_m`` is the lattice spacing, ``radius_m``
    the generated sites' radius (metres), ``cost`` their cost and ``wired`` whether they
    have fibre. ``crs`` is set on the returned GeoDataFrame. ``reached`` (m,) may pass
    which demand points the layer sites reach, when the caller has it from their
    coverage matrix (the rows of ``coverage_matrix(site_xy, site_radius_m, demand_xy)``),
    and ``tree`` the :func:`coverage.matrix.demand_tree` of ``demand_xy``.

    Which lattice points reach unreached demand, and which unreached points the kept
    ones serve, are read off the lattice points' own coverage-matrix rows (distance ≤
    ``radius_m``, the solver's rule), which come back as ``Gapfill.rows``.
    """
    if not (spacing_m > 0 and radius_m > 0):
        raise ValueError("spacing_m and radius_m must be positive metres")
    demand_xy = np.asarray(demand_xy, dtype=float).reshape(-1, 2)
    weight = np.asarray(demand_weight, dtype=float).reshape(-1)
    site_xy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    radii = np.broadcast_to(np.asarray(site_radius_m, dtype=float), (len(site_xy),))

    tree = demand_tree(demand_xy) if tree is None else tree
    if reached is None:
        reached = cells_reached(coverage_matrix(site_xy, radii, demand_xy, tree))
    is_gap = ~reached & (weight > 0)
    gap = np.flatnonzero(is_gap)
    ix, iy = _lattice_near(demand_xy[gap], spacing_m, radius_m)
    xy = np.column_stack([ix * spacing_m, iy * spacing_m]).astype(float)
    n_lattice = len(xy)

    rows = coverage_matrix(xy, radius_m, demand_xy, tree)
    reaches_gap = np.asarray(rows @ is_gap.astype(float)).ravel() > 0
    keep = reaches_gap & ~_inside_any(xy, site_xy, radii) & _in_area(area, xy)
    ix, iy, xy, rows = ix[keep], iy[keep], xy[keep], rows[keep]
    ids = [f"{category}-{a}_{b}" for a, b in zip(ix.tolist(), iy.tolist())]

    holes = np.empty(0, dtype=np.int64)
    served = cells_reached(rows)[gap]
    if fill_holes:
        holes = gap[~served]
        holes = holes[_in_area(area, demand_xy[holes])]
        served[np.isin(gap, holes)] = True
        ids += [f"{category}-p{k}" for k in holes.tolist()]
        xy = np.vstack([xy, demand_xy[holes]])
        ix = np.concatenate([ix, np.full(len(holes), -1)])
        iy = np.concatenate([iy, np.full(len(holes), -1)])
        rows = sp.vstack([rows, coverage_matrix(demand_xy[holes], radius_m, demand_xy, tree)], format="csr")

    by_id = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)  # the table's order
    sites = _candidate_table([ids[k] for k in by_id], xy[by_id], ix[by_id], iy[by_id], category=category,
                             label=label, radius_m=radius_m, cost=cost, wired=wired, crs=crs)
    return Gapfill(sites=sites, spacing_m=float(spacing_m), lattice_points=n_lattice, unreached_points=len(gap),
                   unreached_weight=float(weight[gap].sum()), hole_fillers=len(holes),
                   still_unreached_weight=float(weight[gap[~served]].sum()), rows=rows[by_id])


def _lattice_near(points: np.ndarray, spacing: float, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Lattice indices of every lattice point within ``radius`` of some point (deduplicated).

    The lattice points nearest to ``points`` are marked on a boolean raster of the
    lattice over their bounding box, which is then dilated by the window of lattice
    steps a point can reach; the marked raster cells, read row by row, are the result,
    sorted row-major from the south-west. (One byte per lattice position of the box:
    the lattice points kept take far more.)
    """
    if len(points) == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    reach = int(np.ceil(radius / spacing + 0.5))  # rounding puts a point up to half a step off
    cx = np.round(points[:, 0] / spacing).astype(np.int64)
    cy = np.round(points[:, 1] / spacing).astype(np.int64)
    x0, y0 = cx.min() - reach, cy.min() - reach
    width, height = int(cx.max() + reach - x0 + 1), int(cy.max() + reach - y0 + 1)
    marked = np.zeros((height, width), dtype=bool)
    marked[cy - y0, cx - x0] = True
    keys = np.flatnonzero(_dilate(_dilate(marked, reach, axis=1), reach, axis=0))
    return keys % width + x0, keys // width + y0


def _dilate(marked: np.ndarray, reach: int, axis: int) -> np.ndarray:
    """``marked`` or-ed with itself shifted by 1…``reach`` steps both ways along ``axis``
    (the marks lie at least ``reach`` steps inside the raster's edges)."""
    out = marked.copy()
    n = marked.shape[axis]
    for step in range(1, reach + 1):
        ahead = [slice(None)] * 2
        behind = [slice(None)] * 2
        ahead[axis], behind[axis] = slice(step, n), slice(0, n - step)
        out[tuple(ahead)] |= marked[tuple(behind)]
        out[tuple(behind)] |= marked[tuple(ahead)]
    return out


def _reaches(xy: np.ndarray, targets: np.ndarray, radius: float) -> np.ndarray:
    """For each of ``xy``: is some point of ``targets`` within ``radius`` metres?"""
    if len(xy) == 0 or len(targets) == 0:
        return np.zeros(len(xy), dtype=bool)
    distance, _ = cKDTree(targets).query(xy, k=1, distance_upper_bound=radius * (1 + 1e-12), workers=-1)
    return np.isfinite(distance) & (distance <= radius)


def _inside_any(xy: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """For each of ``xy``: does it lie within (distance ≤ radius) any of the circles?"""
    inside = np.zeros(len(xy), dtype=bool)
    if len(xy) == 0 or len(centres) == 0:
        return inside
    for radius in np.unique(radii):  # one k-d tree per distinct radius (a few categories)
        inside |= _reaches(xy, centres[radii == radius], float(radius))
    return inside


def _in_area(area: shapely.Geometry, xy: np.ndarray) -> np.ndarray:
    """For each of ``xy``: inside the area or on its boundary."""
    if len(xy) == 0:
        return np.zeros(0, dtype=bool)
    shapely.prepare(area)
    return shapely.intersects_xy(area, xy[:, 0], xy[:, 1])


def _candidate_table(ids, xy, ix, iy, *, category, label, radius_m, cost, wired, crs) -> gpd.GeoDataFrame:
    """The candidates as a GeoDataFrame, in the order given (sorted by ``site_id``)."""
    n = len(ids)
    names = [f"{label or category.replace('_', ' ').capitalize()} {i}" for i in ids]
    table = gpd.GeoDataFrame({
        "site_id": np.asarray(ids, dtype=object),
        "name": np.asarray(names, dtype=object),
        "category": category,
        "source": GENERATED,
        "existing": np.zeros(n, dtype=bool),
        "radius_m": np.full(n, float(radius_m)),
        "cost": np.full(n, float(cost)),
        "wired": np.full(n, bool(wired)),
        "lattice_ix": np.asarray(ix, dtype=np.int64),
        "lattice_iy": np.asarray(iy, dtype=np.int64),
    }, geometry=shapely.points(xy) if n else gpd.GeoSeries([], crs=crs).array, crs=crs)
    return table


def add_gapfill_sites(sites: gpd.GeoDataFrame, area, cells: gpd.GeoDataFrame, scenario, crs,
                      reached: np.ndarray | None = None, tree: cKDTree | None = None):
    """``sites`` with the ``[gapfill]`` candidates of ``scenario`` appended, the summary's
    gapfill figures, and the generated sites' coverage-matrix rows (in their order).
    ``sites`` (layer sites), ``area`` (the study area) and ``cells`` (the demand units:
    ``x``, ``y`` and the metric's weight column) are in the metric ``crs``; ``reached``
    (per demand unit) may pass what the layer sites reach, from their rows of the
    coverage matrix, and ``tree`` the demand units' k-d tree.

    Candidates are generated over the demand points (``cells``) that no layer site
    reaches within radius − margin, with the category's radius less the margin; their
    ``radius_m`` is then the category's full radius, like any site of the category.
    """
    setting = scenario.gapfill
    cat = scenario.categories[setting.category]
    margin = scenario.coverage_margin_m
    with stage(f"Generating {setting.category} gap-fill candidates ({setting.spacing_m:g} m lattice)") as st:
        weight = cells["population" if scenario.metric == "population" else "area_m2"].to_numpy()
        found = gapfill_candidates(
            area, np.column_stack([cells["x"].to_numpy(), cells["y"].to_numpy()]), weight,
            shapely.get_coordinates(sites.geometry.array), reach_m(sites["radius_m"].to_numpy(), margin),
            spacing_m=setting.spacing_m, radius_m=float(cat.radius_m) - margin, category=cat.name, cost=float(cat.cost),
            wired=bool(cat.wired), label=cat.label, crs=crs, reached=reached, tree=tree)
        st.result = f"{len(found.sites):,} candidates ({found.hole_fillers:,} hole fillers)"
    generated = found.sites.assign(radius_m=float(cat.radius_m))
    taken = generated["site_id"].isin(sites["site_id"]).to_numpy()  # vectorised: 360k ids
    clash = sorted(generated["site_id"][taken]) if taken.any() else []
    if clash:
        raise InputError(f"site id {clash[0]!r} of a site layer clashes with a generated [gapfill] site id "
                         f"(\"{cat.name}-<ix>_<iy>\"); rename that site or choose another [gapfill] category name")
    for column in sites.columns:
        if column not in generated.columns:
            generated[column] = None
    combined = pd.concat([sites, generated[list(sites.columns)]], ignore_index=True)
    info = {"category": cat.name, "spacing_m": float(setting.spacing_m), "candidates": int(len(generated)),
            "hole_fillers": int(found.hole_fillers), "unreached_points": int(found.unreached_points),
            "unreached_" + ("population" if scenario.metric == "population" else "area_m2"): found.unreached_weight,
            "still_unreached": found.still_unreached_weight}
    return gpd.GeoDataFrame(combined, geometry=sites.geometry.name, crs=crs), info, found.rows
