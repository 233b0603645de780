"""Benchmark the planner's daily loop on the bundled Shenzhen default (run by hand).

    .venv/bin/python scripts/bench_whatif.py [--repeat 20]

Measures loading the base plan, one what-if evaluation, its summary and diff, a
re-plan with a new target, and a 20-target sweep from one coverage matrix; then
``hotspots whatif`` end to end on the plan's folder (wall and CPU time, map included;
target ≤ 5 s). Writes the table into docs/benchmarks.md between the markers below (the
rest of the file is left as it is) and prints it.
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import coverage
from coverage.cli import default_scenario
from coverage.sweep import sweep_targets

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench_whatif:start -->", "<!-- bench_whatif:end -->"


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time (s) of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def whatif_cli(base, remove: list[str], add: tuple) -> tuple[float, float]:
    """``hotspots whatif`` on ``base`` written to a folder: wall seconds and CPU seconds
    (user + sys of the command, which the machine's other load inflates less than wall)."""
    work = Path(tempfile.mkdtemp(prefix="bench-whatif-"))
    base.write(work / "base")
    args = [sys.executable, "-m", "coverage.cli", "-q", "whatif", str(work / "base"), "--out", str(work / "whatif"),
            "--add", ",".join(map(str, add))] + [a for site in remove for a in ("--remove", site)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(work, ignore_errors=True)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    scenario = coverage.load_scenario(default_scenario())
    load_s, base = timed(lambda: coverage.plan(scenario), 1)
    base.summary(network=False)
    remove = base.site_ids[-5:]
    add = [(114.0579, 22.5431, "library")]
    base.evaluate(add=add, remove=remove)  # builds the cached demand-point index once
    eval_s, what_if = timed(lambda: base.evaluate(add=add, remove=remove), args.repeat)
    summary_s, _ = timed(lambda: coverage.planning.Plan(  # a fresh plan object each time: no cache
        problem=what_if.problem, scenario=what_if.scenario, solution=what_if.solution,
        allowed=what_if.allowed, kind=what_if.kind).summary(network=False), args.repeat)
    diff_s, _ = timed(lambda: base.diff(what_if), args.repeat)
    replan_s, _ = timed(lambda: base.replan(target=0.05), max(args.repeat // 4, 1))
    targets = list(np.round(np.linspace(0.02, 0.119, 20), 4))
    sweep_s, table = timed(lambda: sweep_targets(base, targets), 1)
    cli_s, cli_cpu = whatif_cli(base, remove, add[0])

    rows = [
        ("plan the default (read, grid, population, matrix, greedy, local search, bound)", load_s, 1),
        ("what-if: remove 5 sites, add 1 by coordinates", eval_s, args.repeat),
        ("summary of the what-if (overall, districts, categories)", summary_s, args.repeat),
        ("diff base → what-if", diff_s, args.repeat),
        ("re-plan with a new target (matrix reused; greedy, local search, bound)", replan_s, max(args.repeat // 4, 1)),
        ("sweep of 20 targets (one matrix; greedy and local search each)", sweep_s, 1),
        (f"`hotspots whatif` end to end, map included ({cli_cpu:.1f} s CPU, user + sys)", cli_s, 1),
    ]
    lines = [
        START,
        "## What-if and sweep timings (Shenzhen default)",
        "",
        f"Measured by `scripts/bench_whatif.py` on {platform.node() or 'this machine'} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()}); "
        f"{len(base.sites):,} candidates × {len(base.cells):,} cells. Median of the runs shown.",
        "",
        "| step | time | runs |",
        "|---|---:|---:|",
    ]
    for name, seconds, runs in rows:
        shown = f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
        lines.append(f"| {name} | {shown} | {runs} |")
    lines += ["", f"The sweep's targets run from {targets[0]:.1%} to {targets[-1]:.1%} "
              "(the default candidates reach at most ~11.9 %).", END]
    block = "\n".join(lines)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")
    print(block)


if __name__ == "__main__":
    main()
