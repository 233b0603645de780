"""Fibre drops: the fewest that leave no wireless site orphaned, at a graph centre, on hand-checked graphs."""

import networkx as nx
import numpy as np
import pytest

from coverage.errors import InputError
from coverage.fibre import propose_fibre_drops
from coverage.networks import backhaul


def line(n, x0=0.0, step=100.0, y=0.0):
    return [[x0 + step * k, y] for k in range(n)]


def test_one_drop_per_orphan_component_at_its_centre():
    # a 5-site chain (a..e) and a 2-site pair (f, g) far away; plus a wired site w with one wireless neighbour
    points = line(5) + line(2, x0=10_000) + line(2, x0=20_000)
    ids = ["a", "b", "c", "d", "e", "f", "g", "w", "v"]
    wired = np.array([False] * 7 + [True, False])
    report = backhaul(points, ids, wired, mesh_range_m=150)
    assert set(report.orphans) == set("abcdefg")
    plan = propose_fibre_drops(report)
    assert plan.sites == ("c", "f")  # chain centre; the pair's tie goes to the first in input order
    assert [d.reason for d in plan.drops] == ["orphans", "orphans"]
    assert [d.component_size for d in plan.drops] == [5, 2]
    assert plan.hops_after == {"a": 2, "b": 1, "c": 0, "d": 1, "e": 2, "f": 0, "g": 1, "w": 0, "v": 1}
    assert plan.max_hops_after == 2


def test_no_drops_when_everything_reaches_fibre():
    report = backhaul(line(3), ["a", "b", "c"], np.array([True, False, False]), mesh_range_m=150)
    plan = propose_fibre_drops(report)
    assert plan.drops == () and plan.hops_after == {"a": 0, "b": 1, "c": 2}


def test_a_lone_site_gets_its_own_drop():
    plan = propose_fibre_drops(backhaul([[0, 0]], ["x"], np.array([False]), 100))
    assert plan.sites == ("x",) and plan.hops_after == {"x": 0}


def test_star_centre_is_the_hub():
    points = [[0, 0], [100, 0], [-100, 0], [0, 100], [0, -100]]
    report = backhaul(points, ["n1", "n2", "n3", "n4", "n5"], np.zeros(5, bool), 120)
    # the first point (0, 0) touches all others; ids are in input order
    assert propose_fibre_drops(report).sites == ("n1",)


@pytest.mark.parametrize("seed", range(10))
def test_random_meshes_fewest_drops_and_optimal_radius(seed):
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 2000, (60, 2))
    wired = rng.random(60) < 0.05
    ids = [f"s{k:02d}" for k in range(60)]
    report = backhaul(points, ids, wired, 250)
    plan = propose_fibre_drops(report)
    graph = report.graph
    orphan_components = [c for c in nx.connected_components(graph) if not any(graph.nodes[s]["wired"] for s in c)]
    assert len(plan.drops) == len(orphan_components)  # the minimum: each needs one
    for drop in plan.drops:
        comp = nx.node_connected_component(graph, drop.site)
        ecc = nx.eccentricity(graph.subgraph(comp))
        assert ecc[drop.site] == min(ecc.values())  # a centre
    assert set(plan.hops_after) == set(ids)  # nobody orphaned
    assert plan == propose_fibre_drops(backhaul(points, ids, wired, 250))


def test_max_hops_adds_drops_until_every_site_is_close_enough():
    # a 9-site chain with fibre at one end: hops 0..8
    report = backhaul(line(9), [f"c{k}" for k in range(9)], np.array([True] + [False] * 8), 150)
    plan = propose_fibre_drops(report, max_hops=2)
    assert plan.max_hops_after <= 2
    # farthest is c8 (8 hops): drop 2 hops towards fibre, at c6 → hops 0,1,2,3,2,1,0,1,2;
    # farthest is then c3: of c1..c5 (within 2 hops of it) c1 and c5 are nearest fibre (1 hop)
    # and 2 hops away; c1 comes first in input order → hops 0,0,1,2,2,1,0,1,2
    assert plan.sites == ("c6", "c1")
    assert list(plan.hops_after.values()) == [0, 0, 1, 2, 2, 1, 0, 1, 2]
    assert [d.reason for d in plan.drops] == ["hops", "hops"]
    with pytest.raises(InputError, match="max_hops"):
        propose_fibre_drops(report, max_hops=-1)
