"""Radio, channels, backhaul and capacity of a real plan, checked independently."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import cdist

from conftest import write_toy_city
from coverage import InputError, load_scenario, plan
from coverage.cli import main

NETWORK = """
[network]
mesh_range_m = 400
co_channel_distance_m = 0
take_up_rate = 0.5
concurrency = 0.5
users_per_ap = 20
"""


@pytest.fixture(scope="module")
def wireless_plan(tmp_path_factory):
    path = write_toy_city(tmp_path_factory.mktemp("eng") / "c", n_schools=60, target=0.8)
    text = path.read_text().replace("[categories.library]\n", "[categories.library]\nwired = false\n")
    path.write_text(text + NETWORK)
    return plan(load_scenario(path))


def test_sections_in_summary_and_site_columns(wireless_plan, tmp_path):
    out = wireless_plan.write(tmp_path / "o", map=False)
    summary = json.loads((out / "summary.json").read_text())
    for key in ("radio", "channels", "backhaul", "capacity"):
        assert key in summary
    assert summary["radio"]["school"]["radius_m"] == 150
    import pandas as pd

    sites = pd.read_csv(out / "selected_sites.csv")
    assert {"channel", "channel_conflicts", "hops", "orphan", "concurrent_users", "extra_aps"} <= set(sites.columns)
    assert set(sites["channel"]) <= {1, 6, 11}


def test_channel_conflicts_counted_right(wireless_plan):
    sites = wireless_plan.selected_sites(network=True).to_crs(wireless_plan.crs)
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    r = sites["radius_m"].to_numpy()
    d = cdist(xy, xy)
    overlap = (d < r[:, None] + r[None, :]) & ~np.eye(len(sites), dtype=bool)
    same = sites["channel"].to_numpy()[:, None] == sites["channel"].to_numpy()[None, :]
    per_site = (overlap & same).sum(axis=1)
    assert per_site.tolist() == sites["channel_conflicts"].tolist()
    assert wireless_plan.summary()["channels"]["2.4"]["conflicts"] == (overlap & same).sum() // 2


def test_backhaul_orphans_match_connected_components(wireless_plan):
    sites = wireless_plan.selected_sites(network=True).to_crs(wireless_plan.crs)
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    linked = cdist(xy, xy) <= 400
    _, label = connected_components(linked, directed=False)
    wired = sites["wired"].to_numpy(bool)
    assert (~wired).any() and wired.any()
    has_fibre = {lab for lab, w in zip(label, wired) if w}
    expected = [s for s, lab, w in zip(sites["site_id"], label, wired) if not w and lab not in has_fibre]
    assert wireless_plan.summary()["backhaul"]["orphans"] == expected
    assert sites.loc[wired, "hops"].eq(0).all()
    # one fibre drop per orphaned component, on one of its own sites
    drops = wireless_plan.summary()["backhaul"]["fibre_drops"]
    orphan_labels = {lab for s, lab in zip(sites["site_id"], label) if s in expected}
    assert len(drops) == len(orphan_labels)
    assert {label[sites["site_id"].tolist().index(d)] for d in drops} == orphan_labels


def test_capacity_shares_add_up_to_covered_population(wireless_plan):
    sites = wireless_plan.selected_sites(network=True)
    summary = wireless_plan.summary()
    covered_people = summary["coverage_population"] * summary["total_population"]
    assert sites["population_served"].sum() == pytest.approx(covered_people)
    users = sites["population_served"] * 0.5 * 0.5
    assert sites["concurrent_users"].to_numpy() == pytest.approx(users.to_numpy())
    extra = np.maximum(np.ceil(users / 20) - 1, 0)
    assert sites["extra_aps"].tolist() == extra.astype(int).tolist()
    assert summary["capacity"]["extra_aps"] == int(extra.sum())


def test_radius_from_a_radio_profile(tmp_path):
    path = write_toy_city(tmp_path / "c")
    text = path.read_text().replace(
        "[categories.school]\nradius_m = 150\ncost = 1.0\n",
        '[categories.school]\ncost = 1.0\n[categories.school.radio]\nband = "2.4"\neirp_dbm = 20\n'
        'environment = "residential"\n')
    path.write_text(text)
    scenario = load_scenario(path)
    assert scenario.categories["school"].radius_m == pytest.approx(68, abs=1)
    summary = plan(scenario).summary()
    assert summary["radio"]["school"]["source"] == "link budget"
    assert "residential" in summary["radio"]["school"]["explanation"]
    assert summary["by_category"]["school"]["radius_m"] == pytest.approx(68, abs=1)


@pytest.mark.parametrize("radio,message", [
    ('band = "2.4"\neirp_dbm = 30', r"EIRP|dBm"),
    ('band = "5.2"\neirp_dbm = 20', r"indoor"),
    ('band = "3.5"', r"band"),
])
def test_illegal_radio_refused(tmp_path, capsys, radio, message):
    path = write_toy_city(tmp_path / "c")
    path.write_text(path.read_text().replace(
        "[categories.school]\nradius_m = 150\ncost = 1.0\n",
        f"[categories.school]\ncost = 1.0\n[categories.school.radio]\n{radio}\n"))
    code = main(["-q", "plan", str(path), "--out", str(tmp_path / "o"), "--no-map"])
    err = capsys.readouterr().err
    assert code == 2 and "categories.school" in err
    import re

    assert re.search(message, err)


def test_radius_and_profile_together_refused(tmp_path):
    path = write_toy_city(tmp_path / "c")
    path.write_text(path.read_text().replace(
        "[categories.school]\nradius_m = 150\ncost = 1.0\n",
        "[categories.school]\nradius_m = 150\ncost = 1.0\n[categories.school.radio]\n"))
    with pytest.raises(InputError, match="not both"):
        load_scenario(path)
