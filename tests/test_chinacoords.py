"""GCJ-02 / BD-09 / WGS84 converters: published point pairs, round trips, no-op abroad."""

import numpy as np
import pytest
from pyproj import Geod

from coverage import InputError
from coverage.chinacoords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")

# (wgs_lon, wgs_lat, gcj_lon, gcj_lat): the test vectors of the widely used
# eviltransform library (Shanghai, Shenzhen, Beijing).
GCJ_PAIRS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]
# (gcj_lon, gcj_lat, bd_lon, bd_lat), Beijing, published to 5 decimals (~1 m).
BD_PAIRS = [(116.42703, 39.90245, 116.43351, 39.90851)]


def metres(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(*(np.asarray(v, float) for v in (lon1, lat1, lon2, lat2)))
    return GEOD.inv(lon1.ravel(), lat1.ravel(), lon2.ravel(), lat2.ravel())[2]


def grid_in_china(n=400, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(74.0, 135.0, n), rng.uniform(18.0, 53.0, n)


@pytest.mark.parametrize("wlon, wlat, glon, glat", GCJ_PAIRS)
def test_known_gcj_pairs(wlon, wlat, glon, glat):
    assert metres(*wgs84_to_gcj02(wlon, wlat), glon, glat).max() < 0.05
    assert metres(*gcj02_to_wgs84(glon, glat), wlon, wlat).max() < 0.05


@pytest.mark.parametrize("glon, glat, blon, blat", BD_PAIRS)
def test_known_bd_pair(glon, glat, blon, blat):
    assert metres(*gcj02_to_bd09(glon, glat), blon, blat).max() < 2.0
    assert metres(*bd09_to_gcj02(blon, blat), glon, glat).max() < 2.0


def test_shenzhen_offset_is_about_600_m():
    lon, lat = np.array([114.0579, 113.93, 114.25]), np.array([22.5431, 22.52, 22.72])
    d = metres(lon, lat, *wgs84_to_gcj02(lon, lat))
    assert np.all((d > 450) & (d < 750))


@pytest.mark.parametrize("forward, inverse", [
    (wgs84_to_gcj02, gcj02_to_wgs84),
    (gcj02_to_bd09, bd09_to_gcj02),
    (wgs84_to_bd09, bd09_to_wgs84),
])
def test_round_trips_are_under_a_metre(forward, inverse):
    lon, lat = grid_in_china()
    back = inverse(*forward(lon, lat))
    assert metres(lon, lat, *back).max() < 0.01  # target < 1 m; the iteration gets ~mm
    fwd = forward(*inverse(lon, lat))
    assert metres(lon, lat, *fwd).max() < 0.01


def test_no_op_outside_china():
    lon = np.array([-0.1276, 2.3522, -74.006, 151.2093, 139.6917, 0.0])
    lat = np.array([51.5072, 48.8566, 40.7128, -33.8688, 35.6895, 0.0])
    assert out_of_china(lon, lat).all()
    for f in (wgs84_to_gcj02, gcj02_to_wgs84):
        olon, olat = f(lon, lat)
        np.testing.assert_array_equal(olon, lon)
        np.testing.assert_array_equal(olat, lat)
    np.testing.assert_array_equal(to_wgs84(lon, lat, "gcj02")[0], lon)
    assert not out_of_china(114.0, 22.5)


def test_shapes_scalars_and_lists():
    lon, lat = wgs84_to_gcj02(114.0, 22.5)
    assert np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = gcj02_to_wgs84([[114.0, 114.1]], [[22.5, 22.6]])
    assert lon.shape == (1, 2) and lat.shape == (1, 2)
    lon, lat = gcj02_to_wgs84(np.array([]), np.array([]))
    assert lon.shape == (0,)


def test_inputs_are_not_modified():
    lon, lat = np.array([114.0, 114.1]), np.array([22.5, 22.6])
    keep = lon.copy(), lat.copy()
    gcj02_to_wgs84(lon, lat)
    bd09_to_wgs84(lon, lat)
    np.testing.assert_array_equal(lon, keep[0])
    np.testing.assert_array_equal(lat, keep[1])


def test_to_wgs84_dispatch():
    lon, lat = np.array([114.05]), np.array([22.55])
    np.testing.assert_array_equal(to_wgs84(lon, lat, "wgs84")[0], lon)
    np.testing.assert_allclose(to_wgs84(lon, lat, "GCJ-02"), gcj02_to_wgs84(lon, lat))
    np.testing.assert_allclose(to_wgs84(lon, lat, "bd09"), bd09_to_wgs84(lon, lat))
    with pytest.raises(InputError, match="gcj02"):
        to_wgs84(lon, lat, "mars")


def test_agrees_with_prcoords_reference():
    prcoords = pytest.importorskip("prcoords")
    lon, lat = grid_in_china(60, seed=7)
    for x, y in zip(lon, lat):
        ref = prcoords.wgs_gcj((y, x))
        assert metres(*wgs84_to_gcj02(x, y), ref.lon, ref.lat).max() < 0.01
        ref = prcoords.gcj_wgs_bored((y, x))  # its iteration stops at 1e-5 degrees
        assert metres(*gcj02_to_wgs84(x, y), ref.lon, ref.lat).max() < 1.0
        ref = prcoords.gcj_bd((y, x))
        assert metres(*gcj02_to_bd09(x, y), ref.lon, ref.lat).max() < 0.01
        ref = prcoords.bd_wgs_bored((y, x))
        assert metres(*bd09_to_wgs84(x, y), ref.lon, ref.lat).max() < 1.0
