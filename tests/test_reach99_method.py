"""The reach-99 % method on a synthetic city: coverage counted on sub-points with a margin agrees
with a grid four times finer; the centre-in-circle rule does not (docs/reach99.md)."""

import numpy as np
import pytest
import shapely

from coverage.demand import build_grid
from coverage.demandpoints import cell_subpoints
from coverage.gapfill import gapfill_candidates
from coverage.matrix import coverage_matrix
from coverage.phases import greedy_phase_solver, group_coverage, solve_in_phases
from finegrid import finer_grid_coverage

RADIUS = 100.0


@pytest.fixture(scope="module")
def city():
    area = shapely.Polygon([(0, 0), (3000, 0), (3000, 2000), (1500, 2400), (0, 2000)]).difference(
        shapely.Point(2200, 700).buffer(300))  # a lake
    cells = build_grid(area, 100, "EPSG:32650")
    rng = np.random.default_rng(11)
    density = rng.gamma(2.0, 1.0, len(cells)) * (rng.random(len(cells)) > 0.15)  # some empty cells
    weight = density * cells["area_m2"].to_numpy()
    schools = np.array([[300.0, 300.0], [1500.0, 1000.0], [2600.0, 1700.0], [800.0, 1800.0]])
    return area, cells, weight, schools


def plan_share(city, k, margin, spacing):
    """Plan 99 % (schools required, then generated street sites) and return (reported, finer) coverage."""
    area, cells, weight, schools = city
    points = cell_subpoints(cells, weight, 100, k)
    eff = RADIUS - margin
    gen = gapfill_candidates(area, points.xy, points.weight, schools, np.full(len(schools), eff),
                             spacing_m=spacing, radius_m=eff, category="street", cost=1.0)
    xy = np.vstack([schools, shapely.get_coordinates(gen.sites.geometry.array)])
    matrix = coverage_matrix(xy, np.full(len(xy), eff), points.xy)
    costs = np.ones(len(xy))
    phase = np.r_[np.ones(len(schools), int), np.full(len(gen.sites), 2)]
    plan = solve_in_phases(greedy_phase_solver(matrix, points.weight, costs), matrix, points.weight, costs, phase,
                           0.99, required=phase == 1)
    reported = group_coverage(matrix, points.weight, plan.order, {"all": np.arange(len(points.weight))})["all"]
    check = finer_grid_coverage(cells, weight, 100, xy[plan.order], np.full(len(plan.order), RADIUS), factor=4 * k)
    return reported, check.fine


def test_subpoints_with_a_margin_agree_with_a_finer_grid(city):
    reported, fine = plan_share(city, k=2, margin=25, spacing=75)
    assert reported == pytest.approx(0.99, abs=0.002)
    assert abs(reported - fine) < 0.01


def test_the_centre_rule_is_far_off(city):
    reported, fine = plan_share(city, k=1, margin=0, spacing=100)
    assert reported - fine > 0.03  # the artefact the method removes
