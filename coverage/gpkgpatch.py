"""Changing a copied plan.gpkg in place: the figures of some rows, the order of its layers.

A what-if keeps its base plan's demand grid, districts and study area, so their
geometry in plan.gpkg (most of its bytes) does not change; :mod:`coverage.outputs`
copies the base's file and brings the figures up to date here, through SQLite (a
GeoPackage is an SQLite database). Only attribute columns are written, never geometry,
so the spatial indexes stay valid. Table and column names are the tool's own
(:mod:`coverage.planfolder`, :mod:`coverage.outputs`), quoted as SQL identifiers;
values are bound as parameters, never formatted into SQL.
"""

from __future__ import annotations

import sqlite3
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
    """Stands in for GDAL's geometry functions, which the triggers call only when a
    feature's geometry or fid changes; this module never changes either, so reaching
    here is a bug: fail the update rather than corrupt the spatial index."""
    raise ValueError("plan.gpkg: a geometry function was called while only attributes change")


def same_values(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality, a missing value (None, NaN, NA) equal only to a missing one."""
    missing_a, missing_b = a.isna().to_numpy(), b.isna().to_numpy()
    left = a.to_numpy(dtype=object, na_value=None)
    right = b.to_numpy(dtype=object, na_value=None)
    if _numeric(a) and _numeric(b):
        equal = a.to_numpy(dtype=float, na_value=np.nan) == b.to_numpy(dtype=float, na_value=np.nan)
    else:
        equal = np.asarray(left == right, dtype=bool)
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
