"""Bad input: one clear message naming the file, the row or column and the fix; exit 2."""

from __future__ import annotations

import logging
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import UTM, X0, Y0, write_toy_city
from coverage import InputError, LayerSource, load_scenario, plan
from coverage.cli import main
from coverage.layers import read_layer, read_points, read_polygons


def run_cli(capsys, *args) -> tuple[int, str]:
    code = main(["-q", *map(str, args)])
    err = capsys.readouterr().err
    return code, err


def expect_error(capsys, scenario, out, *patterns):
    code, err = run_cli(capsys, "plan", scenario, "--out", out, "--no-map")
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for pattern in patterns:
        assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists() or not any(out.iterdir())
    return lines[0]


@pytest.fixture
def city(tmp_path):
    return write_toy_city(tmp_path / "city")


def test_missing_file(capsys, city, tmp_path):
    (city.parent / "libraries.geojson").unlink()
    expect_error(capsys, city, tmp_path / "o", r"libraries\.geojson does not exist")


def test_missing_crs(capsys, city, tmp_path):
    (city.parent / "schools.csv").rename(city.parent / "s.csv")
    df = pd.read_csv(city.parent / "s.csv")
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.longitude, df.latitude)).to_file(city.parent / "schools.gpkg")
    city.write_text(city.read_text().replace("schools.csv", "schools.gpkg"))
    expect_error(capsys, city, tmp_path / "o", r"schools\.gpkg has no coordinate reference system", r'crs = "EPSG:4326"')


def test_empty_layer(capsys, city, tmp_path):
    gpd.GeoDataFrame({"site_id": [], "name": []}, geometry=[], crs="EPSG:4326").to_file(
        city.parent / "libraries.geojson", driver="GeoJSON")
    expect_error(capsys, city, tmp_path / "o", r"libraries\.geojson is empty")


def test_wrong_geometry_type(capsys, city, tmp_path):
    gdf = gpd.read_file(city.parent / "libraries.geojson")
    gdf.loc[2, "geometry"] = gdf.loc[2, "geometry"].buffer(0.001)
    gdf.to_file(city.parent / "libraries.geojson", driver="GeoJSON")
    expect_error(capsys, city, tmp_path / "o", r"libraries\.geojson: feature 3 is a Polygon", "points")


def test_swapped_coordinates(capsys, city, tmp_path):
    df = pd.read_csv(city.parent / "schools.csv")
    df = df.rename(columns={"longitude": "latitude", "latitude": "longitude"})
    df.to_csv(city.parent / "schools.csv", index=False)
    expect_error(capsys, city, tmp_path / "o", r"schools\.csv: coordinates look swapped", "longitude first")


def test_projected_coordinates_declared_as_degrees(capsys, city, tmp_path):
    gdf = gpd.read_file(city.parent / "libraries.geojson").to_crs(UTM).set_crs("EPSG:4326", allow_override=True)
    gdf.to_file(city.parent / "libraries.gpkg")
    city.write_text(city.read_text().replace("libraries.geojson", "libraries.gpkg"))
    expect_error(capsys, city, tmp_path / "o", r"outside the valid longitude/latitude range", r"declare its CRS")


def test_missing_column(capsys, city, tmp_path):
    city.write_text(city.read_text().replace('column = "population"', 'column = "residents"'))
    expect_error(capsys, city, tmp_path / "o", r"population layer .*population\.gpkg has no column 'residents'",
                 r"columns: population")


def test_duplicate_site_ids(capsys, city, tmp_path):
    df = pd.read_csv(city.parent / "schools.csv")
    df.loc[4, "site_id"] = "LB-002"
    df.to_csv(city.parent / "schools.csv", index=False)
    expect_error(capsys, city, tmp_path / "o", r"duplicate site id 'LB-002'", r"schools\.csv feature 5",
                 r"libraries\.geojson feature 2")


def test_text_in_coordinate_column(capsys, city, tmp_path):
    df = pd.read_csv(city.parent / "schools.csv", dtype=str)
    df.loc[6, "latitude"] = "22.5N"
    df.to_csv(city.parent / "schools.csv", index=False)
    expect_error(capsys, city, tmp_path / "o", r"schools\.csv: row 8 has '22\.5N' in 'latitude'")


def test_empty_coordinate(capsys, city, tmp_path):
    df = pd.read_csv(city.parent / "schools.csv", dtype=str)
    df.loc[0, "longitude"] = ""
    df.to_csv(city.parent / "schools.csv", index=False)
    expect_error(capsys, city, tmp_path / "o", r"schools\.csv: row 2 has an empty 'longitude'")


def test_unknown_forced_site(capsys, tmp_path):
    city = write_toy_city(tmp_path / "city", extra='forced = ["SC-999"]')
    expect_error(capsys, city, tmp_path / "o", r"forced site id\(s\) not found .*SC-999")


def test_undefined_category(capsys, city, tmp_path):
    city.write_text(city.read_text().replace('category = "library"', 'category = "museum"'))
    expect_error(capsys, city, tmp_path / "o", r"category 'museum' is not defined", r"\[categories\.museum\]")


def test_bad_scenario_values(capsys, tmp_path):
    city = write_toy_city(tmp_path / "city", target=1.5)
    expect_error(capsys, city, tmp_path / "o", r"target must be a fraction")
    city.write_text(city.read_text().replace("target = 1.5", "target = 0.9\ncolour = 3"))
    expect_error(capsys, city, tmp_path / "o", r"unknown key\(s\) colour")
    city.write_text("this is = = not toml")
    expect_error(capsys, city, tmp_path / "o", r"not valid TOML")


def test_missing_scenario_file(capsys, tmp_path):
    expect_error(capsys, tmp_path / "nope.toml", tmp_path / "o", r"nope\.toml does not exist")


def test_sites_outside_study_area_dropped_and_reported(tmp_path):
    city = write_toy_city(tmp_path / "city")
    far = gpd.GeoSeries([shapely.Point(X0 + 5000, Y0 + 5000)], crs=UTM).to_crs("EPSG:4326")
    df = pd.read_csv(city.parent / "schools.csv")
    df.loc[len(df)] = ["SC-900", "Far school", far.x[0], far.y[0]]
    df.to_csv(city.parent / "schools.csv", index=False)
    summary = plan(load_scenario(city)).summary()
    assert [d["site_id"] for d in summary["dropped_sites"]] == ["SC-900"]
    assert summary["n_candidates"] == 35
    with pytest.raises(InputError, match="SC-900 lie outside the study area"):
        plan(load_scenario(city).replace(forced=("SC-900",)))


def test_invalid_polygon_repaired_and_counted(tmp_path, caplog):
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])
    path = tmp_path / "bowtie.gpkg"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[bowtie], crs=UTM).to_file(path)
    with caplog.at_level(logging.WARNING, logger="coverage"):
        gdf = read_polygons(LayerSource(path=path), "study area")
    assert gdf.is_valid.all()
    assert gdf.to_crs(UTM).area.sum() == pytest.approx(500_000, rel=1e-6)
    assert "repaired 1 invalid polygon" in caplog.text


@pytest.mark.parametrize("suffix,driver", [(".gpkg", "GPKG"), (".geojson", "GeoJSON"), (".shp", "ESRI Shapefile"),
                                           (".fgb", "FlatGeobuf"), (".parquet", None)])
def test_reads_common_formats(tmp_path, suffix, driver):
    gdf = gpd.GeoDataFrame({"site_id": ["a", "b"]}, geometry=shapely.points([(114.05, 22.55), (114.06, 22.56)]),
                           crs="EPSG:4326")
    path = tmp_path / f"sites{suffix}"
    if driver:
        gdf.to_file(path, driver=driver)
    else:
        gdf.to_parquet(path)
    read = read_points(LayerSource(path=path), "sites", ("site_id",)).sort_values("site_id")
    assert read.crs.to_epsg() == 4326 and read["site_id"].tolist() == ["a", "b"]
    assert shapely.get_coordinates(read.geometry.array).ravel() == pytest.approx([114.05, 22.55, 114.06, 22.56])


def test_csv_columns_detected_and_declared(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text("id,X,Y\n1,114.05,22.55\n", encoding="utf-8")
    assert read_layer(LayerSource(path=path), "sites").geometry.x[0] == pytest.approx(114.05)
    path.write_text("id,east,north\n1,114.05,22.55\n", encoding="utf-8")
    with pytest.raises(InputError, match="no longitude column .*lon_column"):
        read_layer(LayerSource(path=path), "sites")
    read = read_layer(LayerSource(path=path, lon_column="east", lat_column="north"), "sites")
    assert read.geometry.y[0] == pytest.approx(22.55)


def test_declared_crs_for_projected_csv(tmp_path):
    path = tmp_path / "pts.csv"
    path.write_text(f"id,x,y\n1,{X0},{Y0}\n", encoding="utf-8")
    read = read_layer(LayerSource(path=path, crs=UTM), "sites")
    back = read.to_crs(UTM)
    assert back.geometry.x[0] == pytest.approx(X0, abs=1e-3)
    with pytest.raises(InputError, match="not a coordinate system"):
        read_layer(LayerSource(path=path, crs="EPSG:99999999"), "sites")


def test_excel_with_chinese_column_names_and_gcj02(tmp_path):
    from coverage.chinacoords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(pd.Series([114.0579, 114.1]).to_numpy(), pd.Series([22.5431, 22.55]).to_numpy())
    path = tmp_path / "学校.xlsx"
    pd.DataFrame({"名称": ["甲", "乙"], "经度": lon, "纬度": lat}).to_excel(path, index=False)
    read = read_layer(LayerSource(path=path, crs="gcj02"), "schools")
    assert read["名称"].tolist() == ["甲", "乙"]
    assert read.geometry.x.to_numpy() == pytest.approx([114.0579, 114.1], abs=1e-7)
    assert read.geometry.y.to_numpy() == pytest.approx([22.5431, 22.55], abs=1e-7)


def test_excel_text_in_number_column(tmp_path):
    path = tmp_path / "sites.xlsx"
    pd.DataFrame({"lng": [114.05, "东经114"], "lat": [22.5, 22.6]}).to_excel(path, index=False)
    with pytest.raises(InputError, match=r"row 3 has '东经114' in 'lng'"):
        read_layer(LayerSource(path=path), "sites")
