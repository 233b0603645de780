"""The plan map and the compare map: built from saved plan folders, safe, offline.

String-level checks on the page (its one JSON blob and its server-rendered panels) and
real-browser checks: headless Chromium opens the page with networking disabled, and a
test hook injected by the tests (tests/maphook.js) reports what Leaflet rendered.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

import mapbrowser
from coverage.errors import InputError
from coverage.maps import (
    EXTRA_PALETTE, KNOWN_CATEGORY_COLOURS, category_colours, coverage_classes,
    coverage_curve_svg, find_fetched_urls, render_compare_map, render_map,
)
from mapfixtures import (
    DISTRICT_NAMES, HOSTILE_BACKTICK, HOSTILE_EXPLANATION, HOSTILE_IMG, HOSTILE_SCRIPT,
    HOSTILE_SVG, HOSTILE_TEMPLATE, USER_LABEL, WHATIF_ADD, WHATIF_DROP, large_plan_dir,
    make_plan_dir, network_expected,
)

HOSTILE = [HOSTILE_IMG, HOSTILE_TEMPLATE, HOSTILE_BACKTICK, HOSTILE_SCRIPT, HOSTILE_SVG]
N_SITES = 7
N_DISTRICTS = 3


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    return make_plan_dir(tmp_path_factory.mktemp("plan"))


@pytest.fixture(scope="module")
def old_plan_dir(tmp_path_factory) -> Path:
    """A plan folder written before the network checks: no columns, no sections."""
    return make_plan_dir(tmp_path_factory.mktemp("old"), network=False)


@pytest.fixture(scope="module")
def expected_network(plan_dir) -> dict:
    import geopandas as gpd

    ids = gpd.read_file(plan_dir / "plan.gpkg", layer="selected_sites")["site_id"]
    exp = network_expected(ids)
    assert exp["orphans"] and exp["conflict"] and exp["overload"]  # the fixture has each
    return exp


@pytest.fixture(scope="module")
def online_html(plan_dir) -> str:
    return render_map(plan_dir).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def offline_map(plan_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("offline") / "map.html"
    return render_map(plan_dir, out_path=out, offline=True)


# ------------------------------------------------------------------ page helpers


def page_data(page: str) -> dict:
    """The page's one JSON blob (what map.js draws)."""
    m = re.search(r'<script type="application/json" id="hs-data">(.*?)</script>', page, re.S)
    assert m, "no data blob"
    return json.loads(m.group(1))


def panel(page: str, which: str) -> str:
    """The server-rendered panel ``hs-summary`` or ``hs-legend`` (HTML)."""
    m = re.search(rf'<div id="{which}" .*?</details>\s*</div>', page, re.S)
    assert m, which
    return m.group(0)


def overlays(page: str) -> dict[str, bool]:
    """Layer-control name -> on at start."""
    return {spec["name"]: spec["show"] for spec in page_data(page)["layers"] if spec.get("name")}


def tables(page: str) -> list[dict]:
    return [spec["table"] for spec in page_data(page)["layers"] if spec["kind"] == "points"]


def selected_rows(page: str) -> dict[str, dict]:
    """site_id -> {column key: value} over the selected sites' tables."""
    out = {}
    for t in tables(page):
        keys = [c[0] for c in t["cols"]]
        if "rank" in keys:
            for row in t["rows"]:
                rec = dict(zip(keys, row))
                out[rec["site_id"]] = rec
    return out


# ------------------------------------------------------------------ helpers


def test_category_colours_are_fixed_for_known_and_deterministic_for_others():
    cats = ["school", "library", "transport_hub", "existing", "park", "clinic", "museum"]
    a = category_colours(cats)
    assert a == category_colours(list(reversed(cats)))
    for k, v in KNOWN_CATEGORY_COLOURS.items():
        assert a[k] == v
    others = [a[c] for c in ("park", "clinic", "museum")]
    assert len(set(others)) == 3 and all(c in EXTRA_PALETTE for c in others)
    assert category_colours(["park"])["park"] == category_colours(["park", "school"])["park"]


def test_coverage_classes_follow_the_target():
    edges = [round(lo * 100, 6) for lo, _hi, _c in coverage_classes(0.99)]
    assert edges == [0, 49, 80, 95, 99]
    assert [round(lo * 100, 6) for lo, *_ in coverage_classes(0.5)] == [0, 0, 31, 46, 50]


def test_coverage_curve_svg():
    import pandas as pd

    df = pd.DataFrame({"rank": range(1, 2001),
                       "cumulative_coverage": [min(1.0, i / 1500) for i in range(1, 2001)]})
    svg = coverage_curve_svg(df, 0.99)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "target 99" in svg and "<polyline" in svg and "population covered %" in svg
    points = re.search(r'points="([^"]+)"', svg).group(1).split()
    assert 2 < len(points) <= 400
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[0] > ys[-1]
    assert coverage_curve_svg(df.iloc[:0], None).endswith("</svg>")


# ------------------------------------------------------------------ the page as a string


def test_map_written_atomically_to_default_path(plan_dir):
    out = render_map(plan_dir)
    assert out == plan_dir / "map.html" and out.stat().st_size > 0
    assert not list(plan_dir.glob(".hotspots-*"))


def test_missing_plan_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="not a plan folder") as err:
        render_map(tmp_path)
    msg = str(err.value)
    assert str(tmp_path) in msg and "summary.json" in msg and "hotspots plan --out" in msg
    with pytest.raises(InputError, match="does not exist"):
        render_map(tmp_path / "nope")
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "plan.gpkg").write_text("not a geopackage")
    with pytest.raises(InputError, match="plan.gpkg"):
        render_map(tmp_path)


def test_hostile_names_never_appear_raw(online_html):
    page = online_html
    for s in HOSTILE:  # markup never raw; `${}` and backticks are inert text here
        assert "<" not in s or s not in page, s
    assert "<img" not in page and "<svg onload" not in page
    # one </script> per <script>: nothing in the data closed a script element early
    assert page.count("<script") == page.count("</script>") == 3
    # the names are in the data as they are (the blob is decoded as JSON)
    names = {r["name"] for r in selected_rows(page).values()}
    assert HOSTILE_IMG in names and HOSTILE_TEMPLATE in names


def test_page_contents(online_html, plan_dir):
    page = online_html
    summary = json.loads((plan_dir / "summary.json").read_text())
    names = overlays(page)
    for label in ("Districts: coverage", "Uncovered demand", "Population density (all demand)",
                  "School (2)", "Library (2)", "Transport hub (1)", "Existing hotspot (1)",
                  USER_LABEL + " (1)", "Candidates not selected (6)", "District names"):
        assert label in names, label
    # districts first and on; uncovered demand, density, candidates off at start
    assert names["Districts: coverage"] and names["District names"]
    assert not names["Uncovered demand"] and not names["Population density (all demand)"]
    assert not names["Candidates not selected (6)"]
    assert page_data(page)["layers"][0]["name"] == "Districts: coverage"
    s = panel(page, "hs-summary")
    assert "target not met" in s and "99.0 % of population" in s
    assert f'{summary["coverage_population"] * 100:.2f} %' in s
    assert "Coverage curve" in s and "<polyline" in s
    legend = panel(page, "hs-legend")
    assert "synthetic" in legend and "stand-ins" in legend
    assert "&lt;svg onload=alert(4)&gt; centre" in legend and USER_LABEL not in legend
    for colour in KNOWN_CATEGORY_COLOURS.values():
        assert colour in legend
    # Leaflet always inlined, tiles only as data for the script: nothing fetched by markup
    assert find_fetched_urls(page) == []
    assert 't.version="1.9.3"' in page
    assert page_data(page)["basemap"]["layers"][0]["url"].startswith("https://tile.openstreetmap")
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()


def test_no_synthetic_note_without_synthetic_sites(tmp_path):
    import geopandas as gpd

    d = make_plan_dir(tmp_path / "p")
    gpkg = d / "plan.gpkg"
    for layer in ("selected_sites", "candidates"):
        g = gpd.read_file(gpkg, layer=layer)
        g["source"] = "real"
        g.to_file(gpkg, layer=layer, driver="GPKG")
    assert "stand-ins" not in panel(render_map(d).read_text(), "hs-legend")


def test_offline_page_fetches_nothing(offline_map):
    page = offline_map.read_text(encoding="utf-8")
    assert find_fetched_urls(page) == []
    for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", page, re.I):
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", tag, re.I), tag
    assert "tile.openstreetmap.org" not in page and page_data(page)["basemap"] is None
    assert "data:image/png;base64," in page
    assert "No basemap" in panel(page, "hs-summary")


def test_find_fetched_urls_ignores_plain_links():
    page = ('<a href="https://openstreetmap.org/copyright">OSM</a>'
            '<script src="https://x.test/a.js"></script><link rel="stylesheet" '
            'href="//cdn.test/b.css"><style>p{background:url("https://x.test/i.png")}</style>')
    assert find_fetched_urls(page) == ["https://x.test/a.js", "//cdn.test/b.css",
                                       "https://x.test/i.png"]


def test_area_metric_plan(tmp_path):
    d = make_plan_dir(tmp_path / "p", metric="area")
    page = render_map(d).read_text()
    assert "of area" in panel(page, "hs-summary")
    assert any(c[1] == "Area gained" for t in tables(page) for c in t["cols"])


def test_static_files_emitted_once(online_html):
    page = online_html
    assert page.count("Hotspot map pages: draws everything") == 1
    assert page.count("@preserve") == 1  # Leaflet once


def test_large_plan_stays_small(tmp_path):
    """3,500 candidates, 1,500 selected, 40,000 cells: a few MB, rendered quickly."""
    d = large_plan_dir(tmp_path / "big", n_sel=1500, n_cand=3500, grid=200)
    t0 = time.perf_counter()
    out = render_map(d, offline=True)
    assert time.perf_counter() - t0 < 60
    assert out.stat().st_size < 5_000_000, out.stat().st_size
    names = overlays(out.read_text(encoding="utf-8"))
    assert any(n.startswith("Backhaul orphans (") for n in names)
    assert any(n.startswith("Network issues (") for n in names)


# ------------------------------------------------------------------ network checks


def test_site_tables_carry_the_network_columns(online_html, expected_network):
    rows = selected_rows(online_html)
    assert len(rows) == N_SITES
    assert [k for k, v in rows.items() if v["orphan"] == 1] == expected_network["orphans"]
    assert sorted(k for k, v in rows.items() if v["channel_conflicts"] > 0) == \
        expected_network["conflict"]
    assert sorted(k for k, v in rows.items() if v["extra_aps"] > 0) == \
        expected_network["overload"]
    orphan = rows[expected_network["orphans"][0]]
    assert orphan["hops"] is None and orphan["wired"] == 0
    assert rows["s5"]["hops"] == 2 and rows["s5"]["channel"] == 6 and rows["s5"]["band"] == "2.4"
    assert rows["s6"]["aps_needed"] == 3 and rows["s6"]["concurrent_users"] == 130.4
    assert all(isinstance(r["rank"], int) for r in rows.values())
    assert "NaN" not in re.search(r"id=\"hs-data\">(.*?)</script>", online_html, re.S).group(1)


def test_network_layers_legend_and_panel(online_html, expected_network):
    page = online_html
    n_orph, n_conf, n_over = (len(expected_network[k]) for k in ("orphans", "conflict",
                                                                  "overload"))
    n_issues = len(set(expected_network["conflict"]) | set(expected_network["overload"]))
    names = overlays(page)
    assert names[f"Backhaul orphans ({n_orph})"] is True
    assert names[f"Network issues ({n_issues} sites)"] is True
    assert names["Channels"] is False
    legend = panel(page, "hs-legend")
    assert f"backhaul orphan: no path to fibre ({n_orph})" in legend
    assert "${alert(2)}" in legend  # the orphan is named (as escaped-for-HTML text)
    assert f"same-channel conflict ({n_conf})" in legend
    assert f"overloaded, needs extra APs ({n_over})" in legend
    for ch in ("1", "6", "11", "149"):
        assert f'<span class="rl">{ch}</span>' in legend, ch
    s = panel(page, "hs-summary")
    assert '<div class="sect">Network</div>' in s
    assert "250 m</span> (link budget)" in s and "(fixed)" in s
    assert 'title="fixed &lt;svg onload=alert(4)&gt; radius"' in s
    assert HOSTILE_EXPLANATION not in page
    assert "2.4 GHz (1/6/11): " in s and "1 conflict</span> (2 sites)" in s
    assert "5.8 GHz (149/153/157/161/165): no same-channel conflicts" in s
    assert f"{n_orph} orphan</span>" in s and "3 wireless" in s
    assert "1 overloaded site</span> needs 2 extra APs" in s


def test_old_plan_without_network_sections_renders(old_plan_dir):
    page = render_map(old_plan_dir).read_text(encoding="utf-8")
    s, legend = panel(page, "hs-summary"), panel(page, "hs-legend")
    assert "Coverage curve" in s and '<div class="sect">Network</div>' not in s
    assert "Network" not in legend
    assert not any(n.startswith(("Backhaul orphans", "Network issues")) for n in overlays(page))
    rows = selected_rows(page)
    assert len(rows) == N_SITES and all("band" not in r and "orphan" not in r
                                        for r in rows.values())


# ------------------------------------------------------------------ compare map

WHATIF_SCENARIO = "what-if " + HOSTILE_TEMPLATE


@pytest.fixture(scope="module")
def after_dir(tmp_path_factory) -> Path:
    """The fixture plan with two sites dropped and two added (same demand grid)."""
    return make_plan_dir(tmp_path_factory.mktemp("after"), drop=WHATIF_DROP, add=WHATIF_ADD,
                         scenario=WHATIF_SCENARIO)


def _expected_change(before: Path, after: Path) -> dict:
    """What the compare map should show, computed from the two folders directly."""
    import geopandas as gpd

    ids = [set(gpd.read_file(d / "plan.gpkg", layer="selected_sites")["site_id"])
           for d in (before, after)]
    was, now = (gpd.read_file(d / "plan.gpkg", layer="demand_cells")["covered"].astype(bool)
                .to_numpy() for d in (before, after))
    return {"removed": len(ids[0] - ids[1]), "added": len(ids[1] - ids[0]),
            "kept": len(ids[0] & ids[1]), "gained": int((now & ~was).sum()),
            "lost": int((was & ~now).sum())}


@pytest.fixture(scope="module")
def compare_html(plan_dir, after_dir, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("cmp") / "compare.html"
    return render_compare_map(plan_dir, after_dir, out).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compare_offline(plan_dir, after_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cmp-offline") / "compare.html"
    return render_compare_map(plan_dir, after_dir, out, offline=True)


def test_compare_fixture_really_changes_something(plan_dir, after_dir):
    exp = _expected_change(plan_dir, after_dir)
    assert exp["removed"] == len(WHATIF_DROP) and exp["added"] == len(WHATIF_ADD)
    assert exp["kept"] == N_SITES - len(WHATIF_DROP)
    assert exp["gained"] > 0 and exp["lost"] > 0


def test_compare_map_written_atomically(plan_dir, after_dir, tmp_path):
    out = render_compare_map(plan_dir, after_dir, tmp_path / "sub" / "compare.html")
    assert out == tmp_path / "sub" / "compare.html" and out.stat().st_size > 0
    assert not list(out.parent.glob(".map-*"))


def test_compare_rejects_folders_that_are_not_plans(plan_dir, tmp_path):
    for args in ((tmp_path, plan_dir), (plan_dir, tmp_path / "missing")):
        with pytest.raises(InputError, match="not a plan folder") as err:
            render_compare_map(*args, tmp_path / "c.html")
        bad = args[0] if args[0] == tmp_path else args[1]
        assert str(bad) in str(err.value) and "hotspots plan --out" in str(err.value)
    assert not (tmp_path / "c.html").exists()


def test_compare_page_contents(compare_html, plan_dir, after_dir):
    page = compare_html
    exp = _expected_change(plan_dir, after_dir)
    a = json.loads((plan_dir / "summary.json").read_text())
    b = json.loads((after_dir / "summary.json").read_text())
    names = overlays(page)
    for label in ("Districts: change in coverage",
                  f"Sites removed (only before) ({exp['removed']})",
                  f"Sites added (only after) ({exp['added']})",
                  f"Sites in both ({exp['kept']})",
                  f"Coverage gained ({exp['gained']} cells)",
                  f"Coverage lost ({exp['lost']} cells)"):
        assert label in names, label
    s = panel(page, "hs-summary")
    for x in (a, b):
        assert f'{x["coverage_population"] * 100:.2f} %' in s
        assert f'{x["coverage_area"] * 100:.2f} %' in s
    change = (b["coverage_population"] - a["coverage_population"]) * 100
    assert f"{change:+.2f} pp".replace("-", "−") in s
    assert (f"{exp['added']} added, {exp['removed']} removed, {exp['kept']} in both" in s)
    assert f"Coverage gained: {exp['gained']} cells" in s
    assert f"Coverage lost: {exp['lost']} cells" in s
    assert "what-if ${alert(2)}" in s  # plan named (HTML-escaped where needed)
    # what changed is listed by name: added and removed sites
    assert "+ New &lt;/script&gt;" in s and "− " in s
    legend = panel(page, "hs-legend")
    assert "removed" in legend and "added" in legend and "coverage gained" in legend
    assert find_fetched_urls(page) == []
    assert "Hotspot plans compared" in re.search(r"<title>(.*?)</title>", page).group(1)


def test_compare_hostile_names_never_appear_raw(compare_html):
    page = compare_html
    for s in HOSTILE + [WHATIF_ADD[0][0]]:
        assert "<" not in s or s not in page, s
    assert "<img" not in page
    assert page.count("<script") == page.count("</script>") == 3


def test_compare_different_grids_says_so(plan_dir, tmp_path):
    other = make_plan_dir(tmp_path / "coarse", drop=WHATIF_DROP)
    summary = json.loads((other / "summary.json").read_text())
    summary["cell_size_m"] = 500.0
    (other / "summary.json").write_text(json.dumps(summary))
    page = render_compare_map(plan_dir, other, tmp_path / "c.html").read_text()
    s = panel(page, "hs-summary")
    assert "can&#39;t be shown" in s and "cell_size_m" in s
    assert not any(n.startswith("Coverage gained") for n in overlays(page))
    assert "Sites removed (only before) (2)" in overlays(page)


def test_compare_identical_plans(plan_dir, tmp_path):
    page = render_compare_map(plan_dir, plan_dir, tmp_path / "same.html").read_text()
    s = panel(page, "hs-summary")
    assert f"0 added, 0 removed, {N_SITES} in both" in s
    assert "Coverage gained: 0 cells" in s and "±0.00 pp" in s


def test_compare_offline_fetches_nothing(compare_offline):
    page = compare_offline.read_text(encoding="utf-8")
    assert find_fetched_urls(page) == [] and page_data(page)["basemap"] is None
    assert 't.version="1.9.3"' in page


# ------------------------------------------------------------------ real browser

FURNITURE = ("legend", "summary", "layercontrol", "scale", "minimap", "fullscreen")


def test_offline_map_in_headless_chromium(offline_map, expected_network, tmp_path):
    t0 = time.perf_counter()
    attrs, _dom = mapbrowser.open_page(offline_map, tmp_path, furniture=FURNITURE + ("curve",))
    elapsed = time.perf_counter() - t0
    assert int(attrs["data-hs-sites"]) == N_SITES
    assert int(attrs["data-hs-circles"]) == N_SITES
    assert int(attrs["data-hs-districts"]) == N_DISTRICTS
    assert int(attrs["data-hs-uncovered"]) == 0  # off at start
    popups = json.loads(attrs["data-hs-popups"])
    tooltips = json.loads(attrs["data-hs-tooltips"])
    assert len(popups) == N_SITES and len(tooltips) == N_DISTRICTS
    shown = " ".join(popups + tooltips)
    for s in (HOSTILE_IMG, HOSTILE_TEMPLATE, HOSTILE_BACKTICK, HOSTILE_SCRIPT):
        assert s in shown, s
    assert "&lt;" not in shown and "&#96;" not in shown  # not double-escaped
    for name in DISTRICT_NAMES:
        assert any(name in t for t in tooltips), name
    assert any("Rank (greedy order)" in p and "Coverage after it" in p for p in popups)
    assert all("Coordinates" in p for p in popups)
    assert any("synthetic" in p for p in popups)
    kinds = json.loads(attrs["data-hs-kinds"])
    assert kinds.get("orphan") == len(expected_network["orphans"]), kinds
    assert kinds.get("conflict") == len(expected_network["conflict"]), kinds
    assert kinds.get("overload") == len(expected_network["overload"]), kinds
    assert "channel" not in kinds and kinds["site"] == N_SITES
    assert all("Radio" in p and "Backhaul" in p and "Concurrent users" in p
               and "Access points" in p for p in popups)
    assert any("2.4 GHz, channel 6, 1 same-channel neighbour" in p for p in popups)
    assert any("wireless mesh, 2 hop(s) to fibre" in p for p in popups)
    assert any("fibre (wired)" in p for p in popups)
    assert any("3 AP(s) needed, overloaded: 2 extra AP(s)" in p for p in popups)
    assert sum("ORPHAN: no path to a wired site" in p for p in popups) == \
        len(expected_network["orphans"])
    rings = json.loads(attrs["data-hs-ring-popups"])
    assert len(rings) == len(expected_network["orphans"])
    assert all("ORPHAN" in p and HOSTILE_TEMPLATE in p for p in rings)
    s = attrs["data-hs-panel-text"]
    assert "Network" in s and "1 orphan (no path to fibre)" in s
    assert USER_LABEL + " 300 m (fixed)" in s
    assert "No basemap" in attrs["data-hs-note"]
    assert json.loads(attrs["data-hs-labels"]) == DISTRICT_NAMES
    assert elapsed < 60
    shot = tmp_path / "offline-map.png"
    proc = mapbrowser.run(tmp_path, offline_map.resolve().as_uri(), f"--screenshot={shot}")
    assert shot.is_file() and shot.stat().st_size > 10_000, proc.stderr[-2000:]


def test_old_plan_map_in_headless_chromium(old_plan_dir, tmp_path):
    page = render_map(old_plan_dir, tmp_path / "old.html", offline=True)
    attrs, _dom = mapbrowser.open_page(page, tmp_path, furniture=FURNITURE + ("curve",))
    kinds = json.loads(attrs["data-hs-kinds"])
    assert kinds.get("site") == N_SITES and not {"orphan", "conflict", "overload"} & set(kinds)
    popups = json.loads(attrs["data-hs-popups"])
    assert len(popups) == N_SITES
    assert all("Rank (greedy order)" in p and "Radio" not in p for p in popups)


def test_compare_map_in_headless_chromium(compare_offline, plan_dir, after_dir, tmp_path):
    attrs, _dom = mapbrowser.open_page(compare_offline, tmp_path, furniture=FURNITURE)
    exp = _expected_change(plan_dir, after_dir)
    groups = json.loads(attrs["data-hs-groups"])
    assert groups == {k: exp[k] for k in ("kept", "removed", "added")}, groups
    assert int(attrs["data-hs-circles"]) == exp["removed"] + exp["added"]
    feats = json.loads(attrs["data-hs-features"])
    assert feats["district"] == N_DISTRICTS
    for key in ("gained", "lost"):
        assert 1 <= feats.get(key, 0) <= 5 < exp[key], (key, feats)
    s = attrs["data-hs-panel-text"]
    assert WHATIF_SCENARIO in s and HOSTILE_IMG in s
    assert f"{exp['added']} added, {exp['removed']} removed" in s
    assert "+ " + WHATIF_ADD[0][0] in s
    popups = json.loads(attrs["data-hs-popups"])
    assert len(popups) == sum(groups.values())
    assert any(WHATIF_ADD[0][0] in p for p in popups)
    tooltips = json.loads(attrs["data-hs-tooltips"])
    assert len(tooltips) == N_DISTRICTS
    assert all("Coverage before" in t and "change" in t and " pp" in t for t in tooltips)
    for name in DISTRICT_NAMES:
        assert any(name in t for t in tooltips), name
    assert attrs["data-hs-title"].startswith("Hotspot plans compared")


def test_compare_map_in_chinese(plan_dir, after_dir, tmp_path):
    page = render_compare_map(plan_dir, after_dir, tmp_path / "c.html", lang="zh").read_text()
    assert re.search(r"<title>热点方案对比", page) and '<html lang="zh-CN">' in page
    s = panel(page, "hs-summary")
    assert "方案对比" in s and "人口覆盖率" in s and "个百分点" in s
    assert "行政区：覆盖率变化" in overlays(page)


def test_entry_points_take_exactly_the_map_options():
    import inspect

    from coverage.maps import render_compare_map, render_map

    options = ["offline", "lang", "basemap", "tianditu_key"]
    for fn, positional in ((render_map, ["plan_dir", "out_path"]),
                           (render_compare_map, ["before_dir", "after_dir", "out_path"])):
        params = inspect.signature(fn).parameters
        assert list(params) == positional + options, fn
        assert all(params[k].kind is inspect.Parameter.KEYWORD_ONLY for k in options)
