"""Interference graph, channel plan, mesh backhaul and capacity on hand-checkable cases."""

import itertools

import networkx as nx
import numpy as np
import pytest
from scipy import sparse

from coverage.errors import InputError
from coverage.networks import (
    CHANNELS_BY_BAND,
    assign_channels,
    backhaul,
    capacity,
    channels_for_band,
    count_conflicts,
    dsatur_colouring,
    interference_graph,
    split_shared_population,
)

CHANNELS_5GHZ = (36, 40, 44, 48, 149, 153, 157, 161, 165)


# --- interference graph -----------------------------------------------------------------


def test_overlapping_circles_are_joined():
    # three sites on a line at x = 0, 100, 250 m, radius 60 m:
    # 0–1 are 100 m apart (< 120: overlap), 1–2 are 150 m (no), 0–2 are 250 m (no)
    graph = interference_graph([[0, 0], [100, 0], [250, 0]], [60, 60, 60], ["a", "b", "c"])
    assert set(graph.nodes) == {"a", "b", "c"}
    assert [tuple(sorted(e)) for e in graph.edges] == [("a", "b")]
    assert graph.edges["a", "b"]["distance_m"] == pytest.approx(100.0)
    assert graph.nodes["c"] == {"x": 250.0, "y": 0.0, "radius_m": 60.0}


def test_co_channel_distance_adds_edges():
    graph = interference_graph([[0, 0], [100, 0], [250, 0]], [60, 60, 60], ["a", "b", "c"], co_channel_distance_m=160)
    assert {tuple(sorted(e)) for e in graph.edges} == {("a", "b"), ("b", "c")}


def test_touching_circles_do_not_overlap_and_radii_may_differ():
    touching = interference_graph([[0, 0], [100, 0]], [40, 60], [1, 2])
    assert touching.number_of_edges() == 0
    unequal = interference_graph([[0, 0], [150, 0]], [10, 200], [1, 2])  # 150 < 210
    assert unequal.has_edge(1, 2)


def test_interference_edges_match_brute_force():
    rng = np.random.default_rng(7)
    points = rng.uniform(0, 3000, size=(400, 2))
    radii = rng.uniform(30, 200, size=400)
    graph = interference_graph(points, radii, range(400), co_channel_distance_m=250)
    expected = set()
    for i, j in itertools.combinations(range(400), 2):
        d = np.hypot(*(points[i] - points[j]))
        if d < radii[i] + radii[j] or d < 250:
            expected.add((i, j))
    assert {tuple(sorted(e)) for e in graph.edges} == expected
    assert len(expected) > 100  # the case is not trivially empty


def test_interference_graph_refuses_mismatched_input():
    with pytest.raises(ValueError, match="2 radii for 3 points"):
        interference_graph([[0, 0], [1, 1], [2, 2]], [5, 5], "abc")
    with pytest.raises(ValueError, match="unique"):
        interference_graph([[0, 0], [1, 1]], [5, 5], ["a", "a"])
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        interference_graph([0, 1, 2], [5, 5, 5], "abc")


def test_empty_and_single_site_graphs():
    assert interference_graph(np.empty((0, 2)), [], []).number_of_nodes() == 0
    single = interference_graph([[5, 5]], [100], ["only"])
    assert list(single.nodes) == ["only"] and single.number_of_edges() == 0
    plan = assign_channels(single)
    assert plan.channel == {"only": 1} and plan.total_conflicts == 0


# --- DSATUR -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_dsatur_matches_networkx(seed):
    graph = nx.gnp_random_graph(40, 0.05 + 0.02 * seed, seed=seed)
    assert dsatur_colouring(graph) == nx.greedy_color(graph, strategy="DSATUR")


def test_dsatur_matches_networkx_on_a_geometric_graph():
    graph = nx.random_geometric_graph(300, 0.08, seed=3)
    assert dsatur_colouring(graph) == nx.greedy_color(graph, strategy="DSATUR")


# --- channel plan -------------------------------------------------------------------------


def _check_plan_is_consistent(graph, plan):
    """The plan's own counts agree with a recount from its channels."""
    assert set(plan.channel) == set(graph.nodes)
    assert set(plan.channel.values()) <= set(plan.channels)
    same = [(u, v) for u, v in graph.edges if plan.channel[u] == plan.channel[v]]
    assert plan.total_conflicts == len(same) == len(plan.conflicting_edges) == count_conflicts(graph, plan.channel)
    for node in graph.nodes:
        assert plan.conflicts[node] == sum(1 for u in graph[node] if plan.channel[u] == plan.channel[node])


def test_triangle_gets_three_channels():
    graph = nx.complete_graph(["a", "b", "c"])
    plan = assign_channels(graph, (1, 6, 11))
    assert plan.total_conflicts == 0
    assert sorted(plan.channel.values()) == [1, 6, 11]
    _check_plan_is_consistent(graph, plan)


def test_k4_with_three_channels_leaves_exactly_one_conflict():
    graph = nx.complete_graph(4)
    plan = assign_channels(graph, (1, 6, 11))
    assert plan.total_conflicts == 1
    assert sorted(plan.conflicts.values()) == [0, 0, 1, 1]
    (u, v), = plan.conflicting_edges
    assert plan.channel[u] == plan.channel[v]
    assert plan.dsatur_colours == 4
    _check_plan_is_consistent(graph, plan)


@pytest.mark.parametrize("graph", [nx.complete_bipartite_graph(3, 4), nx.grid_2d_graph(6, 6), nx.cycle_graph(10)])
def test_bipartite_graphs_need_two_channels(graph):
    plan = assign_channels(graph, (1, 11))
    assert plan.total_conflicts == 0
    _check_plan_is_consistent(graph, plan)


def test_odd_cycle_with_two_channels_leaves_one_conflict():
    plan = assign_channels(nx.cycle_graph(7), (1, 11))
    assert plan.total_conflicts == 1


def test_one_channel_makes_every_edge_a_conflict():
    graph = nx.path_graph(5)
    plan = assign_channels(graph, (6,))
    assert plan.total_conflicts == 4
    assert set(plan.channel.values()) == {6}


def _planted_three_partite(seed: int, n: int = 24) -> nx.Graph:
    """A 3-colourable graph (edges only between the classes i % 3)."""
    rng = np.random.default_rng(seed)
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    for i, j in itertools.combinations(range(n), 2):
        if i % 3 != j % 3 and rng.random() < 0.3:
            graph.add_edge(i, j)
    return graph


def test_local_search_repairs_what_dsatur_gets_wrong():
    # This 3-colourable graph fools DSATUR into a 4th colour; the repair leaves
    # conflicts that the tabu search must remove.
    graph = _planted_three_partite(66)
    plan = assign_channels(graph, (1, 6, 11))
    assert plan.dsatur_colours == 4
    assert plan.initial_conflicts > 0
    assert plan.total_conflicts == 0
    _check_plan_is_consistent(graph, plan)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_never_worse_than_dsatur_then_clamp(seed):
    graph = nx.random_geometric_graph(250, 0.1, seed=seed)
    plan = assign_channels(graph, (1, 6, 11))
    dsatur = nx.greedy_color(graph, strategy="DSATUR")
    clamped_low = {node: min(colour, 2) for node, colour in dsatur.items()}
    clamped_mod = {node: colour % 3 for node, colour in dsatur.items()}
    assert plan.dsatur_colours > 3  # the graph really needs more than three channels
    assert plan.total_conflicts <= plan.initial_conflicts
    assert plan.total_conflicts <= count_conflicts(graph, clamped_low)
    assert plan.total_conflicts <= count_conflicts(graph, clamped_mod)
    assert plan.total_conflicts < plan.initial_conflicts  # the search did improve something
    _check_plan_is_consistent(graph, plan)


def test_five_ghz_channels_give_zero_conflicts_where_feasible():
    # 300 hotspots of 150 m radius over 3 km × 3 km: a clique of 9 mutually overlapping
    # sites, so 9 channels are needed and enough
    rng = np.random.default_rng(11)
    points = rng.uniform(0, 3000, size=(300, 2))
    graph = interference_graph(points, np.full(300, 150.0), range(300))
    assert max(len(clique) for clique in nx.find_cliques(graph)) == 9
    plan = assign_channels(graph, CHANNELS_5GHZ)
    assert plan.total_conflicts == 0
    assert set(plan.channel.values()) <= set(CHANNELS_5GHZ)
    assert assign_channels(graph, (1, 6, 11)).total_conflicts > 0


def test_complete_graphs_against_nine_channels():
    assert assign_channels(nx.complete_graph(9), CHANNELS_5GHZ).total_conflicts == 0
    assert assign_channels(nx.complete_graph(10), CHANNELS_5GHZ).total_conflicts == 1


def test_channel_plan_is_deterministic_and_ignores_insertion_order():
    graph = nx.random_geometric_graph(150, 0.12, seed=5)
    shuffled = nx.Graph()
    order = list(graph.nodes)
    np.random.default_rng(0).shuffle(order)
    shuffled.add_nodes_from(order)
    edges = list(graph.edges)
    np.random.default_rng(1).shuffle(edges)
    shuffled.add_edges_from((v, u) for u, v in edges)
    first, again, reordered = (assign_channels(g, max_iterations=1_500) for g in (graph, graph, shuffled))
    assert first.iterations > 0  # the seeded tie-breaks were exercised
    assert first == again
    assert first.channel == reordered.channel
    assert first.total_conflicts == reordered.total_conflicts


def test_channel_plan_takes_string_and_mixed_ids():
    graph = nx.Graph([("lib-1", "school-2"), ("school-2", 3), (3, "lib-1")])
    plan = assign_channels(graph)
    assert plan.total_conflicts == 0


def test_channels_must_be_distinct():
    with pytest.raises(InputError, match="distinct"):
        assign_channels(nx.path_graph(3), (1, 1, 6))
    with pytest.raises(InputError, match="non-empty"):
        assign_channels(nx.path_graph(3), ())


def test_channels_per_band():
    assert channels_for_band("2.4") == (1, 6, 11)
    assert channels_for_band("5.8") == (149, 153, 157, 161, 165)
    assert CHANNELS_BY_BAND["5.2"][0] == 36
    with pytest.raises(InputError, match="band must be one of"):
        channels_for_band("60")


# --- backhaul -----------------------------------------------------------------------------


def test_chain_of_wireless_sites_counts_hops():
    # W at 0 m, then wireless sites every 100 m; mesh range 150 m links only neighbours
    points = [[0, 0], [100, 0], [200, 0], [300, 0]]
    report = backhaul(points, ["W", "a", "b", "c"], np.array([True, False, False, False]), 150)
    assert report.hops == {"W": 0, "a": 1, "b": 2, "c": 3}
    assert report.gateway == {"W": "W", "a": "W", "b": "W", "c": "W"}
    assert report.orphans == ()
    assert report.n_components == 1 and report.max_hops == 3
    assert report.components[0].sites == ("W", "a", "b", "c")
    assert report.components[0].gateways == ("W",) and report.components[0].has_gateway


def test_isolated_wireless_site_is_an_orphan():
    points = [[0, 0], [100, 0], [5000, 0]]
    report = backhaul(points, ["W", "a", "far"], np.array([True, False, False]), 150)
    assert report.orphans == ("far",)
    assert "far" not in report.hops
    assert report.n_components == 2
    big, alone = report.components
    assert (big.size, big.has_gateway) == (2, True)
    assert (alone.sites, alone.has_gateway) == (("far",), False)


def test_components_are_counted_with_their_gateways():
    # two islands, each with its own wired site, a wireless pair with none, and a lone wired site
    points = [[0, 0], [100, 0], [200, 0], [2000, 0], [2100, 0], [5000, 0], [5100, 0], [9000, 0]]
    ids = ["W1", "a", "b", "W2", "c", "d", "e", "W3"]
    wired = np.array([True, False, False, True, False, False, False, True])
    report = backhaul(points, ids, wired, 150)
    assert [c.sites for c in report.components] == [("W1", "a", "b"), ("W2", "c"), ("d", "e"), ("W3",)]
    assert [c.has_gateway for c in report.components] == [True, True, False, True]
    assert report.orphans == ("d", "e")
    assert report.hops == {"W1": 0, "a": 1, "b": 2, "W2": 0, "c": 1, "W3": 0}


def test_nearest_gateway_by_hops():
    # W1 — a — b — c — W2: b is two hops from both; a and c go to their neighbour
    points = [[0, 0], [100, 0], [200, 0], [300, 0], [400, 0]]
    wired = np.array([True, False, False, False, True])
    report = backhaul(points, ["W1", "a", "b", "c", "W2"], wired, 120)
    assert report.hops == {"W1": 0, "a": 1, "b": 2, "c": 1, "W2": 0}
    assert report.gateway["a"] == "W1" and report.gateway["c"] == "W2"
    assert report.gateway["b"] in {"W1", "W2"}


def test_mesh_range_is_inclusive():
    report = backhaul([[0, 0], [150, 0]], ["W", "a"], np.array([True, False]), 150)
    assert report.hops == {"W": 0, "a": 1}
    assert report.graph.edges["W", "a"]["distance_m"] == pytest.approx(150.0)


def test_no_wired_site_makes_every_site_an_orphan():
    report = backhaul([[0, 0], [100, 0]], ["a", "b"], np.array([False, False]), 150)
    assert report.orphans == ("a", "b") and report.hops == {}
    assert report.n_components == 1 and not report.components[0].has_gateway


def test_hops_match_a_super_source_bfs():
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 3000, size=(300, 2))
    wired = rng.random(300) < 0.1
    report = backhaul(points, range(300), wired, 300)
    graph = report.graph.copy()
    graph.add_edges_from(("source", i) for i in np.flatnonzero(wired))
    expected = {node: d - 1 for node, d in nx.single_source_shortest_path_length(graph, "source").items()}
    del expected["source"]
    assert report.hops == expected
    assert set(report.orphans) == set(range(300)) - set(expected)
    assert report.n_components == nx.number_connected_components(report.graph)


def test_backhaul_refuses_bad_wired_flags():
    with pytest.raises(ValueError, match="boolean array"):
        backhaul([[0, 0], [1, 1]], ["a", "b"], np.array([1, 0]), 100)
    with pytest.raises(InputError, match="mesh_range_m"):
        backhaul([[0, 0], [1, 1]], ["a", "b"], np.array([True, False]), -1)


# --- capacity -----------------------------------------------------------------------------


def test_capacity_by_hand():
    # defaults: 10 % take-up × 20 % concurrency = 2 % online; 50 users per AP
    report = capacity({"big": 10_000, "edge": 2_500, "over": 2_501, "empty": 0})
    assert report.concurrent_users == pytest.approx({"big": 200.0, "edge": 50.0, "over": 50.02, "empty": 0.0})
    assert report.aps_needed == {"big": 4, "edge": 1, "over": 2, "empty": 1}
    assert report.extra_aps == {"big": 3, "edge": 0, "over": 1, "empty": 0}
    assert report.overloaded == ("big", "over")  # most extra first
    assert report.total_extra_aps == 4
    assert report.total_concurrent_users == pytest.approx(300.02)


def test_capacity_settings_are_configurable():
    report = capacity({"a": 1_000}, take_up_rate=0.5, concurrency=0.5, users_per_ap=100, aps_per_site=2)
    assert report.concurrent_users["a"] == pytest.approx(250.0)
    assert report.aps_needed["a"] == 3 and report.extra_aps["a"] == 1
    assert (report.take_up_rate, report.concurrency, report.users_per_ap, report.aps_per_site) == (0.5, 0.5, 100, 2)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"take_up_rate": 1.5}, "take_up_rate must be a fraction between 0 and 1"),
        ({"concurrency": -0.1}, "concurrency must be a fraction between 0 and 1"),
        ({"users_per_ap": 0}, "users_per_ap must be a positive number"),
        ({"aps_per_site": 0}, "aps_per_site must be a whole number of at least 1"),
    ],
)
def test_capacity_refuses_bad_settings(settings, message):
    with pytest.raises(InputError, match=message):
        capacity({"a": 100}, **settings)


def test_split_shared_population_by_hand():
    # site A covers cells 0, 1; site B covers cells 1, 2; cell 3 is covered by no one
    matrix = sparse.csr_array(np.array([[1, 1, 0, 0], [0, 1, 1, 0]], dtype=bool))
    population = np.array([100.0, 60.0, 30.0, 1000.0])
    per_site = split_shared_population(matrix, population)
    np.testing.assert_allclose(per_site, [130.0, 60.0])  # 100 + 60/2, 60/2 + 30
    assert per_site.sum() == pytest.approx(190.0)  # covered cells counted once
    np.testing.assert_allclose(matrix.astype(float) @ population, [160.0, 90.0])  # the "count fully" variant


def test_split_shared_population_ignores_stored_zeros():
    # an explicit stored False must not count as coverage
    matrix = sparse.csr_array((np.array([True, False, True]), (np.array([0, 1, 1]), np.array([0, 0, 1]))), shape=(2, 2))
    np.testing.assert_allclose(split_shared_population(matrix, [10.0, 4.0]), [10.0, 4.0])


def test_split_shared_population_sums_to_covered_population():
    rng = np.random.default_rng(2)
    matrix = sparse.random_array((50, 500), density=0.02, random_state=rng, format="csr") > 0
    population = rng.uniform(0, 100, 500)
    covered = np.asarray(matrix.sum(axis=0)).reshape(-1) > 0
    assert split_shared_population(matrix, population).sum() == pytest.approx(population[covered].sum())


def test_split_shared_population_refuses_wrong_length():
    with pytest.raises(ValueError, match="3 cell populations for a matrix with 2 cells"):
        split_shared_population(sparse.csr_array(np.eye(2, dtype=bool)), [1.0, 2.0, 3.0])
