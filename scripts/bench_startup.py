"""Time the ``hotspots`` command's start-up: ``--help`` and argument errors (issue #12: < 1 s).

Runs each command line a few times in a fresh process and prints the best and median
wall-clock seconds::

    python scripts/bench_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

COMMANDS = [
    ["--help"],
    ["plan", "--help"],
    ["plan", "--target", "x"],        # argparse refuses the flag
    ["plan", "--target", "1.5"],      # the bundled scenario is read, the flag's range refused
    ["sweep", "--target", "0.01:0.99:0.00001"],  # refused by the sweep cap
]


def main(repeats: int = 5) -> None:
    for argv in COMMANDS:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "coverage.cli", *argv], capture_output=True, check=False)
            times.append(time.perf_counter() - start)
        print(f"hotspots {' '.join(argv):<45} best {min(times):.2f} s, median {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
