"""The network behind a plan: channel plan, backhaul mesh and capacity.

Pure functions from arrays to plain results. Coordinates are ``(n, 2)`` arrays of x, y
in a metric (projected) CRS, so distances are metres; every distance and radius here is
in metres. Site ids are any hashable values, unique, in the same order as the points.

- :func:`interference_graph` and :func:`assign_channels`: which selected hotspots can
  hear each other, and a channel for each that leaves as few same-channel neighbours as
  possible with only ``k`` channels (3 at 2.4 GHz). :func:`channel_plan` does both on
  index arrays (no networkx graph), for a city's tens of thousands of hotspots.
- :func:`backhaul`: which wireless sites reach a wired (fibre) gateway over mesh links,
  in how many hops, and which are orphans (k-d tree pairs, ``scipy.sparse.csgraph``).
- :func:`capacity` and :func:`split_shared_population`: expected concurrent users per
  site against what its access points can carry.

Everything is deterministic: the same input gives the same output.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from .errors import InputError
from .graphs import adjacency, bfs, components, overlapping_pairs, pairs_within
from .tabucol import colour_with_k, dsatur, recolour_with_k

if TYPE_CHECKING:  # pragma: no cover - networkx is imported where a graph is built (0.2 s a start-up)
    import networkx as nx

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


# --- interference graph and channel plan -----------------------------------------------


def interference_pairs(
    points_xy: object, radii_m: object, co_channel_distance_m: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (i < j, sorted) of hotspots that interfere, with their distances (m).

    Sites ``i`` and ``j`` at distance ``d`` (metres) interfere when ``d < r_i + r_j``
    (their coverage areas overlap) or, if ``co_channel_distance_m`` is given, when
    ``d < co_channel_distance_m``. Candidate pairs come from a k-d tree, never from all pairs.
    """
    points = _points(points_xy)
    radii = np.asarray(radii_m, dtype=float).reshape(-1)
    if radii.shape != (len(points),):
        raise ValueError(f"{radii.size} radii for {len(points)} points")
    if not np.all(np.isfinite(radii)) or np.any(radii < 0):
        raise ValueError("radii_m must be finite and non-negative metres")
    co_channel = 0.0 if co_channel_distance_m is None else float(co_channel_distance_m)
    if not math.isfinite(co_channel) or co_channel < 0:
        raise ValueError("co_channel_distance_m must be a non-negative number of metres")
    return overlapping_pairs(points, radii, co_channel)


def interference_graph(
    points_xy: object,
    radii_m: object,
    site_ids: Iterable[Hashable],
    co_channel_distance_m: float | None = None,
) -> nx.Graph:
    """Graph of hotspots that interfere: an edge when two coverage circles overlap.

    Edges as in :func:`interference_pairs`. Nodes carry ``x``, ``y``, ``radius_m``;
    edges carry ``distance_m``. (For a city's tens of thousands of sites,
    :func:`channel_plan` does the same without building a networkx graph.)
    """
    points = _points(points_xy)
    ids = _ids(site_ids, len(points))
    i, j, distance = interference_pairs(points, radii_m, co_channel_distance_m)
    radii = np.asarray(radii_m, dtype=float).reshape(-1)
    import networkx as nx

    graph = nx.Graph()
    for site, (x, y), r in zip(ids, points, radii):
        graph.add_node(site, x=float(x), y=float(y), radius_m=float(r))
    graph.add_edges_from((ids[a], ids[b], {"distance_m": float(d)}) for a, b, d in zip(i, j, distance))
    return graph


@dataclass(frozen=True)
class ChannelPlan:
    """A channel for every site of an interference graph.

    ``channel`` maps site → channel number; ``conflicts`` maps site → how many of its
    neighbours share its channel; ``conflicting_edges`` lists the same-channel pairs and
    ``total_conflicts`` counts them. ``initial_conflicts`` is the count after DSATUR
    repaired to the available channels, before the local search; ``dsatur_colours`` is
    how many channels DSATUR alone needed (if no more than are available, a plan without
    conflicts exists); ``iterations`` the tabu moves made; ``interference_edges`` the
    graph's edges. ``recoloured`` is None for a plan made from scratch, and for one
    that kept a previous plan's channels (:func:`rechannel_plan`) the number of sites
    whose channel was chosen again (``dsatur_colours`` is then 0: no DSATUR ran).
    """

    channels: tuple[int, ...]
    channel: dict[Hashable, int]
    conflicts: dict[Hashable, int]
    conflicting_edges: tuple[tuple[Hashable, Hashable], ...]
    total_conflicts: int
    initial_conflicts: int
    dsatur_colours: int
    iterations: int
    interference_edges: int = 0
    recoloured: int | None = None


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

    1. DSATUR colouring (the choices of ``networkx.greedy_color``), which may use more
       colours than there are channels.
    2. Repair: nodes whose colour has no channel take, one by one, the channel fewest of
       their already-placed neighbours use (lowest channel on a tie).
    3. Tabu search (TabuCol, :func:`coverage.tabucol.tabu_search`): repeatedly move one
       conflicting node to the channel that lowers the conflict count most (or raises it
       least), forbidding the move back for a while; keep the best plan seen. Stops at
       zero conflicts, after ``max_iterations`` moves, or after ``patience`` moves without
       improvement. Incremental: a move costs about its node's degree, not a scan of the graph.

    Nodes are processed in sorted order and ties are broken by a random generator seeded
    with ``seed``, so the result depends only on the graph (nodes, edges) and ``seed``.
    The result is never worse than step 2.
    """
    nodes = _sorted_nodes(graph)
    index = {node: k for k, node in enumerate(nodes)}
    pairs = np.array([sorted((index[u], index[v])) for u, v in graph.edges if u != v], dtype=np.intp).reshape(-1, 2)
    return _plan_on_pairs(nodes, pairs[:, 0], pairs[:, 1], channels, max_iterations, patience, seed)


def channel_plan(
    points_xy: object,
    radii_m: object,
    site_ids: Iterable[Hashable],
    channels: Sequence[int] = CHANNELS_BY_BAND["2.4"],
    co_channel_distance_m: float | None = None,
    *,
    max_iterations: int = 10_000,
    patience: int = 2_000,
    seed: int = 0,
) -> ChannelPlan:
    """``assign_channels(interference_graph(...), channels, ...)`` without networkx.

    The same plan (same sorted node order, same tie-breaks), built from index arrays:
    for a city's tens of thousands of hotspots it takes a fraction of a second.
    """
    points = _points(points_xy)
    ids = _ids(site_ids, len(points))
    i, j, _ = interference_pairs(points, radii_m, co_channel_distance_m)
    nodes = _sorted_nodes_of(ids)
    rank = np.empty(len(ids), dtype=np.intp)
    position = _position(ids)
    rank[[position[node] for node in nodes]] = np.arange(len(ids))
    return _plan_on_pairs(nodes, rank[i], rank[j], channels, max_iterations, patience, seed)


def rechannel_plan(
    points_xy: object,
    radii_m: object,
    site_ids: Iterable[Hashable],
    previous: Mapping[Hashable, int],
    channels: Sequence[int] = CHANNELS_BY_BAND["2.4"],
    co_channel_distance_m: float | None = None,
    *,
    removed_xy: object = (),
    removed_radii_m: object = (),
    max_iterations: int = 10_000,
    patience: int = 2_000,
    seed: int = 0,
) -> ChannelPlan:
    """The channel plan of a changed site set that keeps a previous plan where it can.

    A what-if adds and removes a few sites; a planner does not want the whole city
    retuned for them. Sites with a channel in ``previous`` (site → channel number, e.g.
    the base plan's) keep it, unless they interfere (as in :func:`interference_pairs`)
    with a changed site: an added site (one without a previous channel, or whose
    channel is not one of ``channels``) or a removed one (``removed_xy``, ``removed_radii_m``:
    where the removed sites were, metres, and their radii). Those neighbours and the
    added sites are recoloured: added sites first take, in site order, the channel
    fewest of their neighbours use (lowest on a tie), then the tabu search of
    :func:`assign_channels` moves only them (:func:`coverage.tabucol.recolour_with_k`).
    Every other site keeps its channel. Deterministic; ``recoloured`` in the result
    counts the sites whose channel was chosen again.
    """
    points = _points(points_xy)
    ids = _ids(site_ids, len(points))
    gone = _points(np.asarray(removed_xy, dtype=float).reshape(-1, 2))
    n = len(points)
    radii = np.concatenate([np.asarray(radii_m, dtype=float).reshape(-1),
                            np.asarray(removed_radii_m, dtype=float).reshape(-1)])
    i, j, _ = interference_pairs(np.vstack([points, gone]), radii, co_channel_distance_m)
    to_removed = (i >= n) | (j >= n)
    near_removed = np.minimum(i[to_removed], j[to_removed])  # i < j: the kept end of the pair
    i, j = i[~to_removed], j[~to_removed]
    nodes = _sorted_nodes_of(ids)
    rank = np.empty(n, dtype=np.intp)
    position = _position(ids)
    rank[[position[node] for node in nodes]] = np.arange(n)
    palette = {c: k for k, c in enumerate(channels)}
    start = np.array([palette.get(previous.get(node), -1) for node in nodes], dtype=np.intp).reshape(-1)
    changed = start < 0
    movable = changed.copy()
    a, b = rank[i], rank[j]
    movable[a[changed[b]]] = True
    movable[b[changed[a]]] = True
    movable[rank[near_removed[near_removed < n]]] = True
    return _plan_on_pairs(nodes, a, b, channels, max_iterations, patience, seed, start=start, movable=movable)


def _plan_on_pairs(nodes: list[Hashable], i: np.ndarray, j: np.ndarray, channels: Sequence[int],
                   max_iterations: int, patience: int, seed: int, *, start: np.ndarray | None = None,
                   movable: np.ndarray | None = None) -> ChannelPlan:
    """The channel plan of the graph on ``nodes`` (canonical order) with edges ``(i[k], j[k])``;
    with ``start`` and ``movable``, recoloured from ``start`` (palette indices, -1: none)
    moving only the ``movable`` nodes (:func:`coverage.tabucol.recolour_with_k`)."""
    channel_list = tuple(channels)
    if not channel_list or len(set(channel_list)) != len(channel_list):
        raise InputError("channels must be a non-empty list of distinct channel numbers")
    matrix = adjacency(len(nodes), i, j)
    if start is None:
        result = colour_with_k(matrix, len(channel_list), max_iterations=max_iterations,
                               patience=patience, seed=seed)
    else:
        result = recolour_with_k(matrix, start, movable, len(channel_list), max_iterations=max_iterations,
                                 patience=patience, seed=seed)
    colour = result["colour"]
    upper = sparse.triu(matrix, k=1, format="coo")
    a, b = upper.row.astype(np.intp), upper.col.astype(np.intp)
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    clash = colour[a] == colour[b]
    per_node = np.bincount(np.concatenate([a[clash], b[clash]]), minlength=len(nodes))
    palette = np.asarray(channel_list)
    return ChannelPlan(
        channels=channel_list,
        channel=dict(zip(nodes, palette[colour].tolist())) if len(nodes) else {},
        conflicts=dict(zip(nodes, per_node.tolist())),
        conflicting_edges=tuple((nodes[u], nodes[v]) for u, v in zip(a[clash].tolist(), b[clash].tolist())),
        total_conflicts=int(clash.sum()),
        initial_conflicts=result["initial"],
        dsatur_colours=result["dsatur_colours"],
        iterations=result["iterations"],
        interference_edges=len(a),
        recoloured=None if movable is None else int(np.count_nonzero(movable)),
    )


def _sorted_nodes(graph: nx.Graph) -> list[Hashable]:
    return _sorted_nodes_of(list(graph.nodes))


def _sorted_nodes_of(ids: list[Hashable]) -> list[Hashable]:
    try:
        return sorted(ids)
    except TypeError:  # mixed id types: sort by type name, then text
        return sorted(ids, key=lambda node: (type(node).__name__, repr(node)))


def _position(ids: list[Hashable]) -> dict[Hashable, int]:
    return {site: k for k, site in enumerate(ids)}


def dsatur_colouring(graph: nx.Graph) -> dict[Hashable, int]:
    """DSATUR colouring: the same result as ``networkx.greedy_color(graph, "DSATUR")``.

    Repeatedly colours the uncoloured node with the most distinct colours among its
    neighbours (ties: highest degree, then first in the graph's node order) with the
    smallest colour its neighbours do not use. networkx rescans every node at each step
    (quadratic: 12 s for 2,000 hotspots); a heap of (saturation, degree, position) makes
    this O((n + m) log n) with the same choices (:func:`coverage.tabucol.dsatur`).
    """
    nodes = list(graph.nodes)
    position = _position(nodes)
    neighbours = [[position[u] for u in graph[node] if u != node] for node in nodes]
    colour = dsatur(neighbours, [graph.degree(node) for node in nodes])
    return {node: colour[k] for k, node in enumerate(nodes)}


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


@dataclass(frozen=True, eq=False)
class BackhaulReport:
    """How each site reaches the wired network.

    ``site_ids`` and ``wired`` (bool array) are the sites in input order; ``links`` is
    the mesh as index pairs ``(i, j, distance_m)`` (i < j, sorted: sites within mesh
    range) and ``mesh`` its symmetric CSR adjacency; ``graph`` builds the same as a
    networkx graph on first use (nodes: ``wired`` flag; edges: ``distance_m``).
    ``hop_count`` holds each site's hops to the nearest wired site (-1: none) and
    ``hops`` maps every site with a path to a wired site to that number (0 for wired
    sites); ``gateway`` maps it to that wired site. ``orphans`` are the wireless sites
    with no path to any wired site. ``components`` are the connected groups, largest first.
    """

    site_ids: tuple[Hashable, ...]
    wired: np.ndarray
    links: tuple[np.ndarray, np.ndarray, np.ndarray]
    mesh: sparse.csr_array
    hop_count: np.ndarray
    hops: dict[Hashable, int]
    gateway: dict[Hashable, Hashable]
    orphans: tuple[Hashable, ...]
    components: tuple[MeshComponent, ...]

    @cached_property
    def graph(self) -> nx.Graph:
        """The mesh as a networkx graph (nodes in input order, edges in sorted pair order)."""
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from((site, {"wired": bool(flag)}) for site, flag in zip(self.site_ids, self.wired))
        i, j, distance = self.links
        ids = self.site_ids
        graph.add_edges_from((ids[a], ids[b], {"distance_m": d}) for a, b, d in
                             zip(i.tolist(), j.tolist(), distance.tolist()))
        return graph

    @property
    def n_components(self) -> int:
        return len(self.components)

    @property
    def max_hops(self) -> int:
        """The longest hop count to a gateway (0 when no site needs a hop)."""
        return int(self.hop_count.max(initial=0))


def backhaul(points_xy: object, site_ids: Iterable[Hashable], wired: object, mesh_range_m: float) -> BackhaulReport:
    """Mesh backhaul: hop counts to the nearest wired site, orphans and components.

    Two sites are linked when they are at most ``mesh_range_m`` metres apart (pairs
    from a k-d tree). ``wired`` is a boolean per site (fibre available). Hop counts come
    from one breadth-first search from all wired sites at once (wired sites in input
    order, a site's gateway the one whose search reached it first), on index arrays and
    ``scipy.sparse.csgraph``: the answer of ``networkx.multi_source_dijkstra`` on the
    same graph, in a fraction of the time.
    """
    points = _points(points_xy)
    ids = _ids(site_ids, len(points))
    is_wired = np.asarray(wired)
    if is_wired.shape != (len(points),) or is_wired.dtype != bool:
        raise ValueError(f"wired must be a boolean array with one value per site ({len(points)})")
    if not (math.isfinite(mesh_range_m) and mesh_range_m >= 0):
        raise InputError(f"mesh_range_m must be a non-negative number of metres, not {mesh_range_m!r}")

    i, j, distance = pairs_within(points, mesh_range_m)
    mesh = adjacency(len(ids), i, j)
    hop_count, origin = bfs(mesh, np.flatnonzero(is_wired))
    reached = np.flatnonzero(hop_count >= 0)  # in input order, so the dicts are too
    hops = dict(zip([ids[k] for k in reached], hop_count[reached].tolist()))
    gateway = dict(zip([ids[k] for k in reached], [ids[g] for g in origin[reached].tolist()]))
    orphans = tuple(ids[k] for k in np.flatnonzero(hop_count < 0).tolist())
    groups = tuple(
        MeshComponent(tuple(ids[k] for k in members.tolist()),
                      tuple(ids[k] for k in members[is_wired[members]].tolist()))
        for members in components(mesh)
    )
    return BackhaulReport(site_ids=tuple(ids), wired=is_wired.copy(), links=(i, j, distance), mesh=mesh,
                          hop_count=hop_count, hops=hops, gateway=gateway, orphans=orphans, components=groups)


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

    sites, values = list(population_covered), list(population_covered.values())
    population = np.asarray(values) if values else np.zeros(0)
    if (population.dtype.kind not in "fiu" or not np.all(np.isfinite(population) & (population >= 0))
            or any(isinstance(value, (bool, np.bool_)) for value in values)):
        for site, value in zip(sites, values):  # name the first bad one
            if not (_is_number(value) and value >= 0):
                raise ValueError(f"site {site!r}: population covered must be a non-negative number, not {value!r}")
    # vectorised, the same arithmetic as float(population) * take_up_rate * concurrency per site
    users = population.astype(float) * take_up_rate * concurrency
    # a hair of tolerance so that 100.00000000001 users on 50-user APs need 2, not 3
    needed = np.maximum(1, np.ceil(users / users_per_ap - 1e-9)).astype(np.int64)
    extra = np.maximum(0, needed - aps_per_site)
    over = np.flatnonzero(extra > 0)
    overloaded = tuple(sites[k] for k in over[np.lexsort((over, -extra[over]))].tolist())
    return CapacityReport(
        take_up_rate=float(take_up_rate),
        concurrency=float(concurrency),
        users_per_ap=float(users_per_ap),
        aps_per_site=aps_per_site,
        concurrent_users=dict(zip(sites, users.tolist())),
        aps_needed=dict(zip(sites, needed.tolist())),
        extra_aps=dict(zip(sites, extra.tolist())),
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
    return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
            and math.isfinite(value))
