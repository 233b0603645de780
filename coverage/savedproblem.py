"""The problem a plan was solved on, saved in its plan folder so what-if runs need no prepare().

``hotspots whatif`` used to read every layer again and rebuild the demand grid and the
coverage matrix (36 s on the 99 % default). :func:`write_problem` keeps what
evaluation needs in the folder's ``problem/`` subfolder (names in
:mod:`coverage.planfolder`); :func:`read_problem` gives it back, exactly:

- ``matrix.npz``: the coverage matrix, CSR booleans (sites × demand units): ``indptr``,
  ``indices``, ``shape``;
- ``demand.parquet``: the demand units (the matrix's columns, ``Problem.demand``) with their
  weights, ``cell_id``, ``district`` and x/y (metres), in the plan's metric CRS;
- ``grid.parquet``: the grid cells when the demand units are points inside them;
- ``sites.parquet``: every candidate (the matrix's rows, ``Problem.sites``): ids, x/y,
  radius, cost, category, source, existing, …, metric CRS;
- ``study_area.parquet``, ``districts.parquet``: the polygons, metric CRS;
- ``problem.json``: format, CRS, the dropped sites and warnings, and the sha256 of the
  folder's scenario.toml and of every input layer.

GeoParquet (WKB geometry) and ``numpy.load(allow_pickle=False)``: data only, never code.
A folder whose layers changed since is refused with one line; one whose scenario.toml
was edited (or an older folder without ``problem/``) is prepared again by the caller.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import InputError
from .planfolder import (
    GEOPACKAGE, GEOPACKAGE_FORMAT, PROBLEM_DEMAND, PROBLEM_DIR, PROBLEM_DISTRICTS, PROBLEM_GRID, PROBLEM_MANIFEST,
    PROBLEM_MATRIX, PROBLEM_SITES, PROBLEM_STUDY_AREA, SCENARIO, json_text,
)

FORMAT = 1
GPKG_KEY = "plan_gpkg"  # problem.json: sha256 and format of the plan.gpkg written with it
POINT_X, POINT_Y = "__point_x", "__point_y"  # point geometry stored as coordinates (write_frame)
_FRAMES = {"cells": PROBLEM_DEMAND, "sites": PROBLEM_SITES, "study_area": PROBLEM_STUDY_AREA,
           "districts": PROBLEM_DISTRICTS, "cell_polygons": PROBLEM_GRID}


def layer_files(scenario) -> list[Path]:
    """The layer files a scenario reads (study area, districts, population, site layers)."""
    sources = [scenario.study_area, scenario.districts, scenario.population] + [s.source for s in scenario.sites]
    return [Path(src.path) for src in sources if src is not None and src.path is not None]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_problem(problem, folder: Path, scenario_file: Path, *, base: dict | None = None,
                  gpkg: Path | None = None) -> None:
    """Save ``problem`` (a :class:`coverage.planning.Problem`) into ``folder/problem/``.

    ``scenario_file`` is the scenario.toml written beside it (its hash marks the saved
    problem as belonging to exactly that scenario). ``base``: the manifest of the folder
    ``problem`` was read from (:func:`reusable_base`); its files that still hold (all but
    the sites and the matrix when sites were added) are copied instead of written again.
    ``gpkg``: the plan.gpkg written beside it, recorded by sha256 for later what-ifs.
    """
    out = Path(folder) / PROBLEM_DIR
    out.mkdir()
    matrix = sp.csr_matrix(problem.matrix)
    same_sites = base is not None and list(matrix.shape) == base["shape"]
    copied = {name for name in _FRAMES.values() if base is not None and (base["dir"] / name).is_file()
              and (same_sites or name != PROBLEM_SITES)}
    if same_sites:
        shutil.copyfile(base["dir"] / PROBLEM_MATRIX, out / PROBLEM_MATRIX)
    else:
        np.savez(out / PROBLEM_MATRIX, indptr=matrix.indptr, indices=matrix.indices,
                 shape=np.asarray(matrix.shape, dtype=np.int64), nnz=np.int64(matrix.nnz))
    points = {}
    for attribute, name in _FRAMES.items():
        if name in copied:
            shutil.copyfile(base["dir"] / name, out / name)
            points[name] = (base.get("points") or {}).get(name)
        elif getattr(problem, attribute, None) is not None:  # (Problem.cells: points made only when needed)
            points[name] = write_frame(getattr(problem, attribute), out / name)
    layers = base["layers"] if base is not None else {
        str(p.resolve()): sha256(p) for p in layer_files(problem.scenario) if p.is_file()}
    manifest = {
        "format": FORMAT,
        "crs": problem.crs.to_wkt(),
        "scenario_sha256": sha256(scenario_file),
        "layers": layers,
        "dropped_sites": _records(problem.dropped_sites),
        "warnings": list(problem.warnings),
        "gapfill": getattr(problem, "gapfill", None),
        "shape": list(matrix.shape),
        "points": {name: spec for name, spec in points.items() if spec is not None},
    }
    if gpkg is not None and Path(gpkg).is_file():
        manifest[GPKG_KEY] = _geopackage_entry(gpkg)
    (out / PROBLEM_MANIFEST).write_text(json_text(manifest), encoding="utf-8")


def record_geopackage(folder: Path, gpkg: Path) -> None:
    """Record ``gpkg`` in ``folder/problem/problem.json`` by sha256, as ``write_problem(...,
    gpkg=gpkg)`` would have: for a problem/ written before its plan.gpkg was finished."""
    path = Path(folder) / PROBLEM_DIR / PROBLEM_MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest[GPKG_KEY] = _geopackage_entry(gpkg)
    path.write_text(json_text(manifest), encoding="utf-8")


def _geopackage_entry(gpkg) -> dict:
    """How problem.json records its plan.gpkg: the file's sha256 and this version's format."""
    return {"sha256": sha256(Path(gpkg)), "format": GEOPACKAGE_FORMAT}


def reusable_base(folder, problem) -> dict | None:
    """The manifest of ``folder``'s saved problem (with ``dir``: its problem/ folder) when
    ``problem`` was read from it (or from it plus what-if sites) and its plan.gpkg is
    exactly as this version of the tool wrote it; else None.

    ``folder`` is a plan's ``base_folder`` (set by ``Plan.from_folder`` on an exact
    reload). Checked here: the manifest's format, CRS and demand, the sites only grown,
    and plan.gpkg's sha256 and :data:`~coverage.planfolder.GEOPACKAGE_FORMAT`.
    """
    if folder is None:
        return None
    path = Path(folder) / PROBLEM_DIR / PROBLEM_MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        gpkg = manifest.get(GPKG_KEY) or {}
        fits = (manifest.get("format") == FORMAT and gpkg.get("format") == GEOPACKAGE_FORMAT
                and manifest["crs"] == problem.crs.to_wkt()
                and manifest["shape"][1] == problem.matrix.shape[1]
                and manifest["shape"][0] <= problem.matrix.shape[0]
                and isinstance(manifest.get("layers"), dict)
                and gpkg.get("sha256") == sha256(Path(folder) / GEOPACKAGE))
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
    return {**manifest, "dir": path.parent, "gpkg": Path(folder) / GEOPACKAGE} if fits else None


def read_problem(folder, scenario) -> dict | None:
    """The saved problem's parts (``Problem`` keyword arguments but ``scenario``), or None.

    None when the folder has no saved problem (an older folder) or its scenario.toml
    was edited since: the caller prepares the scenario again. Raises a one-line
    :class:`InputError` when an input layer changed (or vanished) since the plan was made,
    or when the saved files are damaged.
    """
    import pyproj

    base = Path(folder) / PROBLEM_DIR
    manifest_path = base / PROBLEM_MANIFEST
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{manifest_path} is not valid JSON ({exc}); write the plan folder again "
                         "with `hotspots plan --out DIR`") from None
    if manifest.get("format") != FORMAT or manifest.get("scenario_sha256") != sha256(Path(folder) / SCENARIO):
        return None
    check_layers(manifest.get("layers", {}), scenario, folder)
    try:
        crs = pyproj.CRS.from_wkt(manifest["crs"])
        points = manifest.get("points") or {}
        frames = {attribute: read_frame(base / name, points.get(name), crs) for attribute, name in _FRAMES.items()
                  if (base / name).is_file() and attribute != "cells"}
        frames["demand"] = read_demand(base / PROBLEM_DEMAND, points.get(PROBLEM_DEMAND), crs)
        matrix = read_matrix(base / PROBLEM_MATRIX)
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"cannot read the saved problem in {base} ({exc}); write the plan folder again "
                         "with `hotspots plan --out DIR`") from None
    if matrix.shape != (len(frames["sites"]), len(frames["demand"])) or list(matrix.shape) != manifest["shape"]:
        raise InputError(f"the saved problem in {base} does not fit together (matrix {matrix.shape}, "
                         f"{len(frames['sites'])} sites, {len(frames['demand'])} demand units); "
                         "write the plan folder again")
    dropped = pd.DataFrame(manifest.get("dropped_sites") or [],
                           columns=["site_id", "name", "category", "reason"]).astype({"site_id": str})
    return {**frames, "crs": crs, "matrix": matrix, "dropped_sites": dropped,
            "warnings": tuple(manifest.get("warnings") or ()), "gapfill": manifest.get("gapfill")}


def write_frame(frame, path: Path) -> dict | None:
    """Write a GeoDataFrame as Parquet. All-point geometry is stored as two float64
    columns (exact, and rebuilt 10× faster than WKB): returns how to rebuild it, else
    None (GeoParquet, WKB geometry)."""
    import shapely

    geometry = frame.geometry.name
    kinds = shapely.get_type_id(frame.geometry.array)
    if not len(frame) or kinds.min() != 0 or kinds.max() != 0:
        frame.to_parquet(path, index=False)
        return None
    table = pd.DataFrame(frame.drop(columns=geometry))
    x, y = shapely.get_x(frame.geometry.array), shapely.get_y(frame.geometry.array)
    table[POINT_X], table[POINT_Y] = x, y
    table.to_parquet(path, index=False)
    return {"geometry": geometry, "position": int(list(frame.columns).index(geometry))}


def read_frame(path: Path, points: dict | None, crs):
    """A frame written by :func:`write_frame`, as a GeoDataFrame in ``crs``."""
    import geopandas as gpd

    if points is None:
        return gpd.read_parquet(path)
    return _with_points(pd.read_parquet(path), points, crs)


def _with_points(table: pd.DataFrame, points: dict, crs):
    """``table`` (read by :func:`read_frame`) with its stored coordinates made its point geometry."""
    import geopandas as gpd
    import shapely

    geometry = shapely.points(table.pop(POINT_X).to_numpy(), table.pop(POINT_Y).to_numpy())
    table.insert(int(points["position"]), points["geometry"], geometry)
    return gpd.GeoDataFrame(table, geometry=points["geometry"], crs=crs, copy=False)  # table is ours: no copy


def read_demand(path: Path, points: dict | None, crs) -> pd.DataFrame:
    """``Problem.demand`` from demand.parquet: a plain table when its units are the points at
    their ``x``, ``y``, stored last as ``geometry`` (as :func:`coverage.problem.prepare` makes
    them: ``Problem.cells`` makes the same points when asked); else :func:`read_frame`.

    A million demand points are ~0.3 s of shapely objects that a what-if does not use."""
    if points is None:
        return read_frame(path, points, crs)
    table = pd.read_parquet(path)
    x, y = table[POINT_X].to_numpy(), table[POINT_Y].to_numpy()
    if (points["geometry"] == "geometry" and int(points["position"]) == len(table.columns) - 2
            and {"x", "y"} <= set(table.columns)
            and np.array_equal(x, table["x"].to_numpy()) and np.array_equal(y, table["y"].to_numpy())):
        return table.drop(columns=[POINT_X, POINT_Y])
    return _with_points(table, points, crs)


def check_layers(saved: dict, scenario, folder) -> None:
    """Refuse, in one line, when a layer the plan was made from changed or vanished since."""
    for path in layer_files(scenario):
        key = str(path.resolve())
        if key not in saved:
            continue  # not a saved input (cannot happen with an unedited scenario.toml)
        if not path.is_file():
            raise InputError(f"{path}, an input layer of the plan in {folder}, no longer exists; "
                             "restore it, or make the plan again with `hotspots plan`")
        if sha256(path) != saved[key]:
            raise InputError(f"{path} has changed since the plan in {folder} was made (sha256 differs); "
                             "make the plan again with `hotspots plan` before a what-if")


def read_matrix(path: Path) -> sp.csr_matrix:
    """The coverage matrix saved by :func:`write_problem` (booleans, CSR)."""
    with np.load(path, allow_pickle=False) as data:
        shape = tuple(int(v) for v in data["shape"])
        indices, indptr = data["indices"], data["indptr"]
    if len(indptr) != shape[0] + 1 or indptr[-1] != len(indices) or (len(indices) and indices.max() >= shape[1]):
        raise ValueError("matrix.npz is inconsistent")
    return sp.csr_matrix((np.ones(len(indices), dtype=bool), indices, indptr), shape=shape)


def _records(frame) -> list[dict]:
    if frame is None or not len(frame):
        return []
    return pd.DataFrame(frame).drop(columns="geometry", errors="ignore").to_dict(orient="records")
