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
    costs = np.asarray(costs, dtype=float)
    allowed = np.ones(matrix.shape[0], dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
    cover = _Cover(matrix, quantise(weights))
    for site in preselected:
        cover.take(int(site))
        allowed[site] = False
    n_pre = len(cover.order)

    # Initial gains for every allowed site in one sparse product.
    gains0 = np.asarray(matrix @ np.where(cover.first_rank < 0, cover.wq, 0)).ravel().astype(np.int64)
    candidates = np.flatnonzero(allowed & (gains0 > 0))
    heap = [(-(gains0[i] / costs[i]), int(i), 0) for i in candidates]
    heapq.heapify(heap)
    need = target * cover.total_q * (1 - 1e-12)
    stop, evaluations = _lazy_picks(cover, heap, costs, need, n_pre, max_sites, max_cost, progress)

    order, first_rank = cover.order, cover.first_rank
    if stop == "budget_cost":
        order, first_rank = _best_single_if_better(
            order, n_pre, first_rank, cover.wq, gains0, allowed, costs, max_cost, matrix.indices, matrix.indptr
        )
    return Solution(
        order=np.asarray(order, dtype=np.int64),
        n_preselected=n_pre,
        first_rank=first_rank,
        stop_reason=stop,
        evaluations=evaluations + len(candidates),
    )


class _Cover:
    """The cells covered so far: ``first_rank[j]`` is the position in ``order`` of the site
    that first covered cell ``j`` (-1: uncovered); ``wq`` the fixed-point weights."""

    def __init__(self, matrix: sp.csr_matrix, wq: np.ndarray):
        self.indptr, self.indices, self.wq = matrix.indptr, matrix.indices, wq
        self.total_q = int(wq.sum())
        self.first_rank = np.full(matrix.shape[1], -1, dtype=np.int64)
        self.order: list[int] = []
        self.covered_q = 0

    def gain(self, site: int) -> int:
        """Uncovered weight ``site`` would add (exact integer)."""
        cols = self.indices[self.indptr[site]:self.indptr[site + 1]]
        return int(self.wq[cols[self.first_rank[cols] < 0]].sum())

    def take(self, site: int) -> None:
        cols = self.indices[self.indptr[site]:self.indptr[site + 1]]
        new = cols[self.first_rank[cols] < 0]
        self.first_rank[new] = len(self.order)
        self.order.append(site)
        self.covered_q += int(self.wq[new].sum())


def _lazy_picks(cover: _Cover, heap: list, costs: np.ndarray, need: float, n_pre: int,
                max_sites: int | None, max_cost: float | None, progress) -> tuple[str, int]:
    """CELF: pop the best stale ratio, recompute it if stale, take it if fresh, until the
    target, a budget or the candidates run out. Returns the stop reason and the number of
    gains recomputed."""
    evaluations, spent, skipped_for_cost = 0, 0.0, False
    while True:
        if cover.covered_q >= need:
            return "target_met", evaluations
        if max_sites is not None and len(cover.order) - n_pre >= max_sites:
            return "budget_sites", evaluations
        if not heap:
            return ("budget_cost" if skipped_for_cost else "unreachable"), evaluations
        _, site, stamp = heapq.heappop(heap)
        added = len(cover.order) - n_pre
        if stamp != added:  # stale: recompute and put back
            gain = cover.gain(site)
            evaluations += 1
            if gain > 0:
                heapq.heappush(heap, (-(gain / costs[site]), site, added))
            continue
        if max_cost is not None and spent + costs[site] > max_cost * (1 + 1e-12):
            skipped_for_cost = True  # never affordable again: the budget only shrinks
            continue
        spent += costs[site]
        cover.take(site)
        if progress is not None:
            progress(len(cover.order) - n_pre, cover.covered_q / cover.total_q if cover.total_q else 1.0)


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
