"""Write a plan to a folder: summary.json, plan.gpkg, selected_sites.csv, map.html.

Everything is first written into a hidden temporary folder beside the outputs and
moved into place only when all of it succeeded, so a failed run never leaves a
half-written file. Geometry is written in WGS84 (EPSG:4326). The file contract is
in docs/outputs.md.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np

from . import analyse
from .errors import InputError
from .engineering import SITE_COLUMNS
from .layers import WGS84
from .progress import stage
from .scenario import save_scenario

if TYPE_CHECKING:  # pragma: no cover
    from .planning import Plan

log = logging.getLogger(__name__)

SUMMARY = "summary.json"
GEOPACKAGE = "plan.gpkg"
SITES_CSV = "selected_sites.csv"
SCENARIO = "scenario.toml"
MAP = "map.html"

SELECTED_COLUMNS = [
    "site_id", "name", "category", "source", "existing", "forced", "district", "radius_m", "cost", "rank",
    "marginal_gain", "marginal_population", "marginal_area_m2", "cumulative_coverage",
] + SITE_COLUMNS


def write_plan(plan: Plan, out_dir, map: bool = True, offline: bool = False) -> Path:
    """Write all outputs of ``plan`` into ``out_dir`` (created if needed); return it."""
    out_dir = Path(out_dir)
    _check_not_an_input(plan, out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output folder {out_dir}: {exc.strerror}") from None
    with tempfile.TemporaryDirectory(prefix=".hotspots-", dir=out_dir) as tmp:
        tmp = Path(tmp)
        with stage(f"Writing {out_dir}") as st:
            write_summary(plan.summary(), tmp / SUMMARY)
            write_geopackage(plan, tmp / GEOPACKAGE)
            write_sites_csv(plan, tmp / SITES_CSV)
            save_scenario(plan.scenario, tmp / SCENARIO, relative_to=out_dir)
            st.result = f"{SUMMARY}, {GEOPACKAGE}, {SITES_CSV}, {SCENARIO}"
        if map:
            from .maps import render_map

            with stage("Drawing the map") as st:
                render_map(tmp, tmp / MAP, offline=offline)
                st.result = MAP
        for item in sorted(tmp.iterdir()):
            os.replace(item, out_dir / item.name)
    return out_dir


def write_summary(summary: dict, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False, default=_json_default)
        f.write("\n")


def write_geopackage(plan: Plan, path: Path) -> None:
    """Layers selected_sites, candidates, demand_cells, districts, study_area (EPSG:4326)."""
    selected = plan.table(network=True)
    _write_layer(selected[SELECTED_COLUMNS + ["geometry"]], path, "selected_sites")
    _write_layer(candidates_table(plan), path, "candidates")
    cells = plan.cells.assign(covered=plan.covered, reachable=plan.reachable)
    if "population" not in cells.columns:
        cells["population"] = np.nan
    _write_layer(cells[["cell_id", "district", "population", "area_m2", "covered", "reachable", "geometry"]],
                 path, "demand_cells")
    _write_layer(districts_layer(plan), path, "districts")
    _write_layer(plan.study_area[[plan.study_area.geometry.name]], path, "study_area")


def candidates_table(plan: Plan) -> gpd.GeoDataFrame:
    """Every candidate with its status: selected, not_selected or forbidden."""
    sites = plan.sites
    status = np.where(sites["site_id"].isin(plan.scenario.forbidden), "forbidden", "not_selected").astype(object)
    status[plan.solution.order] = "selected"
    columns = ["site_id", "name", "category", "source", "existing", "radius_m", "cost"]
    return sites[columns + [sites.geometry.name]].assign(status=status)


def districts_layer(plan: Plan) -> gpd.GeoDataFrame:
    """District polygons with population, area, coverage and number of selected sites."""
    table = analyse.district_table(plan).set_index("name")
    column = plan.scenario.district_name_column
    districts = plan.districts.dissolve(by=column, sort=True).reset_index().rename(columns={column: "name"})
    districts = districts[["name", "geometry"]]
    stats = table.reindex(districts["name"])
    for key in ("population", "area_m2", "coverage", "coverage_population", "coverage_area", "n_sites"):
        districts[key] = stats[key].to_numpy()
    return districts


def write_sites_csv(plan: Plan, path: Path) -> None:
    selected = plan.table(network=True).to_crs(WGS84)
    table = selected[SELECTED_COLUMNS].copy()
    table.insert(3, "lon", selected.geometry.x.round(7))
    table.insert(4, "lat", selected.geometry.y.round(7))
    table.to_csv(path, index=False, encoding="utf-8")


def _write_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    gdf.to_crs(WGS84).to_file(path, layer=layer, driver="GPKG", engine="pyogrio", use_arrow=True)


def _check_not_an_input(plan: Plan, out_dir: Path) -> None:
    """Refuse to write outputs over a file the scenario reads."""
    scenario = plan.scenario
    inputs = [scenario.study_area.path] + [s.source.path for s in scenario.sites]
    inputs += [src.path for src in (scenario.districts, scenario.population) if src is not None]
    targets = {(out_dir / name).resolve() for name in (SUMMARY, GEOPACKAGE, SITES_CSV, SCENARIO, MAP)}
    clash = sorted(str(p) for p in inputs if Path(p).resolve() in targets)
    if clash:
        raise InputError(f"output folder {out_dir} would overwrite input {clash[0]}; choose another --out folder")


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
