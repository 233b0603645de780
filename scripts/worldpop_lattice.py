"""The WorldPop samples of scripts/build_gis_data.py as a lattice of cells (WGS84 degrees).

The samples sit on a regular ~0.0092 deg x 0.00855 deg lattice; a cell's edges lie halfway
between neighbouring samples. Cells without a sample get a fill (see ``fill_missing``).
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path

import numpy as np

LATTICE_STEP = (0.0092, 0.00855)  # nominal lattice spacing (lon, lat), degrees


def read_worldpop(path: Path):
    """WorldPop samples as a lattice: centre longitudes and latitudes (ascending, degrees)
    and a (rows, cols) array of people per sample pixel, NaN where the lattice has no sample."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    lon = np.array([float(r["lon"]) for r in rows])
    lat = np.array([float(r["lat"]) for r in rows])
    people = np.array([float(r["population"]) for r in rows])
    lons, lats = np.unique(lon), np.unique(lat)
    for axis, centres, step in (("lon", lons, LATTICE_STEP[0]), ("lat", lats, LATTICE_STEP[1])):
        gaps = np.diff(centres)
        if not np.allclose(gaps, step, rtol=0.01):
            sys.exit(f"error: {path.name}: {axis} spacing {gaps.min():.6f}-{gaps.max():.6f} is not a lattice of {step}")
    grid = np.full((len(lats), len(lons)), np.nan)
    grid[np.searchsorted(lats, lat), np.searchsorted(lons, lon)] = people
    return lons, lats, grid


def extend_lattice(lons, lats, grid, bounds):
    """Add sample-less rows and columns until the lattice covers ``bounds`` (the city)."""
    minx, miny, maxx, maxy = bounds
    dx, dy = np.diff(lons).mean(), np.diff(lats).mean()
    west, east = math.ceil((lons[0] - dx / 2 - minx) / dx), math.ceil((maxx - lons[-1] - dx / 2) / dx)
    south, north = math.ceil((lats[0] - dy / 2 - miny) / dy), math.ceil((maxy - lats[-1] - dy / 2) / dy)
    west, east, south, north = (max(n, 0) for n in (west, east, south, north))
    lons = np.concatenate([lons[0] - dx * np.arange(west, 0, -1), lons, lons[-1] + dx * np.arange(1, east + 1)])
    lats = np.concatenate([lats[0] - dy * np.arange(south, 0, -1), lats, lats[-1] + dy * np.arange(1, north + 1)])
    grid = np.pad(grid, ((south, north), (west, east)), constant_values=np.nan)
    return lons, lats, grid


def cell_edges(centres: np.ndarray, decimals: int) -> np.ndarray:
    """Cell edges halfway between lattice centres (half a step beyond the outer ones), rounded."""
    inner = (centres[1:] + centres[:-1]) / 2
    return np.round(np.concatenate([[2 * centres[0] - inner[0]], inner, [2 * centres[-1] - inner[-1]]]),
                    decimals)


def fill_missing(grid: np.ndarray, need: np.ndarray):
    """People for the cells of ``need`` without a sample: the mean of their sampled
    8-neighbours (zeros included), or 0 where no neighbour has a sample. Other NaNs -> 0."""
    padded = np.pad(grid, 1, constant_values=np.nan)
    rows, cols = grid.shape
    around = np.stack([padded[1 + dy:1 + dy + rows, 1 + dx:1 + dx + cols]
                       for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)])
    sampled = ~np.isnan(around)
    sums = np.where(sampled, around, 0).sum(axis=0)
    mean = np.where(sampled.any(axis=0), sums / np.maximum(sampled.sum(axis=0), 1), 0)
    missing = need & np.isnan(grid)
    filled = np.where(np.isnan(grid), 0.0, grid)
    filled[missing] = mean[missing]
    return filled, missing
