"""What-if evaluation: the coverage of a changed site set, without re-optimising.

Sites can be added by id, as ``(lon, lat, category)`` tuples or dicts (WGS84 degrees),
or as a layer (a GeoDataFrame or a file path) of points with a ``category`` column.
New sites get a coverage-matrix row of their own; nothing else is rebuilt, so an
evaluation takes milliseconds once the base plan exists. The what-if keeps a reference
to its base (``Plan.base``): its channel plan keeps the base's channels except around
the sites added or removed (:func:`base_channels`, :func:`coverage.engineering.network_report`).
"""

from __future__ import annotations

import dataclasses
import gc
import math
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .errors import InputError
from .layers import CHINESE_SYSTEMS, WGS84, from_chinese, read_points
from .scenario import LayerSource
from .solver import evaluate_order

if TYPE_CHECKING:  # pragma: no cover
    from .planning import Plan
    from .problem import Problem

NEW_SOURCE = "what-if"


def evaluate(plan: Plan, add=(), remove: Iterable[str] = (), crs: str | None = None) -> Plan:
    """A what-if Plan: ``plan``'s sites minus ``remove`` plus ``add`` (see module doc).

    ``crs`` declares the coordinates of added sites and layers (see :meth:`Plan.evaluate`).
    """
    add = _as_list(add)
    remove = [remove] if isinstance(remove, str) else [str(s) for s in (remove or [])]
    ids = [a for a in add if isinstance(a, str)]
    new = new_sites_table(plan.problem, [a for a in add if not isinstance(a, str)], crs=crs)
    problem = plan.problem.with_new_sites(new) if len(new) else plan.problem
    # the base's rows come first in the new problem: look ids up in the base's (cached) index
    n_base = len(plan.problem.sites)
    add_rows = np.concatenate([plan.problem.site_index(ids), n_base + np.arange(len(new))]).astype(np.intp)
    remove_rows = plan.problem.site_index(remove)

    chosen = set(plan.solution.order.tolist())
    not_in_plan = [s for s, r in zip(remove, remove_rows) if r not in chosen]
    if not_in_plan:
        raise InputError(f"cannot remove site(s) not in the plan: {', '.join(not_in_plan[:5])}")
    already = [s for s, r in zip(ids, add_rows) if r in chosen]
    if already:
        raise InputError(f"site(s) already in the plan: {', '.join(already[:5])}; nothing to add")
    if len(set(add_rows.tolist())) < len(add_rows):
        raise InputError("a site is listed twice in add")

    dropped = set(remove_rows.tolist())
    kept = [r for r in plan.solution.order.tolist() if r not in dropped]
    n_pre = sum(1 for r in plan.solution.order[: plan.solution.n_preselected].tolist() if r not in dropped)
    solution = evaluate_order(problem.matrix, kept + add_rows.tolist(), n_preselected=n_pre)
    allowed = np.concatenate([plan.allowed, np.ones(len(new), dtype=bool)])
    layers = tuple(a for a in add if isinstance(a, Path))  # inputs of the what-if: never overwritten by its outputs
    # A new Plan of the same class, with nothing carried over but the scenario and the inputs:
    # the base plan's phases and years describe its own order, not this site set's.
    return dataclasses.replace(plan, problem=problem, solution=solution, allowed=allowed, kind="what-if",
                               inputs=tuple(getattr(plan, "inputs", ())) + layers, runtime_s=0.0,
                               quality=type(plan.quality)(), phases=None, rollout=None, saved_summary=None,
                               base=plan, _cache={})


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector paused for the block (as it was before afterwards).

    A what-if on a city makes millions of objects (points, ids, table cells) that form no
    cycles; the collector's full scans, which their number triggers, were about 15 % of
    ``hotspots whatif``'s CPU time. Reference counting still frees everything; the peak
    memory is the same (1.28 GB on the default).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _as_list(value) -> list:
    """``add`` as a list of items; a lone id, site tuple, dict or layer becomes a list of one."""
    if value is None:
        return []
    if isinstance(value, (str, dict, Path, gpd.GeoDataFrame)):
        return [value]
    if isinstance(value, tuple) and value and not isinstance(value[0], (str, tuple, list, dict)):
        return [value]  # (lon, lat, category[, name])
    return list(value)


def new_sites_table(problem: Problem, items: list, crs: str | None = None) -> gpd.GeoDataFrame:
    """New candidate sites from tuples, dicts, GeoDataFrames or layer files, in the metric CRS.

    ``crs`` declares the coordinates of the items (default: WGS84 degrees; see
    :meth:`coverage.planning.Plan.evaluate`).
    """
    frames = []
    for item in items:
        if isinstance(item, gpd.GeoDataFrame):
            frames.append(_from_layer(_declared(item, crs), "added layer"))
        elif isinstance(item, Path):
            layer = read_points(LayerSource(path=item, crs=crs), "added sites", ("category",))
            frames.append(_from_layer(layer, str(item)))
        elif isinstance(item, (tuple, list)):
            frames.append(_from_record(dict(zip(("lon", "lat", "category", "name"), item)), item, crs))
        elif isinstance(item, dict):
            frames.append(_from_record(item, item, crs))
        else:
            raise InputError(f"cannot add {item!r}: give a site id, (lon, lat, category), a dict or a layer")
    if not frames:
        return gpd.GeoDataFrame(columns=list(problem.sites.columns), geometry="geometry", crs=problem.crs)
    table = pd.concat(frames, ignore_index=True)
    missing = np.flatnonzero(table["site_id"].isna().to_numpy())
    table.loc[missing, "site_id"] = [new_site_id(table.iloc[i]) for i in missing]
    table["site_id"] = table["site_id"].astype(str)
    table["name"] = table["name"].fillna(table["site_id"]).astype(str)
    categories = problem.scenario.categories
    unknown = sorted(set(table["category"]) - set(categories))
    if unknown:
        raise InputError(f"unknown category {unknown[0]!r} for an added site; the scenario has: "
                         f"{', '.join(sorted(categories))}")
    table["radius_m"] = table["category"].map(lambda c: float(categories[c].radius_m))
    table["cost"] = table["category"].map(lambda c: float(categories[c].cost))
    table["wired"] = table["category"].map(lambda c: bool(categories[c].wired)).astype(bool)
    table["existing"] = False
    table["source"] = NEW_SOURCE
    table["layer_file"] = NEW_SOURCE
    table["layer_row"] = np.arange(1, len(table) + 1)
    gdf = gpd.GeoDataFrame(table, geometry="geometry", crs=WGS84).to_crs(problem.crs)
    return gdf[list(problem.sites.columns)]


def new_site_id(row) -> str:
    """An id for a what-if site from its category and position (WGS84, ~1 m), so two
    what-ifs that add different sites never share an id."""
    return f"NEW-{row['category']}-{row.geometry.x:.5f}-{row.geometry.y:.5f}"


def _from_record(record: dict, shown, crs: str | None = None) -> gpd.GeoDataFrame:
    for key in ("lon", "lat", "category"):
        if key not in record:
            raise InputError(f"added site {shown!r} needs {key}; give (lon, lat, category)")
    lon, lat = _degrees(record["lon"], shown, "longitude"), _degrees(record["lat"], shown, "latitude")
    frame = gpd.GeoDataFrame({
        "site_id": [record.get("site_id")], "name": [record.get("name")], "category": [str(record["category"])],
    }, geometry=[shapely.Point(lon, lat)], crs=WGS84)
    if crs is not None and crs.lower() not in CHINESE_SYSTEMS and not _crs(crs, shown).is_geographic:
        return frame.set_crs(_crs(crs, shown), allow_override=True).to_crs(WGS84)
    if abs(lat) > 90 and abs(lon) <= 90:
        raise InputError(f"added site {shown!r}: coordinates look swapped; give longitude first, then latitude")
    if abs(lon) > 180 or abs(lat) > 90:
        raise InputError(f"added site {shown!r}: ({lon}, {lat}) is not a longitude/latitude in degrees")
    return _declared(frame, crs)


def _crs(text: str, shown) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        raise InputError(f"added site {shown!r}: crs {text!r} is not a coordinate system; use \"gcj02\", "
                         "\"bd09\" or an EPSG code such as \"EPSG:4326\"") from None


def _declared(gdf: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    """``gdf`` with its coordinates read in the declared ``crs``, returned in WGS84."""
    if crs is None:
        return gdf
    if crs.lower() in CHINESE_SYSTEMS:
        return from_chinese(gdf.set_crs(WGS84, allow_override=True), crs.lower())
    return gdf.set_crs(_crs(crs, "added layer"), allow_override=True).to_crs(WGS84)


def _degrees(value, shown, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"added site {shown!r}: {what} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise InputError(f"added site {shown!r}: {what} {value!r} is not a finite number")
    return number


def _from_layer(gdf: gpd.GeoDataFrame, where: str) -> gpd.GeoDataFrame:
    if "category" not in gdf.columns:
        raise InputError(f"{where}: added sites need a 'category' column")
    if gdf.crs is None:
        raise InputError(f"{where}: the layer has no CRS; set one (e.g. EPSG:4326)")
    if not gdf.geom_type.eq("Point").all():
        raise InputError(f"{where}: added sites must be points")
    gdf = gdf.to_crs(WGS84)
    return gpd.GeoDataFrame({
        "site_id": gdf["site_id"].astype(str) if "site_id" in gdf.columns else None,
        "name": gdf["name"] if "name" in gdf.columns else None,
        "category": gdf["category"].astype(str),
    }, geometry=gdf.geometry.to_numpy(), crs=WGS84)


def base_channels(plan: Plan) -> dict[str, tuple[str, int]]:
    """Band and channel of each selected site of ``plan`` (site_id → (band, channel)).

    A plan read back exactly from its folder (``Plan.base_folder``) gives the channels
    saved there (selected_sites of its plan.gpkg: those of its own channel plan, which
    for a what-if folder were kept from its base in turn); any other plan, or a folder
    whose layer cannot be read, its :meth:`~coverage.planning.Plan.network` check.
    """
    table = _saved_channels(getattr(plan, "base_folder", None))
    if table is None:
        report = plan.network().sites
        table = pd.DataFrame({"site_id": plan.sites["site_id"].to_numpy()[plan.solution.order],
                              "band": report["band"].to_numpy(), "channel": report["channel"].to_numpy()})
    ids = table["site_id"].astype(str).tolist()
    band = table["band"].astype(str).tolist()
    channel = pd.to_numeric(table["channel"], errors="coerce").to_numpy(dtype=float)
    return {site: (b, int(c)) for site, b, c in zip(ids, band, channel.tolist()) if math.isfinite(c)}


def _saved_channels(folder) -> pd.DataFrame | None:
    """site_id, band and channel of the selected_sites layer in ``folder``'s plan.gpkg (None: not readable)."""
    if folder is None:
        return None
    import pyogrio

    from .planfolder import GEOPACKAGE, SELECTED_LAYER

    columns = ["site_id", "band", "channel"]
    try:
        table = pyogrio.read_dataframe(Path(folder) / GEOPACKAGE, layer=SELECTED_LAYER, read_geometry=False,
                                       columns=columns, use_arrow=True)
    except Exception:  # noqa: BLE001 - pyogrio raises several types for a damaged or foreign file
        return None
    return table if all(c in table.columns for c in columns) else None
