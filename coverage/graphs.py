"""Sparse-graph building blocks for the network checks: pairs, adjacency, BFS, components.

Pure numpy / scipy on index arrays, so a city's 70,000 hotspots and their few hundred
thousand links take well under a second (networkx spends seconds just building such a
graph). Points are ``(n, 2)`` arrays of x, y in metres; nodes are row numbers 0..n-1.

- :func:`pairs_within`: index pairs (i < j) at most a distance apart, from a k-d tree.
- :func:`adjacency`: the symmetric CSR matrix of those pairs, neighbours in ascending order.
- :func:`bfs`: breadth-first search from several sources at once, hop counts and which
  source reached each node; the same answer as ``networkx.multi_source_dijkstra`` with
  unit weights on a graph whose edges were added in sorted pair order.
- :func:`components`: connected components as arrays of members in input order.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

UNREACHED = -1


def pairs_within(points: np.ndarray, max_distance_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i < j) at most ``max_distance_m`` apart, sorted, with their distances (m).

    Uses a k-d tree, so only nearby pairs are ever looked at.
    """
    empty = np.empty(0, dtype=np.intp)
    if len(points) < 2 or max_distance_m <= 0:
        return empty, empty, np.empty(0)
    pairs = cKDTree(points).query_pairs(r=max_distance_m, output_type="ndarray")
    if len(pairs) == 0:
        return empty, empty, np.empty(0)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    i, j = pairs[:, 0].astype(np.intp), pairs[:, 1].astype(np.intp)
    return i, j, np.hypot(*(points[i] - points[j]).T)


def overlapping_pairs(points: np.ndarray, radii: np.ndarray, min_distance_m: float = 0.0,
                      max_groups: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i < j, sorted) with ``d < r_i + r_j`` or ``d < min_distance_m``, and ``d``.

    With a few distinct radii (a category each), one k-d tree per radius and one query
    per pair of radii, each with its own cut-off: a 250 m transport hub among 100 m
    street sites no longer makes every pair within 500 m a candidate. Many distinct
    radii: one query at twice the largest.
    """
    values = np.unique(radii)
    if len(values) > max_groups or len(points) < 2:
        i, j, d = pairs_within(points, max(2 * float(radii.max(initial=0.0)), min_distance_m))
        keep = (d < radii[i] + radii[j]) | (d < min_distance_m)
        return i[keep], j[keep], d[keep]
    groups = [np.flatnonzero(radii == r) for r in values]
    trees = [cKDTree(points[g]) for g in groups]
    found_i, found_j = [], []
    for a in range(len(values)):
        for b in range(a, len(values)):
            cutoff = max(values[a] + values[b], min_distance_m) * (1 + 1e-9)  # the exact test follows
            if cutoff <= 0:
                continue
            pairs = trees[a].sparse_distance_matrix(trees[b], cutoff, output_type="ndarray")
            if len(pairs):
                found_i.append(groups[a][pairs["i"]])
                found_j.append(groups[b][pairs["j"]])
    if not found_i:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0)
    i, j = np.concatenate(found_i), np.concatenate(found_j)
    i, j = np.minimum(i, j), np.maximum(i, j)
    keep = i < j  # drops self-pairs; a pair within one group appears twice
    i, j = i[keep], j[keep]
    order = np.lexsort((j, i))
    i, j = i[order], j[order]
    first = np.r_[True, (np.diff(i) != 0) | (np.diff(j) != 0)] if len(i) else np.empty(0, bool)
    i, j = i[first].astype(np.intp), j[first].astype(np.intp)
    d = np.hypot(*(points[i] - points[j]).T)
    keep = (d < radii[i] + radii[j]) | (d < min_distance_m)
    return i[keep], j[keep], d[keep]


def adjacency(n: int, i: np.ndarray, j: np.ndarray) -> sparse.csr_array:
    """Symmetric ``n × n`` CSR adjacency (int8 ones) of the undirected edges ``(i[k], j[k])``.

    Each row's neighbours are in ascending order (``indices`` sorted), which is the order
    in which a networkx graph built from the sorted pairs lists them.
    """
    rows = np.concatenate([i, j]).astype(np.intp)
    cols = np.concatenate([j, i]).astype(np.intp)
    matrix = sparse.csr_array((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


def gather(matrix: sparse.csr_array, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neighbours of ``nodes`` concatenated in that order, each row ascending; and whose they are."""
    starts = matrix.indptr[nodes]
    lengths = matrix.indptr[nodes + 1] - starts
    total = int(lengths.sum())
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
    return matrix.indices[offsets].astype(np.intp), np.repeat(nodes, lengths)


def bfs(matrix: sparse.csr_array, sources, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hops from the nearest of ``sources`` and which source that is, for every node.

    A first-in-first-out search from all sources at once, sources queued in the order
    given, each node's neighbours in ascending order, a node taken by the first node that
    reaches it. Returns ``(hops, origin)``: int arrays, :data:`UNREACHED` (-1) for nodes no
    source reaches (or beyond ``limit`` hops).
    """
    n = matrix.shape[0]
    hops = np.full(n, UNREACHED, dtype=np.int64)
    origin = np.full(n, UNREACHED, dtype=np.int64)
    frontier = np.asarray(sources, dtype=np.intp).reshape(-1)
    if frontier.size:
        _, first = np.unique(frontier, return_index=True)
        frontier = frontier[np.sort(first)]
    hops[frontier] = 0
    origin[frontier] = frontier
    level = 0
    while frontier.size and (limit is None or level < limit):
        neighbours, parents = gather(matrix, frontier)
        fresh = hops[neighbours] == UNREACHED
        neighbours, parents = neighbours[fresh], parents[fresh]
        _, first = np.unique(neighbours, return_index=True)
        first.sort()
        frontier, parents = neighbours[first], parents[first]
        level += 1
        hops[frontier] = level
        origin[frontier] = origin[parents]
    return hops, origin


def components(matrix: sparse.csr_array) -> list[np.ndarray]:
    """Connected components, each an array of its nodes in ascending order; largest first,
    then by their first node."""
    n = matrix.shape[0]
    if n == 0:
        return []
    _, labels = csgraph.connected_components(matrix, directed=False)
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    groups = np.split(order, cuts)
    groups.sort(key=lambda members: (-len(members), int(members[0])))
    return groups


def centre(matrix: sparse.csr_array, nodes: np.ndarray) -> int:
    """A centre of the connected component ``nodes`` (a node whose farthest node is fewest
    hops away): the first one in ``nodes``' order.

    Up to 4,000 nodes all distances at once (at most 128 MB); a bigger component goes to
    ``networkx.center`` with its eccentricity bounds, which looks at far fewer sources.
    """
    nodes = np.asarray(nodes, dtype=np.intp)
    if len(nodes) == 1:
        return int(nodes[0])
    sub = matrix[nodes][:, nodes]
    if len(nodes) <= 4_000:
        eccentricity = csgraph.shortest_path(sub, method="D", directed=False, unweighted=True).max(axis=1)
        return int(nodes[int(np.argmin(eccentricity))])
    import networkx as nx

    centres = nx.center(nx.from_scipy_sparse_array(sub), usebounds=True)
    return int(nodes[min(centres)])
