"""The before/after map of two plan folders (``compare.html``).

Sites only in the first plan (removed, red), only in the second (added, green) and in
both (kept, grey), matched by ``site_id``; demand cells that became covered (gained)
or uncovered (lost), dissolved, when both plans use the same demand grid; districts
coloured by the change in coverage; a panel listing what changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..planfolder import grid_difference
from .basemaps import check_tianditu_key, resolve_basemap
from .data import PlanData, load_plan
from .geometry import (cell_arrays, class_index, dissolve_cells, district_tolerance, extent,
                       padded, round_geoms, simplify, union_bounds)
from .i18n import Fmt, check_lang, js_words, plan_language, words
from .layers import district_names, geojson_layer, outline_of, points_layer
from .page import assemble_page, render_fragment, write_atomic
from .palette import (CHANGE_BREAKS_PP, CHANGE_COLOURS, CHANGE_LABELS, GAIN_COLOUR,
                      KEPT_COLOUR, LOSS_COLOUR, NEUTRAL_COLOUR)
from .tables import bools, col, metric_name, site_keys, site_names, site_table

__all__ = ["render_compare_map", "build_compare_html"]

#: Added / removed sites named in the panel (all are on the map).
LISTED_CHANGES = 40


def render_compare_map(before_dir: str | os.PathLike, after_dir: str | os.PathLike,
                       out_path: str | os.PathLike, *, offline: bool = False,
                       lang: str | None = None, basemap: str | None = None,
                       tianditu_key: str | None = None) -> Path:
    """Render a before/after map of two plan folders; return the HTML path.

    Written atomically to ``out_path``; the options as in
    :func:`coverage.maps.render_map`. Raises :class:`~coverage.errors.InputError`
    when a folder is not a plan folder.
    """
    check_tianditu_key(tianditu_key)
    a, b = load_plan(before_dir), load_plan(after_dir)
    labels = (_plan_label(a, before_dir), _plan_label(b, after_dir))
    page = build_compare_html(a, b, labels, offline=offline, lang=lang, basemap=basemap)
    return write_atomic(Path(out_path), page)


def _plan_label(plan: PlanData, folder) -> str:
    name = Path(folder).resolve().name
    scenario = plan.summary.get("scenario")
    return f"{scenario} ({name})" if scenario and str(scenario) != name else name


def _district_figures(plan: PlanData, metric: str) -> dict[str, dict]:
    """District name -> {"coverage": fraction in ``metric`` or None, "n_sites": ...}."""
    out: dict[str, dict] = {}
    for rec in plan.summary.get("districts") or []:
        if isinstance(rec, dict) and rec.get("name") is not None:
            out[str(rec["name"])] = {"coverage": Fmt.num(rec.get(f"coverage_{metric}")),
                                     "n_sites": Fmt.num(rec.get("n_sites"))}
    d = plan.districts
    if d is not None and "name" in d:
        key = f"coverage_{metric}" if f"coverage_{metric}" in d else None
        for i in range(len(d)):
            rec = out.setdefault(str(d["name"].iloc[i]), {"coverage": None, "n_sites": None})
            if key is not None and Fmt.num(d[key].iloc[i]) is not None:
                rec["coverage"] = Fmt.num(d[key].iloc[i])
            if "n_sites" in d and rec["n_sites"] is None:
                rec["n_sites"] = Fmt.num(d["n_sites"].iloc[i])
    return out


def _change_colour(delta: float | None) -> str:
    if delta is None:
        return NEUTRAL_COLOUR
    return CHANGE_COLOURS[int(class_index(np.array([100.0 * delta]), CHANGE_BREAKS_PP)[0])]


def _district_layer(a: PlanData, b: PlanData, w: dict, f: Fmt) -> dict | None:
    dist = b.districts if b.districts is not None and len(b.districts) else a.districts
    if dist is None or not len(dist):
        return None
    metric = metric_name(b.summary)
    fig_a, fig_b = _district_figures(a, metric), _district_figures(b, metric)
    props = []
    for name, shown in zip(col(dist, "name", None), district_names(dist)):
        fa, fb = fig_a.get(str(name), {}), fig_b.get(str(name), {})
        ca, cb = fa.get("coverage"), fb.get("coverage")
        delta = None if ca is None or cb is None else cb - ca
        props.append({"hs_layer": "district", "name": str(shown), "before": f.pct(ca, 2),
                      "after": f.pct(cb, 2), "change": f.pp(delta),
                      "sites": f"{f.int(fa.get('n_sites'))} → {f.int(fb.get('n_sites'))}",
                      "colour": _change_colour(delta)})
    geoms = round_geoms(simplify(dist.geometry.to_numpy(), district_tolerance(b.summary)))
    return geojson_layer(w["layer_change"], geoms, props, fill_opacity=0.35, weight=1.5,
                         stroke="#444", highlight=True,
                         tooltip={"name": w["district"],
                                  "before": w["coverage_before"].format(metric=w[metric]),
                                  "after": w["after"], "change": w["change"], "sites": w["sites"]})


def _cell_layers(a: PlanData, b: PlanData, w: dict, f: Fmt) -> tuple[list, dict | None, list]:
    """Gained / lost coverage layers, their figures, and the changed pieces (for the view)."""
    if grid_difference(a, b) is not None:
        return [], None, []
    cell_m = Fmt.num(b.summary.get("cell_size_m")) or 100.0
    was, now = _covered_share(a.cells), _covered_share(b.cells)
    ar = cell_arrays(b.cells)
    layers, info, changed = [], {}, []
    for key, delta, colour, title in (("lost", was - now, LOSS_COLOUR, w["coverage_lost"]),
                                      ("gained", now - was, GAIN_COLOUR, w["coverage_gained"])):
        mask = delta > 1e-12
        pieces, bin_m = dissolve_cells(b.cells, mask, cell_m)
        # the people and area of the covered share that changed (a cell counted on several
        # demand points may change in part)
        info[key] = {"cells": int(mask.sum()), "population": float((ar["pop"] * delta)[mask].sum()),
                     "area_m2": float((ar["area"] * delta)[mask].sum())}
        if not pieces:
            continue
        changed += pieces
        suffix = "" if bin_m is None else " (" + w["drawn_on_grid"].format(m=f.int(bin_m)) + ")"
        props = [{"hs_layer": key, "label": f"{title}, {w['density_labels'][p['class']]}{suffix}",
                  "population": f.int(p["population"]), "area": f.km2(p["area_m2"]),
                  "n_cells": f.int(p["n_cells"]), "colour": colour} for p in pieces]
        layers.append(geojson_layer(f"{title} ({w['n_cells'].format(n=f.int(mask.sum()))})",
                                    [p["geometry"] for p in pieces],
                                    props, fill_opacity=0.55, weight=0.5,
                                    tooltip={"label": "", "population": w["residents"],
                                             "area": w["area_word"], "n_cells": w["cells"]}))
    return layers, info, changed


def _covered_share(cells) -> np.ndarray:
    """The covered share of each cell: ``covered_share`` when coverage is counted on several
    demand points per cell, else 1 or 0 from ``covered``."""
    if "covered_share" in cells:
        return np.nan_to_num(cells["covered_share"].to_numpy(float))
    return bools(cells["covered"]).astype(float)


def _site_groups(a: PlanData, b: PlanData) -> dict:
    key_a, key_b = site_keys(a.selected), site_keys(b.selected)
    return {"kept": (b.selected[key_b.isin(set(key_a))], b.summary),
            "removed": (a.selected[~key_a.isin(set(key_b))], a.summary),
            "added": (b.selected[~key_b.isin(set(key_a))], b.summary)}


def _site_layers(groups: dict, w: dict, f: Fmt) -> list[dict]:
    spec = {"kept": (KEPT_COLOUR, w["layer_kept"]), "removed": (LOSS_COLOUR, w["layer_removed"]),
            "added": (GAIN_COLOUR, w["layer_added"])}
    out = []
    for group, (df, summary) in groups.items():
        if not len(df):
            continue
        colour, title = spec[group]
        style = ({"colour": colour, "radius": 3, "fillOpacity": 0.6, "flat": True}
                 if group == "kept" else
                 {"colour": colour, "radius": 7, "fillOpacity": 0.95, "fixed": True, "circles": True})
        out.append(points_layer(f"{title} ({f.int(len(df))})", site_table(df, summary, True, w),
                                {**style, "kind": "site", "group": group}, swatch=True))
    return out


def _rows(sa: dict, sb: dict, w: dict, f: Fmt) -> list[tuple]:
    def delta(key):
        va, vb = Fmt.num(sa.get(key)), Fmt.num(sb.get(key))
        return None if va is None or vb is None else vb - va

    def signed(v, fmt):
        return "–" if v is None else ("±0" if v == 0 else ("+" if v > 0 else "−") + fmt(abs(v)))

    def met(s):
        return {True: {"cls": "met", "text": "✔ " + w["met"]},
                False: {"cls": "notmet", "text": "✘ " + w["not_met"]}}.get(s.get("target_met"), "–")

    return [
        (w["population_covered"], f.pct(sa.get("coverage_population"), 2),
         f.pct(sb.get("coverage_population"), 2), f.pp(delta("coverage_population"))),
        (w["area_covered"], f.pct(sa.get("coverage_area"), 2), f.pct(sb.get("coverage_area"), 2),
         f.pp(delta("coverage_area"))),
        (w["sites"], f.int(sa.get("n_selected")), f.int(sb.get("n_selected")),
         signed(delta("n_selected"), f.int)),
        (w["new_sites"], f.int(sa.get("n_new")), f.int(sb.get("n_new")), signed(delta("n_new"), f.int)),
        (w["total_cost"], f.money(sa.get("total_cost")), f.money(sb.get("total_cost")),
         signed(delta("total_cost"), f.money)),
        (w["target"], met(sa), met(sb), ""),
    ]


def _summary(a, b, labels, groups, info, w, f, base) -> dict:
    counts = {g: len(v[0]) for g, v in groups.items()}
    added = site_names(groups["added"][0], b.summary, w)
    removed = site_names(groups["removed"][0], a.summary, w)
    extra = max(0, len(added) - LISTED_CHANGES) + max(0, len(removed) - LISTED_CHANGES)
    cell_lines, notes = [], []
    if info is not None:
        for key, word in (("gained", w["coverage_gained"]), ("lost", w["coverage_lost"])):
            c = info[key]
            cell_lines.append(w["cells_changed"].format(what=word, cells=f.int(c["cells"]),
                                                        pop=f.int(c["population"]),
                                                        area=f.km2(c["area_m2"])))
    else:
        notes.append(w["grid_differs"].format(why=grid_difference(a, b)))
    ma, mb = metric_name(a.summary), metric_name(b.summary)
    if ma != mb:
        notes.append(w["metrics_differ"].format(a=w[ma], b=w[mb]))
    return {"w": w, "labels": labels, "rows": _rows(a.summary, b.summary, w, f),
            "sites_line": w["sites_changed"].format(added=f.int(counts["added"]),
                                                    removed=f.int(counts["removed"]),
                                                    kept=f.int(counts["kept"])),
            "added_names": [str(n) for n in added[:LISTED_CHANGES]],
            "removed_names": [str(n) for n in removed[:LISTED_CHANGES]],
            "more": w["more"].format(n=f.int(extra)) if extra else "",
            "cell_lines": cell_lines, "notes": notes,
            "basemap_note": "" if base else w["no_basemap"]}


def _legend(groups: dict, info, w: dict, f: Fmt) -> dict:
    synthetic = any(bool((col(groups[g][0], "source", "real").astype(str).str.lower()
                          == "synthetic").any()) for g in ("added", "removed"))
    return {"w": w, "counts": {g: f.int(len(v[0])) for g, v in groups.items()},
            "synthetic": synthetic, "cells": info is not None,
            "colours": {"gain": GAIN_COLOUR, "loss": LOSS_COLOUR, "kept": KEPT_COLOUR},
            "change_ramp": list(zip(CHANGE_COLOURS, CHANGE_LABELS))}


def build_compare_html(a: PlanData, b: PlanData, labels: tuple[str, str], *,
                       offline: bool = False, lang: str | None = None,
                       basemap: str | None = None) -> str:
    """The compare page as a string (see :func:`render_compare_map`)."""
    lang = check_lang(lang or plan_language(b.summary))
    w, f = words(lang), Fmt(lang)
    base = resolve_basemap(basemap, offline)
    layers = [x for x in (_district_layer(a, b, w, f),) if x]
    cell_layers, info, changed = _cell_layers(a, b, w, f)
    groups = _site_groups(a, b)
    layers += cell_layers + _site_layers(groups, w, f)
    tol = district_tolerance(b.summary)
    src = b if b.study_area is not None else a
    outline = outline_of(src.study_area, src.districts, tol)
    full = extent((a.study_area, b.study_area, a.districts, b.districts, a.selected, b.selected))
    moved = union_bounds([groups["removed"][0], groups["added"][0]], changed)
    view = padded(moved) if moved is not None else full
    title = f"{w['compare_title']} – {labels[0]} → {labels[1]}"
    data = {"lang": lang, "js": js_words(lang), "basemap": base, "outline": outline,
            "bounds": [[full[1], full[0]], [full[3], full[2]]],
            "view": [[view[1], view[0]], [view[3], view[2]]], "layers": layers}
    return assemble_page(
        title=title, lang=lang, words=w, scenario=str(b.summary.get("scenario") or "") or None,
        data=data,
        summary_html=render_fragment("compare_summary.html",
                                     **_summary(a, b, labels, groups, info, w, f, base)),
        legend_html=render_fragment("compare_legend.html", **_legend(groups, info, w, f)))
