"""Shared fixtures: small synthetic cities written as real files, planned for real.

The toy city lies in UTM zone 49N (EPSG:32649), the zone of Shenzhen, so the planner
works in the same metres the fixture was drawn in and tests can compute expected
figures independently with shapely.
"""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import settings


def pytest_configure(config):
    """Ctrl-C reaches the tests' processes even when the suite itself was started with SIGINT
    ignored (a shell's `cmd &` without job control does that, and exec passes it on): the
    Ctrl-C tests, in process and in child processes, need Python's own handler."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# Property tests draw the same examples on every run ("repeatable", the default: CI and
# the README's test command cannot fail by luck); HYPOTHESIS_PROFILE=explore draws new
# ones each run to hunt for counter-examples.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

UTM = "EPSG:32649"
X0, Y0 = 800_000.0, 2_490_000.0  # south-west corner, metres (near Futian, Shenzhen)
SHARED = Path(__file__).resolve().parents[2] / "shared"


def random_cover_instance(seed: int, n_sites: int = 8, n_cells: int = 20, density: float = 0.25):
    """A seeded random set-cover instance: boolean sites × cells CSR, integer weights and costs."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    dense = rng.random((n_sites, n_cells)) < density
    weights = rng.integers(0, 10, n_cells).astype(float)
    costs = rng.integers(1, 4, n_sites).astype(float)
    return sp.csr_matrix(dense), weights, costs


def write_toy_city(
    folder: Path,
    *,
    width_m: float = 2000.0,
    height_m: float = 1000.0,
    cell_m: float = 100.0,
    n_schools: int = 25,
    n_libraries: int = 8,
    n_existing: int = 2,
    seed: int = 7,
    target: float = 0.9,
    extra: str = "",
    population_as: str = "points",
) -> Path:
    """Write a two-district city and its scenario.toml into ``folder``; return the scenario path.

    Population: one point per 100 m cell at the cell centre (``population_as="points"``),
    or 250 m square polygons (``"polygons"``), with seeded counts. Schools are a CSV in
    lon/lat; libraries and existing hotspots GeoJSON in EPSG:4326.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    area = shapely.box(X0, Y0, X0 + width_m, Y0 + height_m)
    gpd.GeoDataFrame({"name": ["Toy city"]}, geometry=[area], crs=UTM).to_file(folder / "boundary.gpkg")
    half = X0 + width_m / 2
    districts = gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[shapely.box(X0, Y0, half, Y0 + height_m), shapely.box(half, Y0, X0 + width_m, Y0 + height_m)],
        crs=UTM,
    )
    districts.to_file(folder / "districts.gpkg")

    if population_as == "points":
        xs = np.arange(X0 + cell_m / 2, X0 + width_m, cell_m)
        ys = np.arange(Y0 + cell_m / 2, Y0 + height_m, cell_m)
        gx, gy = np.meshgrid(xs, ys)
        people = rng.integers(0, 200, size=gx.size)
        population = gpd.GeoDataFrame({"population": people}, geometry=shapely.points(gx.ravel(), gy.ravel()), crs=UTM)
    else:
        step = 250.0
        xs = np.arange(X0, X0 + width_m, step)
        ys = np.arange(Y0, Y0 + height_m, step)
        gx, gy = np.meshgrid(xs, ys)
        people = rng.integers(0, 2000, size=gx.size)
        population = gpd.GeoDataFrame(
            {"population": people}, geometry=shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + step, gy.ravel() + step),
            crs=UTM,
        )
    population.to_file(folder / "population.gpkg")

    def random_points(n):
        return shapely.points(X0 + rng.uniform(0, width_m, n), Y0 + rng.uniform(0, height_m, n))

    schools = gpd.GeoSeries(random_points(n_schools), crs=UTM).to_crs("EPSG:4326")
    pd.DataFrame({
        "site_id": [f"SC-{i:03d}" for i in range(1, n_schools + 1)],
        "name": [f"School {i}" for i in range(1, n_schools + 1)],
        "longitude": schools.x.round(9), "latitude": schools.y.round(9),
    }).to_csv(folder / "schools.csv", index=False)
    gpd.GeoDataFrame(
        {"site_id": [f"LB-{i:03d}" for i in range(1, n_libraries + 1)],
         "name": [f"Library {i}" for i in range(1, n_libraries + 1)], "source": "test fixture"},
        geometry=random_points(n_libraries), crs=UTM,
    ).to_crs("EPSG:4326").to_file(folder / "libraries.geojson")
    gpd.GeoDataFrame(
        {"site_id": [f"EX-{i:03d}" for i in range(1, n_existing + 1)],
         "name": [f"Existing {i}" for i in range(1, n_existing + 1)]},
        geometry=random_points(n_existing), crs=UTM,
    ).to_crs("EPSG:4326").to_file(folder / "existing.geojson")

    scenario = folder / "scenario.toml"
    scenario.write_text(textwrap.dedent(f"""\
        name = "Toy city"
        target = {target}
        metric = "population"
        cell_size_m = {cell_m}
        EXTRA

        [study_area]
        path = "boundary.gpkg"

        [districts]
        path = "districts.gpkg"
        name_column = "name"

        [population]
        path = "population.gpkg"
        column = "population"

        [categories.school]
        radius_m = 150
        cost = 1.0

        [categories.library]
        radius_m = 200
        cost = 1.5

        [categories.existing]
        radius_m = 120
        cost = 1.0

        [[sites]]
        path = "schools.csv"
        category = "school"
        id_column = "site_id"
        name_column = "name"

        [[sites]]
        path = "libraries.geojson"
        category = "library"
        id_column = "site_id"
        name_column = "name"

        [[sites]]
        path = "existing.geojson"
        category = "existing"
        id_column = "site_id"
        name_column = "name"
        existing = true
        """).replace("EXTRA", extra), encoding="utf-8")
    return scenario


@pytest.fixture
def toy_scenario(tmp_path) -> Path:
    """Path to a freshly written toy city scenario."""
    return write_toy_city(tmp_path / "city")


@pytest.fixture(scope="session")
def toy_plan(tmp_path_factory):
    """The toy city planned once per session (read-only for tests)."""
    from coverage import load_scenario, plan

    path = write_toy_city(tmp_path_factory.mktemp("toy") / "city")
    return plan(load_scenario(path))
