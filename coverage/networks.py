"""The network behind a plan: channel plan, backhaul mesh and capacity.

Pure functions from arrays to plain results. Coordinates are ``(n, 2)`` arrays of x, y
in a metric (projected) CRS, so distances are metres; every distance and radius here is
in metres. Site ids are any hashable values, unique, in the same order as the points.

- :func:`interference_graph` and :func:`assign_channels`: which selected hotspots can
  hear each other, and a channel for each that leaves as few same-channel neighbours as
  possible with only ``k`` channels (3 at 2.4 GHz).
- :func:`backhaul`: which wireless sites reach a wired (fibre) gateway over mesh links,
  in how many hops, and which are orphans.
- :func:`capacity` and :func:`split_shared_population`: expected concurrent users per
  site against what its access points can carry.

Everything is deterministic: the same input gives the same output.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from .errors import InputError

#: Non-overlapping 20 MHz channels per band (China). 5150–5350 MHz is indoor only.
CHANNELS_BY_BAND: dict[str, tuple[int, ...]] = {
    "2.4": (1, 6, 11),
    "5.2": (36, 40, 44, 48, 52, 56, 60, 64),
    "5.8": (149, 153, 157, 161, 165),
}

#: Default capacity assumptions (configurable in :func:`capacity`).
DEFAULT_TAKE_UP_RATE = 0.10  # share of covered residents who use the public Wi-Fi at all
DEFAULT_CONCURRENCY = 0.20  # share of those users online at the same time at peak
DEFAULT_USERS_PER_AP = 50  # concurrent users one AP radio serves at a usable rate


def channels_for_band(band: str) -> tuple[int, ...]:
    """The non-overlapping channel numbers of a band ("2.4", "5.2" or "5.8" GHz)."""
    try:
        return CHANNELS_BY_BAND[band]
    except KeyError:
        raise InputError(f"band must be one of {', '.join(repr(b) for b in CHANNELS_BY_BAND)}, not {band!r}") from None


# --- shared input checks ----------------------------------------------------------------


def _points(points_xy: object) -> np.ndarray:
    points = np.asarray(points_xy, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points_xy must have shape (n, 2) (x, y in metres), not {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError("points_xy has a missing or infinite coordinate")
    return points


def _ids(site_ids: Iterable[Hashable], n: int) -> list[Hashable]:
    ids = list(site_ids)
    if len(ids) != n:
        raise ValueError(f"{len(ids)} site ids for {n} points")
    if len(set(ids)) != n:
        raise ValueError("site ids must be unique")
    return ids


def _pairs_within(points: np.ndarray, max_distance_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i < j) at most ``max_distance_m`` apart, sorted, with their distances.

    Uses a k-d tree, so only nearby pairs are ever looked at.
    """
    if len(points) < 2 or max_distance_m <= 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0)
    pairs = cKDTree(points).query_pairs(r=max_distance_m, output_type="ndarray")
    if len(pairs) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty, np.empty(0)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    i, j = pairs[:, 0], pairs[:, 1]
    return i, j, np.hypot(*(points[i] - points[j]).T)


# --- interference graph and channel plan -----------------------------------------------


def interference_graph(
    points_xy: object,
    radii_m: object,
    site_ids: Iterable[Hashable],
    co_channel_distance_m: float | None = None,
) -> nx.Graph:
    """Graph of hotspots that interfere: an edge when two coverage circles overlap.

    Sites ``i`` and ``j`` at distance ``d`` (metres) are joined when ``d < r_i + r_j``
    (their coverage areas overlap) or, if ``co_channel_distance_m`` is given, when
    ``d < co_channel_distance_m``. Nodes carry ``x``, ``y``, ``radius_m``; edges carry
    ``distance_m``. Candidate pairs come from a k-d tree, never from all pairs.
    """
    points = _points(points_xy)
    radii = np.asarray(radii_m, dtype=float).reshape(-1)
    ids = _ids(site_ids, len(points))
    if radii.shape != (len(points),):
        raise ValueError(f"{radii.size} radii for {len(points)} points")
    if not np.all(np.isfinite(radii)) or np.any(radii < 0):
        raise ValueError("radii_m must be finite and non-negative metres")
    co_channel = 0.0 if co_channel_distance_m is None else float(co_channel_distance_m)
    if not math.isfinite(co_channel) or co_channel < 0:
        raise ValueError("co_channel_distance_m must be a non-negative number of metres")

    graph = nx.Graph()
    for site, (x, y), r in zip(ids, points, radii):
        graph.add_node(site, x=float(x), y=float(y), radius_m=float(r))
    search = max(2 * float(radii.max(initial=0.0)), co_channel)
    i, j, distance = _pairs_within(points, search)
    keep = (distance < radii[i] + radii[j]) | (distance < co_channel)
    for a, b, d in zip(i[keep], j[keep], distance[keep]):
        graph.add_edge(ids[a], ids[b], distance_m=float(d))
    return graph


@dataclass(frozen=True)
class ChannelPlan:
    """A channel for every site of an interference graph.

    ``channel`` maps site → channel number; ``conflicts`` maps site → how many of its
    neighbours share its channel; ``conflicting_edges`` lists the same-channel pairs and
    ``total_conflicts`` counts them. ``initial_conflicts`` is the count after DSATUR
    repaired to the available channels, before the local search; ``dsatur_colours`` is
    how many channels DSATUR alone needed (if no more than are available, a plan without
    conflicts exists).
    """

    channels: tuple[int, ...]
    channel: dict[Hashable, int]
    conflicts: dict[Hashable, int]
    conflicting_edges: tuple[tuple[Hashable, Hashable], ...]
    total_conflicts: int
    initial_conflicts: int
    dsatur_colours: int
    iterations: int


def count_conflicts(graph: nx.Graph, channel: Mapping[Hashable, int]) -> int:
    """Number of edges whose two ends have the same channel."""
    return sum(1 for u, v in graph.edges if channel[u] == channel[v])


def assign_channels(
    graph: nx.Graph,
    channels: Sequence[int] = CHANNELS_BY_BAND["2.4"],
    *,
    max_iterations: int = 10_000,
    patience: int = 2_000,
    seed: int = 0,
) -> ChannelPlan:
    """Assign one of ``channels`` to every node, minimising same-channel edges.

    1. DSATUR colouring (``networkx.greedy_color``), which may use more colours than
       there are channels.
    2. Repair: nodes whose colour has no channel take, one by one, the channel fewest of
       their already-placed neighbours use (lowest channel on a tie).
    3. Tabu search (TabuCol): repeatedly move one conflicting node to the channel that
       lowers the conflict count most (or raises it least), forbidding the move back
       for a while; keep the best plan seen. Stops at zero conflicts, after
       ``max_iterations`` moves, or after ``patience`` moves without improvement.

    Nodes are processed in sorted order and ties are broken by a random generator seeded
    with ``seed``, so the result depends only on the graph (nodes, edges) and ``seed``.
    The result is never worse than step 2.
    """
    channel_list = tuple(channels)
    if not channel_list or len(set(channel_list)) != len(channel_list):
        raise InputError("channels must be a non-empty list of distinct channel numbers")
    nodes = _sorted_nodes(graph)
    index = {node: k for k, node in enumerate(nodes)}
    canonical = nx.Graph()
    canonical.add_nodes_from(range(len(nodes)))
    canonical.add_edges_from(sorted(tuple(sorted((index[u], index[v]))) for u, v in graph.edges if u != v))

    dsatur = dsatur_colouring(canonical)
    dsatur_colours = max(dsatur.values(), default=-1) + 1
    colour = _repair_to_k(canonical, dsatur, len(channel_list))
    initial = count_conflicts(canonical, dict(enumerate(colour)))
    colour, iterations = _tabu_search(canonical, colour, len(channel_list), max_iterations, patience, seed)

    channel = {nodes[k]: channel_list[colour[k]] for k in range(len(nodes))}
    conflicting = tuple(
        (nodes[u], nodes[v]) for u, v in sorted(canonical.edges) if colour[u] == colour[v]
    )
    conflicts = dict.fromkeys(nodes, 0)
    for u, v in conflicting:
        conflicts[u] += 1
        conflicts[v] += 1
    return ChannelPlan(
        channels=channel_list,
        channel=channel,
        conflicts=conflicts,
        conflicting_edges=conflicting,
        total_conflicts=len(conflicting),
        initial_conflicts=initial,
        dsatur_colours=dsatur_colours,
        iterations=iterations,
    )


def _sorted_nodes(graph: nx.Graph) -> list[Hashable]:
    try:
        return sorted(graph.nodes)
    except TypeError:  # mixed id types: sort by type name, then text
        return sorted(graph.nodes, key=lambda node: (type(node).__name__, repr(node)))


def dsatur_colouring(graph: nx.Graph) -> dict[Hashable, int]:
    """DSATUR colouring: the same result as ``networkx.greedy_color(graph, "DSATUR")``.

    Repeatedly colours the uncoloured node with the most distinct colours among its
    neighbours (ties: highest degree, then first in the graph's node order) with the
    smallest colour its neighbours do not use. networkx rescans every node at each step
    (quadratic: 12 s for 2,000 hotspots); a heap of (saturation, degree, position) makes
    this O((n + m) log n) with the same choices.
    """
    nodes = list(graph.nodes)
    position = {node: k for k, node in enumerate(nodes)}
    neighbours = [[position[u] for u in graph[node] if u != node] for node in nodes]
    degree = [graph.degree(node) for node in nodes]
    colour = [-1] * len(nodes)
    seen_colours: list[set[int]] = [set() for _ in nodes]
    heap = [(0, -degree[v], v) for v in range(len(nodes))]
    heapq.heapify(heap)
    while heap:
        minus_saturation, _, v = heapq.heappop(heap)
        if colour[v] >= 0 or -minus_saturation != len(seen_colours[v]):
            continue  # already coloured, or a stale entry superseded by a newer one
        taken = seen_colours[v]
        colour[v] = next(c for c in range(len(taken) + 1) if c not in taken)
        for u in neighbours[v]:
            if colour[u] < 0 and colour[v] not in seen_colours[u]:
                seen_colours[u].add(colour[v])
                heapq.heappush(heap, (-len(seen_colours[u]), -degree[u], u))
    return {node: colour[k] for k, node in enumerate(nodes)}


def _repair_to_k(graph: nx.Graph, dsatur: Mapping[int, int], k: int) -> np.ndarray:
    """Colours below ``k`` kept; each other node takes its least-used channel among placed neighbours."""
    colour = np.array([dsatur[node] for node in range(graph.number_of_nodes())], dtype=np.intp)
    for node in sorted(np.flatnonzero(colour >= k), key=lambda n: (colour[n], n)):
        used = np.zeros(k, dtype=np.intp)
        for neighbour in graph[node]:
            if colour[neighbour] < k:
                used[colour[neighbour]] += 1
        colour[node] = int(np.argmin(used))  # first minimum: lowest channel on a tie
    return colour


def _tabu_search(
    graph: nx.Graph, colour: np.ndarray, k: int, max_iterations: int, patience: int, seed: int
) -> tuple[np.ndarray, int]:
    """TabuCol local search from ``colour``; returns the best colouring seen and the moves made."""
    n = len(colour)
    if n == 0 or k < 2 or graph.number_of_edges() == 0:
        return colour, 0
    adjacency = nx.to_scipy_sparse_array(graph, nodelist=range(n), weight=None, format="csr")
    neighbours = [adjacency.indices[adjacency.indptr[v] : adjacency.indptr[v + 1]] for v in range(n)]
    rng = np.random.default_rng(seed)

    colour = colour.copy()
    rows = np.arange(n)
    # same[v, c]: how many neighbours of v have colour c
    same = np.asarray((adjacency @ sparse.csr_array((np.ones(n), (rows, colour)), shape=(n, k))).todense(), dtype=np.intp)
    total = int(same[rows, colour].sum()) // 2
    best, best_colour = total, colour.copy()
    tabu_until = np.zeros((n, k), dtype=np.int64)
    since_best = 0
    iteration = 0
    while iteration < max_iterations and best > 0 and since_best < patience:
        conflicted = np.flatnonzero(same[rows, colour] > 0)
        own = same[conflicted, colour[conflicted]]
        delta = same[conflicted] - own[:, None]
        allowed = (tabu_until[conflicted] <= iteration) | (total + delta < best)
        allowed[np.arange(len(conflicted)), colour[conflicted]] = False
        if not allowed.any():  # every move is tabu: ignore the tabu list for this step
            allowed = np.ones_like(allowed)
            allowed[np.arange(len(conflicted)), colour[conflicted]] = False
        score = np.where(allowed, delta, np.iinfo(np.intp).max)
        candidates = np.flatnonzero(score == score.min())  # row-major: node order, then channel
        row, new = divmod(int(candidates[rng.integers(len(candidates))]), k)
        node, old = int(conflicted[row]), int(colour[conflicted[row]])

        colour[node] = new
        same[neighbours[node], old] -= 1
        same[neighbours[node], new] += 1
        total += int(delta[row, new])
        tabu_until[node, old] = iteration + 1 + int(0.6 * len(conflicted)) + int(rng.integers(10))
        iteration += 1
        if total < best:
            best, best_colour, since_best = total, colour.copy(), 0
        else:
            since_best += 1
    return best_colour, iteration


# --- backhaul -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeshComponent:
    """A group of sites linked by mesh hops; ``gateways`` are its wired sites."""

    sites: tuple[Hashable, ...]
    gateways: tuple[Hashable, ...]

    @property
    def size(self) -> int:
        return len(self.sites)

    @property
    def has_gateway(self) -> bool:
        return bool(self.gateways)


@dataclass(frozen=True)
class BackhaulReport:
    """How each site reaches the wired network.

    ``graph`` is the mesh (edges: sites within mesh range, with ``distance_m``; nodes:
    ``wired`` flag). ``hops`` maps every site with a path to a wired site to the number
    of mesh hops to the nearest one (0 for wired sites); ``gateway`` maps it to that
    wired site. ``orphans`` are the wireless sites with no path to any wired site.
    ``components`` are the connected groups, largest first.
    """

    graph: nx.Graph
    hops: dict[Hashable, int]
    gateway: dict[Hashable, Hashable]
    orphans: tuple[Hashable, ...]
    components: tuple[MeshComponent, ...]

    @property
    def n_components(self) -> int:
        return len(self.components)

    @property
    def max_hops(self) -> int:
        """The longest hop count to a gateway (0 when no site needs a hop)."""
        return max(self.hops.values(), default=0)


def backhaul(points_xy: object, site_ids: Iterable[Hashable], wired: object, mesh_range_m: float) -> BackhaulReport:
    """Mesh backhaul: hop counts to the nearest wired site, orphans and components.

    Two sites are linked when they are at most ``mesh_range_m`` metres apart (pairs
    from a k-d tree). ``wired`` is a boolean per site (fibre available). Hop counts come
    from one breadth-first search from all wired sites at once.
    """
    points = _points(points_xy)
    ids = _ids(site_ids, len(points))
    is_wired = np.asarray(wired)
    if is_wired.shape != (len(points),) or is_wired.dtype != bool:
        raise ValueError(f"wired must be a boolean array with one value per site ({len(points)})")
    if not (math.isfinite(mesh_range_m) and mesh_range_m >= 0):
        raise InputError(f"mesh_range_m must be a non-negative number of metres, not {mesh_range_m!r}")

    graph = nx.Graph()
    for site, flag in zip(ids, is_wired):
        graph.add_node(site, wired=bool(flag))
    i, j, distance = _pairs_within(points, mesh_range_m)
    for a, b, d in zip(i, j, distance):
        graph.add_edge(ids[a], ids[b], distance_m=float(d))

    gateways = [site for site, flag in zip(ids, is_wired) if flag]
    hops: dict[Hashable, int] = {}
    gateway: dict[Hashable, Hashable] = {}
    if gateways:
        _, paths = nx.multi_source_dijkstra(graph, gateways, weight=lambda u, v, data: 1)
        for site in ids:  # in input order, so the dicts are too
            if site in paths:
                hops[site] = len(paths[site]) - 1
                gateway[site] = paths[site][0]
    orphans = tuple(site for site in ids if site not in hops)

    position = {site: k for k, site in enumerate(ids)}
    components = []
    for members in nx.connected_components(graph):
        ordered = tuple(sorted(members, key=position.__getitem__))
        components.append(MeshComponent(ordered, tuple(s for s in ordered if graph.nodes[s]["wired"])))
    components.sort(key=lambda c: (-c.size, position[c.sites[0]]))
    return BackhaulReport(graph=graph, hops=hops, gateway=gateway, orphans=orphans, components=tuple(components))


# --- capacity -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityReport:
    """Expected peak load per site against its access points.

    ``concurrent_users[site] = population × take_up_rate × concurrency``;
    ``aps_needed[site] = ceil(concurrent_users / users_per_ap)`` (at least 1);
    ``extra_aps[site]`` is what the site needs beyond its ``aps_per_site``;
    ``overloaded`` lists sites with extra APs, most extra first.
    """

    take_up_rate: float
    concurrency: float
    users_per_ap: float
    aps_per_site: int
    concurrent_users: dict[Hashable, float]
    aps_needed: dict[Hashable, int]
    extra_aps: dict[Hashable, int]
    overloaded: tuple[Hashable, ...]

    @property
    def total_concurrent_users(self) -> float:
        return float(sum(self.concurrent_users.values()))

    @property
    def total_extra_aps(self) -> int:
        return sum(self.extra_aps.values())


def capacity(
    population_covered: Mapping[Hashable, float],
    take_up_rate: float = DEFAULT_TAKE_UP_RATE,
    concurrency: float = DEFAULT_CONCURRENCY,
    users_per_ap: float = DEFAULT_USERS_PER_AP,
    aps_per_site: int = 1,
) -> CapacityReport:
    """Concurrent users per site and the access points they need.

    ``population_covered`` maps site → residents it serves (see
    :func:`split_shared_population`). The defaults are planning assumptions, all
    configurable: 10 % of covered residents use the public Wi-Fi (``take_up_rate``),
    20 % of them at the same time at peak (``concurrency``), so 2 % of the population
    is online at once; one AP radio serves about 50 concurrent users at a usable rate
    (``users_per_ap``; vendors quote 25–100 depending on the rate wanted).
    """
    for name, value in (("take_up_rate", take_up_rate), ("concurrency", concurrency)):
        if not (_is_number(value) and 0 <= value <= 1):
            raise InputError(f"{name} must be a fraction between 0 and 1, not {value!r}")
    if not (_is_number(users_per_ap) and users_per_ap > 0):
        raise InputError(f"users_per_ap must be a positive number, not {users_per_ap!r}")
    if not (isinstance(aps_per_site, int) and not isinstance(aps_per_site, bool) and aps_per_site >= 1):
        raise InputError(f"aps_per_site must be a whole number of at least 1, not {aps_per_site!r}")

    users, needed, extra = {}, {}, {}
    for site, population in population_covered.items():
        if not (_is_number(population) and population >= 0):
            raise ValueError(f"site {site!r}: population covered must be a non-negative number, not {population!r}")
        users[site] = float(population) * take_up_rate * concurrency
        # a hair of tolerance so that 100.00000000001 users on 50-user APs need 2, not 3
        needed[site] = max(1, math.ceil(users[site] / users_per_ap - 1e-9))
        extra[site] = max(0, needed[site] - aps_per_site)
    position = {site: k for k, site in enumerate(users)}
    overloaded = tuple(sorted((s for s in users if extra[s] > 0), key=lambda s: (-extra[s], position[s])))
    return CapacityReport(
        take_up_rate=float(take_up_rate),
        concurrency=float(concurrency),
        users_per_ap=float(users_per_ap),
        aps_per_site=aps_per_site,
        concurrent_users=users,
        aps_needed=needed,
        extra_aps=extra,
        overloaded=overloaded,
    )


def split_shared_population(matrix: object, cell_population: object) -> np.ndarray:
    """Population each site serves, a shared cell's population split evenly.

    ``matrix`` is a sparse boolean (sites × cells) matrix, one row per *selected* site,
    true where the site covers the cell; ``cell_population`` has one value per cell. A
    cell covered by ``m`` sites gives ``population / m`` to each; uncovered cells give
    nothing. The result (one value per row) sums to the population of covered cells.
    To count shared cells fully instead, use ``matrix @ cell_population``.
    """
    covers = sparse.csr_array(matrix, dtype=bool, copy=True)
    covers.eliminate_zeros()
    covers = covers.astype(float)
    population = np.asarray(cell_population, dtype=float).reshape(-1)
    if population.shape != (covers.shape[1],):
        raise ValueError(f"{population.size} cell populations for a matrix with {covers.shape[1]} cells")
    if not np.all(np.isfinite(population)) or np.any(population < 0):
        raise ValueError("cell_population must be finite and non-negative")
    sites_per_cell = np.asarray(covers.sum(axis=0)).reshape(-1)
    share = np.divide(population, sites_per_cell, out=np.zeros_like(population), where=sites_per_cell > 0)
    return np.asarray(covers @ share).reshape(-1)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and math.isfinite(value)
