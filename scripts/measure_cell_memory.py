"""Measure the peak memory a planning run needs per demand cell and per coverage pair.

coverage/resources.py estimates a run's memory from these two figures before it
allocates anything (issue #11: ``cell_size_m = 1`` must be refused, not die). Each
measurement runs ``coverage.prepare`` on the test suite's toy city (2 × 1 km) in a fresh
process at a few cell sizes and fits peak RSS = base + a·cells + b·pairs by least squares::

    python scripts/measure_cell_memory.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from conftest import write_toy_city
import coverage
path = write_toy_city(Path(sys.argv[1]), n_schools=int(sys.argv[4]))
scenario = coverage.load_scenario(path).replace(cell_size_m=float(sys.argv[2]))
problem = coverage.prepare(scenario)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"cells": len(problem.cells), "pairs": int(problem.matrix.nnz), "peak": peak}))
"""


def measure(cell_m: float, n_schools: int) -> dict:
    tests = Path(__file__).resolve().parents[1] / "tests"
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", CHILD, tmp, str(cell_m), str(tests), str(n_schools)],
                             capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    rows = [measure(c, n) for c, n in ((10, 25), (5, 25), (2.5, 25), (2.5, 400), (1.5, 25), (1.5, 400))]
    for r in rows:
        print(f"{r['cells']:>10,} cells {r['pairs']:>12,} pairs  peak {r['peak'] / 2**20:8.0f} MiB")
    a = np.array([[1, r["cells"], r["pairs"]] for r in rows], dtype=float)
    base, per_cell, per_pair = np.linalg.lstsq(a, np.array([r["peak"] for r in rows], dtype=float), rcond=None)[0]
    print(f"base {base / 2**20:.0f} MiB, {per_cell:.0f} bytes per cell, {per_pair:.0f} bytes per pair")


if __name__ == "__main__":
    main()
