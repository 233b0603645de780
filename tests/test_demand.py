"""The demand grid and population allocation, checked against shapely directly."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from coverage.demand import allocate_population, assign_districts, build_grid

CRS = "EPSG:32649"


def test_grid_clips_to_area_and_keeps_its_area():
    area = shapely.Point(800_000, 2_490_000).buffer(1234.5, quad_segs=32)
    cells = build_grid(area, 100.0, CRS)
    assert cells["area_m2"].sum() == pytest.approx(area.area, rel=1e-9)
    assert cells["area_m2"].max() == pytest.approx(100.0 * 100.0)
    assert (shapely.within(cells.geometry.array, area.buffer(1e-6))).all()
    assert cells["cell_id"].tolist() == list(range(len(cells)))
    # whole cells have their demand point at the square's centre
    whole = np.isclose(cells["area_m2"], 1e4)
    assert np.allclose(cells.loc[whole, "x"] % 100, 50) and np.allclose(cells.loc[whole, "y"] % 100, 50)


def test_grid_aligned_to_cell_size_and_deterministic():
    area = shapely.box(800_030, 2_490_010, 800_530, 2_490_260)
    a, b = build_grid(area, 100.0, CRS), build_grid(area, 100.0, CRS)
    assert a.equals(b)
    assert len(a) == 6 * 3  # 800000–800600 × 2490000–2490300
    assert a.geometry.total_bounds.tolist() == pytest.approx(list(area.bounds))


def test_polygon_population_shared_by_area():
    area = shapely.box(0, 0, 400, 200)
    cells = build_grid(area, 100.0, CRS)
    # one 200 × 200 block of 1,000 people over four cells, half of another block outside the area
    population = gpd.GeoDataFrame({"pop": [1000.0, 500.0]},
                                  geometry=[shapely.box(0, 0, 200, 200), shapely.box(300, 100, 500, 300)], crs=CRS)
    people = allocate_population(cells, population, "pop")
    inside = shapely.box(0, 0, 200, 200)
    in_block = shapely.within(cells.geometry.array, inside.buffer(1e-9))
    assert people[in_block] == pytest.approx([250.0] * 4)
    # the second block overlaps one cell by a quarter of its 40,000 m²
    assert people.sum() == pytest.approx(1000 + 500 * 0.25)


def test_point_population_counted_once():
    cells = build_grid(shapely.box(0, 0, 200, 100), 100.0, CRS)
    points = gpd.GeoDataFrame({"pop": [10, 20, 5, 7]},
                              geometry=shapely.points([(50, 50), (150, 50), (100, 50), (900, 900)]), crs=CRS)
    people = allocate_population(cells, points, "pop")
    assert people.sum() == 35  # the point on the shared edge counts once, the far one not at all
    assert people[1] >= 20


def test_bad_population_values_named():
    from coverage.errors import InputError

    cells = build_grid(shapely.box(0, 0, 200, 100), 100.0, CRS)
    points = gpd.GeoDataFrame({"pop": [10, -3]}, geometry=shapely.points([(50, 50), (150, 50)]), crs=CRS)
    with pytest.raises(InputError, match="feature 2 .*-3"):
        allocate_population(cells, points, "pop")


def test_districts_by_demand_point():
    cells = build_grid(shapely.box(0, 0, 400, 100), 100.0, CRS)
    districts = gpd.GeoDataFrame({"name": ["A", "B"]}, geometry=[shapely.box(0, 0, 200, 100), shapely.box(200, 0, 400, 100)], crs=CRS)
    assert assign_districts(cells, districts, "name").tolist() == ["A", "A", "B", "B"]


def test_intersection_area_in_chunks_equals_one_pass():
    from coverage.demand import intersection_area

    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1000, 5000), rng.uniform(0, 1000, 5000)
    a = shapely.box(x, y, x + 70, y + 70)
    b = shapely.buffer(shapely.points(x + 30, y + 20), 40)
    expected = shapely.area(shapely.intersection(a, b))
    assert np.array_equal(intersection_area(a, b, chunk=700), expected)
