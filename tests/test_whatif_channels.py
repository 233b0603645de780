"""A what-if keeps its base plan's channels except around the sites it adds or removes.

Checked on a lattice of hotspots (every site interferes with its lattice neighbours)
against quantities computed here independently: which sites may change (the added ones,
their interference neighbours, the old neighbours of removed ones), that every other
site keeps its channel, that the recolouring is no worse than its start and cannot be
improved by moving one recoloured site, and that it is deterministic; then end to end on
the toy city, in memory and through `hotspots whatif` on a plan folder.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist

from conftest import write_toy_city
from coverage import load_scenario, plan
from coverage.cli import main
from coverage.networks import CHANNELS_BY_BAND, channel_plan, rechannel_plan
from coverage.planning import load_plan

CHANNELS = CHANNELS_BY_BAND["2.4"]
RADIUS = 60.0  # lattice spacing 100 m: neighbours (100 m) and diagonals (141 m) overlap


def lattice(n: int = 20) -> tuple[np.ndarray, list[str]]:
    xy = np.array([(100.0 * i, 100.0 * j) for i in range(n) for j in range(n)])
    return xy, [f"s{i:04d}" for i in range(len(xy))]


def neighbours_of(xy: np.ndarray, radii: np.ndarray, at: np.ndarray, at_radii: np.ndarray) -> np.ndarray:
    """Mask of the points of ``xy`` whose circle overlaps one of the circles ``at`` (brute force)."""
    if len(at) == 0:
        return np.zeros(len(xy), dtype=bool)
    return (cdist(xy, at) < radii[:, None] + at_radii[None, :]).any(axis=1)


def same_channel_neighbours(xy, radii, channel: np.ndarray) -> np.ndarray:
    """For each site and each channel, how many interfering neighbours use it (brute force)."""
    d = cdist(xy, xy)
    edge = (d < radii[:, None] + radii[None, :]) & ~np.eye(len(xy), dtype=bool)
    return np.stack([(edge & (channel[None, :] == c)).sum(axis=1) for c in CHANNELS], axis=1)


@pytest.fixture(scope="module")
def changed():
    """A lattice's full channel plan, and a what-if of it: 3 sites removed, 2 added."""
    xy, ids = lattice()
    radii = np.full(len(xy), RADIUS)
    before = channel_plan(xy, radii, ids, CHANNELS)
    removed = [45, 46, 300]
    keep = np.setdiff1d(np.arange(len(xy)), removed)
    added_xy = np.array([[1050.0, 1050.0], [1550.0, 420.0]])
    new_xy = np.vstack([xy[keep], added_xy])
    new_ids = [ids[k] for k in keep] + ["new-a", "new-b"]
    new_radii = np.full(len(new_xy), RADIUS)
    previous = {site: before.channel[site] for site in new_ids if site in before.channel}
    after = rechannel_plan(new_xy, new_radii, new_ids, previous, CHANNELS,
                           removed_xy=xy[removed], removed_radii_m=radii[removed])
    return dict(before=before, after=after, xy=new_xy, ids=new_ids, radii=new_radii, previous=previous,
                removed_xy=xy[removed], added_xy=added_xy)


def test_only_the_neighbourhood_of_changed_sites_may_change(changed):
    xy, ids, radii, previous, after = (changed[k] for k in ("xy", "ids", "radii", "previous", "after"))
    added = np.array([site not in previous for site in ids])
    movable = (added | neighbours_of(xy, radii, changed["added_xy"], np.full(2, RADIUS))
               | neighbours_of(xy, radii, changed["removed_xy"], np.full(3, RADIUS)))
    assert after.recoloured == int(movable.sum())
    assert 2 < after.recoloured < 60  # a neighbourhood, not the city
    for k, site in enumerate(ids):
        if not movable[k]:
            assert after.channel[site] == previous[site], site
    # far from every change (more than two interference ranges): the base's channel, always
    far = (cdist(xy, np.vstack([changed["added_xy"], changed["removed_xy"]])) > 4 * RADIUS).all(axis=1)
    assert far.sum() > 300
    assert all(after.channel[ids[k]] == previous[ids[k]] for k in np.flatnonzero(far))
    assert all(after.channel[site] in CHANNELS for site in ids)


def test_the_recolouring_is_no_worse_than_its_start_and_locally_optimal(changed):
    xy, ids, radii, previous, after = (changed[k] for k in ("xy", "ids", "radii", "previous", "after"))
    channel = np.array([after.channel[site] for site in ids])
    counts = same_channel_neighbours(xy, radii, channel)
    own = counts[np.arange(len(ids)), [CHANNELS.index(c) for c in channel]]
    assert after.total_conflicts == own.sum() // 2  # the reported count is the true one
    assert after.total_conflicts <= after.initial_conflicts
    # the start: base channels kept, each added site (in id order) on its least-used channel
    start = np.array([previous.get(site, -1) for site in ids])
    for k in sorted(np.flatnonzero(start < 0), key=lambda k: ids[k]):
        placed = start.copy()
        placed[start < 0] = -1
        used = same_channel_neighbours(xy, radii, placed)[k]
        start[k] = CHANNELS[int(np.argmin(used))]
    start_counts = same_channel_neighbours(xy, radii, start)
    assert after.initial_conflicts == start_counts[np.arange(len(ids)), [CHANNELS.index(c) for c in start]].sum() // 2
    # no recoloured site would have fewer same-channel neighbours on another channel
    moved = np.array([after.channel[site] != previous.get(site) for site in ids])
    movable = moved | np.array([site not in previous for site in ids])
    for k in np.flatnonzero(movable):
        assert own[k] <= counts[k].min(), ids[k]


def test_the_recolouring_is_deterministic_and_independent_of_input_order(changed):
    xy, ids, radii, previous = (changed[k] for k in ("xy", "ids", "radii", "previous"))
    again = rechannel_plan(xy, radii, ids, previous, CHANNELS, removed_xy=changed["removed_xy"],
                           removed_radii_m=np.full(3, RADIUS))
    assert again == changed["after"]
    order = np.random.default_rng(3).permutation(len(ids))
    shuffled = rechannel_plan(xy[order], radii[order], [ids[k] for k in order], previous, CHANNELS,
                              removed_xy=changed["removed_xy"], removed_radii_m=np.full(3, RADIUS))
    assert shuffled.channel == changed["after"].channel
    assert shuffled.total_conflicts == changed["after"].total_conflicts


def test_without_previous_channels_every_site_is_chosen_afresh():
    xy, ids = lattice(8)
    radii = np.full(len(xy), RADIUS)
    fresh = rechannel_plan(xy, radii, ids, {}, CHANNELS)
    assert fresh.recoloured == len(ids)
    assert fresh.total_conflicts <= fresh.initial_conflicts
    assert channel_plan(xy, radii, ids, CHANNELS).recoloured is None


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("channels")
    base = plan(load_scenario(write_toy_city(root / "city", n_schools=60, n_libraries=20)))
    return base, base.write(root / "base", map=False)


def _far_from(result, base, rows_changed) -> list[str]:
    """Selected site ids of ``result`` out of interference range of every changed site (farther
    than twice the largest radius and than the co-channel distance): they must keep their channel."""
    sites = result.sites
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    reach = max(2 * float(sites["radius_m"].max()), result.scenario.network.co_channel_distance_m or 0.0)
    far = (cdist(xy[result.solution.order], xy[list(rows_changed)]) > reach).all(axis=1)
    return [sites["site_id"].iloc[r] for r, f in zip(result.solution.order, far) if f]


def test_a_whatif_keeps_the_base_channels_far_from_its_changes(toy):
    base, _ = toy
    chosen = base.site_ids
    unused = [s for s in base.sites["site_id"] if s not in chosen]
    result = base.evaluate(add=[unused[0]], remove=[chosen[3]])
    rows = base.problem.site_index([unused[0], chosen[3]])
    before = dict(zip(base.site_ids, base.network().sites["channel"]))
    after = dict(zip(result.site_ids, result.network().sites["channel"]))
    far = _far_from(result, base, rows)
    assert len(far) > 5
    assert all(after[s] == before[s] for s in far)
    section = result.summary()["channels"]
    assert all(band["sites_recoloured"] < len(chosen) for band in section.values())
    assert "sites_recoloured" not in next(iter(base.summary()["channels"].values()))


def test_hotspots_whatif_keeps_the_channels_saved_in_the_base_folder(toy, tmp_path):
    base, folder = toy
    chosen = base.site_ids
    assert main(["-q", "whatif", str(folder), "--remove", chosen[5], "--out", str(tmp_path / "w"), "--no-map"]) == 0
    saved = pd.read_csv(folder / "selected_sites.csv", encoding="utf-8-sig").set_index("site_id")["channel"]
    now = pd.read_csv(tmp_path / "w" / "selected_sites.csv", encoding="utf-8-sig").set_index("site_id")["channel"]
    loaded = load_plan(folder)
    far = _far_from(loaded, base, loaded.problem.site_index([chosen[5]]))
    assert len(far) > 5
    assert all(now[s] == saved[s] for s in far)
    # a what-if of that what-if keeps what the first one chose
    assert main(["-q", "whatif", str(tmp_path / "w"), "--remove", chosen[6], "--out", str(tmp_path / "w2"),
                 "--no-map"]) == 0
    again = pd.read_csv(tmp_path / "w2" / "selected_sites.csv", encoding="utf-8-sig").set_index("site_id")["channel"]
    far2 = _far_from(loaded, base, loaded.problem.site_index([chosen[5], chosen[6]]))
    assert all(again[s] == now[s] for s in far2)


def test_base_channels_come_from_the_folder_or_else_from_the_network_check(toy, tmp_path):
    import shutil
    import sqlite3

    from coverage.whatif import base_channels

    base, folder = toy
    copy = tmp_path / "base"
    shutil.copytree(folder, copy)
    loaded = load_plan(copy)
    assert loaded.base_folder == copy
    saved = pd.read_csv(copy / "selected_sites.csv", encoding="utf-8-sig")
    expected = {s: (str(b), int(c)) for s, b, c in zip(saved["site_id"], saved["band"], saved["channel"])}
    assert base_channels(loaded) == expected
    with sqlite3.connect(copy / "plan.gpkg") as db:  # a folder without the channel column: checked again
        db.execute('ALTER TABLE "selected_sites" DROP COLUMN "channel"')
    report = loaded.network().sites
    assert base_channels(loaded) == {s: (b, int(c)) for s, b, c in
                                     zip(loaded.site_ids, report["band"], report["channel"])}
