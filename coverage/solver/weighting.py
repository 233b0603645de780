"""Row-weighting local search for set covering (Gao, Weise & Li's RWLS, 2015, with costs).

Plain lists in, plain lists out (no numpy in the loop: a move touches a few dozen rows,
where numpy's per-call overhead costs more than it saves). The search keeps a set of
columns ``S``, a weight ``w_i`` per row (1 at first) and, per column, a *score*: for a
column outside ``S`` the weight of the uncovered rows it would cover, for one inside
``−`` the weight of the rows only it covers. Each iteration:

1. while ``S`` covers every row: keep it if cheaper than the best cover so far, then drop
   the column of best ``score / cost`` (the least loss per unit of cost saved);
2. pick an uncovered row at random (seeded) and add, of its columns that keep the cost of
   ``S`` below the best cover's, the one of best ``score / cost``; columns just dropped
   wait until a neighbour changes (configuration checking), the one just added is not
   dropped next (tabu), ties go to the column changed longest ago; when no column fits
   under the cost, drop the column of best ``score / cost`` first;
3. add 1 to the weight of every row still uncovered (rows that stay hard to cover draw
   the search towards them).

Deterministic: the work is counted in elementary steps, never timed, and the random row
choice is seeded.
"""

from __future__ import annotations

import heapq
import random


class _State:
    """``S``, the cover counts, scores and weights, with O(rows of a column × columns of a
    row) add and drop."""

    def __init__(self, cols: list, rowcols: list, cost: list, start: list):
        self.cols, self.rowcols, self.cost = cols, rowcols, cost
        n, m = len(cols), len(rowcols)
        self.w = [1] * m
        self.cnt = [0] * m
        self.owner = [0] * m  # sum of the covering columns' indices: the one column when cnt == 1
        self.score = [0] * n
        self.stamp = [0] * n
        self.free = [True] * n  # may be added (configuration checking)
        self.inside: set = set()
        self.total = 0.0
        for j in start:
            self.inside.add(j)
            self.total += cost[j]
            for i in cols[j]:
                self.cnt[i] += 1
                self.owner[i] += j
        cnt = self.cnt
        for j in range(n):
            if j in self.inside:
                self.score[j] = -sum(1 for i in cols[j] if cnt[i] == 1)
            else:
                self.score[j] = sum(1 for i in cols[j] if cnt[i] == 0)
        self.uncovered = dict.fromkeys(i for i in range(m) if cnt[i] == 0)
        self.ops = 0  # elementary steps taken (list entries visited): the search's work
        self.heap: list = []  # drop candidates by drop_key, lazily: an entry counts while it is current
        for j in self.inside:
            self._push(j)

    def _push(self, j: int) -> None:
        self.ops += 1
        sc, c = self.score[j], self.cost[j]
        heapq.heappush(self.heap, (-sc / c, -c, self.stamp[j], j, sc))

    def add(self, k: int, t: int) -> None:
        score, cnt, owner, w, free = self.score, self.cnt, self.owner, self.w, self.free
        self.inside.add(k)
        self.total += self.cost[k]
        self.stamp[k] = t
        self.ops += len(self.cols[k])
        own = 0
        for i in self.cols[k]:
            c = cnt[i]
            if c == 0:
                wi = w[i]
                self.ops += len(self.rowcols[i])
                for q in self.rowcols[i]:
                    score[q] -= wi
                    free[q] = True
                del self.uncovered[i]
                own -= wi
            elif c == 1:
                score[owner[i]] += w[i]
                self._push(owner[i])
            cnt[i] = c + 1
            owner[i] += k
        score[k] += own
        self._push(k)

    def drop(self, j: int, t: int) -> None:
        score, cnt, owner, w, free = self.score, self.cnt, self.owner, self.w, self.free
        self.inside.discard(j)
        self.total -= self.cost[j]
        self.stamp[j] = t
        self.ops += len(self.cols[j])
        own = 0
        for i in self.cols[j]:
            c = cnt[i] - 1
            cnt[i] = c
            owner[i] -= j
            if c == 0:
                wi = w[i]
                self.ops += len(self.rowcols[i])
                for q in self.rowcols[i]:
                    score[q] += wi
                    free[q] = True
                self.uncovered[i] = None
                own += wi
            elif c == 1:
                score[owner[i]] -= w[i]
                self._push(owner[i])
        score[j] += own
        free[j] = False

    def key(self, j: int) -> tuple:
        """To add: most weight per unit of cost, then changed longest ago, then lower index."""
        return (self.score[j] / self.cost[j], -self.stamp[j], -j)

    def drop_best(self, t: int, tabu: int = -1) -> bool:
        """Drop the column of ``S`` (not ``tabu``) losing least weight per unit of cost saved,
        then the dearer (among redundant columns, which lose none), then the one changed
        longest ago, then the lower index; False when there is none."""
        heap, held, found = self.heap, None, None
        while heap:
            entry = heapq.heappop(heap)
            self.ops += 1
            j = entry[3]
            if j not in self.inside or entry[4] != self.score[j] or entry[2] != self.stamp[j]:
                continue  # stale
            if j == tabu:
                held = entry
                continue
            found = j
            break
        if held is not None:
            heapq.heappush(heap, held)
        if found is None:
            return False
        self.drop(found, t)
        if len(heap) > 8 * len(self.inside) + 64:  # shed stale entries
            self.heap = []
            for q in self.inside:
                self._push(q)
        return True


def search(cols: list, rowcols: list, cost: list, start: list, work: float, seed: int = 0,
           below: float = float("inf")) -> tuple[list, float]:
    """The cheapest cover met from the cover ``start`` (module docstring) in iterations
    until they have taken ``work`` elementary steps (list entries visited: rows of the
    columns added or dropped, columns of the rows that change between covered and not,
    heap entries, and per iteration the uncovered rows and their columns). ``cols``: each
    column's rows; ``rowcols``: each row's columns; ``cost``: per column (> 0); ``start``
    need not be a cover (it is completed greedily); only covers cheaper than ``below``
    count. Returns (its columns, sorted; its cost), or ([], inf) when none was met."""
    s = _State(cols, rowcols, cost, list(start))
    rng = random.Random(seed)
    for i in list(s.uncovered):  # complete ``start`` if it is not a cover
        if i in s.uncovered:
            s.add(max(rowcols[i], key=s.key), 0)
    best, best_cost = (sorted(s.inside), s.total) if s.total < below else ([], below)
    tabu = -1
    t = 0
    while s.ops < work:
        t += 1
        while not s.uncovered:
            if s.total < best_cost - 1e-9:
                best, best_cost = sorted(s.inside), s.total
            s.drop_best(t)
        unc = list(s.uncovered)
        row = unc[rng.randrange(len(unc))]
        options = [q for q in rowcols[row] if s.free[q]] or rowcols[row]
        s.ops += len(unc) + len(rowcols[row])
        while True:
            fit = [q for q in options if s.total + cost[q] < best_cost - 1e-9]
            if fit or not s.drop_best(t, tabu):
                break
        k = max(fit or options, key=s.key)
        s.add(k, t)
        tabu = k
        score, w = s.score, s.w
        for i in s.uncovered:
            w[i] += 1
            s.ops += len(rowcols[i])
            for q in rowcols[i]:
                score[q] += 1
    if not s.uncovered and s.total < best_cost - 1e-9:
        best, best_cost = sorted(s.inside), s.total
    return (best, best_cost) if best else ([], float("inf"))
