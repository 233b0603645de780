"""Generated gap-filling candidates: where they go, where they never go, and what they make reachable."""

import numpy as np
import pytest
import shapely
from scipy.spatial import distance_matrix

from coverage.gapfill import GENERATED, gapfill_candidates
from coverage.matrix import cells_reached, coverage_matrix
from coverage.solver.greedy import greedy_cover


def grid_points(x0, y0, x1, y1, step):
    xs, ys = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
    return np.column_stack([xs.ravel(), ys.ravel()])


@pytest.fixture
def city():
    """An L-shaped 2 km study area, 50 m demand points, two layer sites with different radii."""
    area = shapely.Polygon([(0, 0), (2000, 0), (2000, 1000), (1000, 1000), (1000, 2000), (0, 2000)])
    demand = grid_points(0, 0, 2000, 2000, 50)
    demand = demand[shapely.contains_xy(area, demand[:, 0], demand[:, 1])]
    rng = np.random.default_rng(3)
    weight = rng.integers(0, 5, len(demand)).astype(float)
    sites = np.array([[500.0, 500.0], [1500.0, 400.0]])
    radii = np.array([300.0, 150.0])
    return area, demand, weight, sites, radii


def make(city, **kw):
    area, demand, weight, sites, radii = city
    options = dict(spacing_m=100, radius_m=120, category="street", cost=0.3, crs="EPSG:32649")
    options.update(kw)
    return gapfill_candidates(area, demand, weight, sites, radii, **options)


def test_never_inside_a_layer_sites_reach(city):
    _, _, _, sites, radii = city
    gen = make(city)
    xy = np.column_stack([gen.sites.geometry.x, gen.sites.geometry.y])
    d = distance_matrix(xy, sites)
    assert len(xy) > 100
    assert (d > radii).all()


def test_never_outside_the_study_area(city):
    area = city[0]
    gen = make(city)
    assert shapely.covers(area, gen.sites.geometry.array).all()
    assert not ((gen.sites.geometry.x > 1000) & (gen.sites.geometry.y > 1000)).any()  # the L's notch


def test_only_near_unreached_demand(city):
    area, demand, weight, sites, radii = city
    gen = make(city)
    reached = (distance_matrix(demand, sites) <= radii).any(axis=1)
    gap = demand[~reached & (weight > 0)]
    xy = np.column_stack([gen.sites.geometry.x, gen.sites.geometry.y])
    nearest = distance_matrix(xy, gap).min(axis=1)
    assert (nearest <= 120).all()
    # and every lattice point that qualifies is there: recount by brute force
    xs, ys = np.meshgrid(np.arange(-5, 25) * 100.0, np.arange(-5, 25) * 100.0)
    lattice = np.column_stack([xs.ravel(), ys.ravel()])
    ok = ((distance_matrix(lattice, gap).min(axis=1) <= 120)
          & (distance_matrix(lattice, sites) > radii).all(axis=1)
          & shapely.intersects_xy(area, lattice[:, 0], lattice[:, 1]))
    on_lattice = gen.sites[gen.sites["lattice_ix"] >= 0]
    assert sorted(on_lattice["site_id"]) == sorted(f"street-{int(x // 100)}_{int(y // 100)}" for x, y in lattice[ok])


def test_columns_ids_and_determinism(city):
    a, b = make(city), make(city)
    assert a.sites.equals(b.sites)
    assert list(a.sites["site_id"]) == sorted(a.sites["site_id"])
    assert a.sites["site_id"].is_unique
    assert set(a.sites["source"]) == {GENERATED}
    assert set(a.sites["category"]) == {"street"}
    assert (a.sites["radius_m"] == 120).all() and (a.sites["cost"] == 0.3).all()
    assert not a.sites["wired"].any() and not a.sites["existing"].any()
    row = a.sites[a.sites["lattice_ix"] >= 0].iloc[0]
    assert (row.geometry.x, row.geometry.y) == (row["lattice_ix"] * 100.0, row["lattice_iy"] * 100.0)
    assert a.sites.crs == "EPSG:32649"


def test_makes_an_unreachable_target_reachable(city):
    area, demand, weight, sites, radii = city
    layer_only = coverage_matrix(sites, radii, demand)
    reach = weight[cells_reached(layer_only)].sum() / weight.sum()
    assert reach < 0.5
    gen = make(city, spacing_m=150)
    xy = np.vstack([sites, np.column_stack([gen.sites.geometry.x, gen.sites.geometry.y])])
    matrix = coverage_matrix(xy, np.concatenate([radii, gen.sites["radius_m"]]), demand)
    assert cells_reached(matrix)[weight > 0].all()
    costs = np.concatenate([[1.0, 1.0], gen.sites["cost"]])
    solution = greedy_cover(matrix, weight, costs, 0.99)
    assert solution.stop_reason == "target_met"
    # independent check of the coverage of the chosen sites
    chosen = xy[solution.order]
    r = np.concatenate([radii, gen.sites["radius_m"]])[solution.order]
    covered = (distance_matrix(demand, chosen) <= r).any(axis=1)
    assert weight[covered].sum() / weight.sum() >= 0.99


def test_holes_between_circles_get_a_candidate(city):
    area = city[0]
    # a coarse lattice (400 m) misses demand; hole fillers sit on the demand point itself
    gen = make(city, spacing_m=400, radius_m=60)
    holes = gen.sites[gen.sites["lattice_ix"] < 0]
    assert gen.hole_fillers == len(holes) > 0
    assert gen.still_unreached_weight == 0
    without = make(city, spacing_m=400, radius_m=60, fill_holes=False)
    assert without.hole_fillers == 0 and without.still_unreached_weight > 0
    assert shapely.covers(area, holes.geometry.array).all()


def test_nothing_to_fill_when_layers_reach_everything():
    area = shapely.box(0, 0, 200, 200)
    demand = grid_points(0, 0, 200, 200, 50)
    gen = gapfill_candidates(area, demand, np.ones(len(demand)), [[100, 100]], [200],
                             spacing_m=50, radius_m=60, category="street", cost=1)
    assert len(gen.sites) == 0 and gen.unreached_points == 0


def test_zero_weight_demand_attracts_nothing():
    area = shapely.box(0, 0, 1000, 1000)
    demand = grid_points(0, 0, 1000, 1000, 100)
    gen = gapfill_candidates(area, demand, np.zeros(len(demand)), np.empty((0, 2)), np.empty(0),
                             spacing_m=100, radius_m=100, category="street", cost=1)
    assert len(gen.sites) == 0


@pytest.mark.parametrize("spacing, radius", [(40, 120), (150, 60), (100, 260)])
def test_every_qualifying_lattice_point_at_any_spacing(city, spacing, radius):
    """The lattice window (a dilated raster of the points' nearest lattice points) misses
    no lattice point within ``radius`` of unreached demand, whatever spacing / radius."""
    area, demand, weight, sites, radii = city
    gen = make(city, spacing_m=spacing, radius_m=radius)
    reached = (distance_matrix(demand, sites) <= radii).any(axis=1)
    gap = demand[~reached & (weight > 0)]
    steps = np.arange(-2 * radius // spacing - 2, 2200 // spacing + 2 * radius // spacing + 3)
    xs, ys = np.meshgrid(steps * float(spacing), steps * float(spacing))
    lattice = np.column_stack([xs.ravel(), ys.ravel()])
    ok = ((distance_matrix(lattice, gap).min(axis=1) <= radius)
          & (distance_matrix(lattice, sites) > radii).all(axis=1)
          & shapely.intersects_xy(area, lattice[:, 0], lattice[:, 1]))
    on_lattice = gen.sites[gen.sites["lattice_ix"] >= 0]
    expected = sorted(f"street-{round(x / spacing)}_{round(y / spacing)}" for x, y in lattice[ok])
    assert len(expected) > 10
    assert sorted(on_lattice["site_id"]) == expected


def test_reached_from_the_callers_matrix_gives_the_same_candidates(city):
    area, demand, weight, sites, radii = city
    reached = cells_reached(coverage_matrix(sites, radii, demand))
    given = make(city, reached=reached)
    assert given.sites.equals(make(city).sites)
    assert given.unreached_weight == make(city).unreached_weight


def test_rows_are_the_candidates_coverage_matrix_rows(city):
    """Gapfill.rows (read off before the table is sorted by id) are the coverage-matrix rows
    of the candidates in the table's order, hole fillers included."""
    _, demand, _, _, _ = city
    gen = make(city, spacing_m=150)
    assert gen.hole_fillers > 0
    xy = np.column_stack([gen.sites.geometry.x, gen.sites.geometry.y])
    expected = coverage_matrix(xy, 120.0, demand)
    assert gen.rows.shape == expected.shape
    assert (gen.rows != expected).nnz == 0
