"""Shift detection (GCJ-02 / BD-09 read as WGS84) and the GCJ-02 acceptance test of issue #7.

The real Shenzhen metro stations (WGS84, team reference data outside the repository)
are shifted forward into GCJ-02 / BD-09 with the project's own converter; tests that
need them skip when the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from coverage.chinacoords import wgs84_to_bd09, wgs84_to_gcj02
from coverage.layers import read_points
from coverage.scenario import LayerSource
from coverage.shiftcheck import check_shift, shift_evidence

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
STATIONS = SHARED / "data" / "shenzhen-real" / "metro_stations.csv"
BOUNDARY = ROOT / "gis_data" / "shenzhen" / "boundary.geojson"

needs_stations = pytest.mark.skipif(not STATIONS.exists(), reason=f"real reference data absent: {STATIONS}")
needs_boundary = pytest.mark.skipif(not BOUNDARY.exists(), reason=f"bundled boundary absent: {BOUNDARY}")


def points(lon, lat) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")


@pytest.fixture(scope="module")
def stations() -> pd.DataFrame:
    return pd.read_csv(STATIONS)


@pytest.fixture(scope="module")
def boundary() -> gpd.GeoDataFrame:
    return gpd.read_file(BOUNDARY)


# --- the real stations against the bundled boundary -----------------------------------


@needs_stations
@needs_boundary
def test_silent_on_correct_wgs84_stations(stations, boundary):
    assert check_shift(points(stations.lon, stations.lat), boundary, "metro stations") is None


@needs_stations
@needs_boundary
def test_gcj02_shifted_stations_are_named_gcj02(stations, boundary):
    lon, lat = wgs84_to_gcj02(stations.lon, stations.lat)
    message = check_shift(points(lon, lat), boundary, "metro stations")
    assert message is not None
    assert message.startswith("metro stations:")
    assert 'crs = "gcj02"' in message
    assert 'crs = "bd09"' not in message


@needs_stations
@needs_boundary
def test_bd09_shifted_stations_are_named_bd09(stations, boundary):
    lon, lat = wgs84_to_bd09(stations.lon, stations.lat)
    message = check_shift(points(lon, lat), boundary, "metro stations")
    assert message is not None
    assert 'crs = "bd09"' in message


@needs_stations
@needs_boundary
def test_accepts_a_geodataframe_in_another_crs_and_a_plain_geometry(stations, boundary):
    lon, lat = wgs84_to_gcj02(stations.lon, stations.lat)
    projected = gpd.GeoDataFrame(geometry=points(lon, lat)).to_crs("EPSG:32649")
    assert 'crs = "gcj02"' in check_shift(projected, boundary.union_all(), "stations")


@needs_stations
@needs_boundary
def test_silent_when_extra_points_are_simply_elsewhere(stations, boundary):
    """Correct points outside the study area (Guangzhou, Hong Kong) are no sign of a shift."""
    extra_lon = [113.2644, 113.3245, 114.1136, 114.0657, 114.1694, 114.1747]  # Guangzhou ×2, Lo Wu, Lok Ma Chau, HK ×2
    extra_lat = [23.1291, 23.1066, 22.5284, 22.5149, 22.3193, 22.2783]
    lon = np.r_[stations.lon, extra_lon]
    lat = np.r_[stations.lat, extra_lat]
    assert check_shift(points(lon, lat), boundary, "stations") is None


# --- a synthetic coast (no external data) ----------------------------------------------

LAND = shapely.box(113.80, 22.50, 114.20, 22.80)  # the sea is south of latitude 22.50


def coastal_points() -> tuple[np.ndarray, np.ndarray]:
    """60 points within 50–400 m north of the coast and 40 well inland, WGS84 degrees."""
    rng = np.random.default_rng(3)
    lon = rng.uniform(113.85, 114.15, 100)
    lat = np.r_[22.50 + rng.uniform(0.0005, 0.0036, 60), rng.uniform(22.55, 22.75, 40)]
    return lon, lat


def test_synthetic_coast_silent_unshifted_and_warns_shifted():
    lon, lat = coastal_points()
    assert check_shift(points(lon, lat), LAND, "schools") is None
    message = check_shift(points(*wgs84_to_gcj02(lon, lat)), LAND, "schools")
    assert message is not None and 'crs = "gcj02"' in message


def test_evidence_counts_on_synthetic_coast():
    lon, lat = coastal_points()
    gcj, bd = shift_evidence(points(*wgs84_to_gcj02(lon, lat)), LAND)
    assert gcj.system == "gcj02" and bd.system == "bd09"
    assert gcj.n_points == 100
    assert gcj.n_near_outside > 0
    assert gcj.n_recovered == gcj.n_near_outside and gcj.n_lost == 0
    assert 500 < gcj.shift_m < 700


def test_silent_outside_china():
    """GCJ-02 equals WGS84 outside China: nothing to suspect, whatever the fit."""
    area = shapely.box(2.0, 48.0, 3.0, 49.0)  # Paris
    lon = np.r_[np.linspace(2.1, 2.9, 20), np.linspace(2.1, 2.9, 20)]
    lat = np.r_[np.full(20, 47.999), np.full(20, 48.5)]  # half just outside
    assert check_shift(points(lon, lat), area, "schools") is None
    assert shift_evidence(points(lon, lat), area) == []


def test_silent_with_too_few_points_outside():
    lon, lat = coastal_points()
    lon, lat = lon[58:], lat[58:]  # two coastal points, 40 inland
    assert check_shift(points(*wgs84_to_gcj02(lon, lat)), LAND, "schools") is None


# --- acceptance test of issue #7 --------------------------------------------------------


@needs_stations
def test_gcj02_csv_declared_gcj02_lands_within_1_m_of_wgs84(stations, tmp_path):
    """A GCJ-02 CSV of the real stations, declared crs = "gcj02", reads back onto WGS84 (< 1 m)."""
    gcj_lon, gcj_lat = wgs84_to_gcj02(stations.lon.to_numpy(), stations.lat.to_numpy())
    path = tmp_path / "metro_gcj02.csv"
    pd.DataFrame({"name": stations.name_en, "lng": gcj_lon, "lat": gcj_lat}).to_csv(path, index=False)
    read = read_points(LayerSource(path, crs="gcj02"), "metro stations")
    assert len(read) == len(stations)
    _, _, dist = pyproj.Geod(ellps="WGS84").inv(read.geometry.x, read.geometry.y, stations.lon, stations.lat)
    assert np.max(np.abs(dist)) < 1.0
    # and not by accident: undeclared, the same file is hundreds of metres off
    raw = read_points(LayerSource(path), "metro stations")
    _, _, off = pyproj.Geod(ellps="WGS84").inv(raw.geometry.x, raw.geometry.y, stations.lon, stations.lat)
    assert np.min(off) > 400
