"""A what-if's new matrix rows come from the demand points near the new sites only (the
same rows as from the k-d tree of every demand point); the collector pause of `hotspots whatif`."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import shapely

from conftest import UTM, X0, Y0
from coverage.demand import demand_points
from coverage.matrix import demand_tree
from coverage.problem import site_rows
from coverage.whatif import new_sites_table


def test_rows_of_a_few_new_sites_equal_the_rows_from_the_full_tree(toy_plan):
    problem = dataclasses.replace(toy_plan.problem)  # a fresh object: no cell_tree built yet
    rng = np.random.default_rng(7)
    xy = np.column_stack([X0 + rng.uniform(-100, 2100, 12), Y0 + rng.uniform(-100, 1100, 12)])
    xy[0] = demand_points(problem.cells)[5] + [0.0, 200.0]  # a demand point exactly at the radius
    points = gpd.GeoSeries(shapely.points(xy), crs=UTM).to_crs("EPSG:4326")
    records = [{"lon": p.x, "lat": p.y, "category": c} for p, c in zip(points, ["library", "school"] * 6)]
    new = new_sites_table(problem, records)
    for rows in ([0], [0, 1], list(range(12))):
        subset = new.iloc[rows]
        got = problem.matrix_rows(subset)
        assert "cell_tree" not in problem.__dict__  # the near-points path was taken
        cells = demand_points(problem.cells)
        expected = site_rows(subset, cells, demand_tree(cells), problem.scenario.coverage_margin_m)
        assert got.shape == expected.shape
        assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
        assert got.nnz > 0


def test_the_collector_is_paused_for_the_block_only():
    import gc

    from coverage.whatif import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    try:
        with collector_paused():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.isenabled()
