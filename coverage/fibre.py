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

import numpy as np

from .errors import InputError
from .graphs import bfs, centre
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
    component (a site whose farthest site is fewest hops away, :func:`coverage.graphs.centre`;
    on a tie, the first in the input order), which keeps the component's worst hop
    count as low as one drop can.

    With ``max_hops``, further drops are added until every site is at most ``max_hops``
    hops from fibre (mesh throughput roughly halves per hop): repeatedly, the site
    farthest from fibre (first in input order on a tie) gets a drop on the site within
    ``max_hops`` hops of it that is nearest to the existing fibre. That is a greedy
    covering heuristic, not a proven minimum.
    """
    ids = report.site_ids
    position = {site: k for k, site in enumerate(ids)}
    drops = []
    for component in report.components:
        if component.has_gateway:
            continue
        members = np.array([position[s] for s in component.sites], dtype=np.intp)
        drops.append(FibreDrop(ids[centre(report.mesh, members)], "orphans", component.size))
    sources = np.r_[np.flatnonzero(report.wired), [position[d.site] for d in drops]].astype(np.intp)
    hops, _ = bfs(report.mesh, sources)
    if max_hops is not None:
        if not (isinstance(max_hops, int) and max_hops >= 0):
            raise InputError(f"max_hops must be a whole number ≥ 0, not {max_hops!r}")
        size_of = {s: c.size for c in report.components for s in c.sites}
        while len(hops) and hops.max() > max_hops:
            worst = int(hops.max())
            far = int(np.argmax(hops))  # the first in input order on a tie
            ball, _ = bfs(report.mesh, [far], limit=max_hops)
            near = np.flatnonzero(ball >= 0)
            site = int(near[np.lexsort((near, -ball[near], hops[near]))[0]])
            drops.append(FibreDrop(ids[site], "hops", size_of[ids[site]]))
            reach, _ = bfs(report.mesh, [site], limit=worst)
            closer = reach >= 0
            hops[closer] = np.minimum(hops[closer], reach[closer])
    reached = np.flatnonzero(hops >= 0)
    return FibrePlan(drops=tuple(drops), hops_after=dict(zip([ids[k] for k in reached], hops[reached].tolist())))
