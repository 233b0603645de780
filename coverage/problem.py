"""The problem a plan is solved on: demand, candidate sites and the coverage matrix.

:func:`prepare` reads the scenario's layers and builds, in the study area's UTM zone
(metres): the demand grid (cut at district borders, population allocated, optionally
k×k demand points per cell), the candidate sites (layers plus generated gap-fill
sites) and the sparse sites × demand coverage matrix, into a frozen :class:`Problem`.
:func:`saved_problem` reloads one from a plan folder's ``problem/``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.spatial import cKDTree

from .demand import NO_DISTRICT, allocate_population, build_grid, demand_points, split_at_districts
from .demandpoints import demand_point_table
from .errors import InputError
from .gapfill import add_gapfill_sites
from .layers import metric_crs, read_layer, read_polygons
from .matrix import cells_reached, coverage_matrix, demand_tree, reach_m
from .progress import stage
from .resources import check_memory
from .scenario import Scenario
from .sites import check_selection, drop_outside, load_sites

log = logging.getLogger(__name__)


#: A districts layer's optional column of Chinese names, carried to the outputs and the map.
ZH_NAME_COLUMN = "name_zh"

#: Up to this many new sites, :meth:`Problem.matrix_rows` indexes only the demand points near them.
FEW_SITES = 100


@dataclass(frozen=True)
class Problem:
    """What a plan is solved on: demand cells, candidate sites and the coverage matrix.

    Geometry in ``cells``, ``sites``, ``districts`` and ``study_area`` is in the metric
    ``crs`` (UTM of the study area, metres). ``demand`` is the table of the demand units
    (``cells``' rows, with ``x``, ``y`` in metres): ``cells`` itself as prepared; read back
    from a plan folder, where the units are points at their ``x``, ``y``, a plain table
    whose points ``cells`` makes on first use (a what-if seldom needs them). ``sites`` holds every candidate inside the
    study area (existing hotspots included), sorted by ``site_id``, then the generated
    gap-fill candidates (``source = "generated"``); what-if sites are appended after them.
    ``matrix`` is the sites × cells coverage matrix: its columns are the rows of ``cells``,
    the demand units the solver counts. With ``demand_points_per_cell = k > 1`` these are
    ``k × k`` points per 100 m grid cell (each with its parent ``cell_id``, ``district``
    and share of the cell's population and area); ``cell_polygons`` keeps the grid cells
    themselves (for output polygons and per-cell coverage, :func:`coverage.analyse.cell_coverage`).
    ``gapfill`` describes the generated candidates (None without ``[gapfill]``).
    """

    scenario: Scenario
    crs: pyproj.CRS
    study_area: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    demand: pd.DataFrame
    sites: gpd.GeoDataFrame
    dropped_sites: pd.DataFrame
    matrix: sp.csr_matrix
    warnings: tuple[str, ...] = ()
    cell_polygons: gpd.GeoDataFrame | None = None
    gapfill: dict | None = None

    @cached_property
    def cells(self) -> gpd.GeoDataFrame:
        """The demand units (the matrix's columns) with their geometry, in ``crs``: ``demand``
        when it has its geometry, else ``demand`` with a point at each ``x``, ``y`` (last column)."""
        if isinstance(self.demand, gpd.GeoDataFrame):
            return self.demand
        points = shapely.points(self.demand["x"].to_numpy(), self.demand["y"].to_numpy())
        return gpd.GeoDataFrame(self.demand.assign(geometry=points), geometry="geometry", crs=self.crs)

    @property
    def grid_cells(self) -> gpd.GeoDataFrame:
        """The demand grid's cells (polygons, one row per ``cell_id``)."""
        return self.cells if self.cell_polygons is None else self.cell_polygons

    @cached_property
    def grid_cells_wgs84(self) -> gpd.GeoDataFrame:
        """``cell_id`` and polygon of each grid cell in WGS84, the outputs' CRS (reprojected once)."""
        grid = self.grid_cells
        return grid[["cell_id", grid.geometry.name]].to_crs("EPSG:4326")

    def grid_for_outputs(self) -> gpd.GeoDataFrame:
        """``cell_id`` and polygon of each grid cell for plan.gpkg and the map: in WGS84 when
        :attr:`grid_cells_wgs84` was made (``hotspots whatif`` makes it while its network check
        runs), else in the metric CRS, reprojected where written (no copy kept)."""
        if "grid_cells_wgs84" in self.__dict__:
            return self.grid_cells_wgs84
        grid = self.grid_cells
        return grid[["cell_id", grid.geometry.name]]

    @cached_property
    def area(self) -> shapely.Geometry:
        """The study area as one geometry (metric CRS)."""
        area = shapely.union_all(self.study_area.geometry.array)
        shapely.prepare(area)
        return area

    @cached_property
    def cell_tree(self) -> cKDTree:
        """Spatial index of the demand points, for new coverage-matrix rows."""
        return demand_tree(demand_points(self.demand))

    def matrix_rows(self, sites: gpd.GeoDataFrame) -> sp.csr_matrix:
        """Coverage-matrix rows for ``sites`` (metric CRS, with ``radius_m``).

        A few sites (a what-if's) are matched against the demand points in their
        bounding box only, through a k-d tree of those: the same pairs by the same
        distance test, without indexing a city's million points first.
        """
        points, margin = demand_points(self.demand), self.scenario.coverage_margin_m
        if len(sites) > FEW_SITES or "cell_tree" in self.__dict__ or not len(sites):
            return site_rows(sites, points, self.cell_tree, margin)
        xy = shapely.get_coordinates(sites.geometry.array)
        reach = reach_m(sites["radius_m"].to_numpy(), margin)[:, None]
        low, high = (xy - reach).min(axis=0) - 1.0, (xy + reach).max(axis=0) + 1.0
        near = np.flatnonzero(((points >= low) & (points <= high)).all(axis=1))
        rows = site_rows(sites, points[near], demand_tree(points[near]), margin)
        return sp.csr_matrix((rows.data, near[rows.indices], rows.indptr), shape=(len(sites), len(points)))

    @cached_property
    def _site_ids(self) -> pd.Index:
        return pd.Index(self.sites["site_id"])

    def site_index(self, site_ids) -> np.ndarray:
        """Row numbers of ``site_ids`` in ``sites``; unknown ids raise InputError."""
        ids = list(site_ids)
        typed = all(isinstance(s, str) for s in ids)  # then looked up as the index's own string type: 3x faster
        rows = self._site_ids.get_indexer(pd.array(ids, dtype=self._site_ids.dtype) if typed else ids)
        unknown = [s for s, r in zip(ids, rows) if r < 0]
        if unknown:
            dropped = set(self.dropped_sites["site_id"]) if len(self.dropped_sites) else set()
            why = " (outside the study area)" if set(unknown) <= dropped else ""
            raise InputError(f"unknown site id(s){why}: {', '.join(map(str, unknown[:5]))}; "
                             "use ids from the site layers or selected_sites.csv")
        return rows

    def with_scenario(self, scenario: Scenario) -> Problem:
        """This problem under new settings, rebuilding only what they change.

        Target, metric, budget, forced and forbidden sites need nothing rebuilt; new
        category costs update the sites; new radii rebuild the coverage matrix; anything
        else (layers, cell size) is a new problem.
        """
        old = self.scenario
        same_inputs = (old.study_area, old.districts, old.population, old.sites, old.cell_size_m,
                       old.district_name_column, old.population_column, old.demand_points_per_cell,
                       old.coverage_margin_m, old.gapfill) == (
                       scenario.study_area, scenario.districts, scenario.population, scenario.sites,
                       scenario.cell_size_m, scenario.district_name_column, scenario.population_column,
                       scenario.demand_points_per_cell, scenario.coverage_margin_m, scenario.gapfill)
        if not same_inputs or set(old.categories) != set(scenario.categories):
            return prepare(scenario)
        check_selection(self.sites, self.dropped_sites, scenario)
        if scenario.categories == old.categories:
            return replace(self, scenario=scenario)
        if scenario.gapfill is not None and any(old.categories[n].radius_m != c.radius_m
                                                for n, c in scenario.categories.items()):
            return prepare(scenario)  # generated candidates depend on every category's reach
        sites = self.sites.copy()
        category = sites["category"]
        sites["radius_m"] = category.map(lambda c: float(scenario.categories[c].radius_m))
        sites["cost"] = np.where(sites["existing"], 0.0, category.map(lambda c: float(scenario.categories[c].cost)))
        matrix = self.matrix
        if not np.array_equal(sites["radius_m"].to_numpy(), self.sites["radius_m"].to_numpy()):
            matrix = self.matrix_rows(sites)
        return replace(self, scenario=scenario, sites=sites, matrix=matrix)

    def with_new_sites(self, new: gpd.GeoDataFrame) -> Problem:
        """This problem with extra candidate sites (metric CRS) appended, and their matrix rows."""
        outside = ~shapely.intersects(self.area, new.geometry.array)
        if outside.any():
            first = new["site_id"].iloc[int(np.flatnonzero(outside)[0])]
            raise InputError(f"new site {first} lies outside the study area; "
                             "check its coordinates (longitude, latitude in WGS84)")
        ids = self.sites["site_id"]  # a city's 300,000 ids: look the few new ones up, vectorised
        clash = sorted(set(ids[ids.isin(new["site_id"].tolist())].tolist()))
        if clash:
            raise InputError(f"new site id(s) already used: {', '.join(clash[:5])}; give new sites unique ids")
        rows = self.matrix_rows(new)
        sites = gpd.GeoDataFrame(pd.concat([self.sites, new[self.sites.columns]], ignore_index=True), crs=self.crs)
        return replace(self, sites=sites, matrix=sp.vstack([self.matrix, rows], format="csr"))


def saved_problem(folder, scenario: Scenario) -> Problem | None:
    """The problem saved in a plan folder's ``problem/`` for ``scenario`` (None: none saved,
    or saved for another scenario.toml); see :func:`coverage.savedproblem.read_problem`."""
    from .savedproblem import read_problem

    parts = read_problem(folder, scenario)
    if parts is None:
        return None
    known = {f.name for f in fields(Problem)}
    return Problem(scenario=scenario, **{k: v for k, v in parts.items() if k in known and v is not None})


def prepare(scenario: Scenario) -> Problem:
    """Read the layers and build the demand grid, the sites and the coverage matrix."""
    with stage("Reading layers") as st:
        study_area = read_polygons(scenario.study_area, "study area")
        crs = metric_crs(study_area)
        districts = _read_districts(scenario)
        population = _read_population(scenario)
        sites = load_sites(scenario)
        warnings = _shift_warnings(sites, study_area, scenario)
        st.result = f"{len(sites):,} sites; working in {crs.to_string()}"

    study_area_m = study_area.to_crs(crs)
    area = shapely.union_all(study_area_m.geometry.array)
    check_memory(area.area, scenario.cell_size_m, sites["radius_m"].to_numpy(),
                 f"scenario file {scenario.source_file}" if scenario.source_file else "scenario")
    with stage(f"Building the {scenario.cell_size_m:g} m demand grid") as st:
        cells = build_grid(area, scenario.cell_size_m, crs)
        districts_m = _districts_or_whole_area(districts, area, crs, scenario.district_name_column)
        cells = split_at_districts(cells, districts_m, scenario.district_name_column)
        st.result = f"{len(cells):,} cells"
    if scenario.population is not None:
        with stage("Allocating population to cells") as st:
            cells["population"] = allocate_population(
                cells, population.to_crs(crs), scenario.population_column,
                f"population layer {scenario.population.path}")
            st.result = f"{cells['population'].sum():,.0f} people from {len(population):,} features"
    if scenario.metric == "population" and cells["population"].sum() <= 0:
        raise InputError(
            f"population layer {scenario.population.path}: no population falls inside the study area; "
            "check both layers' coordinate systems, or plan with metric = \"area\""
        )

    grid = cells
    if scenario.demand_points_per_cell > 1:
        with stage(f"Splitting cells into {scenario.demand_points_per_cell}² demand points") as st:
            cells = demand_point_table(grid, scenario.cell_size_m, scenario.demand_points_per_cell)
            st.result = f"{len(cells):,} points"
    sites, dropped = drop_outside(sites.to_crs(crs), area)
    check_selection(sites, dropped, scenario)
    points = demand_points(cells)
    tree = demand_tree(points)
    matrix = site_rows(sites, points, tree, scenario.coverage_margin_m)  # the layer sites' rows
    gapfill_info = generated = None
    if scenario.gapfill is not None:  # the generated sites' rows come with them
        sites, gapfill_info, generated = add_gapfill_sites(sites, area, cells, scenario, crs,
                                                           reached=cells_reached(matrix), tree=tree)
    with stage("Building the coverage matrix") as st:
        if generated is not None and generated.shape[0]:  # generated sites come after the layer sites
            matrix = sp.vstack([matrix, generated], format="csr")
        st.result = f"{matrix.shape[0]:,} sites × {matrix.shape[1]:,} demand points, {matrix.nnz:,} pairs"
    return Problem(scenario=scenario, crs=crs, study_area=study_area_m, districts=districts_m, demand=cells,
                   sites=sites, dropped_sites=dropped, matrix=matrix, warnings=warnings,
                   cell_polygons=None if cells is grid else grid, gapfill=gapfill_info)


def site_rows(sites: gpd.GeoDataFrame, points: np.ndarray, tree: cKDTree, margin_m: float) -> sp.csr_matrix:
    """Coverage matrix rows of ``sites`` (metric CRS) over the demand ``points`` (indexed by
    ``tree``): a site reaches the points within its radius less ``margin_m`` metres. Rows
    are independent of each other, so the layer sites' rows and the generated sites'
    rows stacked are the matrix of all sites."""
    return coverage_matrix(shapely.get_coordinates(sites.geometry.array),
                           reach_m(sites["radius_m"].to_numpy(), margin_m), points, tree)


def weight_column(scenario: Scenario) -> str:
    """The cells column the target is measured in."""
    return "population" if scenario.metric == "population" else "area_m2"


def _read_districts(scenario: Scenario) -> gpd.GeoDataFrame | None:
    if scenario.districts is None:
        return None
    column = scenario.district_name_column
    districts = read_polygons(scenario.districts, "districts", (column,))
    chinese = [ZH_NAME_COLUMN] if ZH_NAME_COLUMN in districts.columns and column != ZH_NAME_COLUMN else []
    return districts[[column, *chinese, districts.geometry.name]]


def _read_population(scenario: Scenario) -> gpd.GeoDataFrame | None:
    if scenario.population is None:
        return None
    population = read_layer(scenario.population, "population", (scenario.population_column,))
    if not population.geom_type.isin(["Point", "Polygon", "MultiPolygon"]).all():
        raise InputError(
            f"population layer {scenario.population.path} must hold points or polygons with counts "
            f"in {scenario.population_column!r}"
        )
    return population


def _shift_warnings(sites: gpd.GeoDataFrame, study_area: gpd.GeoDataFrame, scenario: Scenario) -> tuple[str, ...]:
    """Warnings for site layers read as WGS84 that look shifted into GCJ-02 or BD-09."""
    from .shiftcheck import check_shift

    warnings = []
    for layer in scenario.sites:
        if layer.source.crs and layer.source.crs.lower() in ("gcj02", "bd09"):
            continue
        points = sites[sites["layer_file"] == str(layer.source.path)]
        message = check_shift(points, study_area, f"site layer {layer.source.path}") if len(points) else None
        if message:
            log.warning("%s", message)
            warnings.append(message)
    return tuple(warnings)


def _districts_or_whole_area(districts, area, crs, column) -> gpd.GeoDataFrame:
    """Districts in the metric CRS; without a districts layer, the study area as one."""
    if districts is not None:
        return districts.to_crs(crs)
    return gpd.GeoDataFrame({column: [NO_DISTRICT]}, geometry=[area], crs=crs)
