"""Candidate and existing hotspot sites: one table, one row per site, in the metric CRS.

Each site has a ``site_id`` (unique across all layers), ``name``, ``category``,
``source``, ``existing``, ``radius_m`` (metres, from its category) and ``cost`` (0 for
existing hotspots, which are already paid for). Rows are sorted by ``site_id``, the
stable key every tie is broken on.
"""

from __future__ import annotations

import logging

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
    return gpd.GeoDataFrame(sites[SITE_COLUMNS + ["layer_file", "layer_row"]], geometry=sites.geometry, crs="EPSG:4326")


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
            raise InputError(f"{what} layer {path}: feature {blank[0] + 1} has no {layer.id_column!r}; give every site an id")
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
    radius = categories.map(lambda c: float(scenario.categories[c].radius_m))
    cost = 0.0 if layer.existing else categories.map(lambda c: float(scenario.categories[c].cost))
    table = pd.DataFrame({
        "site_id": ids.to_numpy(),
        "name": names.to_numpy(),
        "category": categories.to_numpy(),
        "source": source.to_numpy(),
        "existing": layer.existing,
        "radius_m": radius.to_numpy(),
        "cost": cost if np.isscalar(cost) else cost.to_numpy(),
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
        f"duplicate site id {first_id!r} ({dup.sum()} rows share an id): {places}; site ids must be unique across all site layers"
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
        raise InputError(f"{what} site id(s) not found in any site layer: {shown}; check the {what} list in the scenario")


def drop_outside(sites: gpd.GeoDataFrame, area: shapely.Geometry) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Split ``sites`` (in ``area``'s CRS) into those inside the study area and those dropped."""
    shapely.prepare(area)
    inside = shapely.intersects(area, sites.geometry.array)
    dropped = sites.loc[~inside, ["site_id", "name", "category"]].assign(reason="outside the study area")
    if len(dropped):
        log.warning("dropped %d site(s) outside the study area (listed in summary.json)", len(dropped))
    return sites.loc[inside].reset_index(drop=True), dropped.reset_index(drop=True)
