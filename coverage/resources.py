"""Memory a planning run will need, estimated before anything large is allocated.

The demand grid costs about :data:`BYTES_PER_CELL` per cell (the cell polygon, its
columns and the KD-tree) and the coverage matrix about :data:`BYTES_PER_PAIR` per
(site, cell) pair while it is built, over a base of :data:`BASE_BYTES`. The figures
were measured by ``scripts/measure_cell_memory.py`` (peak RSS of ``prepare`` on the toy
city at several cell sizes, least-squares fit: 212 MiB + 741 B/cell + 57 B/pair) and
are rounded up here. A run whose estimate exceeds the memory available now is refused
with the estimate and a cell size that fits (limit: 80 % of the memory available).
"""

from __future__ import annotations

import math
import os

import numpy as np

from .errors import InputError

BASE_BYTES = 256 * 2**20
BYTES_PER_CELL = 800
BYTES_PER_PAIR = 64
SAFETY = 0.8  # of the memory available now: leave room for the rest of the machine
NICE_CELL_SIZES_M = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000)


def estimate_bytes(area_m2: float, cell_size_m: float, radii_m: np.ndarray) -> tuple[int, float, float]:
    """``(bytes, cells, pairs)`` for a grid of ``cell_size_m`` metres over ``area_m2``
    square metres and sites of the given coverage radii (metres)."""
    cells = area_m2 / cell_size_m**2
    per_site = np.minimum(math.pi * np.asarray(radii_m, dtype=float) ** 2 / cell_size_m**2, cells)
    pairs = float(per_site.sum())
    return int(BASE_BYTES + BYTES_PER_CELL * cells + BYTES_PER_PAIR * pairs), cells, pairs


def available_bytes() -> int | None:
    """Memory available to a new allocation now (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(area_m2: float, cell_size_m: float, radii_m: np.ndarray, where: str,
                 limit_bytes: int | None = None) -> None:
    """Raise :class:`InputError` when the run will not fit in ``limit_bytes`` (default:
    the memory available now), naming the estimate and a cell size that fits."""
    if limit_bytes is None:
        available = available_bytes()
        if available is None:
            return
        limit_bytes = int(SAFETY * available)
    limit = limit_bytes
    need, cells, pairs = estimate_bytes(area_m2, cell_size_m, radii_m)
    if need <= limit:
        return
    fits = [s for s in NICE_CELL_SIZES_M if s > cell_size_m and estimate_bytes(area_m2, s, radii_m)[0] <= limit]
    fix = f"use cell_size_m = {fits[0]:g} or more" if fits else "plan a smaller study area"
    raise InputError(
        f"{where}: cell_size_m = {cell_size_m:g} needs about {_gb(need)} of memory ({cells:,.0f} cells, "
        f"{pairs:,.0f} coverage pairs) but {_gb(limit)} is available; {fix} (or --cell-size)"
    )


def _gb(n: float) -> str:
    return f"{n / 2**30:,.1f} GB" if n >= 2**30 else f"{n / 2**20:,.0f} MB"
