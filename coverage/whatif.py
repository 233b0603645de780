"""What-if evaluation: the coverage of a changed site set, without re-optimising.

Sites can be added by id, as ``(lon, lat, category)`` tuples or dicts (WGS84 degrees),
or as a layer (a GeoDataFrame or a file path) of points with a ``category`` column.
New sites get a coverage-matrix row of their own; nothing else is rebuilt, so an
evaluation takes milliseconds once the base plan exists.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .solver import Quality
from .errors import InputError
from .layers import WGS84, read_points
from .scenario import LayerSource
from .solver import evaluate_order

if TYPE_CHECKING:  # pragma: no cover
    from .planning import Plan, Problem

NEW_SOURCE = "what-if"


def evaluate(plan: Plan, add=(), remove: Iterable[str] = ()) -> Plan:
    """A what-if Plan: ``plan``'s sites minus ``remove`` plus ``add`` (see module doc)."""
    from .planning import Plan

    add = _as_list(add)
    remove = [remove] if isinstance(remove, str) else [str(s) for s in (remove or [])]
    ids = [a for a in add if isinstance(a, str)]
    new = new_sites_table(plan.problem, [a for a in add if not isinstance(a, str)])
    problem = plan.problem.with_new_sites(new) if len(new) else plan.problem
    add_rows = problem.site_index(ids + new["site_id"].tolist())
    remove_rows = problem.site_index(remove)

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
    return Plan(problem=problem, scenario=plan.scenario, solution=solution, allowed=allowed, kind="what-if")


def _as_list(value) -> list:
    """``add`` as a list of items; a lone id, site tuple, dict or layer becomes a list of one."""
    if value is None:
        return []
    if isinstance(value, (str, dict, Path, gpd.GeoDataFrame)):
        return [value]
    if isinstance(value, tuple) and value and not isinstance(value[0], (str, tuple, list, dict)):
        return [value]  # (lon, lat, category[, name])
    return list(value)


def new_sites_table(problem: Problem, items: list) -> gpd.GeoDataFrame:
    """New candidate sites from tuples, dicts, GeoDataFrames or layer files, in the metric CRS."""
    frames = []
    for item in items:
        if isinstance(item, gpd.GeoDataFrame):
            frames.append(_from_layer(item, "added layer"))
        elif isinstance(item, Path):
            frames.append(_from_layer(read_points(LayerSource(path=item), "added sites", ("category",)), str(item)))
        elif isinstance(item, (tuple, list)):
            frames.append(_from_record(dict(zip(("lon", "lat", "category", "name"), item)), item))
        elif isinstance(item, dict):
            frames.append(_from_record(item, item))
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


def _from_record(record: dict, shown) -> gpd.GeoDataFrame:
    for key in ("lon", "lat", "category"):
        if key not in record:
            raise InputError(f"added site {shown!r} needs {key}; give (lon, lat, category)")
    lon, lat = _degrees(record["lon"], shown, "longitude"), _degrees(record["lat"], shown, "latitude")
    if abs(lat) > 90 and abs(lon) <= 90:
        raise InputError(f"added site {shown!r}: coordinates look swapped; give longitude first, then latitude")
    if abs(lon) > 180 or abs(lat) > 90:
        raise InputError(f"added site {shown!r}: ({lon}, {lat}) is not a WGS84 longitude/latitude")
    return gpd.GeoDataFrame({
        "site_id": [record.get("site_id")], "name": [record.get("name")], "category": [str(record["category"])],
    }, geometry=[shapely.Point(lon, lat)], crs=WGS84)


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


def load_plan(folder) -> Plan:
    """Rebuild a Plan from a folder written by ``hotspots plan`` (or ``whatif``).

    The folder's scenario.toml is prepared again (same inputs give the same demand and
    matrix) and its selected sites are taken in rank order, what-if sites included.
    Logs a warning when the coverage no longer matches the saved summary, i.e. when
    the input layers changed since the plan was made.
    """
    import dataclasses
    import json
    import logging

    from .planning import Plan, build_instance, prepare
    from .scenario import load_scenario

    folder = Path(folder)
    for name in ("scenario.toml", "summary.json", "selected_sites.csv"):
        if not (folder / name).exists():
            raise InputError(f"{folder} is not a plan folder ({name} is missing); run `hotspots plan --out DIR` first")
    saved = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    scenario = load_scenario(folder / "scenario.toml")
    problem = prepare(scenario)
    selected = pd.read_csv(folder / "selected_sites.csv", dtype={"site_id": str, "name": str})
    added = selected[selected["source"] == NEW_SOURCE]
    if len(added):
        records = added[["site_id", "name", "lon", "lat", "category"]].to_dict(orient="records")
        problem = problem.with_new_sites(new_sites_table(problem, records))
    order = problem.site_index(selected["site_id"].tolist())
    n_pre = int((selected["existing"].astype(bool) | selected["forced"].astype(bool)).sum())
    solution = evaluate_order(problem.matrix, order, n_preselected=n_pre)
    solution = dataclasses.replace(solution, stop_reason=saved.get("stop_reason", "evaluated"))
    usable = build_instance(problem).usable
    result = Plan(problem=problem, scenario=scenario, solution=solution, allowed=usable,
                  kind=saved.get("kind", "greedy"),
                  quality=Quality.from_summary(saved))
    if abs(result.coverage - saved.get("coverage", result.coverage)) > 1e-9:
        logging.getLogger(__name__).warning(
            "%s: coverage is now %.4f %% but was saved as %.4f %%; the input layers have changed since",
            folder, 100 * result.coverage, 100 * saved["coverage"])
    return result
