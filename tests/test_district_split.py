"""Demand cells cut at district borders, so district-clipped populations add up per district."""

import geopandas as gpd
import pytest
import shapely

from coverage.demand import allocate_population, build_grid, split_at_districts

CRS = "EPSG:32649"


def two_districts(border_x: float = 150.0, width: float = 400.0):
    return gpd.GeoDataFrame({"name": ["West", "East"]},
                            geometry=[shapely.box(0, 0, border_x, 100), shapely.box(border_x, 0, width, 100)], crs=CRS)


def test_a_cell_crossed_by_a_border_becomes_one_piece_per_district():
    cells = build_grid(shapely.box(0, 0, 400, 100), 100.0, CRS)
    out = split_at_districts(cells, two_districts(), "name")
    assert len(out) == 5  # 4 cells, the second cut at x = 150
    assert out["cell_id"].tolist() == list(range(5))
    assert out["area_m2"].sum() == pytest.approx(40_000)
    cut = out[out["ix"] == 1].sort_values("district")
    assert cut["district"].tolist() == ["East", "West"]
    assert cut["area_m2"].tolist() == pytest.approx([5_000, 5_000])
    assert cut["x"].tolist() == pytest.approx([175, 125])  # demand point: the piece's centroid
    for row in out.itertuples():  # every piece lies in its district
        district = two_districts().set_index("name").loc[row.district, "geometry"]
        assert shapely.covers(district.buffer(1e-6), row.geometry)
    # untouched cells keep their square and their centre
    whole = out[out["ix"] != 1]
    assert whole["area_m2"].tolist() == [10_000] * 3 and (whole["x"] % 100 == 50).all()


def test_district_clipped_population_reconciles_per_district():
    """A census grid clipped to the districts allocates into the right district exactly."""
    cells = build_grid(shapely.box(0, 0, 400, 100), 100.0, CRS)
    districts = two_districts(border_x=137.0)
    blocks = gpd.GeoDataFrame({"pop": [700.0, 1300.0]}, geometry=districts.geometry.values, crs=CRS)
    out = split_at_districts(cells, districts, "name")
    out["people"] = allocate_population(out, blocks, "pop")
    assert out.groupby("district")["people"].sum().to_dict() == pytest.approx({"West": 700, "East": 1300})


def test_parts_outside_every_district_keep_the_nearest_name():
    cells = build_grid(shapely.box(0, 0, 400, 100), 100.0, CRS)
    districts = gpd.GeoDataFrame({"name": ["A", "B"]},
                                 geometry=[shapely.box(0, 0, 150, 100), shapely.box(250, 0, 330, 100)], crs=CRS)
    out = split_at_districts(cells, districts, "name")
    assert len(out) == 7  # cells 2-4 each: a piece in a district and a piece outside both
    assert shapely.union_all(out.geometry.values).area == pytest.approx(40_000)  # nothing lost
    assert out["area_m2"].sum() == pytest.approx(40_000)
    # outside pieces: x 150-200 is nearest A, 200-250 and 330-400 nearest B
    assert out.groupby("district")["area_m2"].sum().to_dict() == pytest.approx({"A": 20_000, "B": 20_000})


def test_overlapping_districts_leave_cells_whole():
    cells = build_grid(shapely.box(0, 0, 400, 100), 100.0, CRS)
    districts = gpd.GeoDataFrame({"name": ["A", "B"]},
                                 geometry=[shapely.box(0, 0, 300, 100), shapely.box(100, 0, 400, 100)], crs=CRS)
    out = split_at_districts(cells, districts, "name")
    assert out["district"].tolist() == ["A", "A", "A", "B"]  # in both: the first district holding the point
    assert out["area_m2"].tolist() == [10_000] * 4
    # overlapping pieces that neither covers the cell: not cut either (no area counted twice)
    districts = gpd.GeoDataFrame({"name": ["A", "B"]},
                                 geometry=[shapely.box(0, 0, 150, 100), shapely.box(120, 0, 400, 100)], crs=CRS)
    out = split_at_districts(cells, districts, "name")
    assert len(out) == 4 and out["area_m2"].sum() == pytest.approx(40_000)


def test_without_districts_nothing_is_cut():
    cells = build_grid(shapely.box(0, 0, 400, 100), 100.0, CRS)
    out = split_at_districts(cells, None, "name")
    assert len(out) == 4 and (out["district"] == "(no district)").all()
