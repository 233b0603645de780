"""Convert between WGS84 and the Chinese web-map systems GCJ-02 and BD-09.

Chinese web maps (Amap/Gaode, Tencent, and the DataV / Amap administrative boundaries)
publish coordinates in **GCJ-02**, WGS84 shifted by a deterministic, non-linear offset
(about 600 m in Shenzhen). Baidu publishes **BD-09**, a further offset of GCJ-02. All
functions here take and return longitude/latitude in **decimal degrees** as numpy arrays
(scalars and lists are accepted) and return ``(lon, lat)``.

* WGS84 is the datum of GPS and of EPSG:4326.
* GCJ-02 ("Mars coordinates") is WGS84 plus the published GCJ-02 offset, computed on the
  Krasovsky 1940 ellipsoid. By its definition the offset is applied only inside China's
  rough bounding box (:func:`out_of_china`); elsewhere GCJ-02 equals WGS84.
* BD-09 is GCJ-02 plus Baidu's rotation and shift; it is applied everywhere.

The forward transforms are closed formulas. Their inverses have no closed form, so
:func:`gcj02_to_wgs84` and :func:`bd09_to_gcj02` start from the usual one-step estimate
and refine it by fixed-point iteration until the change is below ``1e-9`` degrees
(about 0.1 mm; at most 20 rounds), so a round trip is exact to well under a metre.
Real GCJ-02 data also carries the small random noise of the official implementation,
which no inverse can remove.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

__all__ = [
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "to_wgs84",
    "SYSTEMS",
]

SYSTEMS = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis (metres), as used by GCJ-02
_EE = 0.00669342162296594323  # Krasovsky 1940 first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0  # Baidu's rotation constant
_BD_DLON = 0.0065
_BD_DLAT = 0.0060
_TOL_DEG = 1e-9
_MAX_ITER = 20


def _arrays(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    lon, lat = np.broadcast_arrays(lon, lat)
    return lon.copy(), lat.copy()


def out_of_china(lon, lat) -> np.ndarray:
    """True where (lon, lat) in degrees lies outside the rough box where GCJ-02 applies.

    The box is the customary one of GCJ-02 implementations: longitude 72.004–137.8347 E,
    latitude 0.8293–55.8271 N. It is rough (it includes e.g. Hong Kong and parts of
    neighbouring countries); that is how the transform is defined in practice.
    """
    lon, lat = _arrays(lon, lat)
    return ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 in degrees at WGS84 position (lon, lat); zero outside China."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    # offsets above are arc lengths in metres on the Krasovsky ellipsoid: turn into degrees
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (EPSG:4326) degrees → GCJ-02 degrees; unchanged outside China."""
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _invert(forward, lon, lat, lon0, lat0) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x) = (lon, lat) by fixed-point iteration from the guess (lon0, lat0)."""
    x, y = lon0, lat0
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x = x - ex
        y = y - ey
        if not (np.any(np.abs(ex) > _TOL_DEG) or np.any(np.abs(ey) > _TOL_DEG)):
            break
    return x, y


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 degrees → WGS84 (EPSG:4326) degrees by the iterated inverse; unchanged outside China.

    Round trips with :func:`wgs84_to_gcj02` agree to far better than 1 m.
    """
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon, lat)  # one-step estimate: offset at the GCJ point
    return _invert(wgs84_to_gcj02, lon, lat, lon - dlon, lat - dlat)


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 degrees → BD-09 (Baidu) degrees."""
    lon, lat = _arrays(lon, lat)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (Baidu) degrees → GCJ-02 degrees, the usual formula refined by iteration."""
    lon, lat = _arrays(lon, lat)
    x = lon - _BD_DLON
    y = lat - _BD_DLAT
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(gcj02_to_bd09, lon, lat, z * np.cos(theta), z * np.sin(theta))


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (EPSG:4326) degrees → BD-09 (Baidu) degrees."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 (Baidu) degrees → WGS84 (EPSG:4326) degrees."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon, lat, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert lon/lat degrees given in ``system`` ("wgs84", "gcj02" or "bd09") to WGS84.

    Case, "-" and "_" are ignored ("GCJ-02" works); "epsg:4326" means WGS84. An unknown
    name raises :class:`~coverage.errors.InputError`.
    """
    key = str(system).strip().lower().replace("-", "").replace("_", "")
    if key in ("wgs84", "epsg4326"):
        return _arrays(lon, lat)
    if key == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if key == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise InputError(f"unknown coordinate system {system!r}; use one of {', '.join(SYSTEMS)}")
