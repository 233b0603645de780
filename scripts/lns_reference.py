#!/usr/bin/env python
"""Offline reference for the 1 M × 10 k headline case: window-MILP large-neighbourhood search.

Not part of the solve and not a test: it asks whether the headline instance has a plan
much cheaper than the solver's (issue #15 wants a 3 % gap, which with a bound at the LP
value 1,983.6 needs a plan of at most 2,043), by a search far stronger than 1-out/1-in
swaps. Run it niced for a fixed time::

    nice -n 10 .venv/bin/python scripts/lns_reference.py --minutes 15 > lns.jsonl

Method (large-neighbourhood search with exact sub-MIPs, in the spirit of Shaw 1998 and
Danna, Rothberg & Le Pape's RINS 2005): start from the solver's own plan
(``solve_instance`` from greedy's plan, as ``scripts/bench.py`` runs it); then repeatedly
free every candidate inside ``--windows`` square windows (seeded random centres, side
``2 × half``), fix every other site at its current value, and solve the window exactly
with HiGHS's MILP (``scipy.optimize.milp``) on the merged model: the windows' sites
binary, the rows they reach that the fixed sites leave uncovered continuous in [0, 1],
and the target's need less what the fixed sites cover. Several windows at once let the
plan move coverage from one part of the map to another. A cheaper window solution
replaces the current one (feasibility re-checked on the whole model by the solver's own
test). The window grows when HiGHS proves its windows optimal quickly and shrinks when it
hits the time limit. One JSON line per improvement (seconds, cost, sites) and a summary
line at the end; ``--save`` keeps the best plan, ``--start`` goes on from a saved one.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def headline():
    """(model, site coordinates in model order, the solver's plan as a mask, greedy's cost)."""
    import numpy as np

    import bench
    from coverage.solver import Instance, solve_instance
    from coverage.solver.greedy import greedy_cover
    from coverage.solver.model import build_model

    matrix, costs, weights, sites = bench.headline_instance()
    greedy = greedy_cover(matrix, weights, costs, bench.TARGET)
    inst = Instance.build(matrix, costs, weights, bench.TARGET)
    result = solve_instance(inst, start=greedy.order)
    model = build_model(inst)
    pos = np.full(len(costs), -1)
    pos[model.free] = np.arange(len(model.free))
    plan = np.zeros(len(model.free), bool)
    plan[pos[result.sites]] = True
    return model, sites[model.free], plan, float(costs[greedy.order].sum()), result


def solve_window(model, plan, free, time_limit_s: float):
    """Re-solve the sites in mask ``free`` exactly with the rest of ``plan`` fixed.
    Returns (new plan or None, HiGHS proved the window optimal)."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    fixed = plan & ~free
    covered = np.bincount(model.matrix[np.flatnonzero(fixed)].indices, minlength=model.n_rows) > 0
    need = float(model.needs[0]) - float(model.weights[covered].sum())
    cols = np.flatnonzero(free)
    sub = sp.csr_matrix(model.matrix[cols], dtype=float)
    rows = np.flatnonzero((np.diff(sub.tocsc().indptr) > 0) & ~covered)
    if need <= 0:
        new = fixed.copy()
        return new, True
    sub = sub[:, rows]
    n, m = sub.shape
    w = model.weights[rows]
    scale = max(float(w.sum()), 1e-300)
    cover = sp.hstack([-sub.T, sp.identity(m, format="csr")], format="csr")
    demand = sp.hstack([sp.csr_matrix((1, n)), -sp.csr_matrix(w[None, :] / scale)], format="csr")
    a = sp.vstack([cover, demand], format="csr")
    upper = np.concatenate([np.zeros(m), [-need / scale]])
    c = np.concatenate([model.costs[cols], np.zeros(m)])
    res = milp(c, constraints=LinearConstraint(a, -np.inf, upper),
               integrality=np.concatenate([np.ones(n), np.zeros(m)]), bounds=Bounds(0, 1),
               options={"time_limit": time_limit_s, "mip_rel_gap": 1e-9, "disp": False})
    if res.x is None:
        return None, False
    new = fixed.copy()
    new[cols[res.x[:n] > 0.5]] = True
    return new, res.status == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--windows", type=int, default=2, help="windows freed at once")
    parser.add_argument("--half", type=float, default=7_500.0, help="first half-side of a window, metres")
    parser.add_argument("--window-limit", type=float, default=20.0, help="HiGHS's seconds per neighbourhood")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", help="save the best plan (model site indices, .npy) here after each improvement")
    parser.add_argument("--start", help="start from this saved plan (.npy from --save) instead of the solver's")
    opts = parser.parse_args()
    import numpy as np

    from coverage.solver.primal import dense_groups, is_feasible

    start = time.perf_counter()
    model, xy, plan, greedy_cost, result = headline()
    G = dense_groups(model)
    if opts.start:
        plan = np.zeros(len(plan), bool)
        plan[np.load(opts.start)] = True
        assert is_feasible(model, G, plan, (None, None)), "the saved plan does not meet the target"
    cost = float(model.costs[plan].sum())
    print(json.dumps({"event": "start", "seconds": round(time.perf_counter() - start, 1), "greedy_cost": greedy_cost,
                      "solver_cost": cost, "solver_bound": result.lower_bound, "sites": int(plan.sum())}), flush=True)
    rng = np.random.default_rng(opts.seed)
    side = float(xy.max())
    half, tried, accepted = opts.half, 0, 0
    begin = time.perf_counter()
    while time.perf_counter() - begin < opts.minutes * 60:
        free = np.zeros(len(plan), bool)
        for centre in rng.uniform(0, side, (opts.windows, 2)):
            free |= np.all(np.abs(xy - centre) <= half, axis=1)
        t = time.perf_counter()
        new, optimal = solve_window(model, plan, free, opts.window_limit)
        spent = time.perf_counter() - t
        tried += 1
        if new is not None and float(model.costs[new].sum()) < cost - 1e-9 and is_feasible(model, G, new, (None, None)):
            plan, cost, accepted = new, float(model.costs[new].sum()), accepted + 1
            if opts.save:
                np.save(opts.save, np.flatnonzero(plan))
            print(json.dumps({"event": "better", "seconds": round(time.perf_counter() - begin, 1), "cost": cost,
                              "sites": int(plan.sum()), "half_m": half, "free_sites": int(free.sum())}), flush=True)
        half = half * 1.1 if optimal and spent < opts.window_limit / 4 else half / 1.1 if not optimal else half
    print(json.dumps({"event": "end", "seconds": round(time.perf_counter() - begin, 1), "cost": cost,
                      "sites": int(plan.sum()), "neighbourhoods": tried, "accepted": accepted, "last_half_m": half}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
