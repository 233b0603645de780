"""The interactive map of one saved plan (``DIR/map.html``), also for what-if plans.

The map is a pure function of a plan folder (docs/outputs.md): it never re-solves.
Districts come first (coloured by coverage in classes relative to the target, named,
with tooltips); uncovered demand and population density are layers off at start; the
selected hotspots are one layer per category with their coverage circles; network
checks (issue #6) ring orphans and problem sites. See :mod:`coverage.maps.page` for how
names reach the page (as data, never as template source).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .basemaps import check_tianditu_key, resolve_basemap
from .data import PlanData, load_plan
from .geometry import (cell_centroids, density_image, dissolve_cells,
                       district_tolerance, extent, png_data_uri, round_geoms, simplify)
from .i18n import Fmt, check_lang, js_words, plan_language, words
from .layers import (district_names, geojson_layer, label_layer, network_layers, outline_of,
                     points_layer)
from .page import assemble_page, render_fragment, write_atomic
from .palette import (CANDIDATE_COLOUR, KNOWN_CATEGORY_COLOURS, NEUTRAL_COLOUR,
                      UNCOVERED_COLOURS, category_colours, coverage_class, coverage_classes)
from .panels import legend_context, summary_context
from .tables import bools, category_label, col, metric_name, network_of, site_names, site_table

__all__ = ["render_map", "build_map_html"]


def render_map(plan_dir: str | os.PathLike | PlanData, out_path: str | os.PathLike | None = None, *,
               offline: bool = False, lang: str | None = None, basemap: str | None = None,
               tianditu_key: str | None = None) -> Path:
    """Render the interactive map of a saved plan folder; return the HTML path.

    ``plan_dir`` holds ``summary.json`` and ``plan.gpkg`` (or is the :class:`PlanData`
    read from them, as the plan writer passes what it has just written; ``out_path`` is
    then required). The page goes to ``out_path`` (default ``plan_dir/map.html``),
    written atomically. Leaflet is always inlined, so the page works without network;
    ``offline=True`` also leaves out the basemap tiles. ``lang``: "en" (default) or "zh".
    ``basemap``: see :mod:`coverage.maps.basemaps`; ``tianditu_key`` is checked, never written.
    """
    if isinstance(plan_dir, PlanData):
        if out_path is None:
            raise ValueError("render_map(PlanData, out_path): give the page's path")
        plan = plan_dir
    else:
        plan = None
        plan_dir = Path(plan_dir)
    out = Path(out_path) if out_path is not None else plan_dir / "map.html"
    check_tianditu_key(tianditu_key)
    plan = plan if plan is not None else load_plan(plan_dir)
    page = build_map_html(plan, offline=offline, lang=lang, basemap=basemap, diff=plan.diff)
    return write_atomic(out, page)


def _district_layer(plan: PlanData, w: dict, f: Fmt, tol: float) -> dict | None:
    d = plan.districts
    if d is None or not len(d):
        return None
    summary = plan.summary
    metric = metric_name(summary)
    extra = {str(x.get("name")): x for x in (summary.get("districts") or []) if isinstance(x, dict)}
    target = Fmt.num(summary.get("target"))
    classes = coverage_classes(target)
    props = []
    for name, shown, (_i, row) in zip(col(d, "name", ""), district_names(d), d.iterrows()):
        more = extra.get(str(name), {})
        cov = Fmt.num(row.get("coverage"))
        if cov is None:
            cov = Fmt.num(more.get(f"coverage_{metric}"))
        k = coverage_class(cov, target)
        props.append({
            "hs_layer": "district", "name": str(shown),
            "population": f.int(row.get("population", more.get("population"))),
            "coverage_population": f.pct(row.get("coverage_population",
                                                 more.get("coverage_population"))),
            "coverage_area": f.pct(row.get("coverage_area", more.get("coverage_area"))),
            "n_sites": f.int(row.get("n_sites", more.get("n_sites"))),
            "colour": NEUTRAL_COLOUR if k is None else classes[k][2]})
    geoms = round_geoms(simplify(d.geometry.to_numpy(), tol))
    return geojson_layer(w["layer_districts"], geoms, props, fill_opacity=0.35, weight=1.5,
                         stroke="#444", highlight=True,
                         tooltip={"name": w["district"], "population": w["residents"],
                                  "coverage_population": w["population_covered"],
                                  "coverage_area": w["area_covered"], "n_sites": w["sites"]})


def _uncovered_layers(plan: PlanData, w: dict, f: Fmt) -> tuple[list[dict], list[int], bool]:
    """Uncovered demand per district and density class (off), density image (off)."""
    cells = plan.cells
    if cells is None or not len(cells):
        return [], [], False
    cell_m = Fmt.num(plan.summary.get("cell_size_m")) or 100.0
    covered = bools(cells["covered"]) if "covered" in cells else np.zeros(len(cells), bool)
    cxy = cell_centroids(cells)
    district = col(cells, "district", "").astype(str).to_numpy()
    pieces, props = [], []
    for name in sorted(set(district[~covered])):
        unc, bin_m = dissolve_cells(cells, ~covered & (district == name), cell_m, centroids=cxy)
        suffix = "" if bin_m is None else " (" + w["drawn_on_grid"].format(m=f.int(bin_m)) + ")"
        for p in unc:
            pieces.append(p)
            props.append({"hs_layer": "uncovered", "district": name or "–",
                          "label": w["density_labels"][p["class"]] + suffix,
                          "population": f.int(p["population"]), "area": f.km2(p["area_m2"]),
                          "unreachable": f.int(p["unreachable_population"]),
                          "colour": UNCOVERED_COLOURS[p["class"]]})
    layers = []
    if pieces:
        layer = geojson_layer(
            w["layer_uncovered"], [p["geometry"] for p in pieces], props, show=False,
            fill_opacity=0.45, weight=0.5,
            tooltip={"district": w["district"], "label": w["uncovered_density"],
                     "population": w["residents"], "area": w["area_word"],
                     "unreachable": w["out_of_reach"]})
        fine = density_image(cells[~covered], cell_m, centroids=cxy[~covered],
                             colours=UNCOVERED_COLOURS)
        if fine is not None:  # at street zoom: the cells themselves, covered ones as holes
            layer["fine"] = {"url": png_data_uri(fine[0]), "bounds": fine[1], "zoom": 14,
                             "opacity": 0.6}
        layers.append(layer)
    image = density_image(cells, cell_m, centroids=cxy)
    if image is not None:
        layers.append({"kind": "image", "name": w["layer_density"], "show": False,
                       "url": png_data_uri(image[0]), "bounds": image[1], "opacity": 0.7})
    return layers, sorted({p["class"] for p in pieces}), image is not None


def _category_order(cats: list[str]) -> list[str]:
    known = list(KNOWN_CATEGORY_COLOURS)
    return sorted(set(cats), key=lambda c: (c not in known, known.index(c) if c in known else 0, c))


def _site_layers(plan: PlanData, w: dict, f: Fmt) -> tuple[list[dict], list[dict]]:
    """Selected sites: one layer per category, or per phase when the plan has phases
    (markers keep their category's colour); each with its coverage circles."""
    summary, sel = plan.summary, plan.selected
    cand_cats = [] if plan.candidates is None else col(plan.candidates, "category", "").astype(str).tolist()
    colours = category_colours(set(col(sel, "category", "").astype(str).tolist()) | set(cand_cats))
    if "rank" in sel.columns:
        sel = sel.iloc[np.argsort(pd.to_numeric(sel["rank"], errors="coerce").to_numpy(),
                                  kind="stable")]
    sel_cat = col(sel, "category", "").astype(str)
    legend = [{"colour": colours[c], "label": category_label(summary, c, w.get("lang")),
               "count": f.int((sel_cat == c).sum())} for c in _category_order(sel_cat.tolist())]
    phase = pd.to_numeric(col(sel, "phase", None), errors="coerce")
    if phase.notna().any():
        return _phase_layers(sel.assign(colour_key=sel_cat.map(colours).to_numpy()), phase,
                             summary, w, f), legend
    layers = []
    for cat in _category_order(sel_cat.tolist()):
        sub = sel[sel_cat == cat]
        layers.append(points_layer(f"{category_label(summary, cat, w.get('lang'))} ({f.int(len(sub))})",
                                   site_table(sub, summary, True, w),
                                   {"colour": colours[cat], "radius": 5, "fillOpacity": 0.95,
                                    "circles": True, "kind": "site", "register": True},
                                   swatch=True))
    return layers, legend


def _phase_layers(sel: pd.DataFrame, phase: pd.Series, summary: dict, w: dict,
                  f: Fmt) -> list[dict]:
    """One layer per phase (sites without a phase last), markers in category colours."""
    layers = []
    keys = sorted({int(p) for p in phase.dropna()}) + ([None] if phase.isna().any() else [])
    for p in keys:
        mask = phase.isna() if p is None else phase == p
        sub = sel[mask.to_numpy()]
        cats = _category_order(col(sub, "category", "").astype(str).tolist())
        label = ", ".join(category_label(summary, c, w.get("lang")) for c in cats)
        name = w["phase_layer"].format(phase="–" if p is None else p, label=label)
        spec = points_layer(f"{name} ({f.int(len(sub))})", site_table(sub, summary, True, w),
                            {"colour": str(sub["colour_key"].iloc[0]), "radius": 5,
                             "fillOpacity": 0.95, "circles": True, "kind": "site",
                             "register": True})
        spec["swatches"] = [{"colour": c} for c in dict.fromkeys(sub["colour_key"].tolist())][:6]
        layers.append(spec)
    return layers


def _years(sel: pd.DataFrame) -> list[int]:
    """The roll-out years of the selected sites (empty without a ``year`` column)."""
    years = pd.to_numeric(col(sel, "year", None), errors="coerce").dropna()
    return sorted({int(y) for y in years})


def _candidate_layer(plan: PlanData, w: dict, f: Fmt) -> list[dict]:
    c = plan.candidates
    if c is None or not len(c):
        return []
    rest = c[col(c, "status", "not_selected").astype(str) != "selected"]
    if not len(rest):
        return []
    return [points_layer(f"{w['layer_candidates']} ({f.int(len(rest))})",
                         site_table(rest, plan.summary, False, w),
                         {"colour": CANDIDATE_COLOUR, "radius": 3, "fillOpacity": 0.8,
                          "circles": False, "kind": "candidate"}, show=False)]


def _any_synthetic(*frames) -> bool:
    return any(bool((col(fr, "source", "real").astype(str).str.lower() == "synthetic").any())
               for fr in frames if fr is not None)


def _changes(plan: PlanData, diff: dict | None, w: dict, f: Fmt, names: list) -> dict | None:
    """What a what-if plan changed: added sites (by name) and removed ones (from diff.json)."""
    if plan.summary.get("kind") != "what-if":
        return None
    sel = plan.selected
    added = [n for n, s in zip(names, col(sel, "source", "").tolist()) if str(s) == "what-if"]
    removed = [str(x) for x in (diff or {}).get("sites_removed", [])]
    lines = [f"+ {n}" for n in added[:50]] + [f"− {n}" for n in removed[:50]]
    return {"counts": f"{w['added']}: {f.int(len(added))}" + (
        f", {w['removed']}: {f.int(len(removed))}" if diff is not None else ""), "lines": lines}


def build_map_html(plan: PlanData, *, offline: bool = False, lang: str | None = None,
                   basemap: str | None = None, diff: dict | None = None) -> str:
    """The map page as a string (see :func:`render_map`)."""
    lang = check_lang(lang or plan_language(plan.summary))
    w, f, summary = words(lang), Fmt(lang), plan.summary
    base = resolve_basemap(basemap, offline)
    tol = district_tolerance(summary)
    layers = [x for x in (_district_layer(plan, w, f, tol),) if x]
    extra, unc_classes, has_density = _uncovered_layers(plan, w, f)
    layers += extra
    sites, legend_cats = _site_layers(plan, w, f)
    network = network_of(plan.selected)
    layers += sites + (network_layers(network, w, f) if network else [])
    layers += _candidate_layer(plan, w, f)
    labels = label_layer(w["layer_district_labels"], plan.districts, lang)
    layers += [labels] if labels else []
    outline = outline_of(plan.study_area, plan.districts, tol)
    if outline:
        layers.append({"kind": "geojson", "name": w["layer_study_area"], "show": True,
                       "data": outline, "tooltip": None, "fillOpacity": 0, "weight": 2,
                       "stroke": "#222", "fill": False, "dash": "6 4", "highlight": False})
    whatif = summary.get("kind") == "what-if"
    heading = w["whatif_title" if whatif else "plan_title"]
    scenario = str(summary["scenario"]) if summary.get("scenario") else None
    title = heading + (f" – {scenario}" if scenario else "")
    summ = render_fragment("summary.html", **summary_context(
        summary, plan.selected, w, f, heading=title, notes=[],
        basemap_note="" if base else w["no_basemap"],
        changes=_changes(plan, diff, w, f, site_names(plan.selected, summary, w))))
    legend = render_fragment("legend.html", **legend_context(
        summary, legend_cats, w, f, synthetic=_any_synthetic(plan.selected, plan.candidates),
        existing_elsewhere=bool((bools(col(plan.selected, "existing", False))
                                 & (col(plan.selected, "category", "").astype(str) != "existing")).any()),
        uncovered=unc_classes, density=has_density, network=network))
    bounds = extent((plan.study_area, plan.districts, plan.selected))
    box = [[bounds[1], bounds[0]], [bounds[3], bounds[2]]]
    data = {"lang": lang, "js": js_words(lang), "basemap": base, "bounds": box, "view": box,
            "outline": outline, "layers": layers, "years": _years(plan.selected)}
    return assemble_page(title=title, lang=lang, words=w, scenario=scenario, data=data,
                         summary_html=summ, legend_html=legend)
