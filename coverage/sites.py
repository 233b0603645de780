"""Candidate and existing hotspot sites: one table, one row per site, in the metric CRS.

Each site has a ``site_id`` (unique across all layers), ``name``, ``category``,
``source``, ``existing``, ``radius_m`` (metres), ``cost`` (0 for existing hotspots,
which are already paid for) and ``wired`` (fibre backhaul). Radius, cost and wired come
from the site's category unless the layer carries them per site (:func:`site_attributes`);
the backhaul check uses the per-site ``wired``. Rows are sorted by ``site_id``, the
stable key every tie is broken on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import InputError
from .layers import read_points
from .scenario import Scenario, SiteLayer

log = logging.getLogger(__name__)

SITE_COLUMNS = ["site_id", "name", "category", "source", "existing", "radius_m", "cost"]


def load_sites(scenario: Scenario) -> gpd.GeoDataFrame:
    """Read every site layer of ``scenario`` into one table in WGS84, checked."""
    tables = [_read_site_layer(layer, scenario) for layer in scenario.sites]
    sites = pd.concat(tables, ignore_index=True)
    _check_unique_ids(sites)
    sites = sites.sort_values("site_id", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(sites[SITE_COLUMNS + ["wired", "layer_file", "layer_row"]], geometry=sites.geometry,
                            crs="EPSG:4326")


def _read_site_layer(layer: SiteLayer, scenario: Scenario) -> gpd.GeoDataFrame:
    path = layer.source.path
    what = f"{layer.category or 'sites'} sites"
    needed = tuple(c for c in (layer.id_column, layer.name_column, layer.category_column) if c)
    gdf = read_points(layer.source, what, needed)
    n = len(gdf)
    if layer.id_column:
        ids = gdf[layer.id_column]
        blank = np.flatnonzero(ids.isna().to_numpy() | ids.astype(str).str.strip().eq("").to_numpy())
        if len(blank):
            raise InputError(f"{what} layer {path}: feature {blank[0] + 1} has no {layer.id_column!r}; "
                             "give every site an id")
        ids = ids.map(_id_text)
    else:
        ids = pd.Series([f"{path.stem}-{i + 1}" for i in range(n)])
    if layer.category_column:
        categories = gdf[layer.category_column].astype(str).str.strip()
        unknown = ~categories.isin(list(scenario.categories))
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(
                f"{what} layer {path}: feature {row + 1} has category {categories.iloc[row]!r} in column "
                f"{layer.category_column!r}, which the scenario does not define "
                f"(defined: {', '.join(sorted(scenario.categories))}); add [categories.{categories.iloc[row]}]"
            )
    else:
        categories = pd.Series([layer.category] * n)
    names = gdf[layer.name_column].fillna("").astype(str) if layer.name_column else ids
    source = gdf["source"].fillna("").astype(str) if "source" in gdf.columns else pd.Series([path.name] * n)
    defaults = [scenario.categories[c] for c in categories]
    attributes = site_attributes(
        gdf, layer, cost=np.array([0.0 if layer.existing else float(c.cost) for c in defaults]),
        radius_m=np.array([float(c.radius_m) for c in defaults]),
        wired=np.array([bool(c.wired) for c in defaults], dtype=bool), where=f"{what} layer {path}",
    )
    table = pd.DataFrame({
        "site_id": ids.to_numpy(),
        "name": names.to_numpy(),
        "category": categories.to_numpy(),
        "source": source.to_numpy(),
        "existing": layer.existing,
        "radius_m": attributes.radius_m,
        "cost": attributes.cost,
        "wired": attributes.wired,
        "layer_file": str(path),
        "layer_row": np.arange(1, n + 1),
    })
    return gpd.GeoDataFrame(table, geometry=gdf.geometry.to_numpy(), crs="EPSG:4326")


def _id_text(value) -> str:
    """Ids read as numbers (12.0) become their plain text ("12")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _check_unique_ids(sites: pd.DataFrame) -> None:
    dup = sites["site_id"].duplicated(keep=False)
    if not dup.any():
        return
    first_id = sites.loc[dup, "site_id"].iloc[0]
    rows = sites[sites["site_id"] == first_id]
    places = " and ".join(f"{f} feature {r}" for f, r in zip(rows["layer_file"], rows["layer_row"]))
    raise InputError(
        f"duplicate site id {first_id!r} ({dup.sum()} rows share an id): {places}; "
        "site ids must be unique across all site layers"
    )


def check_selection(sites: pd.DataFrame, dropped: pd.DataFrame, scenario: Scenario) -> None:
    """Forced and forbidden ids must name sites inside the study area."""
    outside = set(dropped["site_id"]) if len(dropped) else set()
    for ids, what in ((scenario.forced, "forced"), (scenario.forbidden, "forbidden")):
        unknown = sorted(set(ids) - set(sites["site_id"]))
        if not unknown:
            continue
        shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
        if set(unknown) <= outside:
            raise InputError(f"{what} site(s) {shown} lie outside the study area; remove them from {what}")
        raise InputError(f"{what} site id(s) not found in any site layer: {shown}; "
                         f"check the {what} list in the scenario")


def drop_outside(sites: gpd.GeoDataFrame, area: shapely.Geometry) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Split ``sites`` (in ``area``'s CRS) into those inside the study area and those dropped."""
    shapely.prepare(area)
    inside = shapely.intersects(area, sites.geometry.array)
    dropped = sites.loc[~inside, ["site_id", "name", "category"]].assign(reason="outside the study area")
    if len(dropped):
        log.warning("dropped %d site(s) outside the study area (listed in summary.json)", len(dropped))
    return sites.loc[inside].reset_index(drop=True), dropped.reset_index(drop=True)


# --- per-site attributes ----------------------------------------------------------------

#: Radii a site may carry in its own column, metres (a hotspot reaches metres to hundreds of metres).
RADIUS_RANGE_M = (1.0, 1000.0)
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "是", "有"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "否", "无", "無"}


@dataclass(frozen=True)
class SiteAttributes:
    """Cost, radius (metres) and wired flag per feature of a site layer, after overrides.

    ``columns`` maps each overridden attribute (``cost``, ``radius_m``, ``wired``) to
    the layer column it was read from.
    """

    cost: np.ndarray
    radius_m: np.ndarray
    wired: np.ndarray
    columns: dict[str, str]


def site_attributes(table: pd.DataFrame, layer, cost: np.ndarray, radius_m: np.ndarray, wired: np.ndarray,
                    where: str) -> SiteAttributes:
    """Per-site ``cost``, ``radius_m`` and ``wired`` of a site layer's features.

    ``cost``, ``radius_m`` and ``wired`` hold the category defaults per feature; a column
    of ``table`` (the layer's attributes) overrides them feature by feature. The column
    is the one the layer names (``layer.cost_column`` / ``radius_column`` /
    ``wired_column``), else a column literally called ``cost`` / ``radius_m`` / ``wired``
    when present. A named column that is missing, an empty value, a cost that is not a
    positive number, a radius outside :data:`RADIUS_RANGE_M` or a wired value that is
    not yes/no raises :class:`InputError` naming ``where`` (the file), the feature and
    the column. Existing hotspots (``layer.existing``) keep cost 0: they are paid for.
    """
    out = {"cost": np.asarray(cost, dtype=float).copy(), "radius_m": np.asarray(radius_m, dtype=float).copy(),
           "wired": np.asarray(wired, dtype=bool).copy()}
    used = {}
    for attribute, key in (("cost", "cost_column"), ("radius_m", "radius_column"), ("wired", "wired_column")):
        column = _override_column(table, getattr(layer, key, None), attribute, key, where)
        if column is None or (attribute == "cost" and getattr(layer, "existing", False)):
            continue
        values = table[column]
        _refuse_empty(values, column, where)
        out[attribute] = _parse_wired(values, column, where) if attribute == "wired" else \
            _parse_number(values, column, where, attribute)
        used[attribute] = column
    return SiteAttributes(cost=out["cost"], radius_m=out["radius_m"], wired=out["wired"], columns=used)


def _override_column(table: pd.DataFrame, named: str | None, attribute: str, key: str, where: str) -> str | None:
    if named is None:
        return attribute if attribute in table.columns else None
    if named not in table.columns:
        available = ", ".join(str(c) for c in table.columns if c != "geometry") or "none"
        raise InputError(f"{where} has no column {named!r} (named by {key}; columns: {available}); "
                         f"rename the column or fix {key} in the scenario")
    return named


def _refuse_empty(values: pd.Series, column: str, where: str) -> None:
    text = values.astype(str).str.strip()
    blank = np.flatnonzero(values.isna().to_numpy() | text.eq("").to_numpy())
    if len(blank):
        raise InputError(f"{where}: feature {blank[0] + 1} has no value in column {column!r}; "
                         "give every feature a value, or leave the column out to use the category's")


def _parse_number(values: pd.Series, column: str, where: str, attribute: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    raw = values.to_numpy(dtype=object)
    if attribute == "cost":
        bad, rule = ~np.isfinite(numbers) | (numbers <= 0), "a cost must be a positive number"
    else:
        low, high = RADIUS_RANGE_M
        bad = ~np.isfinite(numbers) | (numbers < low) | (numbers > high)
        rule = f"a radius must be a number of metres from {low:g} to {high:g}"
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"{where}: feature {k + 1} has {_shown(raw[k])!r} in column {column!r}; {rule}")
    return numbers


def _parse_wired(values: pd.Series, column: str, where: str) -> np.ndarray:
    if values.dtype == bool:
        return values.to_numpy(dtype=bool)
    text = values.map(lambda v: str(v).strip().lower())
    true, false = text.isin(_TRUE).to_numpy(), text.isin(_FALSE).to_numpy()
    if not (true | false).all():
        k = int(np.flatnonzero(~(true | false))[0])
        raise InputError(f"{where}: feature {k + 1} has {_shown(values.iloc[k])!r} in column {column!r}; "
                         "wired must be yes/no (true/false, 1/0, 是/否)")
    return true


def _shown(value):
    """A value as the user wrote it: numpy scalars as plain Python numbers."""
    return value.item() if isinstance(value, np.generic) else value
