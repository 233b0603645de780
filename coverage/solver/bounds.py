"""How good is a plan? A proven bound on the optimum, and an optional exact solve.

Min-cost partial cover as an integer programme over the allowed, not preselected sites
``x_i ∈ {0, 1}`` and the demand cells ``y_j ∈ [0, 1]``::

    minimise   Σ c_i x_i                      (+ the preselected sites' cost, a constant)
    subject to y_j ≤ Σ_{i covers j} x_i       for every cell j
               Σ w_j y_j ≥ target · W − (demand the preselected sites already cover)

Its LP relaxation (``x_i ∈ [0, 1]``) is solved with HiGHS through
:func:`scipy.optimize.linprog`. The bound reported is not HiGHS's objective value but
the Lagrangian dual function evaluated at the duals HiGHS returns: that number is a
valid lower bound for *any* non-negative multipliers, so it is proven even when HiGHS
stops at its time limit or within its tolerances (it is then only weaker). When costs
are integers the bound is rounded up, since every plan's cost is an integer.

Before solving, cells the preselected sites cover drop out (their demand counts as
covered), cells no allowed site reaches drop out (they count in W but can never be
covered), and cells covered by exactly the same set of sites are merged into one row
with their weights summed (hash of each column's site set, then an exact check).

Under a budget (``max_sites`` / ``max_cost``) the same machinery gives an *upper* bound
on the coverage any plan within the budget can reach (:func:`coverage_upper_bound`).
:func:`exact` solves the integer programme with :func:`scipy.optimize.milp` under a
time limit and reports HiGHS's status, objective, dual bound and MIP gap.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .instance import cells_reached

INTEGER_TOL = 1e-9   # costs this close to an integer count as integers
ROUND_TOL = 1e-6     # relative slack before rounding an integer-cost bound up
HASH_SEED = 20240608
LP_NONZEROS = 500_000   # larger merged models get the subgradient bound only (HiGHS did not finish in 30 s)
SUBGRADIENT_STEPS = 300


@dataclass(frozen=True)
class Bound:
    """A proven bound from the LP relaxation.

    ``value`` is a lower bound on the least total cost (cost units, preselected sites
    included) for :func:`lower_bound`, or an upper bound on the coverage fraction for
    :func:`coverage_upper_bound`; None when nothing could be proven (``status`` and
    ``message`` say why). ``lp_value`` is HiGHS's own objective (not itself a proof).
    ``target_used`` is the fraction bounded (the target, or the reachable share when
    the target is out of reach). ``seconds`` is wall time, ``rows_from``/``rows_to`` the
    demand rows before and after dropping and merging.
    """

    kind: str                 # "min_cost" or "max_coverage"
    value: float | None
    lp_value: float | None
    status: str               # optimal | lagrangian | time_limit | trivial | infeasible | failed
    message: str
    target_used: float
    seconds: float
    rows_from: int
    rows_to: int

    @property
    def lower_bound(self) -> float | None:
        return self.value if self.kind == "min_cost" else None

    @property
    def proven(self) -> bool:
        return self.value is not None

    def gap(self, cost: float) -> float | None:
        """Relative gap of a plan costing ``cost`` to this lower bound: (cost − bound) / bound."""
        if self.kind != "min_cost" or self.value is None:
            return None
        if self.value <= 0:
            return 0.0 if cost <= 0 else None
        return max(0.0, (cost - self.value) / self.value)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "lp_value": self.lp_value, "status": self.status,
                "message": self.message, "target_used": self.target_used, "seconds": self.seconds,
                "rows_from": self.rows_from, "rows_to": self.rows_to}


@dataclass(frozen=True)
class Exact:
    """An exact (MILP) solve: ``objective`` is the best plan's total cost found (None if
    none), ``dual_bound`` HiGHS's proven lower bound, ``gap`` their relative gap,
    ``sites`` the chosen site indices (preselected first)."""

    status: str               # optimal | time_limit | infeasible | trivial | failed
    message: str
    objective: float | None
    dual_bound: float | None
    gap: float | None
    sites: np.ndarray | None
    target_used: float
    seconds: float


@dataclass(frozen=True)
class Reduced:
    """The cover model after dropping and merging demand rows.

    ``matrix`` is free sites × merged rows (CSR, boolean); ``free`` the site index of
    each row of it; ``weights`` the merged demand per row; ``need`` the demand the free
    sites must still cover (same units as the weights); ``fixed_cost`` the preselected
    sites' cost; ``total`` all demand W; ``pre_covered`` what the preselected cover.
    """

    matrix: sp.csr_matrix
    free: np.ndarray
    costs: np.ndarray
    weights: np.ndarray
    need: float
    fixed_cost: float
    total: float
    pre_covered: float
    rows_from: int
    target_used: float
    clamped: bool


def lower_bound(matrix: sp.csr_matrix, weights: np.ndarray, costs: np.ndarray, target: float,
                preselected=(), allowed: np.ndarray | None = None, time_limit_s: float = 10.0,
                clamp_to_reachable: bool = True, upper: float | None = None,
                max_lp_nonzeros: int = LP_NONZEROS) -> Bound:
    """A proven lower bound on the least total cost that covers ``target`` of the demand.

    Arguments as for :func:`coverage.solver.greedy.greedy_cover`; ``costs`` in cost units,
    ``time_limit_s`` in seconds (HiGHS's ``time_limit``). When the target is out of
    reach and ``clamp_to_reachable``, the bound is for covering all reachable demand
    (what greedy then does); otherwise the status is "infeasible".

    Models with more than ``max_lp_nonzeros`` site–row pairs after merging, and models
    HiGHS does not finish in time, get a Lagrangian bound by subgradient ascent instead
    (:func:`subgradient_bound`; ``upper``, the total cost of a known plan, steers its
    steps). Either way the value is proven.
    """
    start = time.perf_counter()
    red = reduce_problem(matrix, weights, costs, target, preselected, allowed, clamp_to_reachable)
    done = _trivial(red, "min_cost", start)
    if done is not None:
        return done
    n_free, n_rows = red.matrix.shape
    free_upper = None if upper is None else max(upper - red.fixed_cost, 0.0)
    if red.matrix.nnz > max_lp_nonzeros:
        value, iterations = subgradient_bound(red, free_upper)
        return _bound_from_free_value(red, value, None, "lagrangian",
                                      f"{red.matrix.nnz:,} site-row pairs: too large for the LP in time; "
                                      f"Lagrangian bound after {iterations} subgradient steps", start)
    from scipy.optimize import linprog  # here: scipy.optimize takes a while to import

    scale = red.weights.sum()
    c = np.concatenate([red.costs, np.zeros(n_rows)])
    a_ub, b_ub = _cover_constraints(red.matrix, red.weights / scale, red.need / scale)
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs",
                  options={"time_limit": float(time_limit_s), "disp": False})
    lp_value = float(res.fun) + red.fixed_cost if res.status == 0 else None
    dual = _lagrangian(c, a_ub, b_ub, res)
    status = {0: "optimal", 1: "time_limit"}.get(res.status, "failed")
    message = res.message
    if res.status != 0:  # HiGHS stopped early: a subgradient bound may prove more
        sub, iterations = subgradient_bound(red, free_upper)
        if dual is None or sub > dual:
            dual, status = sub, "lagrangian"
            message = f"HiGHS: {res.message}; Lagrangian bound after {iterations} subgradient steps"
    return _bound_from_free_value(red, dual, lp_value, status, message, start)


def _bound_from_free_value(red: Reduced, free_value: float | None, lp_value, status: str, message: str,
                           start: float) -> Bound:
    """The Bound for a proven value of the free sites' part (None: nothing proven)."""
    value = None
    if free_value is not None:
        value = red.fixed_cost + max(0.0, free_value)
        if _integral(red.costs) and _integral([red.fixed_cost]):
            value = float(math.ceil(value - ROUND_TOL * max(1.0, value)))
    if value is None:
        message = f"no bound proven: {message}"
    if red.clamped:
        message = f"target out of reach; bound for the reachable {red.target_used:.4%}. " + message
    return Bound("min_cost", value, lp_value, status, message, red.target_used,
                 time.perf_counter() - start, red.rows_from, red.matrix.shape[1])


def subgradient_bound(red: Reduced, upper: float | None = None, iterations: int = SUBGRADIENT_STEPS,
                      patience: int = 20) -> tuple[float, int]:
    """A Lagrangian lower bound on the free sites' cost, by subgradient ascent.

    Relaxing ``y_r ≤ Σ_{i covers r} x_i`` with multipliers ``u_r ≥ 0`` leaves
    ``L(u) = Σ_i min(0, c_i − Σ_{r ∋ i} u_r) + min{Σ u_r y_r : Σ w_r y_r ≥ need, 0 ≤ y ≤ 1}``,
    a fractional knapsack solved by sorting rows on ``u_r / w_r``. Every ``L(u)`` is a
    valid lower bound on the LP and so on any plan; the best one seen is returned, with
    the number of steps taken. Steps follow Polyak's rule towards ``upper`` (the free
    cost of a known plan; the cost of all free sites when None), halving after
    ``patience`` steps without progress. Deterministic: no randomness, fixed caps.
    """
    m = sp.csr_matrix(red.matrix, dtype=float)  # free sites × rows
    c, w, need = red.costs, red.weights, red.need
    upper = float(c.sum()) if upper is None else float(upper)
    reach = np.asarray(m @ w).ravel()  # weight each site could cover
    price = np.where(reach > 0, c / np.maximum(reach, 1e-300), np.inf)
    cheapest = np.full(m.shape[1], np.inf)
    coo = m.tocoo()
    np.minimum.at(cheapest, coo.col, price[coo.row])
    u = w * np.where(np.isfinite(cheapest), cheapest, 0.0)  # each row priced by its cheapest site
    best, theta, stale, step = -np.inf, 2.0, 0, 0
    for step in range(1, iterations + 1):  # noqa: B007 - the last step is returned
        reduced = c - np.asarray(m @ u).ravel()
        x = reduced < 0
        y, knapsack = _fractional_knapsack(u, w, need)
        value = float(np.minimum(reduced, 0.0).sum() + knapsack)
        if value > best + 1e-9 * max(1.0, abs(best) if np.isfinite(best) else 1.0):
            best, stale = value, 0
        else:
            stale += 1
            if stale >= patience:
                theta, stale = theta / 2, 0
        g = y - np.asarray(m.T @ x.astype(float)).ravel()
        norm = float(g @ g)
        if norm == 0 or theta < 1e-4 or upper - best <= 1e-9 * max(1.0, upper):
            break
        u = np.maximum(u + theta * (upper - value) / norm * g, 0.0)
    return best - 1e-9 * max(1.0, abs(best)), step


def _fractional_knapsack(u: np.ndarray, w: np.ndarray, need: float) -> tuple[np.ndarray, float]:
    """y ∈ [0, 1] minimising Σ u·y with Σ w·y ≥ need: cheapest rows per unit weight first."""
    order = np.lexsort((np.arange(len(u)), u / np.maximum(w, 1e-300)))
    filled = np.cumsum(w[order])
    full = filled <= need
    y = np.zeros(len(u))
    y[order[full]] = 1.0
    k = int(full.sum())
    if k < len(order):
        before = filled[k - 1] if k else 0.0
        y[order[k]] = min(max((need - before) / w[order[k]], 0.0), 1.0)
    return y, float(u @ y)


def coverage_upper_bound(matrix: sp.csr_matrix, weights: np.ndarray, costs: np.ndarray,
                         preselected=(), allowed: np.ndarray | None = None, max_sites: int | None = None,
                         max_cost: float | None = None, time_limit_s: float = 10.0) -> Bound:
    """A proven upper bound on the coverage fraction any plan within the budget can reach.

    ``max_sites`` / ``max_cost`` limit the non-preselected sites, as in greedy.
    """
    start = time.perf_counter()
    red = reduce_problem(matrix, weights, costs, 1.0, preselected, allowed, clamp_to_reachable=True)
    n_free, n_rows = red.matrix.shape
    if n_rows == 0 or n_free == 0 or red.total <= 0:
        value = red.pre_covered / red.total if red.total > 0 else 1.0
        return Bound("max_coverage", value, value, "trivial", "nothing left to cover", 1.0,
                     time.perf_counter() - start, red.rows_from, n_rows)
    scale = red.weights.sum()
    c = np.concatenate([np.zeros(n_free), -red.weights / scale])
    a_ub, _ = _cover_constraints(red.matrix, red.weights / scale, 0.0)
    a_ub, b_ub = a_ub[:n_rows], np.zeros(n_rows)
    extra, rhs = [], []
    if max_sites is not None:
        extra.append(np.concatenate([np.ones(n_free), np.zeros(n_rows)]))
        rhs.append(float(max_sites))
    if max_cost is not None:
        extra.append(np.concatenate([red.costs, np.zeros(n_rows)]))
        rhs.append(float(max_cost) * (1 + 1e-12))
    if extra:
        a_ub = sp.vstack([a_ub, sp.csr_matrix(np.vstack(extra))], format="csr")
        b_ub = np.concatenate([b_ub, rhs])
    from scipy.optimize import linprog  # here: scipy.optimize takes a while to import

    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs",
                  options={"time_limit": float(time_limit_s), "disp": False})
    dual = _lagrangian(c, a_ub, b_ub, res)
    value = lp_value = None
    if dual is not None:  # dual ≤ min(−covered share of reachable) ⇒ covered ≤ −dual
        reach = min(1.0, -dual + 1e-12)
        value = float((red.pre_covered + reach * scale) / red.total)
    if res.status == 0:
        lp_value = float((red.pre_covered - float(res.fun) * scale) / red.total)
    status = {0: "optimal", 1: "time_limit"}.get(res.status, "failed")
    message = res.message if value is not None else f"no bound proven: {res.message}"
    return Bound("max_coverage", value, lp_value, status, message, 1.0,
                 time.perf_counter() - start, red.rows_from, n_rows)


def exact(matrix: sp.csr_matrix, weights: np.ndarray, costs: np.ndarray, target: float,
          preselected=(), allowed: np.ndarray | None = None, time_limit_s: float = 60.0,
          mip_rel_gap: float = 1e-6, clamp_to_reachable: bool = True) -> Exact:
    """Solve the min-cost partial cover exactly with HiGHS's MILP (``time_limit_s`` seconds).

    The status is "optimal" only when HiGHS proved optimality (within ``mip_rel_gap``);
    at the time limit the best plan found and the proven dual bound are reported.
    """
    start = time.perf_counter()
    red = reduce_problem(matrix, weights, costs, target, preselected, allowed, clamp_to_reachable)
    pre = np.asarray(preselected, dtype=np.int64)
    n_free, n_rows = red.matrix.shape
    if red.need <= 0:
        return Exact("trivial", "the preselected sites meet the target", red.fixed_cost, red.fixed_cost, 0.0,
                     pre, red.target_used, time.perf_counter() - start)
    if red.need > red.weights.sum() * (1 + 1e-12):
        return Exact("infeasible", "target out of reach", None, None, None, None, red.target_used,
                     time.perf_counter() - start)
    scale = red.weights.sum()
    c = np.concatenate([red.costs, np.zeros(n_rows)])
    a_ub, b_ub = _cover_constraints(red.matrix, red.weights / scale, red.need / scale)
    integrality = np.concatenate([np.ones(n_free), np.zeros(n_rows)])
    from scipy.optimize import Bounds, LinearConstraint, milp  # here: scipy.optimize takes a while to import

    res = milp(c, constraints=LinearConstraint(a_ub, -np.inf, b_ub), integrality=integrality,
               bounds=Bounds(0, 1), options={"time_limit": float(time_limit_s), "mip_rel_gap": mip_rel_gap,
                                             "disp": False})
    objective = sites = None
    if res.x is not None:
        chosen = red.free[res.x[:n_free] > 0.5]
        sites = np.concatenate([pre, chosen]).astype(np.int64)
        objective = float(red.costs[res.x[:n_free] > 0.5].sum()) + red.fixed_cost
    dual = getattr(res, "mip_dual_bound", None)
    dual = None if dual is None or not np.isfinite(dual) else float(dual) + red.fixed_cost
    gap = None
    if objective is not None and dual is not None and dual > 0:
        gap = max(0.0, (objective - dual) / dual)
    status = {0: "optimal", 1: "time_limit", 2: "infeasible"}.get(res.status, "failed")
    return Exact(status, res.message, objective, dual, gap, sites, red.target_used, time.perf_counter() - start)


def reduce_problem(matrix: sp.csr_matrix, weights: np.ndarray, costs: np.ndarray, target: float,
                   preselected=(), allowed: np.ndarray | None = None,
                   clamp_to_reachable: bool = True) -> Reduced:
    """Drop covered and unreachable cells, merge identical columns: the model to solve."""
    matrix = sp.csr_matrix(matrix)
    n_sites, n_cells = matrix.shape
    weights = np.asarray(weights, dtype=float)
    costs = np.asarray(costs, dtype=float)
    pre = np.asarray(preselected, dtype=np.int64)
    free_mask = np.ones(n_sites, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
    free_mask[pre] = False
    free = np.flatnonzero(free_mask)
    total = float(weights.sum())
    pre_reach = cells_reached(matrix, pre) if len(pre) else np.zeros(n_cells, dtype=bool)
    pre_covered = float(weights[pre_reach].sum())
    by_cell = sp.csr_matrix(matrix[free].T)  # cells × free sites
    open_cells = np.flatnonzero((np.diff(by_cell.indptr) > 0) & ~pre_reach & (weights > 0))
    merged, merged_w = merge_rows(by_cell[open_cells], weights[open_cells])
    need = target * total * (1 - 1e-12) - pre_covered
    target_used, clamped = target, False
    if clamp_to_reachable and need > merged_w.sum():
        need, clamped = float(merged_w.sum()), True
        target_used = (pre_covered + need) / total
    return Reduced(merged, free, costs[free], merged_w, float(need), float(costs[pre].sum()), total,
                   pre_covered, len(open_cells), target_used, clamped)


def merge_identical_columns(matrix: sp.csr_matrix, weights: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Merge cells (columns) covered by exactly the same set of sites; sum their weights.

    Each column's site set is hashed (sum of a random 64-bit word per site, wrapping)
    together with its size; columns in one hash group are then checked against the
    group's first column, and any that differ (a hash collision) are kept apart.
    Returns the merged sites × groups matrix (groups ordered by their first column)
    and the summed weights.
    """
    return merge_rows(sp.csr_matrix(sp.csr_matrix(matrix).T), weights)


def merge_rows(by_cell: sp.csr_matrix, weights: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """:func:`merge_identical_columns` on the transposed (cells × sites) matrix."""
    by_cell = sp.csr_matrix(by_cell)
    by_cell.sum_duplicates()
    by_cell.sort_indices()
    n_cells = by_cell.shape[0]
    if n_cells == 0:
        return sp.csr_matrix((by_cell.shape[1], 0), dtype=bool), np.zeros(0)
    indptr = by_cell.indptr.astype(np.int64)
    words = np.random.default_rng(HASH_SEED).integers(0, 2**63, by_cell.shape[1], dtype=np.uint64) * np.uint64(2) + \
        np.uint64(1)
    running = np.concatenate([[np.uint64(0)], np.cumsum(words[by_cell.indices], dtype=np.uint64)])
    digest = running[indptr[1:]] - running[indptr[:-1]]
    size = np.diff(indptr)
    group = _group_ids(digest, size)
    group = _split_collisions(group, by_cell, size)
    first = np.full(group.max() + 1, n_cells, dtype=np.int64)
    np.minimum.at(first, group, np.arange(n_cells, dtype=np.int64))
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    group = rank[group]
    reps = np.sort(first)
    merged_w = np.bincount(group, weights=weights, minlength=len(reps))
    merged = sp.csr_matrix(by_cell[reps].T, dtype=bool)
    merged.sort_indices()
    return merged, merged_w


def _group_ids(digest: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Equal (digest, size) pairs get equal ids (0 … k−1)."""
    order = np.lexsort((digest, size))
    d, s = digest[order], size[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (d[1:] != d[:-1]) | (s[1:] != s[:-1])
    ids = np.empty(len(order), dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids


def _split_collisions(group: np.ndarray, by_cell: sp.csr_matrix, size: np.ndarray) -> np.ndarray:
    """Give any column whose site set differs from its group's first column a group of its own."""
    n = len(group)
    first = np.full(group.max() + 1, n, dtype=np.int64)
    np.minimum.at(first, group, np.arange(n, dtype=np.int64))
    rep = first[group]
    indptr, indices = by_cell.indptr.astype(np.int64), by_cell.indices
    if len(indices) == 0:
        return group
    shift = np.repeat(indptr[rep] - indptr[:-1], size)  # where each entry's twin sits in the first column
    differs = indices != indices[np.arange(len(indices), dtype=np.int64) + shift]
    filled = size > 0
    bad = np.zeros(n, dtype=bool)
    bad[filled] = np.logical_or.reduceat(differs, indptr[:-1][filled])
    if bad.any():
        group = group.copy()
        group[bad] = group.max() + 1 + np.arange(int(bad.sum()))
    return group


def _cover_constraints(merged: sp.csr_matrix, weights: np.ndarray, need: float) -> tuple[sp.csr_matrix, np.ndarray]:
    """A_ub, b_ub over [x (free sites), y (rows)]: y_r − Σ x_i ≤ 0, and −Σ w_r y_r ≤ −need."""
    n_free, n_rows = merged.shape
    cover = sp.hstack([-sp.csr_matrix(merged.T, dtype=float), sp.identity(n_rows, format="csr")], format="csr")
    demand = sp.csr_matrix(np.concatenate([np.zeros(n_free), -weights])[None, :])
    return sp.vstack([cover, demand], format="csr"), np.concatenate([np.zeros(n_rows), [-need]])


def _lagrangian(c: np.ndarray, a_ub: sp.csr_matrix, b_ub: np.ndarray, res) -> float | None:
    """min over z ∈ [0, 1]^n of c·z + λ·(A z − b) at λ = HiGHS's duals (clipped ≥ 0).

    Valid lower bound on the LP (and so on the integer optimum) for any λ ≥ 0.
    """
    marginals = getattr(getattr(res, "ineqlin", None), "marginals", None)
    if marginals is None or len(marginals) != len(b_ub) or not np.all(np.isfinite(marginals)):
        return None
    lam = np.maximum(-np.asarray(marginals, dtype=float), 0.0)
    reduced = c + a_ub.T @ lam
    value = float(-lam @ b_ub + np.minimum(reduced, 0.0).sum())
    return value - 1e-9 * max(1.0, abs(value))  # floating-point slack


def _trivial(red: Reduced, kind: str, start: float) -> Bound | None:
    n_rows = red.matrix.shape[1]
    if red.need <= 0:
        return Bound(kind, red.fixed_cost, red.fixed_cost, "trivial", "the preselected sites meet the target",
                     red.target_used, time.perf_counter() - start, red.rows_from, n_rows)
    if red.need > red.weights.sum() * (1 + 1e-12):
        return Bound(kind, None, None, "infeasible", "target out of reach with the allowed sites; no bound",
                     red.target_used, time.perf_counter() - start, red.rows_from, n_rows)
    return None


def _integral(values) -> bool:
    values = np.asarray(values, dtype=float)
    return bool(np.all(np.abs(values - np.round(values)) <= INTEGER_TOL))
