#!/usr/bin/env python3
"""Compare two population layers of the bundled Shenzhen data (the figures in gis_data/README.md).

Both layers are allocated by area to the WorldPop lattice cells clipped to the districts,
then: how many people are in a different cell, the share of people in the densest fifth
of the land, the land under 100 people/km², and the correlation of each layer's density
with the WorldPop samples inside the city. The old layer (GeoNames kernels) is read from
git history by default:

    .venv/bin/python scripts/compare_population.py [--old FILE] [--new FILE]
"""

from __future__ import annotations

import argparse
import io
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "gis_data" / "shenzhen"
OLD_COMMIT = "3593121"  # the last commit with the GeoNames-kernel population
UTM = "EPSG:32649"


def read_layer(path: str | None, commit: str) -> gpd.GeoDataFrame:
    if path:
        return gpd.read_file(path)
    blob = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:gis_data/shenzhen/population.geojson"],
                          check=True, capture_output=True).stdout
    return gpd.read_file(io.BytesIO(blob))


def lattice_units(samples: pd.DataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """WorldPop lattice cells (edges halfway between samples, 8 extra rows/cols) clipped to districts."""
    def edges(c):
        step = np.diff(c).mean()
        inner = (c[1:] + c[:-1]) / 2
        return np.r_[c[0] - step * np.arange(8.5, 0, -1), inner, c[-1] + step * np.arange(0.5, 9)]
    ex, ey = edges(np.unique(samples["lon"])), edges(np.unique(samples["lat"]))
    i, j = (a.ravel() for a in np.meshgrid(np.arange(len(ex) - 1), np.arange(len(ey) - 1)))
    boxes = gpd.GeoDataFrame(geometry=shapely.box(ex[i], ey[j], ex[i + 1], ey[j + 1]),
                             crs="EPSG:4326").to_crs(UTM)
    units = gpd.overlay(boxes, districts[["name", "geometry"]], how="intersection", keep_geom_type=True)
    units = units[units.area > 100].reset_index(drop=True)
    units["uid"], units["km2"] = np.arange(len(units)), units.area / 1e6
    return units


def allocate(layer: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> np.ndarray:
    parts = gpd.overlay(layer[["population", "geometry"]].assign(a0=layer.area), units[["uid", "geometry"]],
                        how="intersection", keep_geom_type=True)
    people = parts["population"] * parts.area / parts["a0"]
    return people.groupby(parts["uid"]).sum().reindex(units["uid"], fill_value=0).to_numpy()


def shape_figures(people: np.ndarray, km2: np.ndarray) -> dict:
    density = people / km2
    order = np.argsort(-density)
    densest = order[np.cumsum(km2[order]) / km2.sum() <= 0.2]
    return {"densest fifth of land": f"{people[densest].sum() / people.sum():.1%}",
            "land < 100/km2": f"{km2[density < 100].sum() / km2.sum():.1%}",
            "people there": f"{people[density < 100].sum():,.0f}",
            "densest cell /km2": f"{density.max():,.0f}", "median cell /km2": f"{np.median(density):,.0f}"}


def density_at_samples(layer: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> np.ndarray:
    dens = layer.assign(d=layer["population"] / layer.area * 1e6)[["d", "geometry"]]
    joined = gpd.sjoin(points, dens, predicate="within", how="left")
    return joined.groupby(level=0)["d"].first().reindex(points.index).fillna(0).to_numpy()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", help=f"old population layer (default: git {OLD_COMMIT})")
    parser.add_argument("--new", default=str(DATA / "population.geojson"))
    args = parser.parse_args(argv)
    old, new = read_layer(args.old, OLD_COMMIT).to_crs(UTM), gpd.read_file(args.new).to_crs(UTM)
    districts = gpd.read_file(DATA / "districts.geojson").to_crs(UTM)
    samples = pd.read_csv(ROOT / "gis_data" / "sources" / "worldpop_2020_1km_samples.csv")
    units = lattice_units(samples, districts)
    units["old"], units["new"] = allocate(old, units), allocate(new, units)
    total = units["new"].sum()
    moved = 0.5 * np.abs(units["old"] - units["new"])
    print(f"people in a different lattice cell: {moved.sum():,.0f} ({moved.sum() / total:.1%})")
    by = moved.groupby(units["name"]).sum() / units.groupby("name")["new"].sum()
    print("  by district: " + ", ".join(f"{k} {v:.0%}" for k, v in by.sort_values().items()))
    for name in ("old", "new"):
        print(name, shape_figures(units[name].to_numpy(), units["km2"].to_numpy()))
    city = gpd.read_file(DATA / "boundary.geojson").to_crs(UTM).geometry[0]
    points = gpd.GeoDataFrame(samples, geometry=gpd.points_from_xy(samples.lon, samples.lat), crs="EPSG:4326")
    points = points.to_crs(UTM)
    points = points[points.within(city)]
    for name, layer in (("old", old), ("new", new)):
        d = density_at_samples(layer, points)
        print(f"{name}: correlation with WorldPop at {len(points):,} samples: Pearson "
              f"{np.corrcoef(d, points['density_per_km2'])[0, 1]:.3f}, "
              f"Spearman {spearmanr(d, points['density_per_km2'])[0]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
