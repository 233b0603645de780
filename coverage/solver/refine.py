"""Full cover: Caprara, Fischetti & Toth's (1999) Lagrangian heuristic, column fixing and refinement.

When every demand row of the reduced model must be covered (target 100 %, no budget,
no extra coverage constraint) the model is a plain weighted set-covering problem,
``min c·x  s.t.  Σ_{j ∋ i} x_j ≥ 1 for every row i``, and the Lagrangian relaxation of
its rows, ``L(u) = Σ_i u_i + Σ_j min(0, c_j − Σ_{i ∈ j} u_i)``, is a lower bound on
every cover for any ``u ≥ 0`` (drop the rows' terms, each ≤ 0 for a cover). This
module finds good covers from it, in the way of CFT:

1. **Ascent** on L (:mod:`.ascent`): the first one by the Volume algorithm (its best L
   is the proven bound, close to the LP relaxation's optimum), the warm-started ones
   inside column fixing by CFT's subgradient;
2. **Lagrangian greedy** at many multipliers of the ascent: the column of least
   ``γ_j / μ_j`` (``γ_j``: cost less the multipliers of the rows it would newly cover,
   ``μ_j``: how many) — ``γ_j · μ_j`` when γ_j ≤ 0 — then redundant columns dropped,
   most expensive first, and the cover polished by :func:`improve` (add one column, drop
   the chosen ones it makes redundant, while that saves cost);
3. **Column fixing** ("three-phase"): fix the first columns the greedy picks at the
   best multipliers, ascend again on the rows left, and repeat until every row is
   covered — each completed cover is a candidate;
4. **Refinement**: fix the best cover's columns of least score
   ``δ_j = max(c̃_j, 0) + Σ_{i ∈ j} u_i (σ_i − 1) / σ_i`` (c̃: reduced cost, σ_i: how
   many of its columns cover row i) until a share π of the rows is covered, run 1–3 on
   the rest, keep the better cover; π grows 10 % a round, back to 0.3 after a better
   cover (or past 0.95). The rounds stop after ``stall`` rounds without a better cover,
   or once they have cost ``work`` times the first ascent (:func:`_work`, each step of
   a round charged ``ROUND_STEP_FIXED`` pairs more for the array calls' fixed cost,
   which dominates on small residual problems; "fast" allows one first ascent's worth,
   so small dense instances stop after a few rounds);
5. **Row-weighting local search** (:mod:`.weighting`) from the best cover, on the core
   of least reduced costs, while the gap is open: a few seeded runs sharing
   ``ls_work`` elementary steps per column-row pair. It escapes the local optima of
   1–4 (OR-Library scpnrh1: 64 → the best known 63).

Columns whose reduced cost exceeds the gap (``L + c̃_j > best − 1`` for integer
costs) cannot be in a cheaper cover and are left out of the residual problems.
Everything is deterministic: step, round and local-search step counts are fixed by
``effort`` and the instance's size, never by the clock; ties go to the lower column
index; the local search's random choices are seeded.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np
import scipy.sparse as sp

from . import weighting
from .ascent import initial_u, lagrangian, subgradient, volume
from .model import Model
from .primal import FEAS_TOL, least_per_row

PI_START, PI_GROWTH, PI_MAX = 0.3, 1.1, 0.95
CORE_PER_ROW = 5
CORE_RC = 0.1
GREEDY_STEPS = 20  # a Lagrangian greedy costs about as much as this many subgradient steps
ROUND_STEP_FIXED = 20_000  # pairs a step of a refinement round is charged on top of its own (array-call overheads)
LS_RUN_MIN = 2_000_000  # elementary steps: a shorter local search run seldom gets anywhere
LS_CORE_PER_ROW = 5  # the local search's core: the columns of least reduced cost, this many per row


@dataclass(frozen=True, eq=False)
class SetCover:
    """A plain set-covering problem: ``cols`` (columns × rows, float CSR), ``rows`` (its
    transpose, CSR), ``costs`` per column."""

    cols: sp.csr_matrix
    rows: sp.csr_matrix
    costs: np.ndarray

    @classmethod
    def of(cls, matrix, costs) -> SetCover:
        a = sp.csr_matrix(matrix, dtype=float)
        a.sort_indices()
        return cls(a, sp.csr_matrix(a.T), np.asarray(costs, dtype=float))

    @property
    def n(self) -> int:
        return self.cols.shape[0]

    @property
    def m(self) -> int:
        return self.cols.shape[1]

    @cached_property
    def lists(self) -> list[list[int]]:
        """Each column's rows as a Python list (for the greedy's pick loop)."""
        ptr, ind = self.cols.indptr.tolist(), self.cols.indices.tolist()
        return [ind[a:b] for a, b in zip(ptr[:-1], ptr[1:])]

    @cached_property
    def row_lists(self) -> list[list[int]]:
        """Each row's columns as a Python list."""
        ptr, ind = self.rows.indptr.tolist(), self.rows.indices.tolist()
        return [ind[a:b] for a, b in zip(ptr[:-1], ptr[1:])]

    @cached_property
    def cost_list(self) -> list[float]:
        return self.costs.tolist()

    def col(self, j: int) -> np.ndarray:
        return self.cols.indices[self.cols.indptr[j]:self.cols.indptr[j + 1]]

    def counts(self, chosen: np.ndarray) -> np.ndarray:
        """How many chosen columns (indices) cover each row."""
        if len(chosen) == 0:
            return np.zeros(self.m, dtype=np.int64)
        return np.bincount(_gather(self.cols, chosen), minlength=self.m)

    def sub(self, col_idx: np.ndarray, row_idx: np.ndarray) -> SetCover:
        a = self.cols[col_idx][:, row_idx]
        return SetCover(a, sp.csr_matrix(a.T), self.costs[col_idx])


def _gather(csr: sp.csr_matrix, which: np.ndarray) -> np.ndarray:
    """The column indices of CSR rows ``which`` (concatenated)."""
    starts, ends = csr.indptr[which], csr.indptr[np.asarray(which) + 1]
    lens = ends - starts
    if lens.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    offs = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return csr.indices[offs + np.arange(lens.sum())]


def greedy(sc: SetCover, u: np.ndarray) -> np.ndarray:
    """CFT's Lagrangian greedy (module docstring): the chosen columns in the order taken
    (ties: lower column).

    Lazy (as CELF): a column's score never falls as rows get covered (``u ≥ 0``: γ only
    grows, μ only shrinks), so a heap of stale scores is a valid lower bound; the top one
    is rescored from its rows and taken when it still beats the next. Plain Python lists
    here: a pick touches ~ tens of rows, where numpy calls cost more than they save.
    """
    rows_of, costs, ul = sc.lists, sc.cost_list, u.tolist()
    unc, mu, gamma = [True] * sc.m, np.diff(sc.cols.indptr), sc.costs - sc.cols @ u
    live = np.flatnonzero(mu > 0)
    g, k = gamma[live], mu[live]
    score = np.where(g > 0, g / np.maximum(k, 1), g * k)
    heap = list(zip(score.tolist(), live.tolist()))
    heapq.heapify(heap)
    order, left = [], sc.m
    while left > 0 and heap:
        s, j = heapq.heappop(heap)
        rows = [i for i in rows_of[j] if unc[i]]
        if not rows:
            continue
        g = costs[j] - sum(ul[i] for i in rows)
        t = g / len(rows) if g > 0 else g * len(rows)
        if t > s and heap and (t, j) > heap[0]:
            heapq.heappush(heap, (t, j))
            continue
        order.append(j)
        for i in rows:
            unc[i] = False
        left -= len(rows)
    return np.asarray(order, dtype=np.int64)


def remove_redundant(sc: SetCover, chosen: np.ndarray) -> np.ndarray:
    """Drop columns every row of which another chosen column covers, most expensive first
    (ties: higher index first)."""
    chosen = np.unique(chosen)
    cnt = sc.counts(chosen).tolist()
    rows_of = sc.lists
    drop = []
    for j in chosen[np.lexsort((-chosen, -sc.costs[chosen]))].tolist():
        rows = rows_of[j]
        if all(cnt[i] >= 2 for i in rows):
            for i in rows:
                cnt[i] -= 1
            drop.append(j)
    return np.setdiff1d(chosen, drop) if drop else chosen


def swap_candidates(sc: SetCover, chosen: np.ndarray) -> list[tuple[int, list[int]]]:
    """Columns ``k`` outside the cover ``chosen`` (sorted, irredundant) whose rows include
    every row only some chosen ``j`` covers, for one or more ``j`` costing more than
    ``k`` in all: ``(k, those j)``, the largest such saving first (ties: lower ``k``)."""
    cnt = sc.counts(chosen)
    r = _gather(sc.cols, chosen)
    pos = np.repeat(np.arange(len(chosen)), np.diff(sc.cols.indptr)[chosen])
    alone = cnt[r] == 1
    owner = np.full(sc.m, -1)
    owner[r[alone]] = pos[alone]
    need = np.bincount(pos[alone], minlength=len(chosen))  # rows each chosen column alone covers
    rows = np.flatnonzero(owner >= 0)
    k = _gather(sc.rows, rows)
    key = k * len(chosen) + np.repeat(owner[rows], np.diff(sc.rows.indptr)[rows])
    key, hits = np.unique(key, return_counts=True)
    k, j = np.divmod(key, len(chosen))
    full = (hits == need[j]) & ~np.isin(k, chosen)
    k, j = k[full], j[full]
    saving = np.bincount(k, weights=sc.costs[chosen[j]], minlength=sc.n) - sc.costs
    good = np.flatnonzero(saving[k] > 1e-9)
    k, j = k[good], chosen[j[good]]
    order = np.lexsort((k, -saving[k]))
    k, j = k[order], j[order]
    if len(k) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    return [(int(k[a]), j[a:b].tolist()) for a, b in zip(starts, np.r_[starts[1:], len(k)])]


def improve(sc: SetCover, chosen: np.ndarray, passes: int = 10) -> np.ndarray:
    """Local search on the cover ``chosen`` (sorted, irredundant): add a column ``k`` of
    :func:`swap_candidates` and drop the chosen columns it makes redundant (most
    expensive first) when that saves cost; passes until none does."""
    rows_of, costs = sc.lists, sc.cost_list
    for _ in range(passes):
        cnt = sc.counts(chosen).tolist()
        inside = set(chosen.tolist())
        better = False
        for k, js in swap_candidates(sc, chosen):
            js = [j for j in js if j in inside]
            if k in inside or sum(costs[j] for j in js) <= costs[k] + 1e-9:
                continue
            drop = _swap(k, js, rows_of, costs, cnt)
            if drop:
                inside.difference_update(drop)
                inside.add(k)
                better = True
        chosen = np.asarray(sorted(inside), dtype=np.int64)
        if not better:
            break
    return chosen


def _swap(k: int, js: list, rows_of: list, costs: list, cnt: list) -> list:
    """Add column ``k`` and drop those of ``js`` it makes redundant (dearest first) when
    they cost more than ``k``: the dropped columns, with ``cnt`` (covers per row)
    updated; else ``[]`` with ``cnt`` as it was."""
    for i in rows_of[k]:
        cnt[i] += 1
    drop = []
    for j in sorted(js, key=lambda j: (-costs[j], -j)):
        if all(cnt[i] >= 2 for i in rows_of[j]):
            drop.append(j)
            for i in rows_of[j]:
                cnt[i] -= 1
    if sum(costs[j] for j in drop) > costs[k] + 1e-9:
        return drop
    for i in rows_of[k]:
        cnt[i] -= 1
    for j in drop:
        for i in rows_of[j]:
            cnt[i] += 1
    return []


def _offer_greedy(search: Search, res: SetCover, fixed: np.ndarray, cols: np.ndarray, u: np.ndarray) -> None:
    """Offer ``search`` the ``fixed`` columns plus the greedy cover of the residual
    problem ``res`` (its columns ``cols``) under the multipliers ``u``."""
    search.offer(np.concatenate([fixed, cols[greedy(res, u)]]))


@dataclass
class Search:
    """The best cover found of a :class:`SetCover` (column indices) and its cost; every
    cover offered is made irredundant and polished by :func:`improve` first."""

    sc: SetCover
    best: np.ndarray
    cost: float

    def offer(self, chosen: np.ndarray) -> bool:
        chosen = improve(self.sc, remove_redundant(self.sc, chosen))
        cost = float(self.sc.costs[chosen].sum())
        if cost < self.cost - 1e-9:
            self.best, self.cost = chosen, cost
            return True
        return False


def _work(nnz: int, steps: int, every: int) -> float:
    """The work of an ascent of ``steps`` on ``nnz`` column-row pairs with a greedy every
    ``every`` steps (0: none) and one after it, in column-row pairs visited."""
    return float(nnz) * (steps + GREEDY_STEPS * (1 + (steps // every if every else 0)))


def three_phase(sc: SetCover, u0: np.ndarray, upper: float, opt: dict, integral: bool
                ) -> tuple[np.ndarray | None, np.ndarray, float]:
    """Subgradient, Lagrangian greedy and column fixing on ``sc`` (module docstring).
    Returns (the best cover found, or None if none beats ``upper``; the multipliers
    the ascents ended with; their :func:`_work`)."""
    work = 0.0
    keep = core(sc, lagrangian(sc, u0)[1])
    sc = sc.sub(keep, np.arange(sc.m))
    search = Search(sc, np.zeros(0, dtype=np.int64), upper)
    fixed = np.zeros(0, dtype=np.int64)
    covered = np.zeros(sc.m, dtype=bool)
    u = u0.copy()
    steps, every = opt["steps"], opt["heur_every"]
    while not covered.all():
        rows = np.flatnonzero(~covered)
        fixed_cost = float(sc.costs[fixed].sum())
        cols = _useful_columns(sc, rows, fixed)
        res = sc.sub(cols, rows)
        if res.n == 0:
            break

        heuristic = partial(_offer_greedy, search, res, fixed, cols)

        res_upper = search.cost - fixed_cost
        bu, lb, _ = subgradient(res, u[rows], res_upper, steps, every=every, on_u=heuristic)
        work += _work(res.cols.nnz + ROUND_STEP_FIXED, steps, every)
        if fixed_cost + lb > search.cost - (1 - 1e-6 if integral else 1e-9):
            break  # nothing cheaper down this path
        u[rows] = bu
        pick = greedy(res, bu)
        search.offer(np.concatenate([fixed, cols[pick]]))
        take = pick[:max(1, int(np.ceil(opt["fix_share"] * len(pick))))]  # the greedy's first choices
        fixed = np.concatenate([fixed, cols[take]])
        covered[_gather(sc.cols, cols[take])] = True
        steps, every = opt["inner_steps"], opt["inner_every"]
    found = keep[search.best] if len(search.best) and search.cost < upper - 1e-9 else None
    return found, u, work


def core(sc: SetCover, rc: np.ndarray, per_row: int = CORE_PER_ROW) -> np.ndarray:
    """CFT's core: the ``per_row`` columns of least reduced cost ``rc`` of every row, and
    every column with ``rc`` below ``CORE_RC`` (sorted column indices)."""
    return np.flatnonzero(least_per_row(sc.rows, rc, per_row) | (rc < CORE_RC))


def _useful_columns(sc: SetCover, rows: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Columns (not fixed) that cover at least one of ``rows``."""
    mask = np.zeros(sc.n, dtype=bool)
    mask[_gather(sc.rows, rows)] = True
    mask[fixed] = False
    return np.flatnonzero(mask)


def solve(sc: SetCover, start: np.ndarray | None, opt: dict, integral: bool) -> tuple[np.ndarray, float, int]:
    """The best cover of ``sc`` found from ``start`` (column indices, a cover, or None) by
    three-phase and refinement rounds; returns (cover, proven lower bound, steps of the
    first ascent, the one the bound comes from)."""
    u = initial_u(sc)
    first = greedy(sc, u)
    search = Search(sc, np.arange(sc.n), float(sc.costs.sum()))
    search.offer(first)
    if start is not None:
        search.offer(np.asarray(start, dtype=np.int64))
    u, bound, steps = volume(sc, u, search.cost, opt["first_steps"], every=opt["first_every"],
                             on_u=lambda uu: search.offer(greedy(sc, uu)))
    lb, rc = lagrangian(sc, u)  # u stays the first ascent's best: rc fixes which columns may help
    pi, steer, stall = PI_START, u.copy(), 0
    first_work = _work(sc.cols.nnz, opt["first_steps"], opt["first_every"])
    budget = opt["work"] * first_work
    for _ in range(opt["rounds"]):
        if stall >= opt["stall"] or budget <= 0:
            break
        before = search.cost
        if search.cost - bound < (1 - 1e-6 if integral else 1e-9 * max(1.0, search.cost)):
            break
        fix = _refine_fix(sc, search.best, steer, pi)
        covered = np.zeros(sc.m, dtype=bool)
        if len(fix):
            covered[_gather(sc.cols, fix)] = True
        rows = np.flatnonzero(~covered)
        fixed_cost = float(sc.costs[fix].sum())
        if len(rows) == 0:
            break
        cols = _useful_columns(sc, rows, fix)
        slack = search.cost - lb - (1 - 1e-6 if integral else 0.0)
        cols = cols[rc[cols] <= max(slack, 0.0)]  # others cannot be in a cheaper cover
        if len(cols):
            res = sc.sub(cols, rows)
            if np.all(np.diff(res.rows.indptr) > 0):
                found, ures, work = three_phase(res, u[rows], search.cost - fixed_cost, opt, integral)
                budget -= work
                steer = u.copy()  # the next round's δ from the residual's multipliers
                steer[rows] = ures
                if found is not None:
                    search.offer(np.concatenate([fix, cols[found]]))
        improved = search.cost < before - 1e-9
        stall = 0 if improved else stall + 1
        pi = PI_START if improved or pi * PI_GROWTH >= PI_MAX else pi * PI_GROWTH
    if search.cost - bound >= (1 - 1e-6 if integral else 1e-9 * max(1.0, search.cost)):
        _weighting(search, rc, search.cost - lb - (1 - 1e-6 if integral else 0.0), opt)
    return search.best, bound - 1e-9 * max(1.0, abs(bound)), steps  # floating-point slack


def _weighting(search: Search, rc: np.ndarray, slack: float, opt: dict) -> None:
    """Row-weighting local search (:mod:`.weighting`): ``opt["ls_runs"]`` runs (seeds 0, 1, …),
    each from the best cover so far, on the core (:func:`core`, ``LS_CORE_PER_ROW`` columns
    per row) plus the best cover, less the columns whose reduced cost ``rc`` exceeds
    ``slack`` (they cannot be in a cheaper cover). The runs share ``opt["ls_work"]``
    elementary steps of the search per column-row pair of ``search.sc``, each at least
    ``LS_RUN_MIN`` (fewer runs when they would be shorter)."""
    sc = search.sc
    if opt["ls_runs"] <= 0 or opt["ls_work"] <= 0:
        return
    mask = np.zeros(sc.n, dtype=bool)
    mask[core(sc, rc, LS_CORE_PER_ROW)] = True
    mask &= rc <= max(slack, 0.0)
    mask[search.best] = True
    keep = np.flatnonzero(mask)
    sub = sc.sub(keep, np.arange(sc.m))
    if np.any(sub.costs <= 0):
        return
    pos = np.full(sc.n, -1)
    pos[keep] = np.arange(len(keep))
    total = opt["ls_work"] * sc.cols.nnz
    runs = max(1, min(opt["ls_runs"], int(total // LS_RUN_MIN)))  # runs too short to get anywhere: fewer
    for run in range(runs):
        found, cost = weighting.search(sub.lists, sub.row_lists, sub.cost_list, pos[search.best].tolist(), total / runs,
                                       run, below=search.cost)
        if cost < search.cost - 1e-9:
            search.offer(keep[np.asarray(found, dtype=np.int64)])


def _refine_fix(sc: SetCover, best: np.ndarray, u: np.ndarray, pi: float) -> np.ndarray:
    """The best cover's columns of least δ (module docstring) until a share ``pi`` of the
    rows is covered."""
    _, rc = lagrangian(sc, u)
    sigma = sc.counts(best).astype(float)
    share = np.where(sigma > 0, u * (sigma - 1) / np.maximum(sigma, 1), 0.0)
    delta = np.maximum(rc[best], 0.0) + np.asarray(sc.cols[best] @ share).ravel()
    order = best[np.lexsort((best, delta))]
    covered = np.zeros(sc.m, dtype=bool)
    target, n_covered = pi * sc.m, 0
    taken = []
    for j in order:
        if n_covered >= target:
            break
        taken.append(j)
        rows = sc.col(int(j))
        n_covered += int(np.count_nonzero(~covered[rows]))  # a running count, not a scan of every row
        covered[rows] = True
    return np.asarray(taken, dtype=np.int64)


def full_cover(model: Model, has_budget: bool) -> bool:
    """Is the reduced model a plain set-covering problem: no budget, no extra coverage
    constraint, and a need so close to all the reachable weight that leaving out any
    one row falls short of it, with the feasibility tolerance every plan is judged by
    (:data:`.primal.FEAS_TOL`; else the per-row bound could exceed a feasible plan's cost)?"""
    if has_budget or len(model.needs) != 1 or model.n_rows == 0:
        return False
    w = model.weights
    positive = w[w > 0]
    need = model.needs[0] - FEAS_TOL * max(model.needs[0], 1.0)
    return len(positive) > 0 and need > float(w.sum()) - float(positive.min())


def cover_all(model: Model, plan: np.ndarray | None, opt: dict, integral: bool) -> tuple[np.ndarray, float, int]:
    """:func:`solve` on a :func:`full_cover` model: (plan mask over its free sites, proven
    lower bound on the free sites' cost, subgradient steps the bound took)."""
    sc = SetCover.of(model.matrix, model.costs)
    start = None if plan is None else np.flatnonzero(plan)
    best, bound, steps = solve(sc, start, opt, integral)
    mask = np.zeros(sc.n, dtype=bool)
    mask[best] = True
    return mask, bound, steps
