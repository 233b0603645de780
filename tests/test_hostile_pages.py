"""Issue #11: no input string is ever template source; every page shows it as text.

A corpus of hostile strings (Jinja2 syntax, ``${}`` and backticks, HTML/SVG event
handlers, ``javascript:`` URLs, U+2028/9, CR/LF, RTL marks, a 10,000-character name)
goes through every text field of a plan folder (site names, ids, categories and their
labels, district names, the scenario name, the folder names) and the pages are opened
in headless Chromium with networking disabled: each string is shown literally, nothing
ran, and the page is complete.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import mapbrowser
from coverage.maps import render_compare_map, render_map
from coverage.sweep import plot_sweep
from mapfixtures import HOSTILE_CORPUS, hostile_plan_dir

PACKAGE = Path(__file__).resolve().parents[1] / "coverage"
FURNITURE = ("legend", "summary", "layercontrol", "scale", "fullscreen")


def norm(s: str) -> str:
    """What the browser hook reports: whitespace runs collapsed, trimmed."""
    return re.sub(r"\s+", " ", s).strip()


def folder_name(s: str) -> str:
    return s.replace("/", "∕")[:120]


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile")
    before = hostile_plan_dir(root / folder_name(HOSTILE_CORPUS[0]))
    after = hostile_plan_dir(root / folder_name(HOSTILE_CORPUS[7]), whatif=True,
                             drop=("s5", "s6"))
    return {"plan": before, "whatif": after}


def _check_plan_page(attrs: dict, corpus: list[str], title_word: str) -> None:
    popups = " ".join(json.loads(attrs["data-hs-popups"]))
    tooltips = " ".join(json.loads(attrs["data-hs-tooltips"]))
    labels = json.loads(attrs["data-hs-labels"])
    overlays = json.loads(attrs["data-hs-overlays"])
    panel, legend = attrs["data-hs-panel-text"], attrs["data-hs-legend-text"]
    for s in map(norm, corpus):
        assert f"Name{s}" in popups, s[:60]            # site name
        assert f"Site id{s}" in popups, s[:60]         # site id
        assert f"Category{s}" in popups, s[:60]        # category label
        assert f"District{s}" in tooltips, s[:60]      # district name
        assert s in labels, s[:60]                     # district label on the map
        assert f"{s} (1)" in overlays, s[:60]          # layer per category
        assert f"{s} (1)" in legend, s[:60]
        assert s in panel, s[:60]                      # scenario name
    assert norm(attrs["data-hs-title"]) == norm(f"{title_word} – " + " | ".join(corpus))
    assert int(attrs["data-hs-districts"]) == len(corpus)
    assert int(attrs["data-hs-sites"]) >= len(corpus)
    assert "49" not in panel.split("Target")[0]  # {{7*7}} was not evaluated


def test_plan_map_shows_hostile_strings_literally(plans, tmp_path):
    page = render_map(plans["plan"], tmp_path / "map.html", offline=True)
    text = page.read_text(encoding="utf-8")
    assert "uid=" not in text and "loop" * 3 not in text  # nothing ran while rendering
    attrs, _ = mapbrowser.open_page(page, tmp_path, furniture=FURNITURE)
    _check_plan_page(attrs, HOSTILE_CORPUS, "Hotspot plan")
    assert 0 < int(attrs["data-hs-popup-width"]) <= 360  # the 10,000-character name wraps


def test_whatif_map_shows_hostile_strings_literally(plans, tmp_path):
    page = render_map(plans["whatif"], tmp_path / "map.html")  # default: tiles, no network
    attrs, _ = mapbrowser.open_page(page, tmp_path, furniture=FURNITURE)
    _check_plan_page(attrs, HOSTILE_CORPUS, "What-if plan")
    panel = attrs["data-hs-panel-text"]
    for s in map(norm, HOSTILE_CORPUS):  # the added sites are listed by name
        assert f"+ {s}" in panel, s[:60]


def test_compare_map_shows_hostile_strings_literally(plans, tmp_path):
    page = render_compare_map(plans["plan"], plans["whatif"], tmp_path / "compare.html")
    attrs, _ = mapbrowser.open_page(page, tmp_path, furniture=FURNITURE)
    panel = attrs["data-hs-panel-text"]
    popups = " ".join(json.loads(attrs["data-hs-popups"]))
    tooltips = " ".join(json.loads(attrs["data-hs-tooltips"]))
    for s in map(norm, HOSTILE_CORPUS):
        assert s in panel, s[:60]                      # both scenario names
        assert f"Name{s}" in popups, s[:60]
        assert f"District{s}" in tooltips, s[:60]
    for folder in (plans["plan"], plans["whatif"]):    # folder names, as given
        assert norm(folder.name) in panel
    assert attrs["data-hs-title"].startswith("Hotspot plans compared")


def test_sweep_chart_shows_hostile_title_literally(tmp_path):
    table = pd.DataFrame({"target": [0.5, 0.9, 0.99], "coverage_population": [0.5, 0.9, 0.99],
                          "coverage_area": [0.4, 0.8, 0.9], "total_cost": [1e3, 5e3, 2e4]})
    title = " | ".join(HOSTILE_CORPUS)
    svg = plot_sweep(table, "target", tmp_path / "sweep.svg", title=title)
    proc = mapbrowser.run(tmp_path, svg.resolve().as_uri(), "--dump-dom")
    dom = proc.stdout
    assert "<svg" in dom and "</svg>" in dom, proc.stderr[-2000:]
    tags = set(re.findall(r"<([a-zA-Z]+)", dom))
    assert tags <= {"svg", "rect", "text", "line", "polyline", "circle", "html", "head",
                    "body"}, tags                        # no <img>, <script>, <b>...
    import html as htmllib
    texts = [htmllib.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", dom, re.S)]
    assert title.replace("\r", "\n") in [t.replace("\r\n", "\n").replace("\r", "\n") for t in texts] \
        or title in texts
    assert "target (%)" in texts  # one unit: the target axis in percent too


def test_no_template_is_built_from_text():
    """Templates are files of the package; nothing calls Template(...) / from_string."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in ("Template", "from_string", "MacroElement"):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                if any(m.split(".")[0] in ("folium", "branca") for m in mods):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} imports folium")
    assert offenders == []
    env_src = (PACKAGE / "maps" / "page.py").read_text(encoding="utf-8")
    assert "FileSystemLoader" in env_src and "autoescape=select_autoescape(default=True" in env_src
