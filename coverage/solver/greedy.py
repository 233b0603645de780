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
import math
import struct
from dataclasses import dataclass
from functools import cached_property
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
    wq = quantise(weights)
    preselected = np.asarray(preselected, dtype=np.int64).ravel()
    allowed[preselected] = False
    n_pre = len(preselected)
    # Preselected sites in one step: each cell goes to the first of them that covers it.
    first_rank = evaluate_order(matrix, preselected).first_rank
    left = np.where(first_rank < 0, wq, 0)

    # Initial gains for every allowed site in one sparse product.
    gains0 = np.asarray(matrix @ left).ravel().astype(np.int64)
    candidates = np.flatnonzero(allowed & (gains0 > 0))
    keys = _HeapKeys(matrix.shape[0])
    heap = keys.initial(gains0[candidates] / costs[candidates], candidates)
    total_q = int(wq.sum())
    need = target * total_q * (1 - 1e-12)
    picks, stop, evaluations = _lazy_picks(
        _Residual(matrix, left, total_q), heap, keys, costs.tolist(), need, max_sites, max_cost, progress)
    order = np.concatenate([preselected, np.asarray(picks, dtype=np.int64)])
    if picks:
        first_rank = evaluate_order(matrix, order).first_rank
    if stop == "budget_cost":
        order, first_rank = _best_single_if_better(
            order.tolist(), n_pre, first_rank, wq, gains0, allowed, costs, max_cost, matrix.indices, matrix.indptr
        )
    return Solution(
        order=np.asarray(order, dtype=np.int64),
        n_preselected=n_pre,
        first_rank=first_rank,
        stop_reason=stop,
        evaluations=evaluations + len(candidates),
    )


class _Residual:
    """The demand not covered yet. Where sites reach a handful of cells each (the street
    lattice: ~6), as plain Python lists: a list lookup is then several times faster than
    numpy fancy indexing; where they reach many (a 1.5 km radius: hundreds), as numpy
    arrays, whose sums are then far faster than Python's. ``left[j]`` is cell ``j``'s
    fixed-point weight, 0 once covered. The lists are made on first use (a greedy with
    nothing to pick never needs them)."""

    def __init__(self, matrix: sp.csr_matrix, left: np.ndarray, total_q: int):
        self._matrix, self._left = matrix, left
        self.total_q = total_q
        self.covered_q = total_q - int(left.sum())
        self.long_rows = matrix.nnz > LONG_ROWS * max(matrix.shape[0], 1)

    @cached_property
    def left(self) -> list[int]:
        return self._left.tolist()

    @cached_property
    def indptr(self) -> list[int]:
        return self._matrix.indptr.tolist()

    @cached_property
    def indices(self) -> list[int]:
        return self._matrix.indices.tolist()

    def gain_function(self) -> Callable[[int], int]:
        """site → the uncovered weight it would add (exact integer)."""
        if self.long_rows:
            left, indptr, indices = self._left, self._matrix.indptr, self._matrix.indices
            return lambda site: int(left[indices[indptr[site]:indptr[site + 1]]].sum())
        uncovered, indptr, indices = self.left.__getitem__, self.indptr, self.indices
        return lambda site: sum(map(uncovered, indices[indptr[site]:indptr[site + 1]]))

    def take(self, site: int) -> None:
        if self.long_rows:
            cols = self._matrix.indices[self._matrix.indptr[site]:self._matrix.indptr[site + 1]]
            self.covered_q += int(self._left[cols].sum())
            self._left[cols] = 0
            return
        left = self.left
        for j in self.indices[self.indptr[site]:self.indptr[site + 1]]:
            self.covered_q += left[j]
            left[j] = 0


LONG_ROWS = 32  # mean cells per site above which the residual is kept as numpy arrays


class _HeapKeys:
    """Heap entries as plain ints that sort like ``(-gain_per_cost, site)``: best ratio
    first, ties on the lower site index. ``heapq`` compares ints several times faster
    than tuples, and the ratio's float bits map to an int in the same order, so the
    order (hence the plan) is exactly that of the ratios. ``stamp[site]`` is the number
    of sites picked when the site's gain was last computed (each site is in the heap at
    most once)."""

    def __init__(self, n_sites: int):
        self.shift = max(1, int(n_sites).bit_length())
        self.mask = (1 << self.shift) - 1
        self.stamp = [0] * n_sites

    def initial(self, ratios: np.ndarray, sites: np.ndarray) -> list[int]:
        """The heap of ``sites`` with their first ``ratios`` (gain per cost)."""
        bits = np.asarray(ratios, dtype=np.float64).view(np.int64)
        ordered = np.where(bits >= 0, bits, ~(bits & _INT64_MAX)).tolist()
        heap = [(-o << self.shift) + s for o, s in zip(ordered, sites.tolist())]
        heapq.heapify(heap)
        return heap

    def key(self, ratio: float, site: int) -> int:
        bits = _INT64.unpack(_DOUBLE.pack(ratio))[0]
        return (-(bits if bits >= 0 else ~(bits & _INT64_MAX)) << self.shift) + site


_DOUBLE, _INT64, _INT64_MAX = struct.Struct("<d"), struct.Struct("<q"), (1 << 63) - 1


def _lazy_picks(cover: _Residual, heap: list, keys: _HeapKeys, costs: list, need: float,
                max_sites: int | None, max_cost: float | None, progress) -> tuple[list, str, int]:
    """CELF: pop the best stale ratio, recompute it if stale, take it if fresh, until the
    target, a budget or the candidates run out. Returns the sites taken in order, the stop
    reason and the number of gains recomputed."""
    picks: list[int] = []
    evaluations, spent, skipped_for_cost = 0, 0.0, False
    pop, push, key, stamp, mask = heapq.heappop, heapq.heappush, keys.key, keys.stamp, keys.mask
    if not heap:  # nothing to pick: the loop stops at once, without the lists
        return picks, ("target_met" if cover.covered_q >= need else
                       "budget_sites" if max_sites is not None and max_sites <= 0 else "unreachable"), 0
    gain = cover.gain_function()
    while True:
        if cover.covered_q >= need:
            return picks, "target_met", evaluations
        if max_sites is not None and len(picks) >= max_sites:
            return picks, "budget_sites", evaluations
        if not heap:
            return picks, ("budget_cost" if skipped_for_cost else "unreachable"), evaluations
        site = pop(heap) & mask
        added = len(picks)
        if stamp[site] != added:  # stale: recompute and put back
            g = gain(site)
            evaluations += 1
            if g > 0:
                stamp[site] = added
                push(heap, key(g / costs[site] if costs[site] else math.inf, site))
            continue
        if max_cost is not None and spent + costs[site] > max_cost * (1 + 1e-12):
            skipped_for_cost = True  # never affordable again: the budget only shrinks
            continue
        spent += costs[site]
        cover.take(site)
        picks.append(site)
        if progress is not None:
            progress(len(picks), cover.covered_q / cover.total_q if cover.total_q else 1.0)


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
