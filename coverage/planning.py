"""The planning pipeline: scenario in, :class:`Plan` out.

::

    layers → demand grid → sites → coverage matrix → lazy greedy → Plan

Everything is computed in the UTM zone of the study area (metres); the Plan hands
results back in WGS84 (EPSG:4326).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely

from . import analyse
from .demand import NO_DISTRICT, allocate_population, assign_districts, build_grid, demand_points
from .errors import InputError
from .layers import WGS84, metric_crs, read_layer, read_polygons
from .matrix import cells_reached, coverage_matrix
from .progress import every, stage
from .scenario import Scenario
from .sites import drop_outside, load_sites
from .solve import Solution, greedy_cover

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """A planning result and everything needed to inspect or re-evaluate it.

    Geometry in ``cells``, ``sites``, ``districts`` and ``study_area`` is in the metric
    ``crs``. ``sites`` holds every candidate inside the study area (existing hotspots
    included), sorted by ``site_id``; ``matrix`` is the sites × cells coverage matrix;
    ``solution.order`` indexes ``sites`` in selection order.
    """

    scenario: Scenario
    crs: pyproj.CRS
    study_area: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    dropped_sites: pd.DataFrame
    matrix: sp.csr_matrix
    allowed: np.ndarray  # sites the plan may use: allowed candidates and preselected ones
    solution: Solution
    runtime_s: float = 0.0
    _summary: dict | None = field(default=None, repr=False)

    @property
    def weights(self) -> np.ndarray:
        """Demand per cell in the target metric: persons or m²."""
        return self.cells[weight_column(self.scenario)].to_numpy()

    @property
    def covered(self) -> np.ndarray:
        """Boolean mask of cells covered by the plan."""
        return self.solution.covered

    @property
    def reachable(self) -> np.ndarray:
        """Boolean mask of cells some allowed or preselected site could cover."""
        return cells_reached(self.matrix, np.flatnonzero(self.allowed))

    @property
    def coverage(self) -> float:
        """Covered fraction of total demand in the target metric."""
        return analyse.fraction(self.weights, self.covered)

    @property
    def target_met(self) -> bool:
        return analyse.meets(self.coverage, self.scenario.target)

    def selected_sites(self) -> gpd.GeoDataFrame:
        """The selected sites in rank order with marginal gains, in WGS84."""
        return analyse.selected_table(self).to_crs(WGS84)

    def summary(self) -> dict:
        """The contents of ``summary.json`` (see docs/outputs.md)."""
        if self._summary is None:
            self._summary = analyse.summarise(self)
        return self._summary

    def write(self, out_dir, map: bool = True, offline: bool = False):
        """Write summary.json, plan.gpkg, selected_sites.csv (and map.html) to ``out_dir``."""
        from .outputs import write_plan

        return write_plan(self, out_dir, map=map, offline=offline)


def plan(scenario: Scenario) -> Plan:
    """Plan hotspots for ``scenario``: read the layers, build demand, solve, return a Plan."""
    start = time.perf_counter()
    with stage("Reading layers") as st:
        study_area = read_polygons(scenario.study_area, "study area")
        crs = metric_crs(study_area)
        districts = _read_districts(scenario)
        population = _read_population(scenario)
        sites = load_sites(scenario)
        st.result = f"{len(sites):,} sites; working in {crs.to_string()}"

    study_area_m = study_area.to_crs(crs)
    area = shapely.union_all(study_area_m.geometry.array)
    with stage(f"Building the {scenario.cell_size_m:g} m demand grid") as st:
        cells = build_grid(area, scenario.cell_size_m, crs)
        districts_m = _districts_or_whole_area(districts, area, crs, scenario.district_name_column)
        cells["district"] = assign_districts(cells, districts_m, scenario.district_name_column)
        st.result = f"{len(cells):,} cells"
    if scenario.population is not None:
        with stage("Allocating population to cells") as st:
            cells["population"] = allocate_population(
                cells, population.to_crs(crs), scenario.population_column, f"population layer {scenario.population.path}"
            )
            st.result = f"{cells['population'].sum():,.0f} people from {len(population):,} features"
    if scenario.metric == "population" and cells["population"].sum() <= 0:
        raise InputError(
            f"population layer {scenario.population.path}: no population falls inside the study area; "
            "check both layers' coordinate systems, or plan with metric = \"area\""
        )

    sites, dropped = drop_outside(sites.to_crs(crs), area, scenario.forced)
    preselected, allowed = _selection_sets(sites, scenario)
    max_sites, max_cost = _remaining_budget(sites, scenario)

    with stage("Building the coverage matrix") as st:
        site_xy = shapely.get_coordinates(sites.geometry.array)
        matrix = coverage_matrix(site_xy, sites["radius_m"].to_numpy(), demand_points(cells))
        st.result = f"{matrix.shape[0]:,} sites × {matrix.shape[1]:,} cells, {matrix.nnz:,} pairs"

    usable = allowed | _mask(len(sites), preselected)
    weights = cells[weight_column(scenario)].to_numpy()
    with stage(f"Choosing sites (lazy greedy to {scenario.target:.1%} of {scenario.metric})") as st:
        solution = greedy_cover(
            matrix, weights, sites["cost"].to_numpy(), scenario.target,
            preselected=preselected, allowed=allowed,
            max_sites=max_sites, max_cost=max_cost,
            progress=every(2.0, lambda n, f: log.info("  %d sites added, %.2f %% covered", n, 100 * f)),
        )
        st.result = f"{len(solution.order):,} sites, stop: {solution.stop_reason}"

    result = Plan(
        scenario=scenario, crs=crs, study_area=study_area_m, districts=districts_m, cells=cells,
        sites=sites, dropped_sites=dropped, matrix=matrix,
        allowed=usable, solution=solution,
    )
    result.runtime_s = time.perf_counter() - start
    return result


def weight_column(scenario: Scenario) -> str:
    """The cells column the target is measured in."""
    return "population" if scenario.metric == "population" else "area_m2"


def _read_districts(scenario: Scenario) -> gpd.GeoDataFrame | None:
    if scenario.districts is None:
        return None
    column = scenario.district_name_column
    districts = read_polygons(scenario.districts, "districts", (column,))
    return districts[[column, districts.geometry.name]]


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


def _districts_or_whole_area(districts, area, crs, column) -> gpd.GeoDataFrame:
    """Districts in the metric CRS; without a districts layer, the study area as one."""
    if districts is not None:
        return districts.to_crs(crs)
    return gpd.GeoDataFrame({column: [NO_DISTRICT]}, geometry=[area], crs=crs)


def _mask(n: int, rows) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[np.asarray(rows, dtype=np.int64)] = True
    return mask


def _selection_sets(sites: gpd.GeoDataFrame, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Preselected site rows (existing then forced, each by site_id) and the rows greedy may add."""
    forbidden = sites["site_id"].isin(scenario.forbidden).to_numpy()
    existing = sites["existing"].to_numpy(dtype=bool) & ~forbidden
    forced = sites["site_id"].isin(scenario.forced).to_numpy() & ~existing
    preselected = np.concatenate([np.flatnonzero(existing), np.flatnonzero(forced)])
    allowed = ~forbidden & ~existing & ~forced & ~sites["existing"].to_numpy(dtype=bool)
    return preselected, allowed


def _remaining_budget(sites: gpd.GeoDataFrame, scenario: Scenario) -> tuple[int | None, float | None]:
    """What the budget leaves for greedy after the forced new sites."""
    budget = scenario.budget
    forced = sites[sites["site_id"].isin(scenario.forced) & ~sites["existing"]]
    max_sites = max_cost = None
    if budget.max_sites is not None:
        max_sites = budget.max_sites - len(forced)
        if max_sites < 0:
            raise InputError(
                f"the {len(forced)} forced site(s) exceed the budget of {budget.max_sites} sites; "
                "raise max_sites or force fewer sites"
            )
    if budget.max_cost is not None:
        max_cost = budget.max_cost - float(forced["cost"].sum())
        if max_cost < -1e-9:
            raise InputError(
                f"the forced sites cost {forced['cost'].sum():g}, more than the budget max_cost {budget.max_cost:g}; "
                "raise max_cost or force fewer sites"
            )
    return max_sites, max_cost
