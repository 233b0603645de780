"""Colouring a sparse graph with ``k`` colours and few conflicts: DSATUR, repair, TabuCol.

The channel plan of :mod:`coverage.networks` runs on these. A graph is given as
``neighbours``: one list of neighbour indices per node (no self-loops), nodes 0..n-1.
Everything is deterministic: ties break on node order or on a generator seeded by the
caller, and the search stops after a number of moves, never after a time.

The tabu search is incremental: it keeps, for every node, how many neighbours have each
colour, and a heap of the possible moves of the conflicting nodes only; a move touches
the moved node and its neighbours, so a move costs O(degree · k · log m), not a scan of
every node (on 70,000 hotspots: milliseconds for what took seconds).
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict

import numpy as np
from scipy import sparse


def neighbour_lists(matrix: sparse.csr_array) -> list[list[int]]:
    """Neighbour lists of a CSR adjacency matrix (row ``v``'s column indices, in stored order)."""
    indices = matrix.indices.tolist()
    bounds = matrix.indptr.tolist()
    return [indices[bounds[v]:bounds[v + 1]] for v in range(matrix.shape[0])]


def dsatur(neighbours: list[list[int]], degree: list[int] | None = None) -> list[int]:
    """DSATUR colouring: colours 0, 1, … with no two neighbours alike.

    Repeatedly colours the uncoloured node with the most distinct colours among its
    neighbours (ties: highest ``degree``, then lowest index) with the smallest colour its
    neighbours do not use: the choices of ``networkx.greedy_color(graph, "DSATUR")``. A
    heap of (saturation, degree, index) makes it O((n + m) log n).
    """
    n = len(neighbours)
    degree = [len(row) for row in neighbours] if degree is None else list(degree)
    # One int per heap entry, ordered as (-saturation, -degree, v): saturation and degree
    # are at most max_degree + 1, so the key packs them without overlap.
    span = max(degree, default=0) + 2
    colour = [-1] * n
    seen = [0] * n  # bit c set: some coloured neighbour has colour c
    heap = [((span - 1) * span + span - 1 - degree[v]) * n + v for v in range(n)]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        key = pop(heap)
        v = key % n
        saturation = span - 1 - key // (span * n)
        if colour[v] >= 0 or saturation != seen[v].bit_count():
            continue  # already coloured, or a stale entry superseded by a newer one
        taken = seen[v]
        c = (~taken & (taken + 1)).bit_length() - 1  # the lowest colour not taken
        colour[v] = c
        bit = 1 << c
        for u in neighbours[v]:
            if colour[u] < 0 and not seen[u] & bit:
                seen[u] |= bit
                push(heap, ((span - 1 - seen[u].bit_count()) * span + span - 1 - degree[u]) * n + u)
    return colour


def repair_to_k(neighbours: list[list[int]], colour: list[int], k: int) -> list[int]:
    """Colours below ``k`` kept; each other node (by colour, then index) takes the colour
    fewest of its already-placed neighbours use (the lowest on a tie)."""
    colour = list(colour)
    for v in sorted((v for v in range(len(colour)) if colour[v] >= k), key=lambda v: (colour[v], v)):
        used = [0] * k
        for u in neighbours[v]:
            if colour[u] < k:
                used[colour[u]] += 1
        colour[v] = used.index(min(used))
    return colour


def colour_counts(neighbours: list[list[int]], colour: list[int], k: int) -> list[list[int]]:
    """``counts[v][c]``: how many neighbours of ``v`` have colour ``c``."""
    counts = [[0] * k for _ in colour]
    for v, row in enumerate(neighbours):
        mine = counts[v]
        for u in row:
            mine[colour[u]] += 1
    return counts


def sparse_colour_counts(matrix: sparse.csr_array, colour: np.ndarray, k: int) -> np.ndarray:
    """:func:`colour_counts` of a CSR adjacency matrix, as an (n, k) array (vectorised)."""
    n = matrix.shape[0]
    onehot = sparse.csr_array((np.ones(n), (np.arange(n), colour)), shape=(n, k))
    return np.asarray((matrix.astype(np.int64) @ onehot).todense(), dtype=np.int64).reshape(n, k)


class _Moves:
    """The tabu search's state: colours, neighbour colour counts and heaps of moves.

    ``same[v][c]`` is how many neighbours of ``v`` have colour ``c``. Every move (v, c)
    of a conflicting node is in ``free`` (allowed) or ``tabu`` as (delta, random key, v,
    c, version of v); an entry whose version is not ``version[v]`` is stale and skipped.
    """

    def __init__(self, neighbours: list[list[int]], colour: list[int], k: int, rng: random.Random,
                 same: list[list[int]] | None = None, movable: list[bool] | None = None):
        self.neighbours, self.colour, self.k, self.rng = neighbours, colour, k, rng
        n = len(colour)
        self.movable = [True] * n if movable is None else movable
        self.same = colour_counts(neighbours, colour, k) if same is None else same
        own = [self.same[v][colour[v]] for v in range(n)]
        self.total = sum(own) // 2
        self.n_conflicted = sum(1 for v, count in enumerate(own) if count > 0 and self.movable[v])
        self.version = [0] * n
        self.tabu_until: dict[tuple[int, int], int] = {}
        self.expiry: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.free: list[tuple] = []
        self.tabu: list[tuple] = []
        for v in range(n):
            if own[v]:
                self.push(v, 0)

    def push(self, v: int, iteration: int) -> None:
        """Queue every move of ``v`` (if it is in conflict) as of ``iteration``."""
        row, cv = self.same[v], self.colour[v]
        own = row[cv]
        if own == 0 or not self.movable[v]:
            return
        version, random_key = self.version[v], self.rng.random
        for c in range(self.k):
            if c != cv:
                heap = self.tabu if self.tabu_until.get((v, c), 0) > iteration else self.free
                heapq.heappush(heap, (row[c] - own, random_key(), v, c, version))

    def release(self, iteration: int) -> None:
        """Moves whose tabu ends at ``iteration`` become allowed."""
        for v, c in self.expiry.pop(iteration, ()):
            if self.tabu_until.get((v, c)) == iteration and self.colour[v] != c:
                row = self.same[v]
                if row[self.colour[v]] > 0:
                    heapq.heappush(self.free, (row[c] - row[self.colour[v]], self.rng.random(), v, c, self.version[v]))

    def top(self, heap: list[tuple], iteration: int) -> tuple | None:
        """The best current entry of ``heap`` (stale entries dropped), or None."""
        version, tabu_until = self.version, self.tabu_until
        while heap:
            entry = heap[0]
            v, c = entry[2], entry[3]
            if entry[4] == version[v] and (heap is self.free or tabu_until.get((v, c), 0) > iteration):
                return entry
            heapq.heappop(heap)
        return None

    def move(self, v: int, new: int, delta: int, iteration: int) -> int:
        """Give ``v`` colour ``new`` and make the move back tabu; returns the old colour."""
        colour, same, movable = self.colour, self.same, self.movable
        old, conflicted_before = colour[v], self.n_conflicted
        colour[v] = new
        self.total += delta
        change = 0
        for u in self.neighbours[v]:
            row = same[u]
            before = row[colour[u]] > 0
            row[old] -= 1
            row[new] += 1
            if movable[u]:
                change += (row[colour[u]] > 0) - before
            self.version[u] += 1
        change += (same[v][new] > 0) - 1  # v was in conflict (only those move)
        self.n_conflicted += change
        self.version[v] += 1
        until = iteration + 1 + int(0.6 * conflicted_before) + self.rng.randrange(10)
        self.tabu_until[(v, old)] = until
        self.expiry[until].append((v, old))
        self.push(v, iteration + 1)
        for u in self.neighbours[v]:
            self.push(u, iteration + 1)
        return old


def tabu_search(neighbours: list[list[int]], colour: list[int], k: int, max_iterations: int, patience: int,
                seed: int, same: list[list[int]] | None = None,
                movable: list[bool] | None = None) -> tuple[list[int], int]:
    """TabuCol from ``colour``: the best colouring seen and the number of moves made.

    Each move takes a conflicting node to the colour that lowers the number of
    same-coloured edges most (or raises it least), among moves that are not tabu or
    would beat the best count so far (aspiration); if every move is tabu, the best of
    them. The move back is then tabu for ``0.6 × conflicting nodes + 0..9`` moves. Ties
    break on a random key drawn from ``random.Random(seed)``. Stops at zero conflicts,
    after ``max_iterations`` moves, or after ``patience`` moves without a new best.
    ``same`` may give the neighbour colour counts of ``colour`` (else they are counted).
    ``movable``: only the nodes marked True may change colour (all when None); the
    others keep theirs, and their conflicts among themselves stay counted. The tenure
    then counts the conflicting movable nodes only.
    """
    n = len(colour)
    if n == 0 or k < 2:
        return list(colour), 0
    state = _Moves(neighbours, list(colour), k, random.Random(seed), same, movable)
    best, since_best, iteration = state.total, 0, 0
    since: list[tuple[int, int]] = []  # moves made since the best colouring, to undo at the end
    while iteration < max_iterations and best > 0 and since_best < patience:
        state.release(iteration)
        allowed, tabu = state.top(state.free, iteration), state.top(state.tabu, iteration)
        if tabu is not None and (allowed is None or (state.total + tabu[0] < best and tabu[:2] < allowed[:2])):
            entry, heap = tabu, state.tabu
        elif allowed is not None:
            entry, heap = allowed, state.free
        else:
            break  # no movable node in conflict (conflicts among fixed nodes can remain)
        heapq.heappop(heap)
        delta, _, v, new, _ = entry
        old = state.move(v, new, delta, iteration)
        iteration += 1
        if state.total < best:
            best, since_best = state.total, 0
            since.clear()
        else:
            since_best += 1
            since.append((v, old))
    result = state.colour
    for v, old in reversed(since):
        result[v] = old
    return result, iteration


def colour_with_k(matrix: sparse.csr_array, k: int, *, degree: list[int] | None = None,
                  max_iterations: int = 10_000, patience: int = 2_000, seed: int = 0) -> dict:
    """DSATUR, repair to ``k`` colours, tabu search on the CSR adjacency ``matrix`` (no
    self-loops, each row's neighbours ascending): ``{colour, dsatur_colours, initial, iterations}``.

    ``colour`` is a numpy array of colours in 0..k-1; ``initial`` the conflicts after
    the repair, before the search.
    """
    neighbours = neighbour_lists(matrix)
    first = dsatur(neighbours, degree)
    repaired = repair_to_k(neighbours, first, k)
    counts = sparse_colour_counts(matrix, np.asarray(repaired, dtype=np.intp), k) if len(repaired) else np.zeros((0, k))
    initial = int(counts[np.arange(len(repaired)), repaired].sum()) // 2 if len(repaired) else 0
    colour, iterations = tabu_search(neighbours, repaired, k, max_iterations, patience, seed, counts.tolist())
    return {"colour": np.asarray(colour, dtype=np.intp), "dsatur_colours": max(first, default=-1) + 1,
            "initial": initial, "iterations": iterations}


def recolour_with_k(matrix: sparse.csr_array, colour: np.ndarray, movable: np.ndarray, k: int, *,
                    max_iterations: int = 10_000, patience: int = 2_000, seed: int = 0) -> dict:
    """A colouring that keeps ``colour`` wherever ``movable`` is False (a local recolouring).

    ``colour`` holds each node's colour in 0..k-1, or -1 for a node without one (every
    such node must be movable). Nodes without a colour take, one by one in index order,
    the colour fewest of their coloured neighbours use (lowest on a tie,
    :func:`repair_to_k`); then the tabu search moves the movable nodes only
    (:func:`tabu_search`). Same keys as :func:`colour_with_k`; ``dsatur_colours`` is 0
    (no DSATUR run) and ``initial`` the conflicts before the search.
    """
    colour = np.asarray(colour, dtype=np.intp)
    movable = np.asarray(movable, dtype=bool)
    if np.any(colour >= k) or np.any((colour < 0) & ~movable):
        raise ValueError("every node without a colour must be movable, and colours must be below k")
    neighbours = neighbour_lists(matrix)
    repaired = repair_to_k(neighbours, np.where(colour < 0, k, colour).tolist(), k)
    counts = sparse_colour_counts(matrix, np.asarray(repaired, dtype=np.intp), k) if len(repaired) else np.zeros((0, k))
    initial = int(counts[np.arange(len(repaired)), repaired].sum()) // 2 if len(repaired) else 0
    result, iterations = tabu_search(neighbours, repaired, k, max_iterations, patience, seed, counts.tolist(),
                                     movable.tolist())
    return {"colour": np.asarray(result, dtype=np.intp), "dsatur_colours": 0, "initial": initial,
            "iterations": iterations}
