"""Changing a copied plan.gpkg in place: the figures of some rows, the order of its layers.

A what-if keeps its base plan's demand grid, districts and study area, so their
geometry in plan.gpkg (most of its bytes) does not change; :mod:`coverage.outputs`
copies the base's file and brings the figures up to date here, through SQLite (a
GeoPackage is an SQLite database). Polygon layers get attribute columns only, never
geometry, so their spatial indexes stay valid; the selected_sites point layer may also
get moved, new or deleted points (:func:`update_points`), and the candidates point layer
deleted, re-labelled and appended features (:func:`update_keyed_points`), their R-trees kept
by GDAL's own triggers through point-only geometry functions. Table and column names are the tool's own
(:mod:`coverage.planfolder`, :mod:`coverage.outputs`), quoted as SQL identifiers;
values are bound as parameters, never formatted into SQL.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

#: GeoPackage tables that list the layers, one row per layer (their order is the layers' order).
LAYER_TABLES = ("gpkg_contents", "gpkg_geometry_columns", "gpkg_ogr_contents")


def read_layer(path: Path, layer: str):
    """A layer of ``path`` in WGS84 with its geometry, read as the plan folder reader
    reads it (:class:`coverage.planfolder.PlanFolder`); None when absent."""
    from .planfolder import PlanFolder

    try:
        return PlanFolder.read_layer(path, layer)
    except Exception:  # noqa: BLE001 - pyogrio raises several types for "no such layer"
        return None


def update_rows(path: Path, layer: str, table: pd.DataFrame, fixed: Iterable[str]) -> bool:
    """Set the attributes of ``layer`` to ``table`` (same columns in the same order, one row
    per feature in feature order), writing only the rows that differ.

    The ``fixed`` columns must already be equal (they identify the rows): when they are
    not, or the columns or row counts differ, nothing is written and False is returned.
    """
    import pyogrio

    fixed = list(fixed)
    try:
        old = pyogrio.read_dataframe(path, layer=layer, read_geometry=False, use_arrow=True, fid_as_index=True)
    except Exception:  # noqa: BLE001 - a damaged or foreign file: the caller writes afresh
        return False
    if list(old.columns) != list(table.columns) or len(old) != len(table):
        return False
    if not all(same_values(old[c], table[c]).all() for c in fixed):
        return False
    columns = [c for c in table.columns if c not in fixed]
    changed = np.zeros(len(table), dtype=bool)
    for column in columns:
        changed |= ~same_values(old[column], table[column])
    rows = np.flatnonzero(changed)
    if not len(rows):
        return True
    values = [sql_values(table[c].iloc[rows]) for c in columns]
    fids = old.index.to_numpy()[rows].tolist()
    setters = ", ".join(f"{quote(c)} = ?" for c in columns)
    with closing(sqlite3.connect(path)) as db:
        for name in GEOMETRY_FUNCTIONS:  # named in the R-tree triggers, run only when geometry changes
            db.create_function(name, 1, _geometry_unchanged)
        try:
            db.executemany(f"UPDATE {quote(layer)} SET {setters} WHERE fid = ?", zip(*values, fids))
            db.execute("UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                       "WHERE table_name = ?", (layer,))
        except sqlite3.Error:
            return False  # not committed: the caller writes the file afresh
        db.commit()
    return True


#: SQL functions GDAL's spatial-index triggers call (GeoPackage R-tree extension).
GEOMETRY_FUNCTIONS = ("ST_IsEmpty", "ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")


def _geometry_unchanged(blob):
    """Stands in for GDAL's geometry functions during :func:`update_rows`, which the
    triggers call only when a feature's geometry or fid changes; that function changes
    neither, so reaching here is a bug: fail the update rather than corrupt the spatial
    index (:func:`update_points`, which does move points, installs real ones)."""
    raise ValueError("plan.gpkg: a geometry function was called while only attributes change")


def same_values(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality, a missing value (None, NaN, NA) equal only to a missing one."""
    missing_a, missing_b = a.isna().to_numpy(), b.isna().to_numpy()
    if _numeric(a) and _numeric(b):  # no Python object per value (a city's layers: millions of them)
        equal = a.to_numpy(dtype=float, na_value=np.nan) == b.to_numpy(dtype=float, na_value=np.nan)
    else:
        equal = np.asarray(a.to_numpy(dtype=object, na_value=None) == b.to_numpy(dtype=object, na_value=None),
                           dtype=bool)
    return (equal & ~missing_a & ~missing_b) | (missing_a & missing_b)


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype)


def sql_values(column: pd.Series) -> list:
    """Plain Python values for SQLite: missing → NULL, flags → 0/1 (as GDAL stores BOOLEAN)."""
    missing = column.isna().to_numpy()
    values = column.to_numpy(dtype=object, na_value=None).tolist()
    return [None if m else (int(v) if isinstance(v, (bool, np.bool_)) else v) for v, m in zip(values, missing)]


def quote(name: str) -> str:
    """``name`` as an SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def order_layers(path: Path, first: Iterable[str]) -> None:
    """List the layers ``first`` first, in that order, in the GeoPackage's layer tables
    (rewriting a layer moves it to the end; QGIS and pyogrio list layers in this order)."""
    rank = {name: i for i, name in enumerate(first)}
    with closing(sqlite3.connect(path)) as db:
        for table in LAYER_TABLES:
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({quote(table)})")]
            if "table_name" not in columns:
                continue
            at = columns.index("table_name")
            rows = db.execute(f"SELECT * FROM {quote(table)} ORDER BY rowid").fetchall()
            ordered = sorted(rows, key=lambda row: rank.get(row[at], len(rank)))
            if ordered == rows:
                continue
            db.execute(f"DELETE FROM {quote(table)}")
            db.executemany(f"INSERT INTO {quote(table)} VALUES ({', '.join('?' * len(columns))})", ordered)
        db.commit()


#: Header of a GeoPackage geometry blob as GDAL writes points: magic, version 0, flags
#: (little-endian, no envelope, not empty), then the SRS id and the WKB (little-endian).
_BLOB_FLAGS = 0x01
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def point_blobs(gdf, srs_id: int) -> list[bytes] | None:
    """GeoPackage geometry blobs of ``gdf``'s geometry, as GDAL writes them; None unless
    every geometry is a non-empty 2D point."""
    import shapely

    geoms = gdf.geometry.array
    if len(gdf) and (not bool(np.all(shapely.get_type_id(geoms) == 0)) or bool(shapely.is_empty(geoms).any())
                     or bool(shapely.has_z(geoms).any())):
        return None
    header = b"GP\x00" + bytes([_BLOB_FLAGS]) + struct.pack("<i", srs_id)
    return [header + wkb for wkb in shapely.to_wkb(geoms, byte_order=1, output_dimension=2).tolist()]


def _point_of(blob: bytes) -> tuple[float, float] | None:
    """x, y of a GeoPackage point blob; None when empty; ValueError for any other geometry."""
    flags = blob[3]
    start = 8 + _ENVELOPE_BYTES[(flags >> 1) & 7]
    order = "<" if blob[start] == 1 else ">"
    (kind,) = struct.unpack(order + "I", blob[start + 1:start + 5])
    if kind != 1:
        raise ValueError("plan.gpkg: only point geometry is written in place")
    x, y = struct.unpack(order + "dd", blob[start + 5:start + 21])
    return None if (flags >> 4) & 1 or (x != x and y != y) else (x, y)


def _register_point_functions(db: sqlite3.Connection) -> None:
    """The geometry functions GDAL's R-tree triggers call, for point blobs (the only
    geometry :func:`update_points` writes)."""
    db.create_function("ST_IsEmpty", 1, lambda blob: int(_point_of(blob) is None))
    for name, k in (("ST_MinX", 0), ("ST_MaxX", 0), ("ST_MinY", 1), ("ST_MaxY", 1)):
        db.create_function(name, 1, lambda blob, k=k: _point_of(blob)[k])


def update_points(path: Path, layer: str, gdf, most: float = 0.25) -> bool:
    """Bring the point layer ``layer`` of the copied GeoPackage ``path`` to ``gdf`` (WGS84,
    the layer's columns in its order, one row per feature in feature order), in place.

    Row ``k`` of ``gdf`` is feature ``fid = k + 1``, as in a fresh write: the rows that
    differ (in any attribute or in their point; after a site removed from the middle,
    every later row) are updated, features past the end deleted and rows past the
    layer's end inserted. A column that takes
    one value on every row (a what-if's empty roll-out year) is set in one statement. The
    R-tree follows through GDAL's own triggers, and the layer's extent and fid sequence
    are set as a fresh write sets them. Returns False, writing nothing, when the layer
    does not fit (other columns, fids not 1..n, geometry other than points) or when more
    than ``most`` of the rows would be written (a bulk write is faster then); the caller
    then writes the layer whole.
    """
    import pyogrio

    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    try:
        old = pyogrio.read_dataframe(path, layer=layer, read_geometry=False, use_arrow=True, fid_as_index=True)
        with closing(sqlite3.connect(path)) as db:
            (srs_id,) = db.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)).fetchone()
            old_blobs = [row[0] for row in db.execute(f"SELECT geom FROM {quote(layer)} ORDER BY fid")]
    except Exception:  # noqa: BLE001 - a damaged or foreign file: the caller writes afresh
        return False
    blobs = point_blobs(gdf, srs_id)
    if (blobs is None or list(old.columns) != list(table.columns) or len(old_blobs) != len(old)
            or not np.array_equal(old.index.to_numpy(), np.arange(1, len(old) + 1))):
        return False
    plan = _rows_to_write(old, old_blobs, table, blobs, most)
    return plan is not None and _write_points(path, layer, gdf, table, blobs, *plan)


def _rows_to_write(old: pd.DataFrame, old_blobs: list, table: pd.DataFrame, blobs: list, most: float):
    """What :func:`update_points` writes: (columns set whole → value, rows updated, features
    kept (fid ≤ it; the others deleted), rows inserted), or None when too many."""
    n_old, n_new = len(old), len(table)
    common = min(n_old, n_new)
    changed = np.array([a != b for a, b in zip(old_blobs[:common], blobs[:common])], dtype=bool)
    whole = {}  # columns whose new value is one for every row (e.g. no roll-out year): one UPDATE each
    for column in table.columns:
        values = table[column].iloc[:common]
        differ = ~same_values(old[column].iloc[:common], values)
        if differ.sum() > most * common and same_values(values, values.iloc[np.zeros(common, dtype=np.intp)]).all():
            whole[column] = sql_values(values.iloc[:1])[0]
        else:
            changed |= differ
    # (never more statements than deleting from the first difference on and inserting the rest)
    if int(changed.sum()) + abs(n_new - n_old) > most * max(n_new, 1):
        return None
    return whole, np.flatnonzero(changed), n_new, np.arange(n_old, n_new)


def _write_points(path: Path, layer: str, gdf, table: pd.DataFrame, blobs: list, whole: dict,
                  updated: np.ndarray, kept: int, inserted: np.ndarray) -> bool:
    """The SQL of :func:`update_points`, in one transaction (nothing written on an error)."""
    rows = np.r_[updated, inserted].astype(np.intp)
    values = [sql_values(table[c].iloc[rows]) for c in table.columns]
    records = list(zip([blobs[r] for r in rows.tolist()], *values, (rows + 1).tolist()))
    names = ", ".join(quote(c) for c in table.columns)
    setters = ", ".join(f"{quote(c)} = ?" for c in ["geom", *table.columns])
    low, high = _extent(gdf)
    with closing(sqlite3.connect(path)) as db:
        _register_point_functions(db)
        try:
            for column, value in whole.items():
                db.execute(f"UPDATE {quote(layer)} SET {quote(column)} = ? WHERE fid <= ?", (value, kept))
            db.executemany(f"UPDATE {quote(layer)} SET {setters} WHERE fid = ?", records[:len(updated)])
            db.execute(f"DELETE FROM {quote(layer)} WHERE fid > ?", (kept,))
            db.executemany(f"INSERT INTO {quote(layer)} (geom, {names}, fid) VALUES "
                           f"({', '.join('?' * (len(table.columns) + 2))})", records[len(updated):])
            db.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (len(table), layer))
            _set_extent(db, layer, low, high)
        except (sqlite3.Error, ValueError):
            return False  # not committed: the caller writes the layer afresh
        db.commit()
    return True


def _extent(gdf) -> tuple[list, list]:
    """(min x, min y), (max x, max y) of ``gdf`` as GDAL records them on a fresh write (16
    significant digits; None when empty)."""
    import shapely

    xy = shapely.get_coordinates(gdf.geometry.array)
    if not len(xy):
        return [None] * 2, [None] * 2
    return [float(f"{v:.16g}") for v in xy.min(axis=0)], [float(f"{v:.16g}") for v in xy.max(axis=0)]


def _set_extent(db: sqlite3.Connection, layer: str, low: list, high: list) -> None:
    db.execute("UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
               "min_x = ?, min_y = ?, max_x = ?, max_y = ? WHERE table_name = ?",
               (low[0], low[1], high[0], high[1], layer))


def update_keyed_points(path: Path, layer: str, gdf, key: str, changing: Iterable[str], most: float = 0.25) -> bool:
    """Bring the point layer ``layer`` of the copied GeoPackage ``path`` to ``gdf`` (WGS84, the
    layer's columns in its order) in place, when ``gdf`` holds the layer's features, told
    apart by their unique ``key``, in the layer's order with some left out, then new ones
    (a what-if's candidates: removed gap-fill sites leave, statuses change, added sites
    come last). The caller vouches that a feature's columns other than ``changing`` and its
    point are the same in the layer and in ``gdf`` (the same problem's sites); only ``key``
    and ``changing`` are read back.

    Features left out are deleted, kept ones whose ``changing`` values differ updated, and
    new rows inserted after the last feature: reading the layer back gives ``gdf`` as a
    fresh write does (the fids differ: deleted ones leave gaps). The R-tree and feature
    count follow through GDAL's own triggers; the extent is set as a fresh write sets it.
    Returns False, writing nothing, when ``gdf`` is not of that form, the layer does not
    fit (other columns, a repeated key, geometry other than points) or more than ``most``
    of the rows would be written; the caller then writes the layer whole.
    """
    import pyogrio

    changing = list(changing)
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    try:
        old = pyogrio.read_dataframe(path, layer=layer, columns=[key, *changing], read_geometry=False,
                                     use_arrow=True, fid_as_index=True)
        with closing(sqlite3.connect(path)) as db:
            names = [row[1] for row in db.execute(f"PRAGMA table_info({quote(layer)})")]  # fid, geom, columns
            (srs_id,) = db.execute("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)).fetchone()
    except Exception:  # noqa: BLE001 - a damaged or foreign file: the caller writes afresh
        return False
    if names[2:] != list(table.columns) or not old[key].is_unique:
        return False
    rows = _keyed_rows(old, table, key, changing)
    if rows is None or sum(len(r) for r in rows) > most * max(len(table), 1):
        return False
    blobs = point_blobs(gdf.iloc[rows[2]], srs_id)
    return blobs is not None and _write_keyed(path, layer, table, changing, rows, blobs, _extent(gdf))


def _keyed_rows(old: pd.DataFrame, table: pd.DataFrame, key: str, changing: list):
    """What :func:`update_keyed_points` writes: (fids updated, their rows of ``table``),
    fids deleted, rows inserted; None when ``table`` is not the layer's features in order
    with some left out, then new ones."""
    at = pd.Index(old[key].to_numpy(dtype=object)).get_indexer(table[key].to_numpy(dtype=object))
    kept = int(np.argmax(at < 0)) if (at < 0).any() else len(at)
    if (at[kept:] >= 0).any() or (np.diff(at[:kept]) <= 0).any():
        return None
    changed = np.zeros(kept, dtype=bool)
    for column in changing:
        changed |= ~same_values(old[column].iloc[at[:kept]], table[column].iloc[:kept])
    fids = old.index.to_numpy()
    updated = np.flatnonzero(changed)
    deleted = np.setdiff1d(fids, fids[at[:kept]])
    return (fids[at[updated]], updated), deleted, np.arange(kept, len(table))


def _write_keyed(path: Path, layer: str, table: pd.DataFrame, changing: list, rows, blobs: list,
                 extent: tuple) -> bool:
    """The SQL of :func:`update_keyed_points`, in one transaction (nothing written on an error)."""
    (updated_fids, updated), deleted, inserted = rows
    setters = ", ".join(f"{quote(c)} = ?" for c in changing)
    changes = list(zip(*[sql_values(table[c].iloc[updated]) for c in changing], updated_fids.tolist()))
    new = list(zip(blobs, *[sql_values(table[c].iloc[inserted]) for c in table.columns]))
    names = ", ".join(quote(c) for c in table.columns)
    with closing(sqlite3.connect(path)) as db:
        _register_point_functions(db)
        try:
            db.executemany(f"DELETE FROM {quote(layer)} WHERE fid = ?", [(int(f),) for f in deleted])
            db.executemany(f"UPDATE {quote(layer)} SET {setters} WHERE fid = ?", changes)
            # no fid given: SQLite numbers them after the last one, so they read back last
            db.executemany(f"INSERT INTO {quote(layer)} (geom, {names}) VALUES "
                           f"({', '.join('?' * (len(table.columns) + 1))})", new)
            _set_extent(db, layer, *extent)
        except (sqlite3.Error, ValueError):
            return False  # not committed: the caller writes the layer afresh
        db.commit()
    return True
