"""Write a plan to a folder: summary.json, plan.gpkg, selected_sites.csv, scenario.toml, map.html.

What goes into a plan folder; the file names, the atomic folder writer and the CSV
rules are :mod:`coverage.planfolder`'s. The whole folder is written into a hidden
temporary folder and swapped in only when all of it succeeded, so a failed or
interrupted run leaves the output folder as it was. Geometry is written in WGS84
(EPSG:4326). The file contract is in docs/outputs.md.
"""

from __future__ import annotations

import json
import logging
import sys
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from . import analyse, gpkgpatch
from .engineering import SITE_COLUMNS
from .gpkgstyles import add_styles
from .layers import WGS84
from .planfolder import (
    CANDIDATES_LAYER, CELLS_LAYER, DIFF, DISTRICTS_LAYER, GEOPACKAGE, LAYERS, MAP, OUTPUT_NAMES, PROBLEM_DIR,
    SCENARIO, SELECTED_LAYER, SITES_CSV, STUDY_AREA_LAYER, SUMMARY, diff_of, json_text, replacing_folder,
    write_csv,
)
from .progress import stage
from .savedproblem import record_geopackage, reusable_base, write_problem
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

    A plan read back from a folder (``Plan.base_folder``: a what-if's base) gets the
    files that do not change copied from there (:func:`write_geopackage`,
    :func:`coverage.savedproblem.write_problem`); the map is drawn from the tables just
    written, not read back.
    """
    unknown = sorted(set(extra or ()) - OUTPUT_NAMES)
    if unknown:
        raise ValueError(f"extra files must have names of coverage.planfolder.OUTPUT_NAMES, not {unknown[0]!r}")
    options = dict(map_options or {})
    if offline is not None:
        options.setdefault("offline", offline)
    files = {name: content if isinstance(content, bytes) else (
        content if isinstance(content, str) else json_text(content)).encode("utf-8")
        for name, content in (extra or {}).items()}
    with replacing_folder(out_dir, plan_inputs(plan)) as tmp:
        write_into(plan, tmp, out_dir, map, options, bom=bom, files=files)
    return Path(out_dir)


def solve_and_write(problem, solve, out_dir, map: bool = True, map_options: dict | None = None, *,
                    bom: bool = True):
    """``solve(problem)`` (e.g. :func:`coverage.planning.solve`) and write its plan as the
    folder ``out_dir``, as :func:`write_plan` does; return the plan.

    The files that do not depend on the chosen sites (:func:`write_static`: scenario.toml,
    problem/, plan.gpkg's demand cells, districts and study area) are written by a forked
    child while ``solve`` runs on this core; the plan's figures are then set in them.
    Atomic as :func:`write_plan`: whatever fails or is interrupted, in the child or here,
    ``out_dir`` is left as it was (the child is stopped first).
    """
    with replacing_folder(out_dir, scenario_inputs(problem.scenario)) as tmp:
        static = in_background(lambda: write_static(problem, tmp, out_dir), "writing the plan folder's fixed files")
        try:
            plan = solve(problem)
        except BaseException:
            static.cancel()
            raise
        write_into(plan, tmp, out_dir, map, dict(map_options or {}), bom=bom, static=static)
    return plan


def write_static(problem, tmp: Path, out_dir) -> None:
    """Write into the temporary folder ``tmp`` what a plan folder of ``problem`` holds
    whatever sites are chosen: scenario.toml, problem/ (its plan.gpkg hash recorded later,
    :func:`coverage.savedproblem.record_geopackage`) and plan.gpkg's demand_cells, districts
    and study_area layers with their plan figures zero (:func:`static_layers`; set by
    :func:`patch_geopackage`). Runs in a child process: prints nothing."""
    save_scenario(problem.scenario, tmp / SCENARIO, relative_to=Path(out_dir).absolute())
    write_problem(problem, tmp, tmp / SCENARIO)
    for name, layer in static_layers(problem).items():
        _write_layer(layer, tmp / GEOPACKAGE, name, spatial_index=name != CELLS_LAYER)


def static_layers(problem) -> dict[str, gpd.GeoDataFrame]:
    """plan.gpkg's demand_cells, districts and study_area of any plan of ``problem``: the
    columns and geometry a plan writes, its coverage figures zero (WGS84)."""
    from types import SimpleNamespace

    nothing = np.zeros(len(problem.demand), dtype=bool)
    unplanned = SimpleNamespace(problem=problem, cells=problem.cells, demand=problem.demand, covered=nothing,
                                reachable=nothing)
    districts = district_shapes(problem)
    for key in DISTRICT_FIGURES:
        districts[key] = np.zeros(len(districts), dtype=np.int64 if key == "n_sites" else float)
    return {CELLS_LAYER: _wgs84(cells_layer(unplanned)), DISTRICTS_LAYER: _wgs84(districts),
            STUDY_AREA_LAYER: _wgs84(problem.study_area[[problem.study_area.geometry.name]])}


def write_into(plan: Plan, tmp: Path, out_dir, map: bool, options: dict, *, bom: bool = True,
               files: dict | None = None, static=None) -> None:
    """Write the plan folder's files into the temporary folder ``tmp`` (see :func:`write_plan`).

    ``static``: the :func:`in_background` handle of :func:`write_static` into ``tmp``;
    waited for before plan.gpkg is touched, and its files completed here."""
    files = files or {}
    with stage(f"Writing {out_dir}") as st:
        cells, patched, base = None, False, reusable_base(getattr(plan, "base_folder", None), plan.problem)
        if static is not None:
            cells, patched = _cells_while_checking_network(plan, static, tmp / GEOPACKAGE)
            base = {"gpkg": tmp / GEOPACKAGE}
        summary = json_text(plan.summary())
        (tmp / SUMMARY).write_text(summary, encoding="utf-8")
        layers, reused = geopackage_layers(plan, tmp / GEOPACKAGE, base=base, summary=plan.summary(), cells=cells,
                                           cells_patched=patched)
        # the map needs only the layers: drawn on the other core while this one writes the files
        drawing = in_background(lambda: _draw_map(layers, summary, files.get(DIFF), tmp / MAP, options)) \
            if map else None
        try:
            finish_geopackage(plan, tmp / GEOPACKAGE, layers, reused)
            write_sites_csv(plan, tmp / SITES_CSV, bom=bom, selected=layers[SELECTED_LAYER])
            if static is None:
                save_scenario(plan.scenario, tmp / SCENARIO, relative_to=Path(out_dir).absolute())
                write_problem(plan.problem, tmp, tmp / SCENARIO, base=base, gpkg=tmp / GEOPACKAGE)
            else:
                record_geopackage(tmp, tmp / GEOPACKAGE)
            for name, data in files.items():
                (tmp / name).write_bytes(data)
        except BaseException:
            if drawing is not None:
                drawing.cancel()
            raise
        st.result = f"{SUMMARY}, {GEOPACKAGE}, {SITES_CSV}, {SCENARIO}, {PROBLEM_DIR}/"
    if drawing is not None:
        with stage("Drawing the map") as st:
            drawing.result()
            st.result = MAP


def _cells_while_checking_network(plan: Plan, static, gpkg: Path) -> tuple[gpd.GeoDataFrame, bool]:
    """Wait for :func:`write_static` (``static``), then set the demand cells' figures in its
    plan.gpkg (:func:`patch_cells`) while a forked child checks the plan's channels,
    backhaul and capacity (``Plan.network``, handed back to ``plan``). Returns the cells
    layer and whether the file took its figures."""
    network = in_background(plan.network, "checking channels, backhaul and capacity")
    try:
        static.result()
        cells = cells_layer(plan)
        patched = patch_cells(gpkg, cells)
        plan.keep_network(network.result())
    except BaseException:
        static.cancel()
        network.cancel()
        raise
    return cells, patched


def _draw_map(layers: dict, summary: str, diff: bytes | None, out: Path, options: dict) -> None:
    from .maps import render_map

    render_map(map_data(layers, summary, diff), out, **options)


class _Background:
    """A function running in a forked child process (:func:`in_background`)."""

    def __init__(self, fn, what: str = "drawing the map"):
        import multiprocessing

        self._what = what
        self._done, child_end = multiprocessing.Pipe(duplex=False)

        def run():
            try:
                outcome = (True, fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
                outcome = (False, exc)
            try:
                child_end.send(outcome)
            except Exception:  # noqa: BLE001 - a result or an exception that does not pickle
                child_end.send((False, RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}")))

        for stream in (sys.stdout, sys.stderr):  # else the child would print what is buffered again
            with suppress(Exception):
                stream.flush()
        self._process = multiprocessing.get_context("fork").Process(target=run, daemon=True)
        self._process.start()
        child_end.close()

    def result(self):
        """Wait for the child; return what ``fn`` returned, or raise what it raised (or why it
        ended without saying)."""
        try:
            ok, outcome = self._done.recv()
        except EOFError:  # killed (out of memory?), or ended before sending anything
            self._process.join()
            ok, outcome = False, OSError(f"the process {self._what} ended unfinished "
                                         f"(exit code {self._process.exitcode})")
        except BaseException:
            self.cancel()
            raise
        self._process.join()
        if not ok:
            raise outcome
        return outcome

    def cancel(self) -> None:
        """Stop the child and wait for it to be gone (so it writes nothing afterwards)."""
        self._process.kill()
        self._process.join()
        self._done.close()


class _Inline:
    """:func:`in_background` where processes cannot be forked: run when the result is asked for."""

    def __init__(self, fn, what: str = ""):
        self._fn = fn

    def result(self):
        return self._fn()

    def cancel(self) -> None:
        self._fn = None


def in_background(fn, what: str = "drawing the map"):
    """Start ``fn()`` (no arguments) in a forked child process, so it runs on the other core
    while this one goes on; call ``.result()`` to wait for it and get what it returned (it
    must pickle) or raise whatever it raised, or ``.cancel()`` to stop it (``what`` names the
    child's work if it dies). The child sees this process's memory as it was at the fork:
    ``fn`` must only write its own files. Without ``fork`` (Windows, or ``COVERAGE_NO_FORK``
    set), ``fn`` runs inline when ``.result()`` is called."""
    import multiprocessing
    import os

    if "fork" not in multiprocessing.get_all_start_methods() or os.environ.get("COVERAGE_NO_FORK"):
        return _Inline(fn)
    return _Background(fn, what)


def map_data(layers: dict, summary: str, diff: bytes | None = None):
    """What the map draws (:class:`coverage.maps.PlanData`) from the layers of plan.gpkg
    as :func:`write_geopackage` returned them and the summary.json and diff.json texts,
    exactly as the map would read them back from the folder."""
    from .maps import PlanData

    return PlanData(summary=json.loads(summary), selected=_wgs84(layers[SELECTED_LAYER]),
                    candidates=_wgs84(layers[CANDIDATES_LAYER]), districts=_wgs84(layers[DISTRICTS_LAYER]),
                    cells=_wgs84(layers[CELLS_LAYER]), study_area=_wgs84(layers[STUDY_AREA_LAYER]),
                    diff=diff_of(diff))


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf if gdf.crs is not None and gdf.crs.to_epsg() == 4326 else gdf.to_crs(WGS84)


def scenario_inputs(scenario) -> list[Path]:
    """Every file a scenario reads: the scenario file itself and its layers."""
    inputs = [scenario.source_file, scenario.study_area.path] + [s.source.path for s in scenario.sites]
    inputs += [src.path for src in (scenario.districts, scenario.population) if src is not None]
    return [Path(p) for p in inputs if p is not None]


def plan_inputs(plan: Plan) -> list[Path]:
    """Every file or folder ``plan`` was made from: scenario file, layers, a base plan folder."""
    return scenario_inputs(plan.scenario) + [Path(p) for p in getattr(plan, "inputs", ()) if p is not None]


def write_geopackage(plan: Plan, path: Path, base: dict | None = None,
                     summary: dict | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Layers selected_sites, candidates, demand_cells, districts, study_area (EPSG:4326),
    with QGIS styles; returns the layers' tables (demand_cells possibly in the metric CRS).

    ``base``: the saved problem of the folder the plan was read from
    (:func:`coverage.savedproblem.reusable_base`). Its plan.gpkg is then copied and only
    what changed is written: selected_sites in place when few of its rows change (else
    again), the changed candidates', demand cells'
    and districts' figures in place, added candidates appended. The layers hold exactly
    what a fresh write gives (tests/test_whatif_reuse.py checks it); if the base's layers
    do not fit, the file is written fresh.
    ``summary``: the plan's summary, if already computed (its district figures are used).
    """
    layers, reused = geopackage_layers(plan, path, base, summary)
    finish_geopackage(plan, path, layers, reused)
    return layers


def geopackage_layers(plan: Plan, path: Path, base: dict | None = None, summary: dict | None = None,
                      cells: gpd.GeoDataFrame | None = None,
                      cells_patched: bool = False) -> tuple[dict[str, gpd.GeoDataFrame], bool]:
    """The first half of :func:`write_geopackage`: the layers' tables, and whether the base's
    plan.gpkg was copied to ``path`` with its cells and districts brought up to date
    (``reused``). The layers are final here; :func:`finish_geopackage` writes the rest.
    ``cells``: :func:`cells_layer` if already made; ``cells_patched``: ``path`` has them."""
    layers = {SELECTED_LAYER: _wgs84(plan.table(network=True))[SELECTED_COLUMNS + ["geometry"]],
              CANDIDATES_LAYER: _wgs84(candidates_table(plan))}
    cells = cells_layer(plan) if cells is None else cells
    reused = base is not None and patch_geopackage(base["gpkg"], path, plan, cells, summary,
                                                   cells_patched=cells_patched)
    if reused:
        layers.update(reused)
    else:
        layers.update({CELLS_LAYER: _wgs84(cells), DISTRICTS_LAYER: _wgs84(districts_layer(plan, summary)),
                       STUDY_AREA_LAYER: _wgs84(plan.study_area[[plan.study_area.geometry.name]])})
    return layers, bool(reused)


def finish_geopackage(plan: Plan, path: Path, layers: dict[str, gpd.GeoDataFrame], reused: bool) -> None:
    """The second half of :func:`write_geopackage`: write the ``layers`` not yet in ``path``
    (all of them, or selected_sites and candidates when ``reused``), layer order, QGIS styles."""
    for name in LAYERS:
        if reused and name == CANDIDATES_LAYER and _patched_candidates(path, layers[name]):
            continue
        if reused and name == SELECTED_LAYER and gpkgpatch.update_points(path, name, _wgs84(layers[name])):
            continue  # a what-if changes a few rows of its base's: those are written in place
        if not reused or name in (SELECTED_LAYER, CANDIDATES_LAYER):
            _write_layer(layers[name], path, name, spatial_index=name != CELLS_LAYER)
    if reused:
        gpkgpatch.order_layers(path, LAYERS)
    categories = plan.scenario.categories
    add_styles(path, sorted(categories), {name: c.display_name for name, c in categories.items()},
               target=plan.scenario.target)


def patch_geopackage(base_gpkg: Path, path: Path, plan: Plan, cells: gpd.GeoDataFrame,
                     summary: dict | None = None, cells_patched: bool = False) -> dict | None:
    """Copy ``base_gpkg`` to ``path`` (unless it is ``path``: a plan.gpkg pre-written by
    :func:`write_static`) and bring its demand_cells (unless ``cells_patched``) and districts figures up
    to ``plan`` (their geometry stays: same grid, same districts); return those layers
    and the study area (cells as given, the others as read), or None, with ``path``
    removed, when the copy does not fit the plan."""
    import shutil

    if Path(base_gpkg) != Path(path):
        shutil.copyfile(base_gpkg, path)
    districts = study_area = None
    if cells_patched or patch_cells(path, cells):
        districts = _patched_districts(path, plan, summary)
    if districts is not None:
        study_area = gpkgpatch.read_layer(path, STUDY_AREA_LAYER)
    if study_area is None:
        path.unlink(missing_ok=True)
        return None
    return {CELLS_LAYER: cells, DISTRICTS_LAYER: districts, STUDY_AREA_LAYER: study_area}


def patch_cells(path: Path, cells: gpd.GeoDataFrame) -> bool:
    """Set the demand_cells figures of the plan.gpkg ``path`` to ``cells`` (:func:`cells_layer`)
    in place; False when its cells are not these (same ids, districts, demand)."""
    table = pd.DataFrame(cells.drop(columns=cells.geometry.name))
    return gpkgpatch.update_rows(path, CELLS_LAYER, table, ["cell_id", "district", "population", "area_m2"])


def _patched_candidates(path: Path, candidates: gpd.GeoDataFrame) -> bool:
    """Bring the candidates layer of the copied plan.gpkg ``path`` up to ``candidates`` in
    place (:func:`coverage.gpkgpatch.update_keyed_points`): a what-if keeps its base's
    candidates in their order, gap-fill sites it removes leave the layer, statuses change
    and added sites come last. False when it does not fit (the layer is then written whole).
    Only ``status`` can differ for a site kept: the what-if's problem is its base's with
    sites appended (:func:`coverage.savedproblem.reusable_base`)."""
    return gpkgpatch.update_keyed_points(path, CANDIDATES_LAYER, _wgs84(candidates), "site_id", ["status"])


def _patched_districts(path: Path, plan: Plan, summary: dict | None) -> gpd.GeoDataFrame | None:
    """The districts layer of the copied plan.gpkg ``path`` with ``plan``'s figures, written
    in place; None when its districts are not the plan's."""
    districts = gpkgpatch.read_layer(path, DISTRICTS_LAYER)
    names = district_names(plan)
    if districts is None or list(map(str, districts["name"])) != list(map(str, names)):
        return None
    stats = district_stats(plan, names, summary)
    for key in DISTRICT_FIGURES:
        districts[key] = stats[key].to_numpy()
    table = pd.DataFrame(districts.drop(columns=districts.geometry.name))
    fixed = [c for c in ("name", "name_zh") if c in table.columns]
    return districts if gpkgpatch.update_rows(path, DISTRICTS_LAYER, table, fixed) else None


CELL_COLUMNS = ["cell_id", "district", "population", "area_m2", "covered", "reachable"]


def cells_layer(plan: Plan) -> gpd.GeoDataFrame:
    """The demand_cells layer: one row per grid cell (polygon) with its coverage (in the
    metric CRS, or in WGS84 when the problem has its grid reprojected already:
    ``Problem.grid_for_outputs``).

    When the solver counts several demand points per cell (the problem keeps the grid
    cells beside its demand units), a cell gets ``covered_share`` and ``reachable_share``
    (the covered / reachable fraction of its demand points, by area,
    ``analyse.cell_coverage``) and is ``covered`` when at least half of it is,
    ``reachable`` when any of it is. Otherwise each demand unit is its own cell.
    """
    grid = getattr(plan.problem, "cell_polygons", None)
    if grid is None:
        cells = plan.cells.assign(covered=plan.covered, reachable=plan.reachable)
        if "population" not in cells.columns:
            cells["population"] = np.nan
        return cells[CELL_COLUMNS + [cells.geometry.name]]
    table = analyse.cell_coverage(plan).set_index("cell_id")
    cells = plan.problem.grid_for_outputs().copy()
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


#: Figures of the districts layer (the rest: name, name_zh, geometry).
DISTRICT_FIGURES = ("population", "area_m2", "coverage", "coverage_population", "coverage_area", "n_sites")


def districts_layer(plan: Plan, summary: dict | None = None) -> gpd.GeoDataFrame:
    """District polygons with population, area, coverage and number of selected sites
    (``summary``: see :func:`district_stats`)."""
    districts = district_shapes(plan)
    stats = district_stats(plan, districts["name"], summary)
    for key in DISTRICT_FIGURES:
        districts[key] = stats[key].to_numpy()
    return districts


def district_shapes(plan) -> gpd.GeoDataFrame:
    """The districts layer's names and polygons (``plan``: a Plan or a Problem), dissolved by
    name and sorted, in the metric CRS."""
    column = plan.scenario.district_name_column
    districts = plan.districts.dissolve(by=column, sort=True).reset_index().rename(columns={column: "name"})
    return districts[["name", *(["name_zh"] if "name_zh" in districts.columns else []), "geometry"]]


def district_stats(plan: Plan, names, summary: dict | None = None) -> pd.DataFrame:
    """``name`` and the :data:`DISTRICT_FIGURES` of the districts ``names``, in that order.

    ``summary``: the plan's summary, which holds them already (``districts``,
    ``by_district``); otherwise they are computed (:func:`coverage.analyse.district_table`).
    """
    names = list(names)
    rows = {row.get("name"): row for row in (summary or {}).get("districts") or []}
    coverage = (summary or {}).get("by_district") or {}
    keys = [key for key in DISTRICT_FIGURES if key != "coverage"]
    if names and all(name in rows and name in coverage and all(k in rows[name] for k in keys) for name in names):
        figures = {key: [rows[name][key] for name in names] for key in keys}
        figures["coverage"] = [coverage[name] for name in names]
        types = {key: np.int64 if key == "n_sites" else float for key in DISTRICT_FIGURES}
        return pd.DataFrame({"name": names, **{key: np.array(figures[key], dtype=types[key])
                                               for key in DISTRICT_FIGURES}})
    stats = analyse.district_table(plan).set_index("name").reindex(names)
    return pd.DataFrame({"name": names, **{key: stats[key].to_numpy() for key in DISTRICT_FIGURES}})


def district_names(plan: Plan) -> list:
    """The names of the districts layer's rows: the plan's districts, sorted (as dissolved)."""
    return plan.districts[plan.scenario.district_name_column].drop_duplicates().sort_values().tolist()


def sites_csv_table(plan: Plan, selected: gpd.GeoDataFrame | None = None):
    """selected_sites.csv as a table: the selected sites with lon/lat (WGS84), rank order.

    ``selected``: the selected_sites layer already made (WGS84), to save redoing it.
    """
    selected = _wgs84(plan.table(network=True) if selected is None else selected)
    table = pd.DataFrame(selected[SELECTED_COLUMNS])
    table.insert(3, "lon", selected.geometry.x.round(7))
    table.insert(4, "lat", selected.geometry.y.round(7))
    return table


def write_sites_csv(plan: Plan, path: Path, bom: bool = True, selected: gpd.GeoDataFrame | None = None) -> None:
    """Write selected_sites.csv (see :func:`coverage.planfolder.write_csv`)."""
    write_csv(sites_csv_table(plan, selected), path, bom=bom)


def _write_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str, spatial_index: bool = True) -> None:
    """One layer of plan.gpkg in WGS84; ``spatial_index=False`` leaves out the R-tree
    (demand_cells: 15 MB of a city's 220,000 cells; QGIS draws the layer without it)."""
    options = {} if spatial_index else {"layer_options": {"SPATIAL_INDEX": "NO"}}
    _wgs84(gdf).to_file(path, layer=layer, driver="GPKG", engine="pyogrio", use_arrow=True, **options)
