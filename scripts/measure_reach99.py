"""Measure what it takes for the Shenzhen default to reach 99 % (issue #14; run by hand).

    .venv/bin/python scripts/measure_reach99.py [--cell 100] [--spacing 100] [--radius 100]
        [--street-cost 1.0] [--demand cells|subpoints] [--district Futian]

Builds the default problem (demand grid, schools, libraries, hubs), then:

1. replaces the population with a quick WorldPop-shaped surface from
   ``../shared/data/shenzhen-real/worldpop_2020_1km_samples.csv`` (one ~0.89 km² box
   per sample, each district scaled to its 2020 census total) — a stand-in for the data
   helper's real layer;
2. adds the 334 metro stations (interchanges merged) as phase-1 candidates;
3. generates street gap-fill candidates (coverage.gapfill) over the demand the layers
   cannot reach;
4. plans in two phases (coverage.phases): phase 1 every layer site (required), phase 2
   street gap-fill by lazy greedy to 99 % of the population;
5. checks the plan on a grid four times finer for one district (tests/finegrid.py);
6. schedules a 2011–2015 roll-out (coverage.rollout) and proposes fibre drops.

Prints one block of figures per stage (times are wall-clock on this machine).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
SHARED = ROOT.parent / "shared" / "data" / "shenzhen-real"
if not SHARED.exists():
    SHARED = Path("/work/shared/data/shenzhen-real")

from finegrid import finer_grid_coverage  # noqa: E402

from coverage import load_scenario, prepare  # noqa: E402
from coverage.demand import allocate_population  # noqa: E402
from coverage.demandpoints import cell_subpoints  # noqa: E402
from coverage.gapfill import gapfill_candidates  # noqa: E402
from coverage.matrix import cells_reached, coverage_matrix  # noqa: E402
from coverage.fibre import propose_fibre_drops  # noqa: E402
from coverage.networks import backhaul  # noqa: E402
from coverage.phases import greedy_phase_solver, solve_in_phases  # noqa: E402
from coverage.rollout import rollout, schedule  # noqa: E402
from coverage.solve import greedy_cover  # noqa: E402

CENSUS = {"Luohu": 1_143_801, "Futian": 1_553_225, "Nanshan": 1_795_826, "Bao'an": 4_476_554,
          "Longgang": 3_979_037 + 156_236, "Yantian": 214_225, "Longhua": 2_528_872, "Pingshan": 551_333,
          "Guangming": 1_095_289}
DLON, DLAT = 0.0092, 0.00855  # the WorldPop sample lattice, degrees


class Clock:
    def __init__(self):
        self.t = time.perf_counter()

    def lap(self, what: str) -> float:
        now = time.perf_counter()
        dt, self.t = now - self.t, now
        print(f"  [{dt:6.2f} s] {what}", flush=True)
        return dt


def worldpop_cells(cells: gpd.GeoDataFrame, crs) -> np.ndarray:
    """People per cell from the WorldPop samples, each district scaled to its census total."""
    samples = pd.read_csv(SHARED / "worldpop_2020_1km_samples.csv")
    boxes = shapely.box(samples.lon - DLON / 2, samples.lat - DLAT / 2, samples.lon + DLON / 2, samples.lat + DLAT / 2)
    layer = gpd.GeoDataFrame({"population": samples.population.to_numpy(float)}, geometry=boxes, crs="EPSG:4326")
    people = allocate_population(cells, layer.to_crs(crs), "population", "WorldPop samples")
    district = cells["district"].to_numpy()
    for name, total in CENSUS.items():
        mask = district == name
        if people[mask].sum() > 0:
            people[mask] *= total / people[mask].sum()
    return people


def metro_stations(crs) -> gpd.GeoDataFrame:
    rows = pd.read_csv(SHARED / "metro_stations.csv")
    merged = rows.groupby("name_en", sort=True).agg(lon=("lon", "mean"), lat=("lat", "mean")).reset_index()
    return gpd.GeoDataFrame({"site_id": "MS-" + merged["name_en"], "category": "metro_station"},
                            geometry=shapely.points(merged.lon, merged.lat), crs="EPSG:4326").to_crs(crs)


def trial_store(folder: Path, cells, matrix, weight, points, gen, clock) -> None:
    """How big and how fast: cells as polygons vs points vs grid indices; the matrix as .npz."""
    import os

    import scipy.sparse as sp

    folder.mkdir(parents=True, exist_ok=True)
    base = cells[["cell_id", "ix", "iy", "district"]].assign(population=np.bincount(points.cell, weights=weight))
    for what, frame in (("polygons", base.set_geometry(cells.geometry)),
                        ("points", base.set_geometry(gpd.points_from_xy(cells.x, cells.y, crs=cells.crs)))):
        path = folder / f"cells_{what}.gpkg"
        path.unlink(missing_ok=True)
        frame.to_file(path, engine="pyogrio")
        clock.lap(f"cells as {what}: {os.path.getsize(path) / 1e6:.1f} MB")
    path = folder / "cells_table.parquet"
    pd.DataFrame(base).to_parquet(path)
    clock.lap(f"cells as a plain table (ix, iy: polygons rebuilt on read): {os.path.getsize(path) / 1e6:.1f} MB")
    path = folder / "candidates.gpkg"
    path.unlink(missing_ok=True)
    gen.sites.to_file(path, engine="pyogrio")
    clock.lap(f"{len(gen.sites):,} generated candidates as points: {os.path.getsize(path) / 1e6:.1f} MB")
    path = folder / "matrix.npz"
    sp.save_npz(path, matrix.astype(bool).tocsr(), compressed=False)
    clock.lap(f"matrix.npz {os.path.getsize(path) / 1e6:.1f} MB written")
    sp.load_npz(path)
    np.save(folder / "weights.npy", weight)
    clock.lap("matrix.npz loaded again")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cell", type=float, default=100.0)
    ap.add_argument("--spacing", type=float, default=100.0)
    ap.add_argument("--radius", type=float, default=100.0)
    ap.add_argument("--metro-radius", type=float, default=150.0)
    ap.add_argument("--street-cost", type=float, default=1.0)
    ap.add_argument("--target", type=float, default=0.99)
    ap.add_argument("--district", default="Futian", help="district(s) to check on the finer grid, comma-separated")
    ap.add_argument("--mesh-range", type=float, default=300.0)
    ap.add_argument("--shrink", type=float, default=0.0, help="metres taken off every radius in the matrix")
    ap.add_argument("--floor", type=float, default=0.95, help="district floor to measure the cost of")
    ap.add_argument("--store", type=Path, default=None, help="folder to write plan-folder size/load trials into")
    ap.add_argument("--max-hops", type=int, default=4)
    ap.add_argument("--subpoints", type=int, default=1, help="k: demand points per cell = k × k")
    args = ap.parse_args()
    clock = Clock()

    scenario = load_scenario(ROOT / "gis_data/shenzhen/scenario.toml").replace(cell_size_m=args.cell)
    problem = prepare(scenario)
    cells, crs = problem.cells, problem.crs
    clock.lap(f"prepare (today's pipeline): {len(cells):,} cells of {args.cell:g} m, "
              f"{len(problem.sites):,} layer sites")
    weight = worldpop_cells(cells, crs)
    clock.lap(f"WorldPop-shaped surface: {weight.sum():,.0f} people, {100 * (weight <= 0).mean():.1f} % of cells empty")

    area = shapely.union_all(problem.study_area.geometry.array)
    metro = metro_stations(crs)
    metro = metro[shapely.intersects(area, metro.geometry.array)]
    layer_xy = np.vstack([shapely.get_coordinates(problem.sites.geometry.array),
                          shapely.get_coordinates(metro.geometry.array)])
    layer_r = np.concatenate([problem.sites["radius_m"].to_numpy(), np.full(len(metro), args.metro_radius)])
    layer_cost = np.concatenate([problem.sites["cost"].to_numpy(), np.ones(len(metro))])
    points = cell_subpoints(cells, weight, args.cell, args.subpoints)
    cell_weight, weight = weight, points.weight
    demand = points.xy
    clock.lap(f"{len(demand):,} demand points ({args.subpoints} × {args.subpoints} per cell)")
    reached_layers = cells_reached(coverage_matrix(layer_xy, layer_r, demand))
    print(f"  layer sites {len(layer_xy):,} (incl. {len(metro)} metro stations) reach "
          f"{100 * weight[reached_layers].sum() / weight.sum():.2f} % of the people")
    clock.lap("layer reach")

    # the coverage margin applies to every radius the matrix uses, so gap-fill sees the same reach
    gen = gapfill_candidates(area, demand, weight, layer_xy, layer_r - args.shrink, spacing_m=args.spacing,
                             radius_m=args.radius - args.shrink, category="street", cost=args.street_cost,
                             wired=False, crs=crs)
    gen.sites["radius_m"] = args.radius
    clock.lap(f"gap-fill: {len(gen.sites):,} candidates from {gen.lattice_points:,} lattice points "
              f"({gen.hole_fillers} hole fillers), unreached {gen.unreached_weight:,.0f} people")

    gen_xy = shapely.get_coordinates(gen.sites.geometry.array)
    xy = np.vstack([layer_xy, gen_xy])
    radii = np.concatenate([layer_r, gen.sites["radius_m"].to_numpy()])
    costs = np.concatenate([layer_cost, gen.sites["cost"].to_numpy()])
    matrix = coverage_matrix(xy, radii - args.shrink, demand)
    clock.lap(f"matrix {matrix.shape[0]:,} × {matrix.shape[1]:,}, {matrix.nnz:,} pairs")

    n_layer = len(layer_xy)
    phase = np.r_[np.ones(n_layer, int), np.full(len(gen_xy), 2)]
    required = np.r_[np.ones(n_layer, bool), np.zeros(len(gen_xy), bool)]
    point_district = cells["district"].to_numpy()[points.cell]
    districts = {name: np.flatnonzero(point_district == name) for name in CENSUS}
    plan = solve_in_phases(greedy_phase_solver(matrix, weight, costs), matrix, weight, costs, phase, args.target,
                           required=required, groups=districts)
    clock.lap("phased solve (lazy greedy)")
    for p in plan.phases:
        worst = min(p.groups, key=p.groups.get)
        print(f"  phase {p.phase}: {p.n_sites:,} sites, cost {p.cost:,.1f}, coverage after {100 * p.coverage:.2f} %, "
              f"lowest district {worst} {100 * p.groups[worst]:.2f} %")

    chosen = plan.order
    extra = []
    for name, cols in districts.items():  # what a district floor adds: greedy on that district's demand alone
        if plan.phases[-1].groups[name] >= args.floor:
            continue
        only = np.zeros_like(weight)
        only[cols] = weight[cols]
        more = greedy_cover(matrix, only, costs, args.floor, preselected=np.r_[chosen, extra].astype(np.int64),
                            allowed=phase == 2).order[len(chosen) + len(extra):]
        print(f"  floor {100 * args.floor:g} % in {name}: +{len(more):,} sites, cost {costs[more].sum():,.1f}")
        extra.extend(more.tolist())
    clock.lap(f"district floor {100 * args.floor:g} %: +{len(extra):,} sites in all")
    if args.store:
        trial_store(args.store, cells, matrix, weight, points, gen, clock)
    factor = 4 * args.subpoints
    for name in args.district.split(","):
        inside = cells["district"].to_numpy() == name
        check = finer_grid_coverage(cells[inside], cell_weight[inside], args.cell, xy[chosen], radii[chosen],
                                    factor=factor)
        reported = plan.phases[-1].groups[name]
        clock.lap(f"finer grid ({name}): planner reports {100 * reported:.2f} % on {len(districts[name]):,} points; "
                  f"{100 * check.fine:.2f} % on {check.n_fine:,} points {args.cell / factor:g} m apart "
                  f"(difference {100 * (reported - check.fine):+.2f} pp; centre rule {100 * check.coarse:.2f} %)")

    years = schedule(costs[chosen], 2011, end_year=2015)
    roll = rollout(chosen, years, matrix, weight, costs, 2011, groups=districts)
    for y in roll.years:
        print(f"  {y.year}: {y.n_sites:,} sites, cost {y.cost:,.1f}, coverage {100 * y.coverage:.2f} %")
    for name in CENSUS:
        print(f"    {name}: ≥ 95 % in {roll.first_year_reaching(0.95, name)}, "
              f"≥ 99 % in {roll.first_year_reaching(0.99, name)}")
    clock.lap("roll-out")

    wired = np.r_[np.ones(n_layer, bool), np.zeros(len(gen_xy), bool)][chosen]
    mesh = backhaul(xy[chosen], chosen.tolist(), wired, args.mesh_range)
    drops = propose_fibre_drops(mesh)
    clock.lap(f"backhaul: {len(mesh.orphans):,} orphans in {sum(not c.has_gateway for c in mesh.components)} "
              f"components → {len(drops.drops)} fibre drops, max hops {mesh.max_hops} → {drops.max_hops_after}")
    capped = propose_fibre_drops(mesh, max_hops=args.max_hops)
    clock.lap(f"fibre drops for ≤ {args.max_hops} mesh hops: {len(capped.drops):,} (max hops {capped.max_hops_after})")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
