"""Can the plan be built? Radius per category, channels, backhaul and capacity.

Runs the network checks of :mod:`coverage.networks` on a plan's selected sites (in the
plan's metric CRS, metres) with the scenario's ``[network]`` settings:

- **radio**: each category's radius and where it comes from (a fixed number, or the
  link budget of its radio profile, :mod:`coverage.radio`);
- **channels**: one interference graph per band, channels by DSATUR + tabu search (a
  what-if keeps its base plan's channels and recolours only around the sites it adds
  or removes, :func:`~coverage.networks.rechannel_plan`);
- **backhaul**: hop counts from wireless sites to the nearest wired one, orphans, and
  the fewest fibre drops that leave none orphaned (:func:`~coverage.fibre.propose_fibre_drops`);
- **capacity**: expected concurrent users per site against its access points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from .fibre import propose_fibre_drops
from .networks import (
    backhaul, capacity, channel_plan, channels_for_band, rechannel_plan, split_shared_population,
)
from .radio import BAND_RANGE, radius_m

if TYPE_CHECKING:  # pragma: no cover
    from .planning import Plan
    from .scenario import Scenario

SITE_COLUMNS = ["band", "channel", "channel_conflicts", "wired", "hops", "orphan",
                "population_served", "concurrent_users", "aps_needed", "extra_aps"]


@dataclass(frozen=True)
class NetworkReport:
    """Per selected site (rank order, ``SITE_COLUMNS``) and the summary.json sections."""

    sites: pd.DataFrame
    sections: dict


def radio_section(scenario: Scenario) -> dict:
    """Each category's radius (metres) and why it is what it is."""
    out = {}
    for name, category in scenario.categories.items():
        if category.radio is None:
            out[name] = {"radius_m": float(category.radius_m), "source": "fixed radius in the scenario",
                         "band": scenario.network.band,
                         "explanation": f"{category.radius_m:g} m as set in the scenario"}
            continue
        result = radius_m(category.radio, f"category {name}")
        out[name] = {
            "radius_m": float(category.radius_m), "source": "link budget", "band": category.radio.band,
            "band_range": BAND_RANGE[category.radio.band], "eirp_dbm": category.radio.eirp_dbm,
            "environment": category.radio.environment, "target_dbm": category.radio.target_dbm,
            "limited_by": result.limited_by, "downlink_radius_m": result.downlink_radius_m,
            "uplink_radius_m": result.uplink_radius_m, "explanation": result.explanation,
        }
    return out


def network_report(plan: Plan) -> NetworkReport:
    """Channels, backhaul and capacity of ``plan``'s selected sites."""
    scenario, net = plan.scenario, plan.scenario.network
    order = plan.solution.order
    sites = plan.sites.iloc[order].reset_index(drop=True)
    ids = sites["site_id"].tolist()
    xy = np.column_stack([sites.geometry.x, sites.geometry.y]) if len(sites) else np.empty((0, 2))
    categories = scenario.categories
    codes, names = pd.factorize(sites["category"])  # look each category up once, not once per site
    band = pd.Series(np.array([_band_of(categories[c], net) for c in names],
                              dtype=object)[codes] if len(sites) else np.empty(0, dtype=object))
    if "wired" in sites.columns:  # per site: from the category, or the layer's own wired column
        wired = sites["wired"].to_numpy(dtype=bool)
    else:
        wired = np.array([bool(categories[c].wired) for c in names], dtype=bool)[codes]

    channel = pd.Series(np.nan, index=range(len(sites)))
    conflicts = pd.Series(0, index=range(len(sites)))
    channel_sections = {}
    previous = _previous_plan(plan)
    for b in sorted(band.unique()):
        rows = np.flatnonzero(band.to_numpy() == b)
        chosen = _band_plan(plan, b, xy[rows], sites["radius_m"].to_numpy()[rows], [ids[r] for r in rows], previous)
        channel.iloc[rows] = [chosen.channel[ids[r]] for r in rows]
        conflicts.iloc[rows] = [chosen.conflicts[ids[r]] for r in rows]
        channel_sections[b] = {
            "channels": list(chosen.channels), "sites": len(rows), "interference_edges": chosen.interference_edges,
            "conflicts": chosen.total_conflicts, "conflicts_before_search": chosen.initial_conflicts,
            "sites_with_conflicts": int(sum(1 for r in rows if chosen.conflicts[ids[r]] > 0)),
        }
        if chosen.recoloured is not None:
            channel_sections[b]["sites_recoloured"] = chosen.recoloured

    mesh = backhaul(xy, ids, wired, net.mesh_range_m)
    fibre = propose_fibre_drops(mesh)
    hops = np.where(mesh.hop_count >= 0, mesh.hop_count, np.nan)
    orphan = mesh.hop_count < 0

    served = _population_served(plan)
    load = capacity(dict(zip(ids, served)), take_up_rate=net.take_up_rate, concurrency=net.concurrency,
                    users_per_ap=net.users_per_ap, aps_per_site=net.aps_per_site)

    table = pd.DataFrame({
        "band": band.to_numpy(), "channel": channel.to_numpy(), "channel_conflicts": conflicts.to_numpy(),
        "wired": wired, "hops": hops, "orphan": orphan, "population_served": served,
        "concurrent_users": [load.concurrent_users[s] for s in ids],
        "aps_needed": [load.aps_needed[s] for s in ids], "extra_aps": [load.extra_aps[s] for s in ids],
    })
    sections = {
        "radio": radio_section(scenario),
        "channels": channel_sections,
        "backhaul": {
            "mesh_range_m": net.mesh_range_m, "wired_sites": int(wired.sum()), "wireless_sites": int((~wired).sum()),
            "orphans": list(mesh.orphans), "components": mesh.n_components,
            "components_without_gateway": int(sum(1 for c in mesh.components if not c.has_gateway)),
            "max_hops": mesh.max_hops,
            "fibre_drops": list(fibre.sites), "max_hops_after_drops": fibre.max_hops_after,
        },
        "capacity": {
            "take_up_rate": net.take_up_rate, "concurrency": net.concurrency, "users_per_ap": net.users_per_ap,
            "aps_per_site": net.aps_per_site, "concurrent_users": load.total_concurrent_users,
            "overloaded_sites": len(load.overloaded), "extra_aps": load.total_extra_aps,
            "most_loaded": [{"site_id": s, "concurrent_users": load.concurrent_users[s], "extra_aps": load.extra_aps[s]}
                            for s in load.overloaded[:10]],
        },
    }
    return NetworkReport(sites=table, sections=sections)


def _band_of(category, network) -> str:
    """The Wi-Fi band of a category's sites: its radio profile's, else the network's default."""
    return category.radio.band if category.radio else network.band


def _previous_plan(plan: Plan):
    """For a what-if (``plan.base`` set): its base's channels (site_id → (band, channel)) and
    the sites it removed from the base (a frame of them: geometry, radius_m, category); else None."""
    base = getattr(plan, "base", None)
    if base is None:
        return None
    from .whatif import base_channels

    dropped = np.setdiff1d(base.solution.order, plan.solution.order)  # base rows are the what-if's first rows
    return base_channels(base), plan.sites.iloc[dropped]


def _band_plan(plan: Plan, band: str, xy: np.ndarray, radii: np.ndarray, ids: list, previous):
    """The channel plan of one band's sites: from scratch, or for a what-if (``previous``)
    keeping its base's channels except around added and removed sites (:func:`rechannel_plan`)."""
    net = plan.scenario.network
    if previous is None:
        return channel_plan(xy, radii, ids, channels_for_band(band), net.co_channel_distance_m or None)
    channels, removed = previous
    kept = {site: c for site, (b, c) in channels.items() if b == band}
    categories = plan.scenario.categories
    in_band = [_band_of(categories[c], net) == band for c in removed["category"]]
    gone = removed.iloc[np.flatnonzero(np.array(in_band, dtype=bool))]
    return rechannel_plan(xy, radii, ids, kept, channels_for_band(band), net.co_channel_distance_m or None,
                          removed_xy=shapely.get_coordinates(gone.geometry.array).reshape(-1, 2),
                          removed_radii_m=gone["radius_m"].to_numpy())


def _population_served(plan: Plan) -> np.ndarray:
    """People in each selected site's radius, a cell shared by several sites split evenly."""
    if "population" not in plan.demand.columns or len(plan.solution.order) == 0:
        return np.zeros(len(plan.solution.order))
    rows = plan.matrix[plan.solution.order]
    return split_shared_population(rows, plan.demand["population"].to_numpy())
