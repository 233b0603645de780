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
        raise InputError(f"{what} layer {path} is empty: it has no features; add features or remove "
                         "the layer from the scenario file")
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


READ_FORMATS = ("GeoPackage, GeoJSON, Shapefile, FlatGeobuf, KML, GeoParquet, "
                "or a CSV/TSV/Excel table with longitude and latitude columns")


def _read_vector(source: LayerSource, what: str) -> gpd.GeoDataFrame:
    path = Path(source.path)
    if path.is_dir() and path.suffix.lower() not in (".gdb",):
        raise InputError(f"{what} layer {path} is a folder, not a file; give the path of the layer file itself")
    if source.layer is not None:
        _check_layer_exists(path, source.layer, what)
    try:
        if path.suffix.lower() == ".parquet":
            return gpd.read_parquet(path)
        return gpd.read_file(path, layer=source.layer, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL raise many types; all mean "cannot read"
        raise InputError(f"cannot read {what} layer {path}: {_gdal_reason(exc)}; the planner reads "
                         f"{READ_FORMATS}") from None


def _gdal_reason(exc: Exception) -> str:
    """GDAL's message without its advice to prefix the path with a driver name."""
    text = " ".join(str(exc).split())
    if "not recognized as" in text or "supported file format" in text:
        return "not a file format the planner reads (or a damaged file)"
    return text.split("; It might help")[0].split(". It might help")[0].rstrip(".") or type(exc).__name__


def _check_layer_exists(path: Path, layer, what: str) -> None:
    """A named layer of a multi-layer file (GeoPackage) must exist: list those it has."""
    import pyogrio

    try:
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception:  # noqa: BLE001 - unreadable files are reported by the reader
        return
    if str(layer) not in names and not (isinstance(layer, int) and 0 <= layer < len(names)):
        raise InputError(f"{what} layer {path} has no layer {layer!r} (its layers: {', '.join(names) or 'none'}); "
                         "set layer = \"NAME\" in the scenario file to one of them")


def _read_table(source: LayerSource, what: str) -> gpd.GeoDataFrame:
    """Points from a CSV/TSV or Excel sheet with longitude and latitude columns.

    Rows are reported as a spreadsheet shows them: the header is row 1.
    """
    path = Path(source.path)
    header = _header_row(source, path, what)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        df = _read_excel(source, path, what, header)
    else:
        df = _read_csv(source, path, what, header)
    df.columns = [str(c).strip() for c in df.columns]
    if len(df) == 0:
        raise InputError(f"{what} table {path} is empty: it has no data rows below the header (row {header}); "
                         "add rows or remove the layer from the scenario file")
    first = header + 1  # the spreadsheet row of the first data row
    lon_col = _pick_column(df, source.lon_column, LON_NAMES, path, what, "longitude", "lon_column")
    lat_col = _pick_column(df, source.lat_column, LAT_NAMES, path, what, "latitude", "lat_column")
    lon = _numbers(df[lon_col], path, what, lon_col, first)
    lat = _numbers(df[lat_col], path, what, lat_col, first)
    if source.crs is None or source.crs.lower() in CHINESE_SYSTEMS or source.crs.upper() == WGS84:
        _check_degrees(lon, lat, path, what, (lon_col, lat_col), first)
    attrs = df.drop(columns=[lon_col, lat_col])
    for col in attrs.columns:  # numbers stay numbers; text stays text
        converted = pd.to_numeric(attrs[col], errors="coerce")
        if converted.notna().all():
            attrs[col] = converted
    crs = None if source.crs else WGS84  # a declared crs is applied by _to_wgs84
    return gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(lon, lat), crs=crs)


#: Encodings tried, in order, when a CSV does not declare one: UTF-8 (with or without
#: BOM), then GB18030 (a superset of GBK and GB2312: what Excel on Chinese Windows saves).
DETECTED_ENCODINGS = ("utf-8-sig", "gb18030")


def _header_row(source: LayerSource, path: Path, what: str) -> int:
    row = getattr(source, "header_row", None)
    if row is None:
        return 1
    if isinstance(row, bool) or not isinstance(row, int) or row < 1:
        raise InputError(f"{what} table {path}: header_row must be a whole number ≥ 1 (the spreadsheet row "
                         f"of the column names); got {row!r}")
    return row


def decode_table(path: Path, what: str, encoding: str | None = None) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read in (declared, or detected)."""
    data = path.read_bytes()
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise InputError(f"{what} table {path}: encoding {encoding!r} is not an encoding Python knows; "
                             "use e.g. \"utf-8\", \"gbk\" or \"gb18030\"") from None
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError(f"{what} table {path}: line {line} is not valid {encoding} (byte "
                             f"0x{data[exc.start]:02x}); declare the file's real encoding (e.g. encoding = "
                             "\"gb18030\") or save it as UTF-8") from None
    for candidate in DETECTED_ENCODINGS:
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
    raise InputError(f"{what} table {path}: line {line} is neither UTF-8 nor GBK/GB18030 text; save it as "
                     "UTF-8, or declare its encoding in the scenario file (e.g. encoding = \"big5\")")


def _read_csv(source: LayerSource, path: Path, what: str, header: int) -> pd.DataFrame:
    import io

    text, _ = decode_table(path, what, getattr(source, "encoding", None))
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, header=header - 1)
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} table {path} is empty: it has no header row; add the column names "
                         "(e.g. name,lon,lat) and the rows") from None
    except (ValueError, pd.errors.ParserError) as exc:
        reason = " ".join(str(exc).split())
        if "header=" in reason:
            lines = len(text.splitlines())
            raise InputError(f"{what} table {path}: header_row = {header}, but the file has only {lines} line(s); "
                             "set header_row to the row of the column names") from None
        raise InputError(f"cannot read {what} table {path}: {reason}; check the separators and quotes "
                         f"(or header_row, now {header})") from None


def _read_excel(source: LayerSource, path: Path, what: str, header: int) -> pd.DataFrame:
    sheet = getattr(source, "sheet", None)
    if sheet is None:
        sheet = source.layer if source.layer is not None else 0
    try:
        book = pd.ExcelFile(path)
    except Exception as exc:  # noqa: BLE001 - openpyxl/zipfile raise many types for "not a workbook"
        raise InputError(f"cannot read {what} table {path}: not an Excel workbook ({type(exc).__name__}); "
                         "save it as .xlsx, or as CSV") from None
    with book:
        names = [str(n) for n in book.sheet_names]
        if (isinstance(sheet, int) and not 0 <= sheet < len(names)) or (isinstance(sheet, str) and sheet not in names):
            raise InputError(f"{what} table {path} has no sheet {sheet!r} (its sheets: {', '.join(names)}); "
                             "set sheet = \"NAME\" in the scenario file to one of them")
        return pd.read_excel(book, sheet_name=sheet, dtype=str, keep_default_na=False, header=header - 1)


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


def _numbers(column: pd.Series, path, what, name, first: int = 2) -> np.ndarray:
    """A coordinate column as floats; ``first`` is the spreadsheet row of the first data row."""
    text = column.astype(str).str.strip()
    empty = np.flatnonzero(text.eq("").to_numpy())
    if len(empty):
        raise InputError(
            f"{what} table {path}: row {empty[0] + first} has an empty {name!r} "
            f"({len(empty)} row(s) in all); fill in or delete those rows"
        )
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise InputError(
            f"{what} table {path}: row {bad[0] + first} has {column.iloc[bad[0]]!r} in {name!r}, "
            "which is not a finite number; use decimal degrees such as 114.0579"
        )
    return values


def _check_degrees(lon: np.ndarray, lat: np.ndarray, path, what: str, names, first: int) -> None:
    """Longitudes within ±180 and latitudes within ±90, naming the first bad row."""
    if (np.abs(lon) <= 180).all() and (np.abs(lat) <= 90).all():
        return
    if (np.abs(lat) <= 180).all() and (np.abs(lon) <= 90).all():
        return  # swapped columns: reported with its own advice by _check_lon_lat
    if np.abs(np.concatenate([lon, lat])).max() > 1000:
        return  # projected metres: reported by _check_lon_lat with the CRS advice
    bad_lat = np.flatnonzero(np.abs(lat) > 90)
    if len(bad_lat):
        row = bad_lat[0]
        raise InputError(f"{what} table {path}: row {row + first} has latitude {lat[row]:g} in {names[1]!r}, "
                         "outside ±90 degrees; correct the value (latitudes lie between -90 and 90)")
    row = np.flatnonzero(np.abs(lon) > 180)[0]
    raise InputError(f"{what} table {path}: row {row + first} has longitude {lon[row]:g} in {names[0]!r}, "
                     "outside ±180 degrees; correct the value (longitudes lie between -180 and 180)")


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
        return from_chinese(gdf, declared)
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
        feature = _first_bad_feature(gdf, ~np.isfinite(coords).all(axis=1))
        raise InputError(f"{what} layer {path}: feature {feature} has a coordinate that is not a finite number "
                         "(inf or NaN); fix or delete that feature")
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
    if np.abs(coords).max() <= 1000:  # degrees, one of them out of range: a typo, not projected data
        axis, values = ("latitude", lat) if not lat_ok else ("longitude", lon)
        limit = 90 if axis == "latitude" else 180
        raise InputError(f"{what} layer {path}: feature {feature} has {axis} {values[np.abs(values) > limit][0]:g}, "
                         f"outside ±{limit} degrees; correct that feature's coordinates")
    raise InputError(
        f"{what} layer {path}: coordinates are outside the valid longitude/latitude range for {system} "
        f"(e.g. feature {feature}: x up to {np.abs(lon).max():.1f}, y up to {np.abs(lat).max():.1f}); "
        "the data is probably projected: declare its CRS in the scenario file, e.g. crs = \"EPSG:32649\""
    )


def _first_bad_feature(gdf: gpd.GeoDataFrame, bad_coord: np.ndarray) -> int:
    _, index = shapely.get_coordinates(gdf.geometry.array, return_index=True)
    return int(index[np.flatnonzero(bad_coord)[0]]) + 1


def from_chinese(gdf: gpd.GeoDataFrame, system: str) -> gpd.GeoDataFrame:
    """``gdf`` with coordinates in GCJ-02 or BD-09 (``system``) converted to WGS84 degrees."""
    from .chinacoords import to_wgs84

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], system)
        return np.column_stack([lon, lat])

    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(
        shapely.transform(np.asarray(gdf.geometry.array), convert), index=gdf.index, crs=WGS84
    )
    return out
