"""Reading a plan folder for the maps: the one place that does it (``load_plan``).

A plan folder (docs/outputs.md) holds ``summary.json`` and ``plan.gpkg``; every layer
is returned in EPSG:4326 (lon/lat degrees). Missing optional layers are None.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import geopandas as gpd

__all__ = ["PlanData", "load_plan"]


@dataclass(frozen=True)
class PlanData:
    """What the maps read from a plan folder (layers in EPSG:4326)."""

    summary: dict
    selected: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame | None
    districts: gpd.GeoDataFrame | None
    cells: gpd.GeoDataFrame | None
    study_area: gpd.GeoDataFrame | None
    diff: dict | None = None  # a what-if's diff.json (the sites it removed)


def load_plan(plan_dir: str | os.PathLike) -> PlanData:
    """Read the parts of a plan folder the map needs (InputError if it is not one).

    Reading goes through :class:`coverage.planfolder.PlanFolder`, the one reader of
    plan folders; this only picks the parts the maps draw.
    """
    from ..planfolder import DIFF, PlanFolder

    folder = PlanFolder(plan_dir)
    return PlanData(
        summary=folder.summary,
        selected=folder.selected,
        candidates=folder.candidates,
        districts=folder.districts,
        cells=folder.cells,
        study_area=folder.study_area,
        diff=_read_diff(folder.path / DIFF),
    )


def _read_diff(path) -> dict | None:
    """``diff.json`` beside a what-if plan (written by ``hotspots whatif``), if any."""
    from ..planfolder import diff_of

    try:
        return diff_of(path.read_bytes())
    except OSError:
        return None
