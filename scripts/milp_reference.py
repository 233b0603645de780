#!/usr/bin/env python
"""Offline reference for the 1 M × 10 k headline case: HiGHS's MILP on the merged model.

Not part of the solve and not a test: it tells how far our plan and our bound are from
what an exact solver reaches in a long run, so the gap target can be judged honestly.

    nice -n 10 .venv/bin/python scripts/milp_reference.py --time-limit 1800 > milp.json

Builds the headline instance exactly as ``scripts/bench.py`` does (``synthetic_instance``
with ``synthetic_args(*HEADLINE)``, target 99 %), reduces it with the solver's own
:func:`coverage.solver.model.build_model` (merged rows), and hands the whole model
(sites binary, rows continuous in [0, 1], the same formulation as
:func:`coverage.solver.primal.milp`) to ``scipy.optimize.milp`` (HiGHS) with no node
limit and the given time limit. Prints one JSON line: HiGHS's best plan (its cost, checked
feasible by the solver's own test), its dual bound, and the seconds it took; HiGHS's own
log (``--log``) shows how the incumbent and the dual bound moved over time.
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


def headline_model():
    """The headline instance's reduced model (the one the solver works on)."""
    import bench
    from coverage.solver import Instance
    from coverage.solver.model import build_model

    matrix, costs, weights, _ = bench.headline_instance()
    return build_model(Instance.build(matrix, costs, weights, bench.TARGET))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=1800.0, help="HiGHS's time limit, seconds")
    parser.add_argument("--log", action="store_true", help="print HiGHS's log (stdout)")
    parser.add_argument("--out", default="-", help="where the JSON line goes (default stdout)")
    parser.add_argument("--plan", help="save HiGHS's plan (model site indices, .npy) here")
    parser.add_argument("--no-presolve", action="store_true",
                        help="skip HiGHS's presolve (on this model it did not finish in 30 minutes)")
    opts = parser.parse_args()
    import numpy as np
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    from coverage.solver.primal import dense_groups, is_feasible

    model = headline_model()
    out = {"sites": int(model.matrix.shape[0]), "rows": int(model.n_rows), "nnz": int(model.matrix.nnz),
           "time_limit_s": opts.time_limit, "presolve": not opts.no_presolve}
    n, m = model.matrix.shape
    w = model.weights / model.weights.sum()
    cover = sp.hstack([-sp.csr_matrix(model.matrix.T, dtype=float), sp.identity(m, format="csr")], format="csr")
    need = sp.hstack([sp.csr_matrix((1, n)), sp.csr_matrix(-w[None, :])], format="csr")
    a = sp.vstack([cover, need], format="csr")
    upper = np.concatenate([np.zeros(m), [-model.needs[0] / model.weights.sum()]])
    c = np.concatenate([model.costs, np.zeros(m)])
    start = time.perf_counter()
    res = milp(c, constraints=LinearConstraint(a, -np.inf, upper),
               integrality=np.concatenate([np.ones(n), np.zeros(m)]), bounds=Bounds(0, 1),
               options={"time_limit": opts.time_limit, "mip_rel_gap": 1e-9, "disp": opts.log,
                        "presolve": not opts.no_presolve})
    out["seconds"] = time.perf_counter() - start
    out["status"] = res.message
    dual = getattr(res, "mip_dual_bound", None)
    out["dual_bound"] = float(dual) if dual is not None and np.isfinite(dual) else None
    plan = None if res.x is None else res.x[:n] > 0.5
    if plan is not None:
        out["plan_cost"] = float(model.costs[plan].sum())
        out["plan_sites"] = int(plan.sum())
        out["plan_feasible"] = is_feasible(model, dense_groups(model), plan, (None, None))
        if opts.plan:
            np.save(opts.plan, np.flatnonzero(plan))
    text = json.dumps(out)
    if opts.out == "-":
        print(text)
    else:
        Path(opts.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
