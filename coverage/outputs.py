"""Write a plan to a folder: summary.json, plan.gpkg, selected_sites.csv, scenario.toml, map.html.

What goes into a plan folder; the file names, the atomic folder writer and the CSV
rules are :mod:`coverage.planfolder`'s. The whole folder is written into a hidden
temporary folder and swapped in only when all of it succeeded, so a failed or
interrupted run leaves the output folder as it was. Geometry is written in WGS84
(EPSG:4326). The file contract is in docs/outputs.md.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np

from . import analyse
from .engineering import SITE_COLUMNS
from .gpkgstyles import add_styles
from .layers import WGS84
from .planfolder import (
    CANDIDATES_LAYER, CELLS_LAYER, DISTRICTS_LAYER, GEOPACKAGE, MAP, OUTPUT_NAMES, PROBLEM_DIR, SCENARIO,
    SELECTED_LAYER, SITES_CSV, STUDY_AREA_LAYER, SUMMARY, json_text, replacing_folder, write_csv,
)
from .progress import stage
from .savedproblem import write_problem
from .scenario import save_scenario

if TYPE_CHECKING:  # pragma: no cover
    from .planning import Plan

log = logging.getLogger(__name__)

#: ``source`` of the generated gap-fill candidates (coverage.gapfill).
GENERATED_SOURCE = "generated"

SELECTED_COLUMNS = [
    "site_id", "name", "category", "source", "existing", "forced", "district", "radius_m", "cost", "rank",
    "marginal_gain", "marginal_population", "marginal_area_m2", "cumulative_coverage", "phase", "year",
] + SITE_COLUMNS


def write_plan(plan: Plan, out_dir, map: bool = True, map_options: dict | None = None, *, bom: bool = True,
               extra: dict | None = None, offline: bool | None = None) -> Path:
    """Write all outputs of ``plan`` as the folder ``out_dir``; return it.

    ``map_options`` are passed to ``render_map(folder, out, **map_options)``
    (``offline=`` is the older spelling of ``map_options={"offline": ...}``). ``bom``:
    CSVs in UTF-8 with a byte-order mark (for Excel), or plain UTF-8. ``extra`` maps
    more file names to their content (str, bytes or JSON data), written in the same
    atomic step (e.g. a what-if's diff.json). ``out_dir`` must be new, empty or a
    previous output folder of the tool, and must not hold any input of the run.
    """
    unknown = sorted(set(extra or ()) - OUTPUT_NAMES)
    if unknown:
        raise ValueError(f"extra files must have names of coverage.planfolder.OUTPUT_NAMES, not {unknown[0]!r}")
    options = dict(map_options or {})
    if offline is not None:
        options.setdefault("offline", offline)
    with replacing_folder(out_dir, plan_inputs(plan)) as tmp:
        with stage(f"Writing {out_dir}") as st:
            (tmp / SUMMARY).write_text(json_text(plan.summary()), encoding="utf-8")
            write_geopackage(plan, tmp / GEOPACKAGE)
            write_sites_csv(plan, tmp / SITES_CSV, bom=bom)
            save_scenario(plan.scenario, tmp / SCENARIO, relative_to=Path(out_dir).absolute())
            write_problem(plan.problem, tmp, tmp / SCENARIO)
            for name, content in (extra or {}).items():
                data = content if isinstance(content, bytes) else (
                    content if isinstance(content, str) else json_text(content)).encode("utf-8")
                (tmp / name).write_bytes(data)
            st.result = f"{SUMMARY}, {GEOPACKAGE}, {SITES_CSV}, {SCENARIO}, {PROBLEM_DIR}/"
        if map:
            from .maps import render_map

            with stage("Drawing the map") as st:
                render_map(tmp, tmp / MAP, **options)
                st.result = MAP
    return Path(out_dir)


def scenario_inputs(scenario) -> list[Path]:
    """Every file a scenario reads: the scenario file itself and its layers."""
    inputs = [scenario.source_file, scenario.study_area.path] + [s.source.path for s in scenario.sites]
    inputs += [src.path for src in (scenario.districts, scenario.population) if src is not None]
    return [Path(p) for p in inputs if p is not None]


def plan_inputs(plan: Plan) -> list[Path]:
    """Every file or folder ``plan`` was made from: scenario file, layers, a base plan folder."""
    return scenario_inputs(plan.scenario) + [Path(p) for p in getattr(plan, "inputs", ()) if p is not None]


def write_geopackage(plan: Plan, path: Path) -> None:
    """Layers selected_sites, candidates, demand_cells, districts, study_area (EPSG:4326)."""
    selected = plan.table(network=True)
    _write_layer(selected[SELECTED_COLUMNS + ["geometry"]], path, SELECTED_LAYER)
    _write_layer(candidates_table(plan), path, CANDIDATES_LAYER)
    _write_layer(cells_layer(plan), path, CELLS_LAYER, spatial_index=False)
    _write_layer(districts_layer(plan), path, DISTRICTS_LAYER)
    _write_layer(plan.study_area[[plan.study_area.geometry.name]], path, STUDY_AREA_LAYER)
    categories = plan.scenario.categories
    add_styles(path, sorted(categories), {name: c.display_name for name, c in categories.items()},
               target=plan.scenario.target)


CELL_COLUMNS = ["cell_id", "district", "population", "area_m2", "covered", "reachable"]


def cells_layer(plan: Plan) -> gpd.GeoDataFrame:
    """The demand_cells layer: one row per grid cell (polygon) with its coverage.

    When the solver counts several demand points per cell (the problem keeps the grid
    cells beside its demand units), a cell gets ``covered_share`` and ``reachable_share``
    (the covered / reachable fraction of its demand points, by area,
    ``analyse.cell_coverage``) and is ``covered`` when at least half of it is,
    ``reachable`` when any of it is. Otherwise each demand unit is its own cell.
    """
    grid = getattr(plan.problem, "cell_polygons", None)
    per_cell = getattr(analyse, "cell_coverage", None)
    if grid is None or per_cell is None:
        cells = plan.cells.assign(covered=plan.covered, reachable=plan.reachable)
        if "population" not in cells.columns:
            cells["population"] = np.nan
        return cells[CELL_COLUMNS + [cells.geometry.name]]
    table = per_cell(plan).set_index("cell_id")
    cells = grid[["cell_id", grid.geometry.name]].copy()
    for column in ("district", "population", "area_m2", "covered_share", "reachable_share"):
        cells[column] = table[column].reindex(cells["cell_id"]).to_numpy()
    cells["covered"] = cells["covered_share"].to_numpy() >= 0.5
    cells["reachable"] = cells["reachable_share"].to_numpy() > 0
    return cells[CELL_COLUMNS + ["covered_share", "reachable_share", cells.geometry.name]]


def candidates_table(plan: Plan) -> gpd.GeoDataFrame:
    """Every candidate with its status: selected, not_selected or forbidden.

    Generated gap-fill candidates (``source = "generated"``) are listed only when
    selected: the others are the ``[gapfill]`` lattice, rebuilt from the scenario by
    the same deterministic rule, and on a city there are hundreds of thousands of them
    (docs/outputs.md).
    """
    sites = plan.sites
    status = np.where(sites["site_id"].isin(plan.scenario.forbidden), "forbidden", "not_selected").astype(object)
    status[plan.solution.order] = "selected"
    columns = ["site_id", "name", "category", "source", "existing", "radius_m", "cost"]
    keep = (sites["source"].to_numpy() != GENERATED_SOURCE) | (status == "selected")
    return sites.loc[keep, columns + [sites.geometry.name]].assign(status=status[keep])


def districts_layer(plan: Plan) -> gpd.GeoDataFrame:
    """District polygons with population, area, coverage and number of selected sites."""
    table = analyse.district_table(plan).set_index("name")
    column = plan.scenario.district_name_column
    districts = plan.districts.dissolve(by=column, sort=True).reset_index().rename(columns={column: "name"})
    districts = districts[["name", *(["name_zh"] if "name_zh" in districts.columns else []), "geometry"]]
    stats = table.reindex(districts["name"])
    for key in ("population", "area_m2", "coverage", "coverage_population", "coverage_area", "n_sites"):
        districts[key] = stats[key].to_numpy()
    return districts


def sites_csv_table(plan: Plan):
    """selected_sites.csv as a table: the selected sites with lon/lat (WGS84), rank order."""
    selected = plan.table(network=True).to_crs(WGS84)
    table = selected[SELECTED_COLUMNS].copy()
    table.insert(3, "lon", selected.geometry.x.round(7))
    table.insert(4, "lat", selected.geometry.y.round(7))
    return table


def write_sites_csv(plan: Plan, path: Path, bom: bool = True) -> None:
    """Write selected_sites.csv (see :func:`coverage.planfolder.write_csv`)."""
    write_csv(sites_csv_table(plan), path, bom=bom)


def _write_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str, spatial_index: bool = True) -> None:
    """One layer of plan.gpkg in WGS84; ``spatial_index=False`` leaves out the R-tree
    (demand_cells: 15 MB of a city's 220,000 cells; QGIS draws the layer without it)."""
    options = {} if spatial_index else {"layer_options": {"SPATIAL_INDEX": "NO"}}
    gdf.to_crs(WGS84).to_file(path, layer=layer, driver="GPKG", engine="pyogrio", use_arrow=True, **options)
