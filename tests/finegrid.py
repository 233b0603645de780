"""Test helper: recompute a plan's coverage on a grid ``factor`` times finer than its demand grid.

With radii near the cell size, "a cell is covered when its demand point is inside a
circle" can be far from the covered share of the people. This helper splits every
cell of side ``s`` into ``factor × factor`` sub-squares (side ``s / factor``), gives
each sub-square whose centre lies in the (clipped) cell an equal share of the cell's
population (the surface is uniform inside a cell, as the allocation assumes), and counts
a sub-square as covered when its centre is within a selected site's radius. Used by the
finer-grid agreement test of issue #14 and by ``scripts/measure_reach99.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from coverage.demandpoints import cell_subpoints


@dataclass(frozen=True)
class FinerGrid:
    """Coverage (fraction of the weight) on the plan's grid and on the finer one."""

    coarse: float
    fine: float
    n_coarse: int
    n_fine: int

    @property
    def difference_pp(self) -> float:
        """Coarse minus fine, in percentage points."""
        return 100 * (self.coarse - self.fine)


def within_any(points: np.ndarray, site_xy: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """For each point: within (distance ≤ radius) some site's radius (metres)."""
    inside = np.zeros(len(points), dtype=bool)
    tree = cKDTree(points)
    for radius in np.unique(radii):
        group = site_xy[radii == radius]
        for hits in cKDTree(group).query_ball_tree(tree, float(radius)):
            inside[hits] = True
    return inside


def finer_grid_coverage(cells, weight: np.ndarray, cell_size_m: float, site_xy: np.ndarray,
                        radii: np.ndarray, factor: int = 4) -> FinerGrid:
    """Coverage of the sites on ``cells`` (demand points ``x``, ``y``) and on a ``factor``× finer grid.

    ``cells`` is a demand grid (columns ``ix``, ``iy``, ``x``, ``y``, ``area_m2`` and the
    clipped polygons, metric CRS); pass the subset to check (e.g. one district).
    ``weight`` is each cell's demand (people). ``site_xy`` / ``radii`` are the selected
    sites (metres).
    """
    weight = np.asarray(weight, dtype=float)
    site_xy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    radii = np.asarray(radii, dtype=float)
    coarse = within_any(np.column_stack([cells["x"].to_numpy(), cells["y"].to_numpy()]), site_xy, radii)

    fine_points = cell_subpoints(cells, weight, cell_size_m, int(factor))
    fine = within_any(fine_points.xy, site_xy, radii)
    total = weight.sum()
    return FinerGrid(coarse=float(weight[coarse].sum() / total), fine=float(fine_points.weight[fine].sum() / total),
                     n_coarse=len(cells), n_fine=len(fine_points.xy))
