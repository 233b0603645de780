#!/usr/bin/env python
"""Benchmarks for issue #8: speed, memory and plan quality. Run by hand; writes docs/benchmarks.md.

    .venv/bin/pip install spopt pulp          # benchmark-only (the "bench" extra)
    .venv/bin/python scripts/bench.py         # about 15 minutes on 2 cores
    .venv/bin/python scripts/bench.py --quick # small sizes, to check the script

Every case runs in its own subprocess (``--case NAME``) so its peak memory is that
process's maximum resident set size (``os.wait4`` rusage). Synthetic instances are made
with the package's own ``coverage_matrix`` on seeded random points in metres: demand
points at 100 per km², candidates uniform, one radius; weights 1–99 per cell; costs 1
(80 %), 2 (15 %) or 4 (5 %). Times are wall-clock seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 8
TARGET = 0.99
HEADLINE = (1_000_000, 10_000)
HEADLINE_LP = 1_983.6  # the headline's LP relaxation optimum (HiGHS's interior point, ~7 min; offline, seed 8)
HEADLINE_BEST = (2_054, "57 minutes")  # the cheapest headline plan found offline (scripts/lns_reference.py)
BOUND_LIMIT_S = 30.0
EXACT_LIMIT_S = 60.0


# --------------------------------------------------------------------------- cases
KEPT_SECTIONS = ("analysis", "bench_whatif", "reach99_scale")  # by hand / scripts/bench_whatif.py / bench_scale.py


def keep_marked_sections(text: str, out: Path) -> str:
    """Carry over the sections between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``
    markers that the previous docs/benchmarks.md had, for each name in KEPT_SECTIONS."""
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    for name in KEPT_SECTIONS:
        start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
        if start in old and end in old:
            text = text.rstrip() + "\n\n" + old[old.index(start): old.index(end) + len(end)] + "\n"
    return text


def synthetic_instance(n_cells: int, n_sites: int, radius_m: float, side_m: float, seed: int = SEED):
    """Random demand points and candidates in a square of ``side_m`` metres, seeded."""
    import numpy as np

    rng = np.random.default_rng(seed)
    cells = rng.uniform(0, side_m, (n_cells, 2))
    sites = rng.uniform(0, side_m, (n_sites, 2))
    weights = rng.integers(1, 100, n_cells).astype(float)
    costs = rng.choice([1.0, 2.0, 4.0], n_sites, p=[0.8, 0.15, 0.05])
    return cells, sites, np.full(n_sites, radius_m), weights, costs


def headline_instance():
    """The headline case's coverage matrix, costs, weights and site coordinates (metres)
    (``HEADLINE``, as ``case_synthetic`` makes it), for the offline reference scripts."""
    from coverage.matrix import coverage_matrix

    args = synthetic_args(*HEADLINE)
    cells, sites, radii, weights, costs = synthetic_instance(args["cells"], args["sites"], args["radius_m"],
                                                             args["side_m"])
    return coverage_matrix(sites, radii, cells), costs, weights, sites


def case_synthetic(n_cells: int, n_sites: int, radius_m: float, side_m: float, bound: bool = True,
                   profile: bool = False) -> dict:
    """Matrix + greedy + the Lagrangian solver (plans and bound) from greedy's plan on one synthetic
    instance: the whole solve. The 1-out/1-in swap search runs afterwards, for comparison only."""

    from coverage.matrix import coverage_matrix
    from coverage.solver import Instance, solve_instance
    from coverage.solver.greedy import greedy_cover
    from coverage.solver.local import improve

    cells, sites, radii, weights, costs = synthetic_instance(n_cells, n_sites, radius_m, side_m)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    t = {}
    start = time.perf_counter()
    matrix = coverage_matrix(sites, radii, cells)
    t["matrix"] = time.perf_counter() - start
    mark, cpu = time.perf_counter(), time.process_time()
    greedy = greedy_cover(matrix, weights, costs, TARGET)
    t["greedy"] = time.perf_counter() - mark
    result = {"cells": n_cells, "sites": n_sites, "radius_m": radius_m, "nnz": int(matrix.nnz)}
    if bound:
        mark = time.perf_counter()
        inst = Instance.build(matrix, costs, weights, TARGET)
        lag = solve_instance(inst, start=greedy.order)
        t["lagrangian (plans + bound)"] = time.perf_counter() - mark
        t["solve (greedy + solver)"] = t["greedy"] + t["lagrangian (plans + bound)"]
        result["solve_cpu_s"] = time.process_time() - cpu
        result.update(bound=lag.lower_bound, bound_status=lag.bound_method, rows_merged=[lag.rows_from, lag.rows],
                      gap=lag.gap, final_cost=lag.cost, final_sites=len(lag.sites), lagrangian_steps=lag.iterations)
    t["total"] = time.perf_counter() - start
    if profiler:
        profiler.disable()
        result["profile"] = _profile_rows(profiler)
    mark = time.perf_counter()
    better = improve(matrix, weights, costs, TARGET, greedy)
    t["improve"] = time.perf_counter() - mark  # not in the total: the solver does not use it
    result.update(times=t, greedy_sites=len(greedy.order), greedy_cost=float(costs[greedy.order].sum()),
                  improved_sites=better.sites_after, improved_cost=better.cost_after,
                  coverage=better.coverage_after, swap_evaluations=better.swap_evaluations,
                  improve_stop=better.stop_reason)
    return result


def case_spopt(n_cells: int = 5_000, n_sites: int = 1_000, p: int = 100) -> dict:
    """The same instance through spopt LSCP/MCLP (PuLP + CBC) and through this planner."""
    import numpy as np
    import pulp
    import spopt
    from scipy.spatial import distance_matrix
    from spopt.locate import LSCP, MCLP

    from coverage.matrix import coverage_matrix
    from coverage.solver import solve_cover
    from coverage.solver.bounds import exact
    from coverage.solver.greedy import greedy_cover
    from coverage.solver.local import improve

    side, radius = 10_000.0, 472.0  # ~7 candidates within reach of a demand point
    cells, sites, radii, weights, _ = synthetic_instance(n_cells, n_sites, radius, side)
    matrix = coverage_matrix(sites, radii, cells)
    reach = np.asarray(matrix.sum(axis=0)).ravel() > 0  # LSCP needs every point coverable
    cells, weights = cells[reach], weights[reach]
    ones = np.ones(n_sites)
    out = {"cells": int(reach.sum()), "sites": n_sites, "radius_m": radius, "p": p,
           "spopt": spopt.__version__, "pulp": pulp.__version__, "solver": "PULP_CBC_CMD"}

    start = time.perf_counter()
    cost_matrix = distance_matrix(cells, sites)
    lscp = LSCP.from_cost_matrix(cost_matrix, radius)
    out["spopt_lscp_build_s"] = time.perf_counter() - start
    lscp = lscp.solve(pulp.PULP_CBC_CMD(msg=False))
    out["spopt_lscp_s"] = time.perf_counter() - start
    out["spopt_lscp_sites"] = int(sum(v.value() > 0.5 for v in lscp.fac_vars))
    out["spopt_lscp_status"] = pulp.LpStatus[lscp.problem.status]

    start = time.perf_counter()
    mclp = MCLP.from_cost_matrix(distance_matrix(cells, sites), weights, radius, p_facilities=p)
    mclp = mclp.solve(pulp.PULP_CBC_CMD(msg=False))
    out["spopt_mclp_s"] = time.perf_counter() - start
    chosen = [i for i, v in enumerate(mclp.fac_vars) if v.value() > 0.5]
    out["spopt_mclp_status"] = pulp.LpStatus[mclp.problem.status]

    start = time.perf_counter()  # the whole solve: matrix, then the solver (it starts from its own greedy)
    m = coverage_matrix(sites, radii, cells)
    lag = solve_cover(m, ones, weights, 1.0)
    out["ours_lscp_s"] = time.perf_counter() - start
    greedy = greedy_cover(m, weights, ones, 1.0)  # for the table: greedy alone and greedy + swaps
    better = improve(m, weights, ones, 1.0, greedy)
    out["ours_lscp_greedy_sites"], out["ours_lscp_improved_sites"] = len(greedy.order), better.sites_after
    out["ours_lscp_sites"], out["ours_lscp_bound"], out["ours_lscp_bound_method"] = len(lag.sites), \
        lag.lower_bound, lag.bound_method
    ex = exact(m, weights, ones, 1.0, time_limit_s=EXACT_LIMIT_S)
    out.update(ours_exact_status=ex.status, ours_exact_sites=ex.objective, ours_exact_s=ex.seconds)

    start = time.perf_counter()
    m = coverage_matrix(sites, radii, cells)
    greedy = greedy_cover(m, weights, ones, 1.0, max_sites=p)
    better = improve(m, weights, ones, 1.0, greedy, max_sites=p)
    out["ours_mclp_s"] = time.perf_counter() - start
    covered = np.asarray(m[chosen].sum(axis=0)).ravel() > 0
    out["spopt_mclp_coverage"] = float(weights[covered].sum() / weights.sum())
    out["ours_mclp_greedy_coverage"] = float(weights[greedy.covered].sum() / weights.sum())
    out["ours_mclp_coverage"] = better.coverage_after
    return out


def case_shenzhen_cli() -> dict:
    """``hotspots plan`` on the bundled data, map included, as a user runs it."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        proc = subprocess.run([str(Path(sys.executable).with_name("hotspots")), "-q", "plan", "--out", f"{tmp}/sz"],
                              capture_output=True, text=True, cwd=ROOT)
        seconds = time.perf_counter() - start
        summary = json.loads(Path(f"{tmp}/sz/summary.json").read_text()) if proc.returncode == 0 else {}
    return {"seconds": seconds, "returncode": proc.returncode, "stderr": proc.stderr[-500:],
            "runtime_s": summary.get("runtime_s"), "n_selected": summary.get("n_selected")}


def case_shenzhen_quality() -> dict:
    """Greedy, improved, LP bound and exact optimum on the default Shenzhen instance."""
    import numpy as np

    from coverage import load_scenario
    from coverage.solver.bounds import exact, lower_bound
    from coverage.solver.local import improve
    from coverage.planning import build_instance, prepare
    from coverage.progress import stage  # noqa: F401  (imported for its logging side effects)
    from coverage.solver.greedy import greedy_cover

    scenario = load_scenario(ROOT / "gis_data" / "shenzhen" / "scenario.toml")
    start = time.perf_counter()
    problem = prepare(scenario)
    prepare_s = time.perf_counter() - start
    inst = build_instance(problem)
    pre, allowed, max_sites, max_cost = inst.preselected, inst.allowed, inst.max_sites, inst.max_cost
    weights, costs = inst.weights, inst.costs
    args = dict(preselected=pre, allowed=allowed)
    mark = time.perf_counter()
    greedy = greedy_cover(problem.matrix, weights, costs, scenario.target, max_sites=max_sites, max_cost=max_cost,
                          **args)
    greedy_s = time.perf_counter() - mark
    better = improve(problem.matrix, weights, costs, scenario.target, greedy, allowed,
                     max_sites=max_sites, max_cost=max_cost)
    b = lower_bound(problem.matrix, weights, costs, scenario.target, time_limit_s=BOUND_LIMIT_S, **args)
    ex = exact(problem.matrix, weights, costs, scenario.target, time_limit_s=EXACT_LIMIT_S, **args)
    total = weights.sum()
    exact_cov = None
    if ex.sites is not None:
        hit = np.asarray(problem.matrix[ex.sites].sum(axis=0)).ravel() > 0
        exact_cov = float(weights[hit].sum() / total)
    return {
        "cells": int(problem.matrix.shape[1]), "sites": int(problem.matrix.shape[0]), "nnz": int(problem.matrix.nnz),
        "target": scenario.target, "target_used": b.target_used, "prepare_s": prepare_s, "greedy_s": greedy_s,
        "greedy": {"n_sites": len(greedy.order), "cost": float(costs[greedy.order].sum()),
                   "coverage": float(weights[greedy.covered].sum() / total)},
        "improved": {"n_sites": better.sites_after, "cost": better.cost_after, "coverage": better.coverage_after,
                     "seconds": better.seconds, "dropped": better.n_dropped, "swaps": better.n_swaps},
        "bound": {"value": b.value, "lp_value": b.lp_value, "status": b.status, "seconds": b.seconds,
                  "rows": [b.rows_from, b.rows_to], "gap_improved": b.gap(better.cost_after),
                  "gap_greedy": b.gap(float(costs[greedy.order].sum()))},
        "exact": {"status": ex.status, "objective": ex.objective, "dual_bound": ex.dual_bound, "gap": ex.gap,
                  "n_sites": None if ex.sites is None else len(ex.sites), "coverage": exact_cov,
                  "seconds": ex.seconds},
    }


def _profile_rows(profiler: cProfile.Profile, n: int = 10) -> list[list]:
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (file, _line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        rows.append([f"{Path(file).name}:{func}", ncalls, tottime, cumtime])
    return sorted(rows, key=lambda r: -r[2])[:n]


SETCOVER = ROOT.parent / "shared" / "data" / "setcover"
SETCOVER_OPTIMA = {"scp41": (429, True), "scp42": (512, True), "scp43": (516, True), "scp44": (494, True),
                   "scp45": (512, True), "scpa1": (253, True), "scpa2": (252, True), "scpnrg1": (176, False),
                   "scpnrh1": (63, False)}
HIGHS_SETCOVER_S = 30.0


def case_setcover(instance: str, effort: str = "fast", highs: bool = True) -> dict:
    """One OR-Library instance: this solver (``effort``), and HiGHS's MILP on the same run."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from coverage.solver import solve_cover
    from coverage.solver.orlib import read_orlib

    name = instance
    matrix, costs = read_orlib(SETCOVER / f"{name}.txt")
    optimum, proven = SETCOVER_OPTIMA[name]
    start = time.perf_counter()
    r = solve_cover(matrix, costs, effort=effort)
    out = {"name": name, "rows": matrix.shape[1], "columns": matrix.shape[0], "optimum": optimum, "proven": proven,
           "effort": effort, "cost": r.cost, "bound": r.lower_bound, "bound_method": r.bound_method,
           "seconds": time.perf_counter() - start, "above": r.cost / optimum - 1}
    out["lp"] = setcover_lp(matrix, costs)
    if highs:
        start = time.perf_counter()
        res = milp(costs, constraints=LinearConstraint(matrix.T.astype(float), 1, float("inf")),
                   integrality=1, bounds=Bounds(0, 1), options={"time_limit": HIGHS_SETCOVER_S, "disp": False})
        out.update(highs_cost=None if res.x is None else float(costs @ (res.x > 0.5)),
                   highs_status="optimal" if res.status == 0 else "time limit",
                   highs_bound=getattr(res, "mip_dual_bound", None), highs_s=time.perf_counter() - start)
    return out


def setcover_lp(matrix, costs) -> float | None:
    """The LP relaxation's optimum of the full cover of ``matrix`` (sites × points) by HiGHS:
    what the best Lagrangian bound can reach (None if HiGHS did not solve it)."""
    import numpy as np
    from scipy.optimize import linprog

    res = linprog(costs, A_ub=-matrix.T.astype(float), b_ub=-np.ones(matrix.shape[1]), bounds=(0, 1),
                  method="highs")
    return float(res.fun) if res.status == 0 else None


def street_instance(n_points: int = 880_000, spacing: float = 75.0, radius: float = 90.0, side: float = 56_000.0,
                    keep: float = 0.7, n_pre: int = 4_000, seed: int = SEED):
    """The default plan's phase 2 in miniature: street candidates on a ``spacing`` m lattice
    (``keep`` of its nodes are streets), ``radius`` m, over ``n_points`` lumpy demand points
    (400 Gaussian clusters plus a quarter spread thinly; log-normal population), ``n_pre``
    preselected sites (phase 1), ten district constraints at 95 %. Only candidates that
    reach a point are kept. Returns matrix (sites × points), costs, weights, preselected,
    constraints."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    centres, spread = rng.uniform(0, side, (400, 2)), rng.uniform(300, 2500, 400)
    which = rng.integers(0, 400, n_points)
    pts = centres[which] + rng.normal(0, 1, (n_points, 2)) * spread[which, None]
    thin = rng.random(n_points) < 0.25
    pts[thin] = rng.uniform(0, side, (int(thin.sum()), 2))
    pts = np.clip(pts, 0, side)
    weights = rng.lognormal(2.0, 1.0, n_points)
    n = int(side // spacing) + 1
    street = rng.random((n, n)) < keep
    near = np.rint(pts / spacing).astype(np.int64)
    reach = int(np.ceil(radius / spacing))
    site_ids, point_ids = [], []
    for dx in range(-reach, reach + 1):
        for dy in range(-reach, reach + 1):
            a, b = near[:, 0] + dx, near[:, 1] + dy
            ok = (a >= 0) & (a < n) & (b >= 0) & (b < n)
            ok &= (a * spacing - pts[:, 0]) ** 2 + (b * spacing - pts[:, 1]) ** 2 <= radius ** 2
            ok[ok] &= street[a[ok], b[ok]]
            site_ids.append(a[ok] * n + b[ok])
            point_ids.append(np.flatnonzero(ok))
    used, site = np.unique(np.concatenate(site_ids), return_inverse=True)
    matrix = sp.csr_matrix((np.ones(len(site), bool), (site, np.concatenate(point_ids))), shape=(len(used), n_points))
    pre = np.sort(rng.choice(len(used), n_pre, replace=False))
    district = np.minimum((pts[:, 0] // (side / 5)).astype(int), 4) * 2 + (pts[:, 1] > side / 2)
    constraints = [(np.flatnonzero(district == d), 0.95) for d in range(10)]
    return matrix, np.ones(len(used)), weights, pre, constraints


def case_street(n_points: int = 880_000, local_search: bool = False) -> dict:
    """The street-lattice instance: pipeline greedy, then the solver at "fast" from it."""
    from coverage.solver import Instance, solve_instance
    from coverage.solver.greedy import greedy_cover
    from coverage.solver.local import improve

    matrix, costs, weights, pre, constraints = street_instance(n_points)
    t = {}
    start = time.perf_counter()
    inst = Instance.build(matrix, costs, weights, TARGET, preselected=pre, constraints=constraints)
    t["instance"] = time.perf_counter() - start
    mark = time.perf_counter()
    greedy = greedy_cover(inst.matrix, inst.weights, inst.costs, TARGET, preselected=inst.preselected,
                          allowed=inst.allowed)
    t["greedy"] = time.perf_counter() - mark
    order = greedy.order
    if local_search:
        mark = time.perf_counter()
        order = improve(inst.matrix, inst.weights, inst.costs, TARGET, greedy, inst.allowed).solution.order
        t["local search"] = time.perf_counter() - mark
    mark = time.perf_counter()
    res = solve_instance(inst, effort="fast", start=order)
    t["solver (fast)"] = time.perf_counter() - mark
    t["total"] = time.perf_counter() - start
    return {"points": n_points, "sites": matrix.shape[0], "nnz": int(matrix.nnz), "times": t,
            "greedy_cost": float(costs[greedy.order].sum()), "cost": res.cost, "bound": res.lower_bound,
            "gap": res.gap, "method": res.bound_method, "steps": res.iterations, "feasible": res.feasible,
            "rows": [res.rows_from, res.rows]}


CASES = {
    "setcover": lambda a: case_setcover(**a),
    "synthetic": lambda a: case_synthetic(a["cells"], a["sites"], a["radius_m"], a["side_m"], a.get("bound", True),
                                          a.get("profile", False)),
    "spopt": lambda a: case_spopt(**a),
    "street": lambda a: case_street(**a),
    "shenzhen_cli": lambda a: case_shenzhen_cli(),
    "shenzhen_quality": lambda a: case_shenzhen_quality(),
}


# --------------------------------------------------------------------------- driver
def run_case(name: str, **args) -> dict:
    """Run one case in a child process; add its wall time and peak RSS (MB)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--case", name, "--args", json.dumps(args)],
                                stdout=out, stderr=err, text=True, cwd=ROOT)
        _, _, usage = os.wait4(proc.pid, 0)  # this child's own rusage: its peak RSS
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    rss = usage.ru_maxrss / 1024
    result = {"case": name, "args": args, "wall_s": time.perf_counter() - start, "peak_mb": rss}
    try:
        result.update(json.loads(stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        result["error"] = (stderr or stdout)[-800:]
    print(f"  {name} {args}: {result['wall_s']:.1f} s, {rss or 0:.0f} MB"
          + (f"  ERROR {result['error'][-200:]}" if "error" in result else ""), file=sys.stderr, flush=True)
    return result


def synthetic_args(n_cells: int, n_sites: int, **extra) -> dict:
    """Scale-free geometry: 10 k candidates per 100 km × 100 km, ~7 candidates per point."""
    side = 100_000.0 * math.sqrt(n_sites / 10_000) if extra.pop("grow_area", False) else 100_000.0
    radius = 1_500.0 * math.sqrt((side / 100_000.0) ** 2 * 10_000 / n_sites)
    return {"cells": n_cells, "sites": n_sites, "radius_m": radius, "side_m": side, **extra}


def machine() -> dict:
    import numpy
    import scipy
    import shapely

    info = {"nproc": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "shapely": shapely.__version__, "platform": platform.platform()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), "?")
    except OSError:
        info["cpu"] = "?"
    meminfo = Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").exists() else []
    total_kb = next((int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal")), 0)
    info["memory_gb"] = round(total_kb / 1024**2, 1)
    info["nproc_cmd"] = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    for pkg in ("spopt", "pulp", "highspy"):
        try:
            info[pkg] = __import__(pkg).__version__
        except Exception:  # noqa: BLE001 - optional
            info[pkg] = "not installed"
    info["load_before"] = os.getloadavg()
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case")
    parser.add_argument("--args", default="{}")
    parser.add_argument("--quick", action="store_true", help="small sizes only (checks the script)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--skip", default="", help="comma list of: setcover,headline,scaling,street,spopt,shenzhen")
    opts = parser.parse_args()
    if opts.case:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(CASES[opts.case](json.loads(opts.args)), default=float))
        return 0

    skip = set(filter(None, opts.skip.split(",")))
    info = machine()
    started = time.perf_counter()
    results: dict = {"machine": info}
    scale = 0.1 if opts.quick else 1.0
    big = int(HEADLINE[0] * scale), int(HEADLINE[1] * scale)
    if "setcover" not in skip and SETCOVER.exists():
        names = ["scp41", "scpa1"] if opts.quick else list(SETCOVER_OPTIMA)
        results["setcover"] = [run_case("setcover", instance=n) for n in names]
        results["setcover_thorough"] = [run_case("setcover", instance=n, effort="thorough", highs=False)
                                        for n in names if not SETCOVER_OPTIMA[n][1]]
    if "headline" not in skip:
        results["headline"] = run_case("synthetic", **synthetic_args(*big, profile=True))
    if "scaling" not in skip:
        cells = [int(n * scale) for n in (100_000, 1_000_000, 4_000_000)]
        results["scale_cells"] = [run_case("synthetic", **synthetic_args(n, big[1], bound=n <= big[0]))
                                  for n in cells if n != big[0]]
        sites = [int(n * scale) for n in (2_500, 40_000)]
        results["scale_sites"] = [run_case("synthetic", **synthetic_args(big[0], n, bound=False, grow_area=False))
                                  for n in sites]
    if "street" not in skip:
        results["street"] = run_case("street", **({"n_points": 88_000} if opts.quick else {}))
    previous = _previous_results(Path(opts.out))
    if "spopt" in skip and "spopt" in previous:  # slow (5+ min): carried over, and the page says so
        results["spopt"] = {**previous["spopt"], "carried_over": previous.get("machine", {}).get("load_before")}
    if "spopt" not in skip:
        results["spopt"] = run_case("spopt", **({"n_cells": 1000, "n_sites": 200, "p": 20} if opts.quick else {}))
    if "shenzhen" not in skip:
        results["shenzhen_cli"] = run_case("shenzhen_cli")
        results["shenzhen_quality"] = run_case("shenzhen_quality")
    info["load_after"] = os.getloadavg()
    info["bench_minutes"] = (time.perf_counter() - started) / 60
    out = Path(opts.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.with_suffix(".json")).write_text(json.dumps(results, indent=1, default=float))
    svg = out.with_name("benchmarks-scaling.svg")
    svg.write_text(scaling_svg(results))
    out.write_text(keep_marked_sections(render(results, svg.name), out))
    print(f"wrote {out}, {out.with_suffix('.json').name}, {svg.name}", file=sys.stderr)
    return 0


def _previous_results(out: Path) -> dict:
    path = out.with_suffix(".json")
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        return {}


# --------------------------------------------------------------------------- report
def _f(value, fmt="{:,.2f}", none="—"):
    return none if value is None else fmt.format(value)


def _pct(value):
    return _f(None if value is None else 100 * value, "{:.2f} %")


def render(r: dict, svg_name: str) -> str:
    m = r["machine"]
    lines = ["# Benchmarks", "",
             "Written by `scripts/bench.py` (do not edit by hand; rerun it). Times are wall-clock seconds,",
             "memory is each case's peak resident set size (its own subprocess). Other processes shared",
             "the machine during the run (load averages below), so times are pessimistic.", "",
             "## Machine", "",
             f"- CPU: {m['cpu']}; `nproc` = {m['nproc_cmd']}; memory {m['memory_gb']} GB; {m['platform']}",
             f"- Python {m['python']}; numpy {m['numpy']}; scipy {m['scipy']} (HiGHS inside); shapely {m['shapely']}",
             f"- spopt {m['spopt']}; PuLP {m['pulp']}; highspy {m['highspy']}",
             f"- load average before {', '.join(f'{x:.1f}' for x in m['load_before'])}; after "
             f"{', '.join(f'{x:.1f}' for x in m.get('load_after', ()))}; whole run {m.get('bench_minutes', 0):.1f} min",
             ""]
    lines += _setcover_lines(r)
    if "headline" in r:
        h = r["headline"]
        t = h.get("times", {})
        lines += [f"## Headline: {h['cells']:,} cells × {h['sites']:,} candidates (target ≤ 5 s, ≤ 1.5 GB)", "",
                  f"Radius {h['radius_m']:.0f} m, {h.get('nnz', 0):,} coverage pairs, target {TARGET:.0%}, "
                  f"bound time limit {BOUND_LIMIT_S:.0f} s.", "",
                  "| stage | seconds |", "|---|---:|"]
        lines += [f"| {k} | {v:.2f} |" for k, v in t.items()]
        lines += ["", f"Peak memory {_f(h.get('peak_mb'), '{:,.0f}')} MB. The whole solve is greedy + the solver "
                  f"(CPU {_f(h.get('solve_cpu_s'))} s; `total` adds the matrix). Greedy {h.get('greedy_sites')} sites, "
                  f"cost {_f(h.get('greedy_cost'), '{:,.0f}')}; the solver's plan {h.get('final_sites')} sites, cost "
                  f"{_f(h.get('final_cost'), '{:,.0f}')}; bound {_f(h.get('bound'), '{:,.0f}')} ({h.get('bound_status')}, "
                  f"{h.get('lagrangian_steps')} steps), merged rows {h.get('rows_merged')}, gap {_pct(h.get('gap'))}. "
                  f"For comparison, greedy + the 1-out/1-in swap search (not part of the solve): "
                  f"{h.get('improved_sites')} sites, cost {_f(h.get('improved_cost'), '{:,.0f}')} "
                  f"({h.get('swap_evaluations')} swap evaluations, stop: {h.get('improve_stop')}).", ""]
        if (h["cells"], h["sites"]) == HEADLINE and h.get("bound"):
            lines += [f"Offline references for this instance (not rerun here): its LP relaxation's optimum is "
                      f"{HEADLINE_LP:,.1f} (HiGHS), so the bound is {_pct(1 - h['bound'] / HEADLINE_LP)} below "
                      f"the best any bound of this kind can reach; the cheapest plan found for it is "
                      f"{HEADLINE_BEST[0]:,} (`scripts/lns_reference.py`, windows re-solved exactly with HiGHS "
                      f"for {HEADLINE_BEST[1]}).", ""]
        if h.get("profile"):
            lines += ["Profile (cProfile, top functions by own time, including the bound):", "",
                      "| function | calls | own s | cumulative s |", "|---|---:|---:|---:|"]
            lines += [f"| `{f}` | {c:,} | {a:.2f} | {b:.2f} |" for f, c, a, b in h["profile"]]
            lines.append("")
    lines += _street_lines(r)
    rows = [x for x in [r.get("headline")] + r.get("scale_cells", []) + r.get("scale_sites", []) if x and "times" in x]
    if rows:
        lines += ["## Scaling", "", f"![time and memory against cells]({svg_name})", "",
                  "`total` is matrix + greedy + the Lagrangian solver (from greedy's plan); the swap search "
                  "(`improve`) is timed on its own, for comparison, and is not part of it.", "",
                  "| cells | candidates | radius m | pairs | matrix s | greedy s | improve s | Lagrangian s | total s "
                  "| peak MB | greedy cost | improved cost | solver plan | bound |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for x in sorted(rows, key=lambda x: (x["sites"], x["cells"])):
            t = x["times"]
            lines.append(f"| {x['cells']:,} | {x['sites']:,} | {x['radius_m']:.0f} | {x['nnz']:,} | {t['matrix']:.2f} "
                         f"| {t['greedy']:.2f} | {t['improve']:.2f} | {_f(t.get('lagrangian (plans + bound)'))} | {t['total']:.2f} "
                         f"| {_f(x.get('peak_mb'), '{:,.0f}')} | {x['greedy_cost']:,.0f} | {x['improved_cost']:,.0f} "
                         f"| {_f(x.get('final_cost'), '{:,.0f}')} "
                         f"| {_f(x.get('bound'), '{:,.0f}')} {x.get('bound_status', 'not run')} |")
        lines.append("")
    if "spopt" in r:
        s = r["spopt"]
        if "error" in s:
            lines += ["## spopt", "", f"Failed: `{s['error'][-300:]}`", ""]
        else:
            lines += [f"## Against spopt: {s['cells']:,} demand points × {s['sites']:,} candidates, {s['radius_m']:.0f} m",
                      "", f"spopt {s['spopt']} with PuLP {s['pulp']} and {s['solver']} (exact). This planner: "
                      "LSCP: the coverage matrix, then `solve_cover` (its own greedy, the Lagrangian heuristic, "
                      "column fixing and refinement); greedy and swaps alone are shown for comparison, not timed. "
                      "MCLP: matrix, greedy and the swap search within p sites."
                      + (" *Carried over from the previous run of this script (`--skip spopt`); that run's load "
                         f"average was {', '.join(f'{x:.1f}' for x in s['carried_over'])}.*"
                         if s.get("carried_over") else ""), "",
                      "| model | spopt s | spopt answer | this planner s | this planner answer | speed ratio |",
                      "|---|---:|---:|---:|---:|---:|",
                      f"| LSCP (cover all, fewest sites) | {s['spopt_lscp_s']:.2f} (build {s['spopt_lscp_build_s']:.2f}) "
                      f"| {s['spopt_lscp_sites']} sites ({s['spopt_lscp_status']}) | {s['ours_lscp_s']:.3f} "
                      f"| {s['ours_lscp_sites']} sites, bound {_f(s.get('ours_lscp_bound'), '{:.0f}')} "
                      f"({s.get('ours_lscp_bound_method')}; greedy {s['ours_lscp_greedy_sites']}, swaps "
                      f"{s.get('ours_lscp_improved_sites')}) "
                      f"| {s['spopt_lscp_s'] / s['ours_lscp_s']:,.0f}× |",
                      f"| MCLP (p = {s['p']}, most demand) | {s['spopt_mclp_s']:.2f} | {_pct(s['spopt_mclp_coverage'])} "
                      f"({s['spopt_mclp_status']}) | {s['ours_mclp_s']:.3f} | {_pct(s['ours_mclp_coverage'])} "
                      f"(greedy {_pct(s['ours_mclp_greedy_coverage'])}) | {s['spopt_mclp_s'] / s['ours_mclp_s']:,.0f}× |",
                      "", f"This planner's exact mode (`coverage.bound.exact`, HiGHS MILP) on the LSCP: "
                      f"{_f(s['ours_exact_sites'], '{:.0f}')} sites, {s['ours_exact_status']}, {s['ours_exact_s']:.2f} s.", ""]
    if "shenzhen_cli" in r:
        c = r["shenzhen_cli"]
        lines += ["## Shenzhen default, end to end (target ≤ 15 s)", "",
                  f"`hotspots plan --out DIR -q` on the bundled data, map included: **{c['seconds']:.1f} s** wall "
                  f"(exit {c.get('returncode')}), peak {_f(c.get('peak_mb'), '{:,.0f}')} MB; the plan's own "
                  f"`runtime_s` {_f(c.get('runtime_s'))}.", ""]
    if "shenzhen_quality" in r and "greedy" in r["shenzhen_quality"]:
        q = r["shenzhen_quality"]
        b, e = q["bound"], q["exact"]
        lines += ["## Shenzhen default: greedy, improved and the optimum", "",
                  f"{q['cells']:,} cells × {q['sites']:,} candidates, {q['nnz']:,} pairs. Target {q['target']:.0%} is out "
                  f"of reach, so all three cover the reachable {q['target_used']:.2%} of the population at least cost.",
                  "", "| plan | sites | cost | coverage | seconds | gap to bound |", "|---|---:|---:|---:|---:|---:|",
                  f"| greedy | {q['greedy']['n_sites']:,} | {q['greedy']['cost']:,.0f} | {_pct(q['greedy']['coverage'])} "
                  f"| {q['greedy_s']:.2f} | {_pct(b['gap_greedy'])} |",
                  f"| improved (local search) | {q['improved']['n_sites']:,} | {q['improved']['cost']:,.0f} "
                  f"| {_pct(q['improved']['coverage'])} | {q['improved']['seconds']:.2f} | {_pct(b['gap_improved'])} |",
                  f"| exact (MILP, {e['status']}) | {_f(e['n_sites'], '{:,}')} | {_f(e['objective'], '{:,.0f}')} "
                  f"| {_pct(e['coverage'])} | {e['seconds']:.2f} | — |",
                  f"| LP lower bound ({b['status']}) | | {_f(b['value'], '{:,.0f}')} | | {b['seconds']:.2f} | |",
                  "", f"Demand rows {b['rows'][0]:,} → {b['rows'][1]:,} after dropping unreachable cells and merging "
                  f"identical ones. MILP dual bound {_f(e['dual_bound'], '{:,.1f}')}, MIP gap {_pct(e['gap'])}.", ""]
    return "\n".join(lines) + "\n"


def _street_lines(r: dict) -> list[str]:
    x = r.get("street")
    if not x:
        return []
    if "error" in x:
        return ["## Street lattice (default plan's phase 2)", "", f"Failed: `{x['error'][-300:]}`", ""]
    t = x["times"]
    return ["## Street lattice: the default plan's phase 2 (solver target: a few seconds at `fast`)", "",
            f"`street_instance` in `scripts/bench.py`: {x['sites']:,} street candidates on a 75 m lattice, 90 m "
            f"radius, {x['points']:,} lumpy demand points, {x['nnz']:,} pairs, 4,000 preselected, target "
            f"{TARGET:.0%} plus ten district minimums of 95 %. Pipeline greedy, then `solve_instance(effort=\"fast\")` "
            "from its plan (no local search).", "",
            "| stage | seconds |", "|---|---:|"] + [f"| {k} | {v:.2f} |" for k, v in t.items()] + [
            "", f"Peak memory {_f(x.get('peak_mb'), '{:,.0f}')} MB. Greedy cost {x['greedy_cost']:,.0f}; solver plan "
            f"{x['cost']:,.0f}, bound {_f(x['bound'], '{:,.0f}')} ({x['method']}, {x['steps']} steps), gap "
            f"{_pct(x['gap'])}; demand rows {x['rows'][0]:,} → {x['rows'][1]:,} merged.", ""]


def _setcover_lines(r: dict) -> list[str]:
    rows = [x for x in r.get("setcover", []) if "error" not in x]
    if not rows:
        return []
    lines = ["## Weighted set covering: OR-Library instances (targets: each ≤ 1 % above, average ≤ 0.5 %)", "",
             "Full cover, unit weights (`../shared/data/setcover`). This solver with `effort=\"fast\"` through "
             "`coverage.solve_cover`; HiGHS's MILP (scipy) on the same run with a "
             f"{HIGHS_SETCOVER_S:.0f} s limit. Targets for time: 200 × 1,000 ≤ 0.5 s, 1,000 × 10,000 ≤ 5 s.", "",
             "The bound is rounded up (integer costs); LP is the LP relaxation's optimum (HiGHS), the most a "
             "Lagrangian bound can reach before rounding.", "",
             "| instance | rows × columns | optimum | plan | % above | bound (method) | LP | time s | HiGHS plan | HiGHS s |",
             "|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for x in rows:
        opt = f"{x['optimum']}" + (" ✓" if x["proven"] else " (best known)")
        lines.append(f"| {x['name']} | {x['rows']:,} × {x['columns']:,} | {opt} | {x['cost']:.0f} | {100 * x['above']:.2f} "
                     f"| {_f(x['bound'], '{:.0f}')} ({x['bound_method']}) | {_f(x.get('lp'))} | {x['seconds']:.2f} "
                     f"| {_f(x.get('highs_cost'), '{:.0f}')} ({x.get('highs_status')}) | {_f(x.get('highs_s'))} |")
    above = [x["above"] for x in rows]
    lines += ["", f"Average {100 * sum(above) / len(above):.2f} % above; worst {100 * max(above):.2f} %; "
              f"{sum(a <= 0.01 for a in above)} of {len(above)} within 1 %.", ""]
    thorough = [x for x in r.get("setcover_thorough", []) if "error" not in x]
    if thorough:
        lines += ["With `effort=\"thorough\"` on the instances not proven optimal: " + "; ".join(
            f"{x['name']} {x['cost']:.0f} ({100 * x['above']:.2f} % above, bound {_f(x['bound'], '{:.0f}')}, "
            f"{x['seconds']:.1f} s)" for x in thorough) + ".", ""]
    return lines


def scaling_svg(r: dict, width: int = 640, height: int = 380) -> str:
    """Log-log plot of total seconds and peak MB against cells (10 k candidates)."""
    rows = [x for x in [r.get("headline")] + r.get("scale_cells", []) if x and "times" in x]
    rows = sorted(rows, key=lambda x: x["cells"])
    if len(rows) < 2:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    series = {"seconds (matrix+greedy+improve)": ("#1f5fbf", [x["times"]["matrix"] + x["times"]["greedy"]
                                                              + x["times"]["improve"] for x in rows]),
              "peak memory, GB": ("#e07b00", [(x.get("peak_mb") or 1) / 1024 for x in rows])}
    xs = [x["cells"] for x in rows]
    ys = [v for _, vals in series.values() for v in vals]
    lx0, lx1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    pl, pr, pt, pb = 60, 20, 30, 50
    w, h = width - pl - pr, height - pt - pb

    def px(v):
        return pl + w * (math.log10(v) - lx0) / (lx1 - lx0)

    def py(v):
        return pt + h * (1 - (math.log10(v) - ly0) / (ly1 - ly0))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">',
           f'<rect x="{pl}" y="{pt}" width="{w}" height="{h}" fill="#fafafa" stroke="#999"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="13">Time and memory against demand cells '
           f'(log-log, {rows[0]["sites"]:,} candidates)</text>']
    for e in range(lx0, lx1 + 1):
        out.append(f'<line x1="{px(10**e):.1f}" x2="{px(10**e):.1f}" y1="{pt}" y2="{pt + h}" stroke="#ddd"/>'
                   f'<text x="{px(10**e):.1f}" y="{pt + h + 15}" text-anchor="middle" font-size="10">1e{e}</text>')
    for e in range(ly0, ly1 + 1):
        out.append(f'<line x1="{pl}" x2="{pl + w}" y1="{py(10**e):.1f}" y2="{py(10**e):.1f}" stroke="#ddd"/>'
                   f'<text x="{pl - 5}" y="{py(10**e) + 4:.1f}" text-anchor="end" font-size="10">1e{e}</text>')
    out.append(f'<text x="{pl + w / 2}" y="{height - 10}" text-anchor="middle" font-size="11">demand cells</text>')
    for k, (label, (colour, vals)) in enumerate(series.items()):
        pts = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in zip(xs, vals))
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
        out += [f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}"/>' for x, v in zip(xs, vals)]
        out.append(f'<text x="{pl + 8}" y="{pt + 16 + 14 * k}" font-size="11" fill="{colour}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
