"""Read and validate input layers; choose the metric CRS the plan is computed in.

Every reader returns a GeoDataFrame in WGS84 (EPSG:4326) or raises
:class:`~coverage.errors.InputError` with one message naming the file, the feature or
row, what is wrong and how to fix it. Files are only read, never modified.

Supported: any vector format pyogrio reads (GeoPackage, GeoJSON, Shapefile,
FlatGeobuf, …), GeoParquet, and CSV with longitude/latitude columns. A layer's
coordinate system comes from the file, or from ``crs`` declared in the scenario, which
wins; ``gcj02`` and ``bd09`` declare Chinese web-map coordinates, converted to WGS84.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .errors import InputError
from .scenario import LayerSource

log = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
CHINESE_SYSTEMS = ("gcj02", "bd09")

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")

POLYGON_TYPES = ("Polygon", "MultiPolygon")
POINT_TYPES = ("Point",)


def read_polygons(source: LayerSource, what: str, columns: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Read a polygon layer (study area, districts, population polygons) in WGS84.

    Invalid polygons are repaired with ``shapely.make_valid`` and the number repaired
    is logged; anything that is not polygonal after repair is refused.
    """
    gdf = read_layer(source, what, columns)
    _check_geometry_types(gdf, source, what, POLYGON_TYPES)
    return repair_polygons(gdf, source, what)


def read_points(source: LayerSource, what: str, columns: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Read a point layer (sites, population points) in WGS84."""
    gdf = read_layer(source, what, columns)
    _check_geometry_types(gdf, source, what, POINT_TYPES)
    return gdf


def read_layer(source: LayerSource, what: str, columns: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """Read any supported layer, check it and return it in WGS84 (EPSG:4326).

    ``what`` names the layer's role in messages ("study area", "schools").
    ``columns`` are attribute columns that must exist.
    """
    path = Path(source.path)
    if not path.exists():
        raise InputError(f"{what} layer {path} does not exist; check the path in the scenario file")
    if path.suffix.lower() in TABLE_SUFFIXES:
        gdf = _read_table(source, what)
    else:
        gdf = _read_vector(source, what)
    if len(gdf) == 0:
        raise InputError(f"{what} layer {path} is empty: it has no features")
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        available = ", ".join(c for c in gdf.columns if c != gdf.geometry.name) or "none"
        raise InputError(
            f"{what} layer {path} has no column {', '.join(map(repr, missing))} "
            f"(columns: {available}); rename the column or name it in the scenario file"
        )
    _check_geometries_present(gdf, path, what)
    return _to_wgs84(gdf, source, what)


def metric_crs(study_area: gpd.GeoDataFrame) -> pyproj.CRS:
    """The UTM zone (WGS84 datum) that holds the study area's centre: metres, little distortion."""
    crs = study_area.to_crs(WGS84).estimate_utm_crs(datum_name="WGS 84")
    if crs is None:  # pragma: no cover - pyproj finds a zone for any valid lon/lat
        raise InputError("could not choose a UTM zone for the study area")
    return crs


# --- readers -------------------------------------------------------------------------


def _read_vector(source: LayerSource, what: str) -> gpd.GeoDataFrame:
    path = Path(source.path)
    try:
        if path.suffix.lower() == ".parquet":
            return gpd.read_parquet(path)
        return gpd.read_file(path, layer=source.layer, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL raise many types; all mean "cannot read"
        hint = f" (layer {source.layer!r})" if source.layer else ""
        raise InputError(f"cannot read {what} layer {path}{hint}: {exc}") from None


def _read_table(source: LayerSource, what: str) -> gpd.GeoDataFrame:
    """Points from a CSV/TSV or Excel sheet with longitude and latitude columns.

    Rows are reported as a spreadsheet shows them: the header is row 1.
    """
    path = Path(source.path)
    excel = path.suffix.lower() in (".xlsx", ".xlsm")
    try:
        if excel:
            df = pd.read_excel(path, sheet_name=source.layer or 0, dtype=str, keep_default_na=False)
        else:
            sep = "\t" if path.suffix.lower() == ".tsv" else ","
            df = pd.read_csv(path, sep=sep, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except Exception as exc:
        raise InputError(f"cannot read {what} table {path}: {exc}") from None
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise InputError(f"{what} table {path} is empty: it has no data rows")
    lon_col = _pick_column(df, source.lon_column, LON_NAMES, path, what, "longitude", "lon_column")
    lat_col = _pick_column(df, source.lat_column, LAT_NAMES, path, what, "latitude", "lat_column")
    lon = _numbers(df[lon_col], path, what, lon_col)
    lat = _numbers(df[lat_col], path, what, lat_col)
    attrs = df.drop(columns=[lon_col, lat_col])
    for col in attrs.columns:  # numbers stay numbers; text stays text
        converted = pd.to_numeric(attrs[col], errors="coerce")
        if converted.notna().all():
            attrs[col] = converted
    crs = None if source.crs else WGS84  # a declared crs is applied by _to_wgs84
    return gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(lon, lat), crs=crs)


def _pick_column(df, given, names, path, what, axis, key) -> str:
    if given:
        if given not in df.columns:
            raise InputError(
                f"{what} table {path}: {key} {given!r} is not a column (columns: {', '.join(df.columns)})"
            )
        return given
    by_lower = {c.strip().lower(): c for c in df.columns}
    for name in names:
        if name in by_lower:
            return by_lower[name]
    raise InputError(
        f"{what} table {path} has no {axis} column (looked for {', '.join(names)}; "
        f"columns: {', '.join(df.columns)}); rename it or set {key} in the scenario file"
    )


def _numbers(column: pd.Series, path, what, name) -> np.ndarray:
    text = column.str.strip()
    empty = np.flatnonzero(text.eq("").to_numpy())
    if len(empty):
        raise InputError(
            f"{what} table {path}: row {empty[0] + 2} has an empty {name!r} "
            f"({len(empty)} row(s) in all); fill in or delete those rows"
        )
    values = pd.to_numeric(text, errors="coerce")
    bad = np.flatnonzero(values.isna().to_numpy())
    if len(bad):
        raise InputError(
            f"{what} table {path}: row {bad[0] + 2} has {column.iloc[bad[0]]!r} in {name!r}, "
            "which is not a number; use decimal degrees such as 114.0579"
        )
    return values.to_numpy(dtype=float)


# --- checks --------------------------------------------------------------------------


def _check_geometries_present(gdf: gpd.GeoDataFrame, path: Path, what: str) -> None:
    geoms = gdf.geometry.array
    missing = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if len(missing):
        raise InputError(
            f"{what} layer {path}: feature {missing[0] + 1} has no geometry "
            f"({len(missing)} feature(s) in all); delete them or give them a geometry"
        )


def _check_geometry_types(gdf: gpd.GeoDataFrame, source: LayerSource, what: str, allowed) -> None:
    types = gdf.geom_type.to_numpy()
    bad = np.flatnonzero(~np.isin(types, allowed))
    if len(bad):
        expected = "polygons" if allowed == POLYGON_TYPES else "points"
        raise InputError(
            f"{what} layer {source.path}: feature {bad[0] + 1} is a {types[bad[0]]}, "
            f"but this layer must hold {expected}; convert it (e.g. polygons to centroids) or pick another layer"
        )


def repair_polygons(gdf: gpd.GeoDataFrame, source: LayerSource, what: str) -> gpd.GeoDataFrame:
    """Make invalid polygons valid, keeping only their polygonal parts, and log how many."""
    geoms = gdf.geometry.array
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return gdf
    fixed = shapely.make_valid(np.asarray(geoms)[invalid])
    fixed = np.array([_polygonal_part(g) for g in fixed], dtype=object)
    empty = np.flatnonzero(shapely.is_empty(fixed))
    if len(empty):
        row = np.flatnonzero(invalid)[empty[0]]
        raise InputError(
            f"{what} layer {source.path}: feature {row + 1} is an invalid polygon with no area after repair; "
            "fix or delete it"
        )
    gdf = gdf.copy()
    new = np.asarray(gdf.geometry.array, dtype=object)
    new[invalid] = fixed
    gdf[gdf.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs)
    log.warning("%s layer %s: repaired %d invalid polygon(s) with make_valid", what, source.path, invalid.sum())
    return gdf


def _polygonal_part(geom):
    if geom.geom_type in POLYGON_TYPES:
        return geom
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in POLYGON_TYPES]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _to_wgs84(gdf: gpd.GeoDataFrame, source: LayerSource, what: str) -> gpd.GeoDataFrame:
    path = source.path
    declared = source.crs.lower() if source.crs else None
    if declared in CHINESE_SYSTEMS:
        gdf = gdf.set_crs(WGS84, allow_override=True)
        _check_lon_lat(gdf, path, what, declared)
        return _from_chinese(gdf, declared)
    if declared:
        try:
            crs = pyproj.CRS.from_user_input(source.crs)
        except pyproj.exceptions.CRSError:
            raise InputError(
                f"{what} layer {path}: crs {source.crs!r} is not a coordinate system; "
                "use e.g. \"EPSG:4326\", \"EPSG:32649\", \"gcj02\" or \"bd09\""
            ) from None
        gdf = gdf.set_crs(crs, allow_override=True)
    if gdf.crs is None:
        raise InputError(
            f"{what} layer {path} has no coordinate reference system; "
            "declare it in the scenario file, e.g. crs = \"EPSG:4326\" (or \"gcj02\" for Amap/Tencent data)"
        )
    if gdf.crs.is_geographic:
        _check_lon_lat(gdf, path, what, gdf.crs.to_string())
    out = gdf.to_crs(WGS84)
    if not gdf.crs.is_geographic:
        _check_lon_lat(out, path, what, f"{gdf.crs.to_string()} (converted to WGS84)")
    return out


def _check_lon_lat(gdf: gpd.GeoDataFrame, path, what: str, system: str) -> None:
    coords = shapely.get_coordinates(gdf.geometry.array)
    lon, lat = coords[:, 0], coords[:, 1]
    if not np.isfinite(coords).all():
        raise InputError(f"{what} layer {path}: some coordinates are not finite numbers; fix the geometry")
    lon_ok = (np.abs(lon) <= 180).all()
    lat_ok = (np.abs(lat) <= 90).all()
    if lon_ok and lat_ok:
        return
    feature = _first_bad_feature(gdf, np.abs(lat) > 90 if not lat_ok else np.abs(lon) > 180)
    swapped = (np.abs(lat) <= 180).all() and (np.abs(lon) <= 90).all()
    if swapped:
        raise InputError(
            f"{what} layer {path}: coordinates look swapped (latitude {lat.max():.4f} is beyond ±90 "
            f"at feature {feature}); put longitude first (x = longitude, y = latitude)"
        )
    raise InputError(
        f"{what} layer {path}: coordinates are outside the valid longitude/latitude range for {system} "
        f"(e.g. feature {feature}: x up to {np.abs(lon).max():.1f}, y up to {np.abs(lat).max():.1f}); "
        "the data is probably projected: declare its CRS in the scenario file, e.g. crs = \"EPSG:32649\""
    )


def _first_bad_feature(gdf: gpd.GeoDataFrame, bad_coord: np.ndarray) -> int:
    _, index = shapely.get_coordinates(gdf.geometry.array, return_index=True)
    return int(index[np.flatnonzero(bad_coord)[0]]) + 1


def _from_chinese(gdf: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    from .chinacoords import to_wgs84

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], system)
        return np.column_stack([lon, lat])

    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(
        shapely.transform(np.asarray(gdf.geometry.array), convert), index=gdf.index, crs=WGS84
    )
    return out
