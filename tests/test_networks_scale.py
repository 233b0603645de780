"""The array versions of the network checks against independent recounts and networkx.

The channel plan and the backhaul run on index arrays and scipy.sparse (a city's
70,000 hotspots in about a second); these tests check them at a few thousand sites
against brute-force recounts and against the networkx computations they replace.
"""

import networkx as nx
import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

from coverage.fibre import propose_fibre_drops
from coverage.graphs import adjacency, bfs, centre, components
from coverage.networks import assign_channels, backhaul, channel_plan, interference_graph
from coverage.tabucol import neighbour_lists, tabu_search


def street_like(n_lattice_side: int, keep: float, seed: int, spacing: float = 75.0):
    """A thinned square lattice (street gap-fill) plus some scattered wired sites."""
    rng = np.random.default_rng(seed)
    grid = np.arange(n_lattice_side) * spacing
    xx, yy = np.meshgrid(grid, grid)
    lattice = np.column_stack([xx.ravel(), yy.ravel()])
    street = lattice[rng.random(len(lattice)) < keep]
    wired = rng.uniform(0, grid[-1], (max(1, len(street) // 20), 2))
    points = np.vstack([wired, street])
    radii = np.r_[np.full(len(wired), 120.0), np.full(len(street), 100.0)]
    is_wired = np.r_[np.ones(len(wired), bool), np.zeros(len(street), bool)]
    return points, radii, is_wired


def test_channel_plan_at_scale_matches_a_brute_force_recount():
    points, radii, _ = street_like(120, 0.3, seed=1)  # ~4,500 sites
    ids = [f"site-{k:05d}" for k in range(len(points))]
    plan = channel_plan(points, radii, ids)
    assert len(points) > 4_000

    # independent recount: every pair's distance, overlap rule d < r_i + r_j
    distance = squareform(pdist(points))
    overlap = distance < radii[:, None] + radii[None, :]
    np.fill_diagonal(overlap, False)
    channel = np.array([plan.channel[s] for s in ids])
    clash = overlap & (channel[:, None] == channel[None, :])
    assert plan.interference_edges == int(overlap.sum()) // 2
    assert plan.total_conflicts == int(clash.sum()) // 2 == len(plan.conflicting_edges)
    assert [plan.conflicts[s] for s in ids] == clash.sum(axis=1).tolist()
    assert set(channel.tolist()) <= set(plan.channels)
    assert 0 < plan.total_conflicts < plan.initial_conflicts  # the search improved a real plan
    assert plan.iterations > 0


def test_channel_plan_is_assign_channels_on_the_interference_graph():
    points, radii, _ = street_like(60, 0.35, seed=2)
    ids = [f"s{k:04d}" for k in range(len(points))][::-1]  # ids not in sorted order
    fast = channel_plan(points, radii, ids, max_iterations=3_000)
    graph = interference_graph(points, radii, ids)
    assert fast == assign_channels(graph, max_iterations=3_000)
    assert fast.interference_edges == graph.number_of_edges()


def _naive_tabu(neighbours, colour, k, max_iterations):
    """Steepest descent without tabu: a reference the tabu search must not lose to."""
    colour = list(colour)
    for _ in range(max_iterations):
        best = None
        for v, row in enumerate(neighbours):
            counts = [0] * k
            for u in row:
                counts[colour[u]] += 1
            if counts[colour[v]] == 0:
                continue
            c = min(range(k), key=lambda c: (counts[c], c))
            gain = counts[colour[v]] - counts[c]
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, v, c)
        if best is None:
            return colour
        colour[best[1]] = best[2]
    return colour


def test_tabu_search_is_no_worse_than_a_steepest_descent():
    points, radii, _ = street_like(30, 0.6, seed=3)
    graph = interference_graph(points, radii, range(len(points)))
    neighbours = [sorted(graph[v]) for v in range(len(points))]
    start = [v % 3 for v in range(len(points))]
    tabu, _ = tabu_search(neighbours, start, 3, 2_000, 2_000, seed=0)
    descent = _naive_tabu(neighbours, start, 3, 2_000)

    def conflicts(colour):
        return sum(colour[u] == colour[v] for u, v in graph.edges)

    assert conflicts(tabu) <= conflicts(descent) < conflicts(start)


# --- backhaul against networkx --------------------------------------------------------------


def networkx_backhaul(points, ids, wired, mesh_range_m):
    """What backhaul() computed before: a networkx graph, multi-source Dijkstra, components."""
    graph = nx.Graph()
    for site, flag in zip(ids, wired):
        graph.add_node(site, wired=bool(flag))
    distance = squareform(pdist(points))
    i, j = np.nonzero(np.triu(distance <= mesh_range_m, k=1))
    for a, b in sorted(zip(i.tolist(), j.tolist())):
        graph.add_edge(ids[a], ids[b])
    gateways = [s for s, flag in zip(ids, wired) if flag]
    hops, gateway = {}, {}
    if gateways:
        _, paths = nx.multi_source_dijkstra(graph, gateways, weight=lambda u, v, data: 1)
        for site in ids:
            if site in paths:
                hops[site], gateway[site] = len(paths[site]) - 1, paths[site][0]
    position = {s: k for k, s in enumerate(ids)}
    comps = sorted((tuple(sorted(c, key=position.__getitem__)) for c in nx.connected_components(graph)),
                   key=lambda c: (-len(c), position[c[0]]))
    return graph, hops, gateway, comps


@pytest.mark.parametrize("seed", range(6))
def test_backhaul_equals_the_networkx_version_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(200, 900))
    points = rng.uniform(0, 4000, (n, 2))
    wired = rng.random(n) < rng.choice([0.0, 0.02, 0.1])
    ids = [f"n{k}" for k in rng.permutation(n)]  # ids not in input order
    report = backhaul(points, ids, wired, 250)
    graph, hops, gateway, comps = networkx_backhaul(points, ids, wired, 250)
    assert report.hops == hops and list(report.hops) == list(hops)
    assert report.gateway == gateway
    assert report.orphans == tuple(s for s in ids if s not in hops)
    assert [c.sites for c in report.components] == comps
    assert [c.gateways for c in report.components] == [tuple(s for s in c if graph.nodes[s]["wired"]) for c in comps]
    assert {frozenset(e) for e in report.graph.edges} == {frozenset(e) for e in graph.edges}
    assert dict(report.graph.nodes(data="wired")) == dict(graph.nodes(data="wired"))
    assert report.max_hops == max(hops.values(), default=0)


def test_bfs_and_centre_match_networkx():
    rng = np.random.default_rng(9)
    points = rng.uniform(0, 3000, (500, 2))
    graph = nx.Graph()
    graph.add_nodes_from(range(500))
    distance = squareform(pdist(points))
    i, j = np.nonzero(np.triu(distance <= 220, k=1))
    graph.add_edges_from(zip(i.tolist(), j.tolist()))
    matrix = adjacency(500, i, j)
    hops, _ = bfs(matrix, [0, 17])
    expected = nx.multi_source_dijkstra_path_length(graph, {0, 17})
    assert {v: int(h) for v, h in enumerate(hops) if h >= 0} == expected
    limited, _ = bfs(matrix, [3], limit=2)
    assert {v: int(h) for v, h in enumerate(limited) if h >= 0} == nx.single_source_shortest_path_length(graph, 3, 2)
    for members in components(matrix)[:5]:
        ecc = nx.eccentricity(graph.subgraph(members.tolist()))
        assert centre(matrix, members) == min(v for v in members.tolist() if ecc[v] == min(ecc.values()))
    assert neighbour_lists(matrix)[5] == sorted(graph[5])


def test_fibre_drops_at_scale_leave_no_orphan_and_respect_max_hops():
    points, _, wired = street_like(80, 0.3, seed=4)
    ids = list(range(len(points)))
    report = backhaul(points, ids, wired, 150)
    assert report.orphans  # a real case: some sites are cut off
    plan = propose_fibre_drops(report, max_hops=3)
    graph = report.graph
    fibre = [s for s in ids if wired[s]] + list(plan.sites)
    expected = nx.multi_source_dijkstra_path_length(graph, set(fibre))
    assert plan.hops_after == {s: expected[s] for s in ids}
    assert plan.max_hops_after <= 3
