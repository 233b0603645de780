"""Local search after greedy: drop redundant sites, swap one out / one in.

The search never makes a plan worse in this order of priorities (a lexicographic key):

1. covered demand, counted up to the target: ``min(covered, target)``;
2. cost of the plan (lower is better);
3. covered demand beyond the target (more slack lets a later drop succeed).

So when greedy met the target, coverage never falls below it and cost never rises; when
it stopped short (a budget, or the target is out of reach), coverage never falls and
the budget is never exceeded. Preselected (existing/forced) sites are never removed and
only ``allowed`` sites are ever added.

Moves, repeated in rounds until none improves the key or a cap is reached:

* **drop** a selected site whose removal keeps the key improving (most expensive first,
  then the one covering least demand alone, then the lower site index);
* **add** the best affordable site by gain per cost while the plan is below the target
  and the budget has room;
* **swap**: for each selected site (most expensive, least marginal first) the best
  unselected allowed site to replace it, evaluated against *all* candidates at once.

The state is per-cell cover counts (how many selected sites cover each cell) and, for
each cell, the sum of the indices of the sites covering it — the owner of a cell
covered once. Then a selected site's *loss* (demand only it covers) and every site's
*gain* (uncovered demand it would cover) are kept up to date with a few sparse
gathers per move; no Python loop runs over cells or nonzeros.

Weights are the same fixed-point integers as :func:`coverage.solver.greedy.quantise` (total
about 2**52), held in float64: every sum of them is below 2**53 and therefore exact,
so results are deterministic and ties break on the site index. The search is bounded
by ``max_rounds`` and ``max_swap_evaluations`` (deterministic caps);
``time_limit_s`` is only a safety net and, if it fires, the stats say so because the
result may then depend on machine speed.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .greedy import Solution, evaluate_order, greedy_cover, quantise

COST_EPS = 1e-9  # relative tolerance on cost comparisons
STOP_REASONS = ("local_optimum", "max_rounds", "max_swap_evaluations", "time_limit")


@dataclass(frozen=True)
class Improvement:
    """The result of :func:`improve`: the new Solution and what the search did.

    Costs are total plan costs in the sites' cost units (preselected sites included, as
    in ``summary.json``'s ``total_cost``); coverages are fractions of the total demand.
    """

    solution: Solution
    n_dropped: int
    n_swaps: int
    n_added: int
    cost_before: float
    cost_after: float
    coverage_before: float
    coverage_after: float
    sites_before: int
    sites_after: int
    swap_evaluations: int
    rounds: int
    stop_reason: str
    seconds: float

    def as_dict(self) -> dict:
        """JSON-ready statistics (without the Solution)."""
        return {k: getattr(self, k) for k in (
            "n_dropped", "n_swaps", "n_added", "cost_before", "cost_after", "coverage_before",
            "coverage_after", "sites_before", "sites_after", "swap_evaluations", "rounds",
            "stop_reason", "seconds")}


def improve(
    matrix: sp.csr_matrix,
    weights: np.ndarray,
    costs: np.ndarray,
    target: float,
    solution: Solution,
    allowed: np.ndarray | None = None,
    max_sites: int | None = None,
    max_cost: float | None = None,
    max_rounds: int = 10,
    max_swap_evaluations: int = 20_000,
    time_limit_s: float | None = 60.0,
    rank: bool = True,
) -> Improvement:
    """Improve a greedy ``solution`` by drops, adds and 1-out/1-in swaps.

    ``matrix`` (sites × cells, boolean CSR), ``weights`` (demand per cell), ``costs``
    (per site), ``target`` (0–1], ``max_sites`` and ``max_cost`` mean what they mean
    for :func:`coverage.solver.greedy.greedy_cover` (budgets on the non-preselected sites).
    ``allowed`` masks the sites that may be added (forbidden and preselected excluded
    by the caller; all sites when None). The first ``solution.n_preselected`` sites of
    ``solution.order`` are kept. ``max_swap_evaluations`` caps the number of selected
    sites tried for a swap (each try scores every candidate at once); ``time_limit_s``
    (seconds, None for none) is a safety net only. ``rank=False`` returns the plan's sites
    in index order instead of ranking them as greedy would (a greedy over the plan: seconds
    on a city-sized model, for callers that only need the set).
    """
    start = time.perf_counter()
    matrix = sp.csr_matrix(matrix)
    n_sites = matrix.shape[0]
    costs = np.asarray(costs, dtype=float)
    order = np.asarray(solution.order, dtype=np.int64)
    preselected = order[:solution.n_preselected]
    can_add = np.ones(n_sites, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
    can_add[preselected] = False

    state = _State(matrix, quantise(weights).astype(float), costs, order, preselected)
    search = _Search(state, target, can_add, max_sites, max_cost, max_swap_evaluations,
                     None if time_limit_s is None else start + time_limit_s)
    cost_before, covered_before, sites_before = state.cost + state.fixed_cost, state.covered, int(state.selected.sum())
    rounds, stop = 0, "local_optimum"
    while True:
        if rounds >= max_rounds:
            stop = "max_rounds"
            break
        rounds += 1
        changed = search.drop_all() | search.add_all() | search.swap_pass()
        if search.stop is not None:
            stop = search.stop
            break
        if not changed:
            break

    if rank:
        new_solution = _ranked_solution(matrix, weights, costs, state.selected, preselected, solution.stop_reason)
    else:
        chosen = np.concatenate([preselected, np.flatnonzero(state.selected & ~state.fixed)])
        new_solution = evaluate_order(matrix, chosen, n_preselected=len(preselected))
    total = state.total or 1.0
    return Improvement(
        solution=new_solution, n_dropped=search.n_dropped, n_swaps=search.n_swaps, n_added=search.n_added,
        cost_before=float(cost_before), cost_after=float(state.cost + state.fixed_cost),
        coverage_before=float(covered_before / total) if state.total else 1.0,
        coverage_after=float(state.covered / total) if state.total else 1.0,
        sites_before=sites_before, sites_after=int(state.selected.sum()),
        swap_evaluations=search.swap_evaluations, rounds=rounds, stop_reason=stop,
        seconds=time.perf_counter() - start,
    )


class _State:
    """Selected sites with per-cell cover counts, owners, and per-site gains and losses.

    ``counts[j]``: selected sites covering cell j. ``owner[j]``: sum of their indices
    (the covering site when ``counts[j] == 1``). ``gain[k]``: weight of uncovered cells
    in row k (every site). ``loss[i]``: weight of cells only i covers (selected sites).
    ``cost``: cost of the selected non-preselected sites.
    """

    def __init__(self, matrix: sp.csr_matrix, wq: np.ndarray, costs: np.ndarray, order: np.ndarray,
                 preselected: np.ndarray):
        n_sites, n_cells = matrix.shape
        self.indptr, self.indices = matrix.indptr, matrix.indices
        transposed = matrix.T.tocsr()
        self.t_indptr, self.t_indices = transposed.indptr, transposed.indices
        self.wq, self.costs, self.n_sites = wq, costs, n_sites
        self.total = float(wq.sum())
        self.selected = np.zeros(n_sites, dtype=bool)
        self.selected[order] = True
        self.fixed = np.zeros(n_sites, dtype=bool)
        self.fixed[preselected] = True
        sel = np.flatnonzero(self.selected)
        cells, position = _gather(self.indptr, self.indices, sel)
        sites = sel[position]
        self.counts = np.bincount(cells, minlength=n_cells).astype(np.int32)
        self.owner = np.bincount(cells, weights=sites, minlength=n_cells).astype(np.int64)
        uncovered = np.where(self.counts == 0, wq, 0.0)
        self.gain = np.asarray(matrix @ uncovered, dtype=float).ravel()
        once = self.counts == 1
        self.loss = np.bincount(self.owner[once], weights=wq[once], minlength=n_sites).astype(float)
        self.covered = float(wq[self.counts > 0].sum())
        self.cost = float(costs[self.selected & ~self.fixed].sum())
        self.fixed_cost = float(costs[self.fixed].sum())

    def row(self, site: int) -> np.ndarray:
        return self.indices[self.indptr[site]:self.indptr[site + 1]]

    def add(self, site: int) -> None:
        cols = self.row(site)
        was = self.counts[cols]
        new, second = cols[was == 0], cols[was == 1]
        self.loss -= np.bincount(self.owner[second], weights=self.wq[second], minlength=self.n_sites)
        self.loss[site] = self.wq[new].sum()
        self.gain -= self._gain_delta(new)
        self.covered += self.wq[new].sum()
        self.counts[cols] += 1
        self.owner[cols] += site
        self.selected[site] = True
        self.cost += self.costs[site]

    def remove(self, site: int) -> None:
        cols = self.row(site)
        self.counts[cols] -= 1
        self.owner[cols] -= site
        now = self.counts[cols]
        lost, single = cols[now == 0], cols[now == 1]
        self.loss += np.bincount(self.owner[single], weights=self.wq[single], minlength=self.n_sites)
        self.loss[site] = 0.0
        self.gain += self._gain_delta(lost)
        self.covered -= self.wq[lost].sum()
        self.selected[site] = False
        self.cost -= self.costs[site]

    def _gain_delta(self, cells: np.ndarray) -> np.ndarray:
        """Per site, the weight of ``cells`` it covers."""
        sites, position = _gather(self.t_indptr, self.t_indices, cells)
        return np.bincount(sites, weights=self.wq[cells][position], minlength=self.n_sites)



class _Search:
    """The moves, the acceptance rule and the counters of one :func:`improve` run."""

    def __init__(self, state: _State, target: float, can_add: np.ndarray, max_sites, max_cost,
                 max_swap_evaluations: int, deadline: float | None):
        self.s = state
        self.need = float(math.ceil(target * state.total * (1 - 1e-12))) if state.total else 0.0
        self.can_add = can_add
        self.max_sites = None if max_sites is None else int(max_sites) + int(state.fixed.sum())
        self.max_cost = None if max_cost is None else max_cost * (1 + 1e-12)
        self.max_swap_evaluations = max_swap_evaluations
        self.deadline = deadline
        self.n_dropped = self.n_swaps = self.n_added = self.swap_evaluations = 0
        self.stop: str | None = None

    # -- acceptance --------------------------------------------------------------
    def better(self, covered: np.ndarray, cost: np.ndarray) -> np.ndarray:
        """Mask of (covered, cost) pairs strictly better than the current plan's key."""
        s = self.s
        eps = COST_EPS * max(1.0, abs(s.cost))
        head_new, head_now = np.minimum(covered, self.need), min(s.covered, self.need)
        cheaper, same_cost = cost < s.cost - eps, np.abs(cost - s.cost) <= eps
        return (head_new > head_now) | ((head_new == head_now) & (cheaper | (same_cost & (covered > s.covered))))

    def affordable(self, cost: np.ndarray) -> np.ndarray:
        return np.ones(np.shape(cost), dtype=bool) if self.max_cost is None else cost <= self.max_cost

    # -- moves -------------------------------------------------------------------
    def drop_all(self) -> bool:
        """Drop improving sites one at a time: most expensive, then least loss, then lowest index."""
        s, changed = self.s, False
        while True:
            movable = np.flatnonzero(s.selected & ~s.fixed)
            if len(movable) == 0:
                return changed
            ok = self.better(s.covered - s.loss[movable], s.cost - s.costs[movable])
            if not ok.any():
                return changed
            cand = movable[ok]
            best = cand[np.lexsort((cand, s.loss[cand], -s.costs[cand]))[0]]
            s.remove(int(best))
            self.n_dropped += 1
            changed = True

    def add_all(self) -> bool:
        """Below the target, add the best affordable site by gain per cost while the budget has room."""
        s, changed = self.s, False
        while s.covered < self.need:
            if self.max_sites is not None and s.selected.sum() >= self.max_sites:
                return changed
            cand = np.flatnonzero(self.can_add & ~s.selected & (s.gain > 0))
            cand = cand[self.affordable(s.cost + s.costs[cand])]
            if len(cand) == 0:
                return changed
            ratio = s.gain[cand] / s.costs[cand]
            best = cand[np.lexsort((cand, -ratio))[0]]
            s.add(int(best))
            self.n_added += 1
            changed = True
        return changed

    def swap_pass(self) -> bool:
        """Try each selected site once (most expensive, least loss first) for its best swap."""
        s, changed = self.s, False
        movable = np.flatnonzero(s.selected & ~s.fixed)
        movable = movable[np.lexsort((movable, s.loss[movable], -s.costs[movable]))]
        for out in movable:
            if self.swap_evaluations >= self.max_swap_evaluations:
                self.stop = "max_swap_evaluations"
                return changed
            if self.deadline is not None and time.perf_counter() > self.deadline:
                self.stop = "time_limit"
                return changed
            if not s.selected[out]:
                continue
            self.swap_evaluations += 1
            incoming = self.best_swap(int(out))
            if incoming is None:
                continue
            s.remove(int(out))
            s.add(incoming)
            self.n_swaps += 1
            changed = True
            changed |= self.drop_all()
        return changed

    def best_swap(self, out: int) -> int | None:
        """The candidate whose swap with ``out`` improves the key most, or None.

        Only candidates that would keep the coverage the key needs are scored in full.
        """
        s = self.s
        loss = float(s.loss[out])
        alone = (cols := s.row(out))[s.counts[cols] == 1]
        reach = s.gain + s._gain_delta(alone)  # demand each site would cover once ``out`` is gone
        threshold = loss - max(0.0, s.covered - self.need)
        candidates = np.flatnonzero((reach >= threshold) & self.can_add & ~s.selected)
        if len(candidates) == 0:
            return None
        covered = s.covered - loss + reach[candidates]
        cost = s.cost - s.costs[out] + s.costs[candidates]
        ok = self.better(covered, cost) & self.affordable(cost)
        if not ok.any():
            return None
        cand, covered, cost = candidates[ok], covered[ok], cost[ok]
        # best key: highest min(covered, need), then lowest cost, then most covered, then lowest index
        best = np.lexsort((cand, -covered, cost, -np.minimum(covered, self.need)))[0]
        return int(cand[best])


def _gather(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nonzeros of CSR ``rows``: (column index, position in ``rows``) pairs, vectorised."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = indptr[rows].astype(np.int64)
    lengths = indptr[rows + 1].astype(np.int64) - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    position = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return indices[starts[position] + offsets].astype(np.int64), position


def _ranked_solution(matrix, weights, costs, selected, preselected, stop_reason: str) -> Solution:
    """The selected sites (a mask) ranked as greedy would take them."""
    return ranked_solution(matrix, weights, costs, np.flatnonzero(selected), preselected, stop_reason)


def ranked_solution(matrix: sp.csr_matrix, weights: np.ndarray, costs: np.ndarray, sites, preselected=(),
                    stop_reason: str = "evaluated") -> Solution:
    """A Solution for the site set ``sites``, ranked as greedy would take them.

    Preselected sites come first in their given order, then the others by greedy's
    rule (gain per cost, ties to the lower index), then any that add nothing given the
    rest (by index). Use it to turn an exact solve's site set into a plan.
    """
    preselected = np.asarray(preselected, dtype=np.int64)
    keep = np.zeros(matrix.shape[0], dtype=bool)
    keep[np.asarray(sites, dtype=np.int64)] = True
    keep[preselected] = False
    ranked = greedy_cover(matrix, weights, costs, 1.0, preselected=preselected, allowed=keep).order
    rest = np.setdiff1d(np.flatnonzero(keep), ranked)  # sites that add nothing given the others
    order = np.concatenate([ranked, rest]).astype(np.int64)
    solution = evaluate_order(matrix, order, n_preselected=len(preselected))
    return Solution(order=solution.order, n_preselected=solution.n_preselected, first_rank=solution.first_rank,
                    stop_reason=stop_reason, evaluations=solution.evaluations)
