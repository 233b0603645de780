"""Plan tables as compact JSON-ready data for the page script.

Strings are passed as they are (never escaped or formatted into markup here): the page
script shows them as text. Numbers are rounded to what the popups show.
"""

from __future__ import annotations

import math
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .palette import CHANNEL_PALETTE

__all__ = ["col", "bools", "numbers", "texts", "site_table", "network_of", "site_keys",
           "category_label", "metric_name", "site_names", "NET_COLUMNS"]

COORD_DECIMALS = 6
#: Digits kept per value kind in the JSON tables (what the popups can show, no more).
_DIGITS = {"int": 0, "year": 0, "m": 1, "pct": 6, "km2": 0, "num": 2, "hide_num": 2}
#: Network columns of ``selected_sites`` (docs/outputs.md): hidden table columns the
#: popups and the network layers read, and how each is stored.
NET_COLUMNS = [("band", "hide_text"), ("channel", "hide_num"), ("channel_conflicts", "hide_num"),
               ("wired", "hide_bool"), ("hops", "hide_num"), ("orphan", "hide_bool"),
               ("concurrent_users", "hide_num"), ("aps_needed", "hide_num"),
               ("extra_aps", "hide_num")]
#: Site ids the what-if tool gives added sites: ``NEW-<category>-<lon>-<lat>``.
_NEW_ID = re.compile(r"^NEW-(.+)-(-?\d+(?:\.\d+)?)-(-?\d+(?:\.\d+)?)$")


def col(df: pd.DataFrame, name: str, default=None) -> pd.Series:
    """Column ``name`` of ``df``, or a column of ``default`` when it has none."""
    if name in df.columns:
        return df[name]
    return pd.Series([default] * len(df), index=df.index, dtype=object)


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    try:
        return bool(v) and not (isinstance(v, float) and math.isnan(v))
    except (TypeError, ValueError):
        return False


def bools(series: pd.Series) -> np.ndarray:
    """A flag column as a bool array (fast when it already is one)."""
    if pd.api.types.is_bool_dtype(series.dtype) and not series.hasnans:
        return series.to_numpy(bool)
    return series.map(_bool).to_numpy(bool)


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def numbers(values: pd.Series, kind: str) -> list:
    """Numbers for a JSON table: rounded for ``kind``, integral ones as ints, None if missing."""
    series = pd.Series(values)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        arr = series.to_numpy(dtype=float, na_value=np.nan)  # no per-value parsing (arrow columns: 10× faster)
    else:
        arr = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    arr = np.round(arr, _DIGITS.get(kind, 6))
    finite = np.isfinite(arr)
    whole = finite & (np.abs(arr) < 1e15) & (arr == np.trunc(np.where(finite, arr, 0.0)))
    ints = np.where(whole, arr, 0.0).astype(np.int64).tolist()
    return [(i if w else v) if f else None for v, i, f, w in zip(arr.tolist(), ints, finite.tolist(), whole.tolist())]


def texts(values) -> list:
    """Strings for a JSON table, unchanged (None when missing)."""
    if isinstance(values, pd.Series):  # one conversion, not a Python step per value (arrow strings)
        values = values.tolist()
    return [v if type(v) is str else None if _missing(v) else str(v) for v in values]


def metric_name(summary: dict) -> str:
    return "area" if summary.get("metric") == "area" else "population"


def category_label(summary: dict, cat: str, lang: str | None = None) -> str:
    """The category's configured label (its ``label_zh`` on a Chinese page), else its name
    made readable."""
    keys = ("label_zh", "label") if lang == "zh" else ("label",)
    for label in keys:
        for key in ("categories", "by_category"):
            info = (summary.get(key) or {}).get(cat)
            if isinstance(info, dict) and info.get(label):
                return str(info[label])
    return cat.replace("_", " ").capitalize()


def site_names(df: pd.DataFrame, summary: dict, w: dict) -> list:
    """Display name per site: its name, else a readable one for what-if additions."""
    out = []
    names = col(df, "name", None).tolist()
    if w.get("lang") == "zh" and "name_zh" in df.columns:  # Chinese names where present
        names = [en if _missing(zh) or not str(zh) else zh
                 for zh, en in zip(df["name_zh"].tolist(), names)]
    for nm, sid in zip(names, col(df, "site_id", None).tolist()):
        text = None if _missing(nm) else str(nm)
        m = _NEW_ID.match(text or ("" if _missing(sid) else str(sid)))
        if m and (text is None or text == sid):
            text = w["new_site_name"].format(category=category_label(summary, m.group(1), w.get("lang")).lower(),
                                             lon=m.group(2), lat=m.group(3))
        out.append(text if text is not None else (None if _missing(sid) else str(sid)))
    return out


def _columns(df: pd.DataFrame, summary: dict, selected: bool, w: dict) -> list[tuple]:
    """Table columns: (key, label, kind, hide-if-empty)."""
    metric = w[metric_name(summary)]
    cols = [("lon", "", "hide", False), ("lat", "", "hide", False),
            ("name", w["name"], "text", False), ("category_label", w["category"], "text", False),
            ("district", w["district"], "text", True),
            ("coords", w["coordinates"], "coords", False),
            ("source", w["source"], "text", False), ("site_id", w["site_id"], "text", False),
            ("radius_m", w["radius"], "m", False), ("cost", w["cost"], "num", False)]
    if selected:
        cols += [(key, w[key], "year", True) for key in ("phase", "year") if key in df.columns]
        cols += [("rank", w["rank"], "int", False),
                 ("population_served", w["population_served"], "int", True),
                 ("marginal_population", w["population_gained"], "int", True)]
        if metric_name(summary) == "area":
            cols.append(("marginal_area_m2", w["area_gained"], "km2", True))
        cols += [("cumulative_coverage", w["coverage_after"].format(metric=metric), "pct", False),
                 ("flags", w["note"], "text", True)]
        cols += [(key, "", kind, False) for key, kind in NET_COLUMNS if key in df.columns]
    else:
        cols.append(("status", w["status"], "text", False))
    cols += [("source_key", "", "hide", False), ("existing_key", "", "hide", False)]
    if selected and "year" in df.columns:
        cols.append(("year_key", "", "hide_num", False))
    if selected and "colour_key" in df.columns:
        cols.append(("colour_key", "", "hide", False))
    if not selected:
        cols.append(("status_key", "", "hide", False))
    return cols


def site_table(df: gpd.GeoDataFrame, summary: dict, selected: bool, w: dict) -> dict:
    """Compact table: cols = [key, label, kind, hide-if-empty], rows = lists.

    Kinds starting with ``hide`` are not popup rows: the page script reads them (the
    network columns make the popup's network lines and the orphan / issue / channel
    layers). Built column by column, so a city's thousands of sites take milliseconds.
    """
    cols = _columns(df, summary, selected, w)
    xs = np.round(df.geometry.x.to_numpy(float), COORD_DECIMALS)
    ys = np.round(df.geometry.y.to_numpy(float), COORD_DECIMALS)
    ok = np.isfinite(xs) & np.isfinite(ys)
    df, xs, ys = df[ok], xs[ok], ys[ok]
    cats = col(df, "category", "").astype(str).tolist()
    src = [str(v).strip().lower() if not _missing(v) else "real"
           for v in col(df, "source", "real").tolist()]
    existing = bools(col(df, "existing", False))
    labels = {c: category_label(summary, c, w.get("lang")) for c in set(cats)}
    values: dict[str, list] = {
        "lon": xs.tolist(), "lat": ys.tolist(), "coords": [None] * len(df),
        "name": site_names(df, summary, w), "category_label": [labels[c] for c in cats],
        "source": src, "site_id": texts(col(df, "site_id", None)),
        "source_key": ["synthetic" if v == "synthetic" else "real" for v in src],
        "existing_key": existing.astype(int).tolist(),
    }
    if selected and "year" in df.columns:
        values["year_key"] = numbers(df["year"], "int")
    if selected:
        forced = bools(col(df, "forced", False))
        values["flags"] = [
            "; ".join(f for f, on in ((w["existing_kept"], e), (w["forced"], f_)) if on) or None
            for e, f_ in zip(existing, forced)]
    else:
        status = col(df, "status", "not_selected").astype(str).tolist()
        values["status"] = [v.replace("_", " ") for v in status]
        values["status_key"] = ["forbidden" if v == "forbidden" else "ok" for v in status]
    for key, _label, kind, _opt in cols:
        if key in values:
            continue
        if kind == "hide_bool":
            values[key] = bools(df[key]).astype(int).tolist()
        elif kind in ("text", "hide_text"):
            values[key] = texts(col(df, key, None).tolist())
        else:
            values[key] = numbers(col(df, key, None), kind)
    columns = [values[key] for key, *_ in cols]
    rows = [list(r) for r in zip(*columns)] if len(df) else []
    return {"cols": [list(c) for c in cols], "rows": rows}


def network_of(sel: pd.DataFrame) -> dict | None:
    """What the network layers and legend show; None for a plan without network columns."""
    if not any(key in sel.columns for key, _kind in NET_COLUMNS):
        return None
    orphan = bools(col(sel, "orphan", False))
    conflict = pd.to_numeric(col(sel, "channel_conflicts", 0), errors="coerce").fillna(0) > 0
    overload = pd.to_numeric(col(sel, "extra_aps", 0), errors="coerce").fillna(0) > 0
    names = [i if _missing(nm) else nm
             for nm, i in zip(col(sel, "name", None).tolist(), col(sel, "site_id", None).tolist())]
    chans = pd.to_numeric(col(sel, "channel", None), errors="coerce").dropna()
    chans = sorted({int(c) if float(c).is_integer() else float(c) for c in chans})
    return {"orphans": [str(n) for n, o in zip(names, orphan) if o],
            "conflict": int(conflict.sum()), "overload": int(overload.sum()),
            "issues": int((conflict | overload).sum()),
            "channels": {ch: CHANNEL_PALETTE[k % len(CHANNEL_PALETTE)]
                         for k, ch in enumerate(chans)}}


def site_keys(df: pd.DataFrame) -> pd.Series:
    """Match key of each site: its id, or its rounded position when it has none."""
    ids = col(df, "site_id", None)
    pos = [f"@{x:.6f},{y:.6f}" for x, y in zip(df.geometry.x, df.geometry.y)]
    return pd.Series([str(i) if not _missing(i) and str(i) else p
                      for i, p in zip(ids, pos)], index=df.index)
