"""Lazy (CELF) greedy weighted partial set cover.

Repeatedly take the site with the largest uncovered demand per unit cost until a
target fraction of the total demand is covered, or the budget is spent (then the
greedy maximises coverage within it). Preselected sites (existing and forced) count
first. Gains only shrink as cells get covered, so stale gains kept in a heap are upper
bounds and only the top needs recomputing (Leskovec et al. 2007).

Weights are converted to integers (a fixed-point scale of 2**52 over the total) so that
every gain is an exact sum: the lazy and the plain greedy then pick the same sites,
and the same input always gives the same plan. Ties on gain per cost break on the
lower site index, i.e. the stable key the caller sorted sites by.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

STOP_REASONS = ("target_met", "budget_sites", "budget_cost", "unreachable", "evaluated")


@dataclass(frozen=True)
class Solution:
    """The outcome of :func:`greedy_cover`.

    ``order`` holds site indices in selection order, the ``n_preselected`` preselected
    ones first. ``first_rank[j]`` is the position in ``order`` of the site that first
    covered cell ``j`` (-1 when no selected site covers it), so the demand gained by
    each site is ``np.bincount(first_rank[covered], weights)``.
    """

    order: np.ndarray
    n_preselected: int
    first_rank: np.ndarray
    stop_reason: str
    evaluations: int

    @property
    def covered(self) -> np.ndarray:
        return self.first_rank >= 0

    def gains(self, weights: np.ndarray) -> np.ndarray:
        """Demand (in ``weights``' units) each selected site added, in selection order."""
        hit = self.first_rank >= 0
        return np.bincount(self.first_rank[hit], weights=np.asarray(weights)[hit], minlength=len(self.order))


def greedy_cover(
    matrix: sp.csr_matrix,
    weights: np.ndarray,
    costs: np.ndarray,
    target: float,
    preselected: tuple[int, ...] | np.ndarray = (),
    allowed: np.ndarray | None = None,
    max_sites: int | None = None,
    max_cost: float | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> Solution:
    """Choose sites to cover ``target`` (0–1] of the total ``weights`` at least cost.

    ``matrix`` is the boolean sites × cells coverage matrix (CSR), ``weights`` the
    demand per cell (≥ 0), ``costs`` the cost per site (> 0 for those greedy may pick).
    ``preselected`` sites are taken first, in the given order, whatever the budget;
    ``allowed`` masks the sites greedy may add. ``max_sites`` and ``max_cost`` limit
    what greedy adds beyond the preselected sites. ``progress(n_added, fraction)`` is
    called after every pick (throttle it for display, see ``progress.every``).
    """
    matrix = sp.csr_matrix(matrix)
    n_sites, n_cells = matrix.shape
    weights = np.asarray(weights, dtype=float)
    costs = np.asarray(costs, dtype=float)
    allowed = np.ones(n_sites, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
    indptr, indices = matrix.indptr, matrix.indices

    wq = quantise(weights)
    total_q = int(wq.sum())
    need = target * total_q * (1 - 1e-12)
    first_rank = np.full(n_cells, -1, dtype=np.int64)
    order: list[int] = []
    covered_q = 0

    def take(site: int) -> int:
        cols = indices[indptr[site]:indptr[site + 1]]
        new = cols[first_rank[cols] < 0]
        first_rank[new] = len(order)
        order.append(site)
        return int(wq[new].sum())

    for site in preselected:
        covered_q += take(int(site))
        allowed[site] = False
    n_pre = len(order)

    # Initial gains for every allowed site in one sparse product.
    uncovered_w = np.where(first_rank < 0, wq, 0)
    gains0 = np.asarray(matrix @ uncovered_w).ravel().astype(np.int64)
    candidates = np.flatnonzero(allowed & (gains0 > 0))
    heap = [(-(gains0[i] / costs[i]), int(i), 0) for i in candidates]
    heapq.heapify(heap)

    evaluations = len(candidates)
    spent = 0.0
    stop = "unreachable"
    skipped_for_cost = False
    while True:
        if covered_q >= need:
            stop = "target_met"
            break
        if max_sites is not None and len(order) - n_pre >= max_sites:
            stop = "budget_sites"
            break
        if not heap:
            stop = "budget_cost" if skipped_for_cost else "unreachable"
            break
        neg_ratio, site, stamp = heapq.heappop(heap)
        added = len(order) - n_pre
        if stamp != added:  # stale: recompute and put back
            cols = indices[indptr[site]:indptr[site + 1]]
            gain = int(wq[cols[first_rank[cols] < 0]].sum())
            evaluations += 1
            if gain > 0:
                heapq.heappush(heap, (-(gain / costs[site]), site, added))
            continue
        if max_cost is not None and spent + costs[site] > max_cost * (1 + 1e-12):
            skipped_for_cost = True  # never affordable again: the budget only shrinks
            continue
        spent += costs[site]
        covered_q += take(site)
        if progress is not None:
            progress(len(order) - n_pre, covered_q / total_q if total_q else 1.0)

    if stop == "budget_cost":
        order, first_rank = _best_single_if_better(
            order, n_pre, first_rank, wq, gains0, allowed, costs, max_cost, indices, indptr
        )
    return Solution(
        order=np.asarray(order, dtype=np.int64),
        n_preselected=n_pre,
        first_rank=first_rank,
        stop_reason=stop,
        evaluations=evaluations,
    )


def evaluate_order(matrix: sp.csr_matrix, order, n_preselected: int = 0) -> Solution:
    """The Solution of taking the sites in ``order`` as given, without optimising.

    Each cell is credited to the first site in ``order`` that covers it. One sparse
    slice and one sort over the selected rows' nonzeros: milliseconds for a city.
    """
    order = np.asarray(order, dtype=np.int64)
    rows = sp.csr_matrix(matrix)[order]
    rank = np.repeat(np.arange(len(order), dtype=np.int64), np.diff(rows.indptr))
    cells = rows.indices.astype(np.int64)
    by_cell = np.lexsort((rank, cells))
    cells, rank = cells[by_cell], rank[by_cell]
    first = np.unique(cells, return_index=True)[1]
    first_rank = np.full(matrix.shape[1], -1, dtype=np.int64)
    first_rank[cells[first]] = rank[first]
    return Solution(order=order, n_preselected=n_preselected, first_rank=first_rank,
                    stop_reason="evaluated", evaluations=0)


def quantise(weights: np.ndarray) -> np.ndarray:
    """Weights as int64 on a fixed-point scale whose total is about 2**52 (exact sums)."""
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    with np.errstate(over="ignore"):
        scale = 2.0**52 / total
    if not np.isfinite(scale):  # a subnormal total: divide first (same result wherever both are finite)
        return np.floor(weights / total * 2.0**52 + 0.5).astype(np.int64)
    return np.floor(weights * scale + 0.5).astype(np.int64)


def _best_single_if_better(order, n_pre, first_rank, wq, gains0, allowed, costs, max_cost, indices, indptr):
    """Budgeted max coverage: the best single affordable site beats greedy on some inputs.

    Keeping the better of the two restores the (1 − 1/e)/2 guarantee (Khuller, Moss,
    Naor 1999).
    """
    affordable = np.flatnonzero(allowed & (costs <= max_cost * (1 + 1e-12)) & (gains0 > 0))
    if len(affordable) == 0:
        return order, first_rank
    best = int(affordable[np.argmax(gains0[affordable])])  # argmax: lowest index on ties
    greedy_gain = int(wq[first_rank >= n_pre].sum())
    if gains0[best] <= greedy_gain:
        return order, first_rank
    first_rank = np.where(first_rank < n_pre, first_rank, -1)
    cols = indices[indptr[best]:indptr[best + 1]]
    first_rank[cols[first_rank[cols] < 0]] = n_pre
    return order[:n_pre] + [best], first_rank
