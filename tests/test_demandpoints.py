"""Sub-points per cell and the finer-grid recomputation helper, on hand-checkable grids."""

import numpy as np
import pytest
import shapely

from coverage.demand import build_grid
from coverage.demandpoints import cell_subpoints
from finegrid import finer_grid_coverage


@pytest.fixture
def grid():
    # a 300 m × 200 m rectangle with a triangular bite: 100 m cells, some clipped
    area = shapely.Polygon([(0, 0), (300, 0), (300, 200), (0, 200)]).difference(
        shapely.Polygon([(200, 200), (300, 200), (300, 100)]))
    return build_grid(area, 100, "EPSG:32650")


def test_whole_cells_get_k_by_k_points_sharing_the_weight(grid):
    weight = np.arange(1, len(grid) + 1, dtype=float)
    pts = cell_subpoints(grid, weight, 100, 2)
    assert pts.per_cell(pts.weight, len(grid)) == pytest.approx(weight)
    first = grid.iloc[0]  # cell (0, 0): a whole square
    assert sorted(map(tuple, pts.xy[pts.cell == 0])) == [(25, 25), (25, 75), (75, 25), (75, 75)]
    assert first["area_m2"] == 100 * 100
    # the clipped cell (2, 1) keeps only the sub-centres strictly inside its half-square
    # (below x + y = 400): (225, 125); (275, 125) and (225, 175) lie on the cut, (275, 175) beyond
    corner = int(np.flatnonzero((grid["ix"] == 2) & (grid["iy"] == 1))[0])
    assert pts.xy[pts.cell == corner].tolist() == [[225.0, 125.0]]
    assert pts.weight[pts.cell == corner].tolist() == [weight[corner]]
    assert np.all(np.diff(pts.cell) >= 0)


def test_k1_is_the_cells_own_points(grid):
    pts = cell_subpoints(grid, np.ones(len(grid)), 100, 1)
    assert np.array_equal(pts.xy, grid[["x", "y"]].to_numpy())


def test_finer_grid_coverage_of_one_circle_approaches_its_area():
    grid = build_grid(shapely.box(0, 0, 1000, 1000), 100, "EPSG:32650")
    weight = np.full(len(grid), 7.0)  # uniform density
    result = finer_grid_coverage(grid, weight, 100, np.array([[500.0, 500.0]]), np.array([230.0]), factor=8)
    exact = np.pi * 230**2 / 1e6
    assert result.coarse == pytest.approx(16 / 100)  # 16 cell centres lie within 230 m of (500, 500)
    assert abs(result.fine - exact) < 0.004
    assert result.n_fine == 6400
    assert result.difference_pp == pytest.approx(100 * (result.coarse - result.fine))


def test_finer_grid_on_a_population_layer_matches_a_shapely_recount():
    """The helper against an independent recount: clip the circle with shapely, weight by area."""
    area = shapely.box(0, 0, 600, 400)
    grid = build_grid(area, 100, "EPSG:32650")
    rng = np.random.default_rng(5)
    density = rng.integers(0, 10, len(grid)).astype(float)  # people per m², uniform inside a cell
    weight = density * grid["area_m2"].to_numpy()
    sites, radii = np.array([[150.0, 150.0], [420.0, 260.0]]), np.array([120.0, 90.0])
    result = finer_grid_coverage(grid, weight, 100, sites, radii, factor=16)
    circles = shapely.union_all(shapely.buffer(shapely.points(sites), radii, quad_segs=64))
    covered = shapely.area(shapely.intersection(grid.geometry.array, circles))
    assert result.fine == pytest.approx((density * covered).sum() / weight.sum(), abs=0.005)
