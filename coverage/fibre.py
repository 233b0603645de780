"""Fibre drops: which wireless sites to connect to fibre so that none is left orphaned.

With wireless (mesh) sites such as street gap-fill access points, the backhaul check of
:func:`coverage.networks.backhaul` finds orphans: sites with no mesh path to a wired one.
:func:`propose_fibre_drops` proposes the fewest fibre drops that leave none orphaned,
each at a graph centre of its mesh component, and optionally more drops so that no site
is more than ``max_hops`` hops from fibre. Deterministic: ties break on input order.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import networkx as nx

from .errors import InputError
from .networks import BackhaulReport


@dataclass(frozen=True)
class FibreDrop:
    """A wireless site proposed for a fibre connection.

    ``reason`` is ``"orphans"`` (its mesh component had no wired site) or
    ``"hops"`` (some site was more than ``max_hops`` hops from fibre);
    ``component_size`` the size of its mesh component.
    """

    site: Hashable
    reason: str
    component_size: int


@dataclass(frozen=True)
class FibrePlan:
    """Proposed fibre drops and the backhaul after them.

    ``drops`` in the order proposed (orphan components largest first, then hop
    drops); ``hops_after`` maps every site to its hop count to fibre once the drops are
    made; ``max_hops_after`` is the largest. No site is an orphan after the drops.
    """

    drops: tuple[FibreDrop, ...]
    hops_after: dict[Hashable, int]

    @property
    def sites(self) -> tuple[Hashable, ...]:
        return tuple(d.site for d in self.drops)

    @property
    def max_hops_after(self) -> int:
        return max(self.hops_after.values(), default=0)


def propose_fibre_drops(report: BackhaulReport, max_hops: int | None = None) -> FibrePlan:
    """The fewest fibre drops that leave no site orphaned, each placed at a graph centre.

    Every mesh component without a wired site needs at least one drop, and one is
    enough, so one per such component is the minimum. It goes to a centre of the
    component (a site whose farthest site is fewest hops away, ``networkx.center``;
    on a tie, the first in the input order), which keeps the component's worst hop
    count as low as one drop can.

    With ``max_hops``, further drops are added until every site is at most ``max_hops``
    hops from fibre (mesh throughput roughly halves per hop): repeatedly, the site
    farthest from fibre (first in input order on a tie) gets a drop on the site within
    ``max_hops`` hops of it that is nearest to the existing fibre. That is a greedy
    covering heuristic, not a proven minimum.
    """
    graph = report.graph
    position = {site: k for k, site in enumerate(graph.nodes)}
    drops = []
    for component in report.components:
        if component.has_gateway:
            continue
        sub = graph.subgraph(component.sites)
        centres = nx.center(sub, usebounds=True) if component.size > 1 else list(component.sites)
        drops.append(FibreDrop(min(centres, key=position.__getitem__), "orphans", component.size))
    wired = [site for site in graph.nodes if graph.nodes[site]["wired"]]
    hops = _hops_to(graph, wired + [d.site for d in drops])
    if max_hops is not None:
        if not (isinstance(max_hops, int) and max_hops >= 0):
            raise InputError(f"max_hops must be a whole number ≥ 0, not {max_hops!r}")
        size_of = {s: c.size for c in report.components for s in c.sites}
        while hops and max(hops.values()) > max_hops:
            worst = max(hops.values())
            far = min((s for s, h in hops.items() if h == worst), key=position.__getitem__)
            ball = nx.single_source_shortest_path_length(graph, far, cutoff=max_hops)
            site = min(ball, key=lambda s: (hops[s], -ball[s], position[s]))
            drops.append(FibreDrop(site, "hops", size_of[site]))
            for other, d in nx.single_source_shortest_path_length(graph, site, cutoff=worst).items():
                hops[other] = min(hops[other], d)
    return FibrePlan(drops=tuple(drops), hops_after=hops)


def _hops_to(graph: nx.Graph, sources: list) -> dict[Hashable, int]:
    """Hops from every node to the nearest of ``sources`` (nodes with no path are left out)."""
    if not sources:
        return {}
    lengths = nx.multi_source_dijkstra_path_length(graph, set(sources), weight=lambda u, v, data: 1)
    return {site: int(lengths[site]) for site in graph.nodes if site in lengths}
