"""Issue #16 in a real browser (headless Chromium, networking off): works offline,
districts first, Chinese, basemaps, print view, permalink, narrow screens."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import mapbrowser
from coverage.errors import InputError
from coverage.maps import keyed_url, render_map
from mapfixtures import DISTRICT_NAMES, make_plan_dir

ZH_NAMES = ["福田区", "罗湖区", "南山区"]
KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    import geopandas as gpd

    d = make_plan_dir(tmp_path_factory.mktemp("plan"))
    gpkg = d / "plan.gpkg"
    districts = gpd.read_file(gpkg, layer="districts")
    districts["name_zh"] = ZH_NAMES
    districts.to_file(gpkg, layer="districts", driver="GPKG")
    return d


def test_default_page_renders_without_network_and_says_so(plan_dir, tmp_path):
    page = render_map(plan_dir, tmp_path / "map.html")  # the default: OSM tiles wanted
    attrs, _ = mapbrowser.open_page(page, tmp_path, furniture=("legend", "summary", "scale"))
    assert int(attrs["data-hs-sites"]) == 7 and int(attrs["data-hs-districts"]) == 3
    assert "could not be loaded" in attrs["data-hs-note"]  # plainly: no basemap
    assert int(attrs["data-hs-tiles"]) > 0  # it tried


def test_district_tooltips_reachable_by_hover_at_city_zoom(plan_dir, tmp_path):
    page = render_map(plan_dir, tmp_path / "map.html", offline=True)
    attrs, _ = mapbrowser.open_page(page, tmp_path)
    assert attrs.get("data-hs-hover-done") == "true"
    hover = json.loads(attrs["data-hs-hover"])
    assert len(hover) == 3
    for name, zh, seen in zip(DISTRICT_NAMES, ZH_NAMES, hover):
        # most points of a district show its tooltip (not a site's, not uncovered demand)
        mine = [t for t in seen if t.startswith("District") and name in t and zh in t
                and "Population covered" in t and "||" not in t]
        assert len(mine) >= 3, seen
        assert not any("Uncovered" in t for t in seen)


def test_chinese_page(plan_dir, tmp_path):
    summary_path = plan_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    zh_labels = {"school": "学校", "library": "图书馆"}
    assert set(zh_labels) <= set(summary["categories"])
    for cat, label in zh_labels.items():  # the scenario's label_zh, as summary.json carries it
        summary["categories"][cat]["label_zh"] = label
    summary_path.write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    page = render_map(plan_dir, tmp_path / "map.html", offline=True, lang="zh")
    attrs, _ = mapbrowser.open_page(page, tmp_path, furniture=("legend", "summary", "scale"))
    assert all(label in attrs["data-hs-legend-text"] for label in zh_labels.values())
    assert attrs["data-hs-lang"] == "zh-CN"
    assert attrs["data-hs-title"].startswith("热点规划")
    assert "图例" in attrs["data-hs-legend-text"] and "人口覆盖率" in attrs["data-hs-panel-text"]
    assert "无底图" in attrs["data-hs-note"]
    labels = json.loads(attrs["data-hs-labels"])
    assert all(lab.startswith(zh) for lab, zh in zip(labels, ZH_NAMES))  # Chinese first
    popups = json.loads(attrs["data-hs-popups"])
    assert all("名称" in p and "坐标" in p for p in popups)
    tips = json.loads(attrs["data-hs-tooltips"])
    assert all("行政区" in t for t in tips) and any("福田区" in t for t in tips)
    overlays = json.loads(attrs["data-hs-overlays"])
    assert "行政区：覆盖率" in overlays
    # metric scale bar only
    assert re.search(r"\d+ (m|km)\b", attrs["data-hs-scale-text"])
    assert "mi" not in attrs["data-hs-scale-text"] and "ft" not in attrs["data-hs-scale-text"]


def test_unknown_language_is_refused(plan_dir, tmp_path):
    with pytest.raises(InputError, match="lang='fr'"):
        render_map(plan_dir, tmp_path / "m.html", lang="fr")


def test_permalink_restores_a_view(plan_dir, tmp_path):
    page = render_map(plan_dir, tmp_path / "map.html", offline=True)
    attrs, _ = mapbrowser.open_page(page, tmp_path)
    assert attrs["data-hs-hash"].startswith("#map=")  # the view is written to the address
    attrs, _ = mapbrowser.open_page(page, tmp_path, fragment="#map=15/22.51234/114.04321")
    assert attrs["data-hs-view"] == "15/22.5123/114.0432"


def test_print_view(plan_dir, tmp_path):
    """The print stylesheet applied (as @media all): no buttons; title, legend, scale."""
    page = render_map(plan_dir, tmp_path / "map.html", offline=True)
    text = page.read_text(encoding="utf-8")
    assert "@media print {" in text and "size: A4 landscape" in text
    printed = tmp_path / "printed.html"
    printed.write_text(text.replace("@media print {", "@media all {"), encoding="utf-8")
    attrs, _ = mapbrowser.open_page(printed, tmp_path)
    vis = json.loads(attrs["data-hs-visible"])
    for sel in (".leaflet-control-zoom", ".leaflet-control-layers", ".hs-fs", ".hs-minimap"):
        assert vis[sel] is False, sel
    for sel in (".hs-print-head", ".hs-legend", ".leaflet-control-scale", ".hs-north"):
        assert vis[sel] is True, sel
    pdf = tmp_path / "map.pdf"
    mapbrowser.run(tmp_path, page.resolve().as_uri(), f"--print-to-pdf={pdf}",
                   "--no-pdf-header-footer")
    assert pdf.is_file() and len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())) == 1


def test_narrow_screen_collapses_panels(plan_dir, tmp_path):
    page = render_map(plan_dir, tmp_path / "map.html", offline=True)
    wide, _ = mapbrowser.open_page(page, tmp_path)
    narrow, _ = mapbrowser.open_page(page, tmp_path, window="390,800")
    assert int(wide["data-hs-open-details"]) == 2
    assert int(narrow["data-hs-open-details"]) == 0
    assert json.loads(narrow["data-hs-visible"])[".hs-minimap"] is False


def test_gcj02_basemaps_are_refused(plan_dir, tmp_path):
    for url in ("https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}|Amap",
                "https://rt0.map.gtimg.com/tile?z={z}&x={x}&y={y}|Tencent",
                "https://maponline0.bdimg.com/tile/?x={x}&y={y}&z={z}|Baidu"):
        with pytest.raises(InputError, match="GCJ-02"):
            render_map(plan_dir, tmp_path / "m.html", basemap=url)
    with pytest.raises(InputError, match="attribution"):
        render_map(plan_dir, tmp_path / "m.html", basemap="https://t.example/{z}/{x}/{y}.png")
    assert not (tmp_path / "m.html").exists()


def test_custom_xyz_basemap(plan_dir, tmp_path):
    page = render_map(plan_dir, tmp_path / "m.html",
                      basemap="https://t.example/{z}/{x}/{y}.png|© Example <b>x</b>")
    attrs, dom = mapbrowser.open_page(page, tmp_path)
    assert "© Example <b>x</b>" in dom.replace("&lt;", "<").replace("&gt;", ">")
    assert all(u.startswith("https://t.example/") for u in json.loads(attrs["data-hs-tile-urls"]))


def test_tianditu_key_is_never_written(plan_dir, tmp_path):
    page = render_map(plan_dir, tmp_path / "m.html", basemap="tianditu-vec", tianditu_key=KEY)
    assert KEY not in page.read_text(encoding="utf-8")
    attrs, _ = mapbrowser.open_page(page, tmp_path)
    assert "#tk=" in attrs["data-hs-note"] and int(attrs["data-hs-tiles"]) == 0  # asks for it
    attrs, _ = mapbrowser.open_page(page, tmp_path, fragment=f"#tk={KEY}")
    urls = json.loads(attrs["data-hs-tile-urls"])
    assert urls and all("tianditu.gov.cn" in u and f"tk={KEY}" in u for u in urls)
    assert keyed_url(page, KEY).endswith(f"#tk={KEY}")
    with pytest.raises(InputError, match="tianditu_key"):
        render_map(plan_dir, tmp_path / "m.html", basemap="tianditu-img", tianditu_key="x y")


def test_phases_and_years(tmp_path):
    """Sites with ``phase`` and ``year`` (issue #14): a layer per phase, the year in the
    popup, and the map as of a chosen year."""
    import geopandas as gpd

    d = make_plan_dir(tmp_path / "plan")
    gpkg = d / "plan.gpkg"
    sel = gpd.read_file(gpkg, layer="selected_sites")
    sel["phase"] = [1 if c in ("school", "library", "transport_hub", "existing") else 2
                    for c in sel["category"]]
    sel["year"] = [2011, 2011, 2012, 2012, 2013, 2013, 2013]
    sel.to_file(gpkg, layer="selected_sites", driver="GPKG")
    page = render_map(d, tmp_path / "map.html", offline=True)
    attrs, _ = mapbrowser.open_page(page, tmp_path)
    overlays = json.loads(attrs["data-hs-overlays"])
    phase_layers = [o for o in overlays if o.startswith("Phase ")]
    assert len(phase_layers) == 2 and phase_layers[0].startswith("Phase 1: ")
    assert phase_layers[1].endswith("(1)")
    popups = json.loads(attrs["data-hs-popups"])
    assert len(popups) == 7, popups
    assert all("Phase" in p and re.search(r"Year201[123]", p) for p in popups), popups
    counts = json.loads(attrs["data-hs-year-counts"])
    assert counts == {"2011": 2, "2013": 7}


def test_uncovered_demand_shows_cells_at_street_zoom(plan_dir, tmp_path):
    """Off at start; when on, street zoom draws the cells themselves (covered ones as
    holes), city zoom the merged areas."""
    page = render_map(plan_dir, tmp_path / "map.html", offline=True)
    text = page.read_text(encoding="utf-8")
    key = '"name":"Uncovered demand","show":false'
    assert text.count(key) == 1
    on = tmp_path / "on.html"
    on.write_text(text.replace(key, '"name":"Uncovered demand","show":true'), encoding="utf-8")
    street, _ = mapbrowser.open_page(on, tmp_path, fragment="#map=15/22.515/114.03")
    city, _ = mapbrowser.open_page(on, tmp_path, fragment="#map=12/22.515/114.03")
    assert int(street["data-hs-images"]) == 1 and int(city["data-hs-images"]) == 0
    assert int(street["data-hs-uncovered"]) >= 1  # the areas stay, for their tooltips


def test_chinese_site_names_and_language_from_the_plan(tmp_path):
    import geopandas as gpd

    d = make_plan_dir(tmp_path / "plan")
    gpkg = d / "plan.gpkg"
    sel = gpd.read_file(gpkg, layer="selected_sites")
    sel["name_zh"] = ["深圳图书馆"] + [None] * (len(sel) - 1)
    sel.to_file(gpkg, layer="selected_sites", driver="GPKG")
    summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
    summary["language"] = "zh"  # the scenario's language, when the plan records it
    (d / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    page = render_map(d, tmp_path / "map.html", offline=True).read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "深圳图书馆" in page
    assert '<html lang="en">' in render_map(d, tmp_path / "en.html", lang="en").read_text()


def test_a_city_of_sites_loads_with_its_phases_and_a_street_sites_popup(tmp_path):
    """A plan of 6,000 sites in two phases (big layers are drawn on one canvas each):
    both phases' layers are on, every site is counted, the year slider filters them, and
    a real click and hover on a street site at street zoom give its popup and tooltip;
    the 3,000 candidates left (off at start) come along without being built."""
    import geopandas as gpd

    from mapfixtures import large_plan_dir

    d = large_plan_dir(tmp_path / "city", n_sel=6000, n_cand=9000, grid=40)
    gpkg = d / "plan.gpkg"
    sel = gpd.read_file(gpkg, layer="selected_sites")
    street = sel.index >= 2500
    sel["phase"] = [2 if s else 1 for s in street]
    sel.loc[street, "category"] = "street"
    sel.loc[street, "source"] = "generated"
    sel.loc[street, "name"] = ["Lamp <b>" + str(i) + "</b>" for i in sel.index[street]]
    sel["year"] = [2011 + i % 5 for i in range(len(sel))]
    sel.to_file(gpkg, layer="selected_sites", driver="GPKG")
    site = sel.iloc[4321]
    page = render_map(d, tmp_path / "map.html", offline=True)
    text = page.read_text(encoding="utf-8")
    assert '"table_json":' in text  # the candidates: a string, parsed when switched on
    fragment = f"#map=18/{site.geometry.y:.6f}/{site.geometry.x:.6f}&hsclick=1"
    attrs, _ = mapbrowser.open_page(page, tmp_path, fragment=fragment)
    overlays = json.loads(attrs["data-hs-overlays"])
    phases = [o for o in overlays if o.startswith("Phase ")]
    assert len(phases) == 2 and phases[0].endswith("(2,500)") and phases[1].endswith("(3,500)")
    dots = json.loads(attrs["data-hs-dots"])
    assert [(x["kind"], x["n"]) for x in dots if x["kind"] == "site"] == [("site", 2500),
                                                                          ("site", 3500)]
    assert int(attrs["data-hs-sites"]) == 6000
    counts = json.loads(attrs["data-hs-year-counts"])
    assert counts == {"2011": 1200, "2015": 6000}
    popups = json.loads(attrs["data-hs-centre-popups"])
    assert len(popups) == 1, popups
    assert popups[0].startswith(f"NameLamp <b>{site.name}</b>") and "Phase2" in popups[0]
    assert f"Year{site['year']}" in popups[0]
    assert json.loads(attrs["data-hs-centre-tips"]) == [f"Lamp <b>{site.name}</b>"]
    all_on = json.loads(attrs["data-hs-dots-all-on"])
    assert {"kind": "candidate", "n": 3000} in all_on, all_on
    assert {"kind": "channel", "n": 6000} in all_on, all_on
