"""Warn when a point layer looks shifted into the Chinese web-map systems GCJ-02 or BD-09.

Chinese web maps (Amap/Gaode, Tencent: GCJ-02; Baidu: BD-09) publish coordinates
offset from WGS84 by several hundred metres (about 600 m in Shenzhen, about 1.2 km for
BD-09). A layer exported from them and read as WGS84 is off by more than a hotspot's
radius, yet it looks plausible on a map. The tell-tale sign is near the study area's
edge: along a coast or a border river some points land just outside the study area
(in the sea, across the border), and undoing the offset brings them back.

:func:`check_shift` tests exactly that, for GCJ-02 and for BD-09: it compares the points
outside the study area before and after applying each inverse transform. It only looks
at points inside China's GCJ-02 box (elsewhere the systems equal WGS84) and only at
points *near* the edge (within :data:`NEAR_M`): points far outside are simply elsewhere,
and no coordinate system explains them. Correctly placed WGS84 data loses points to the
inverse transform as often as it gains them, so it stays silent.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from .chinacoords import out_of_china, to_wgs84

__all__ = ["check_shift", "ShiftEvidence", "shift_evidence", "NEAR_M"]

WGS84 = "EPSG:4326"
NEAR_M = 2000.0
"""Points further outside the study area than this (metres) are ignored: an offset of
~0.6 km (GCJ-02) or ~1.2 km (BD-09) cannot have put them there."""

MIN_OUTSIDE = 3
"""At least this many points must lie just outside before a shift is suspected."""

MIN_OUTSIDE_SHARE = 0.01
"""…and at least this share of the points in China."""

MIN_RECOVERED_SHARE = 2 / 3
"""The inverse transform must bring at least this share of them inside…"""

MAX_LOST_RATIO = 0.25
"""…while moving at most this many points out per point brought in."""

SYSTEMS = ("gcj02", "bd09")
_SYSTEM_HINTS = {
    "gcj02": "GCJ-02 (Amap/Gaode, Tencent)",
    "bd09": "BD-09 (Baidu)",
}


@dataclass(frozen=True)
class ShiftEvidence:
    """How one assumed system changes the points' fit to the study area.

    Counts are of points inside China's GCJ-02 box; ``outside_m`` sums how far (metres)
    the points near the edge lie outside the study area after the correction.
    """

    system: str
    n_points: int
    n_near_outside: int  # before correction: outside, but within NEAR_M of the study area
    n_recovered: int  # of those, inside after the correction
    n_lost: int  # inside before, outside after
    n_outside_after: int  # near-outside points still outside after the correction
    outside_m: float
    shift_m: float  # median distance the correction moves a point, metres

    @property
    def suspicious(self) -> bool:
        """True when this correction explains the points outside far better than chance."""
        enough_outside = (
            self.n_near_outside >= MIN_OUTSIDE and self.n_near_outside >= MIN_OUTSIDE_SHARE * self.n_points
        )
        recovers = self.n_recovered >= MIN_RECOVERED_SHARE * self.n_near_outside
        clean = self.n_lost <= MAX_LOST_RATIO * self.n_recovered
        return enough_outside and recovers and clean


def check_shift(points_wgs84, boundary_wgs84, what: str) -> str | None:
    """A warning if ``points_wgs84`` look like GCJ-02 or BD-09 data read as WGS84, else None.

    ``points_wgs84``: a point GeoDataFrame/GeoSeries (converted to EPSG:4326 if it has
    another CRS; taken as lon/lat degrees if it has none). ``boundary_wgs84``: the study
    area as a polygon GeoDataFrame/GeoSeries or a shapely geometry in lon/lat degrees.
    ``what`` names the layer in the message ("schools"). Deterministic; reads nothing.
    """
    evidence = shift_evidence(points_wgs84, boundary_wgs84)
    suspects = sorted(
        (e for e in evidence if e.suspicious),
        key=lambda e: (e.n_outside_after, e.n_lost, e.outside_m, SYSTEMS.index(e.system)),
    )
    if not suspects:
        return None
    best = suspects[0]
    message = (
        f"{what}: {best.n_near_outside} of {best.n_points} points lie just outside the study area "
        f"(in the sea or across a border), and undoing the {_SYSTEM_HINTS[best.system]} offset "
        f"(~{best.shift_m:.0f} m here) brings {best.n_recovered} of them inside: the layer looks shifted. "
        f"If it comes from a Chinese web map, declare crs = \"{best.system}\" for this layer in the scenario file"
    )
    if len(suspects) > 1:
        other = suspects[1]
        message += f" (\"{other.system}\" fits almost as well: check where the data came from)"
    return message


def shift_evidence(points_wgs84, boundary_wgs84) -> list[ShiftEvidence]:
    """The evidence for each system in :data:`SYSTEMS`; empty when no point is in China."""
    lon, lat = _lon_lat(points_wgs84)
    in_china = ~out_of_china(lon, lat)
    lon, lat = lon[in_china], lat[in_china]
    if len(lon) == 0:
        return []
    area = _area(boundary_wgs84)
    to_metres = pyproj.Transformer.from_crs(WGS84, _utm_for(area), always_xy=True)
    area_m = shapely.transform(area, lambda xy: np.column_stack(to_metres.transform(xy[:, 0], xy[:, 1])))
    shapely.prepare(area_m)

    def project(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Lon/lat degrees → UTM points (metres)."""
        return shapely.points(*to_metres.transform(x, y))

    original = project(lon, lat)
    before = shapely.distance(area_m, original)
    inside = before == 0
    near_outside = ~inside & (before <= NEAR_M)
    evidence = []
    for system in SYSTEMS:
        corrected = project(*to_wgs84(lon, lat, system))
        after = shapely.distance(area_m, corrected)
        inside_after = after == 0
        evidence.append(ShiftEvidence(
            system=system,
            n_points=len(lon),
            n_near_outside=int(near_outside.sum()),
            n_recovered=int((near_outside & inside_after).sum()),
            n_lost=int((inside & ~inside_after).sum()),
            n_outside_after=int((near_outside & ~inside_after).sum()),
            outside_m=float(after[near_outside].sum()),
            shift_m=float(np.median(shapely.distance(original, corrected))),
        ))
    return evidence


def _lon_lat(points) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees, WGS84) of a point layer's geometries."""
    if isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if points.crs is not None and not pyproj.CRS.from_user_input(points.crs).equals(pyproj.CRS(WGS84)):
            points = points.to_crs(WGS84)
        geoms = np.asarray(points.geometry.array if isinstance(points, gpd.GeoDataFrame) else points.array)
    else:
        geoms = np.asarray(points, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    return shapely.get_x(geoms).astype(float), shapely.get_y(geoms).astype(float)


def _area(boundary) -> shapely.Geometry:
    """The study area as one shapely geometry in lon/lat degrees."""
    if isinstance(boundary, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if boundary.crs is not None and not pyproj.CRS.from_user_input(boundary.crs).equals(pyproj.CRS(WGS84)):
            boundary = boundary.to_crs(WGS84)
        return boundary.union_all()
    return boundary


def _utm_for(area: shapely.Geometry) -> pyproj.CRS:
    """The UTM zone (WGS84 datum) of the study area's centre, for distances in metres."""
    centre = area.centroid
    zone = int(np.floor((centre.x + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if centre.y >= 0 else 32700) + zone)

