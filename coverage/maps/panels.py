"""Context (plain data) for the panel templates of the plan map: summary and legend.

Every value here is plain text; the templates escape it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup

from ..charts import line_chart_svg
from .i18n import Fmt
from .palette import (CANDIDATE_COLOUR, CONFLICT_COLOUR, DENSITY_COLOURS, ORPHAN_COLOUR,
                      OVERLOAD_COLOUR, UNCOVERED_COLOURS, coverage_classes)
from .tables import category_label, metric_name

__all__ = ["coverage_curve_svg", "summary_context", "legend_context", "LEGEND_ORPHANS"]

#: Orphans named in the legend (the layer and the popups have them all).
LEGEND_ORPHANS = 8


def coverage_curve_svg(selected: pd.DataFrame, target: float | None, metric: str = "population",
                       width: int = 300, height: int = 150, max_points: int = 400,
                       x_label: str = "sites added (greedy order)",
                       y_label: str | None = None) -> str:
    """Inline SVG: sites added (rank) vs. cumulative coverage (%), with the target line."""
    if "rank" in selected and "cumulative_coverage" in selected and len(selected):
        df = selected[["rank", "cumulative_coverage"]].apply(pd.to_numeric, errors="coerce")
        df = df.dropna().sort_values("rank")
        ranks = df["rank"].to_numpy(float)
        cov = np.clip(df["cumulative_coverage"].to_numpy(float), 0, 1)
    else:
        ranks = cov = np.array([])
    t = Fmt.num(target)
    return line_chart_svg(np.concatenate([[0.0], ranks]), 100 * np.concatenate([[0.0], cov]),
                          x_label=x_label, y_label=y_label or f"{metric} covered %",
                          target=None if t is None else 100 * t, y_range=(0.0, 100.0),
                          width=width, height=height, max_points=max_points)


def _result(summary: dict, w: dict) -> tuple[str, str | None]:
    met = summary.get("target_met")
    if met is True:
        return "✔ " + w["target_met"], "met"
    if met is False:
        reason = str(summary.get("stop_reason") or "").replace("_", " ")
        return "✘ " + w["target_not_met"] + (f" ({reason})" if reason else ""), "notmet"
    return "–", None


def _summary_rows(summary: dict, selected: pd.DataFrame, w: dict, f: Fmt) -> list[tuple]:
    metric = w[metric_name(summary)]
    target = Fmt.num(summary.get("target"))
    n_sel = summary.get("n_selected")
    sites = f.int(len(selected) if n_sel is None else n_sel)
    if summary.get("n_new") is not None or summary.get("n_existing") is not None:
        sites += " (" + w["new_existing"].format(new=f.int(summary.get("n_new")),
                                                 existing=f.int(summary.get("n_existing"))) + ")"
    result, cls = _result(summary, w)
    rows = [(w["target"], f"{f.pct(target)} {w['of']} {metric}" if target is not None else "–",
             None), (w["result"], result, cls),
            (w["population_covered"], f.pct(summary.get("coverage_population"), 2), None),
            (w["area_covered"], f.pct(summary.get("coverage_area"), 2), None)]
    if summary.get("max_reachable_coverage") is not None:
        rows.append((w["best_reachable"], f.pct(summary.get("max_reachable_coverage"), 2), None))
    rows += [(w["sites"], sites, None), (w["total_cost"], f.money(summary.get("total_cost")), None)]
    budget = summary.get("budget") or {}
    limits = []
    if budget.get("max_sites") is not None:
        limits.append(f"{f.int(budget['max_sites'])} {w['n_sites_word']}")
    if budget.get("max_cost") is not None:
        limits.append(f"{w['cost_word']} {f.money(budget['max_cost'])}")
    if limits:
        rows.append((w["budget"], ", ".join(limits), None))
    return rows


def _section(summary: dict, key: str) -> dict | None:
    v = summary.get(key)
    return v if isinstance(v, dict) and v else None


#: Chinese for the network lines' counted words (English adds an "s" for plurals).
_ZH = {"conflict": "处冲突", "site": "个站点", "orphan": "个孤立站点", "hop": "跳",
       "overloaded site": "个过载站点", "extra AP": "个额外 AP"}
#: Chinese for the network lines' fixed phrases.
_ZH_PHRASES = {"no same-channel conflicts": "无同信道冲突", "fibre": "光纤", "wireless": "无线",
               "no orphans": "无孤立站点", "(no path to fibre)": "（无光纤路径）",
               "concurrent users": "并发用户", "no site overloaded": "无过载站点",
               "need": "需要", "needs": "需要"}


def _plural(f: Fmt, n, word: str) -> str:
    if f.lang == "zh":
        return f"{f.int(n)} {_ZH.get(word, word)}"
    return f"{f.int(n)} {word}{'' if Fmt.num(n) == 1 else 's'}"


def _p(f: Fmt, phrase: str) -> str:
    return _ZH_PHRASES.get(phrase, phrase) if f.lang == "zh" else phrase


def _radio(summary: dict, w: dict, f: Fmt) -> list[dict]:
    items = []
    for cat, r in (_section(summary, "radio") or {}).items():
        if not isinstance(r, dict):
            continue
        src = str(r.get("source") or "")
        how = w["link_budget"] if "link" in src.lower() else (w["fixed"] if src else "")
        items.append({"label": category_label(summary, str(cat), w.get("lang")), "radius": f.int(r.get("radius_m")),
                      "tip": str(r.get("explanation") or src), "how": how})
    return items


def _channels(summary: dict, f: Fmt) -> list[dict]:
    items = []
    for band, c in (_section(summary, "channels") or {}).items():
        if not isinstance(c, dict):
            continue
        chs = "/".join(f.int(x) for x in (c.get("channels") or []) if Fmt.num(x) is not None)
        conflicts = Fmt.num(c.get("conflicts"))
        text = f"{band} GHz" + (f" ({chs})" if chs else "") + ": "
        item = {"text": text, "bad": None, "after": ""}
        if conflicts is None:
            item["text"] += "–"
        elif conflicts == 0:
            item["text"] += _p(f, "no same-channel conflicts")
        else:
            item["bad"] = _plural(f, conflicts, "conflict")
            item["after"] = f"({_plural(f, c.get('sites_with_conflicts'), 'site')})"
        items.append(item)
    return items


def _backhaul(summary: dict, f: Fmt) -> dict | None:
    back = _section(summary, "backhaul")
    if not back:
        return None
    orphans = back.get("orphans")
    n_orph = len(orphans) if isinstance(orphans, list) else Fmt.num(orphans)
    out = {"text": f"{f.int(back.get('wired_sites'))} {_p(f, 'fibre')}, "
                   f"{f.int(back.get('wireless_sites'))} {_p(f, 'wireless')}",
           "bad": None, "after": "", "tail": ""}
    if n_orph:
        out["bad"], out["after"] = _plural(f, n_orph, "orphan"), _p(f, "(no path to fibre)")
    elif n_orph == 0:
        out["text"] += "; " + _p(f, "no orphans")
    if Fmt.num(back.get("max_hops")):
        out["tail"] = f"; ≤ {_plural(f, back.get('max_hops'), 'hop')}"
    return out


def _capacity(summary: dict, f: Fmt) -> dict | None:
    cap = _section(summary, "capacity")
    if not cap:
        return None
    out = {"text": f"{f.int(cap.get('concurrent_users'))} {_p(f, 'concurrent users')}", "bad": None,
           "after": "", "tail": ""}
    over = Fmt.num(cap.get("overloaded_sites"))
    if over:
        out["bad"] = _plural(f, over, "overloaded site")
        out["after"] = (_p(f, "needs" if over == 1 else "need") + " "
                        + _plural(f, cap.get("extra_aps"), "extra AP"))
    elif over == 0:
        out["text"] += "; " + _p(f, "no site overloaded")
    return out


def network_summary(summary: dict, w: dict, f: Fmt) -> dict | None:
    """The panel's network lines from summary.json's radio / channels / backhaul /
    capacity sections; None for plans written before them."""
    net = {"radius": _radio(summary, w, f), "channels": _channels(summary, f),
           "backhaul": _backhaul(summary, f), "capacity": _capacity(summary, f)}
    return net if any(net.values()) else None


def summary_context(summary: dict, selected: pd.DataFrame, w: dict, f: Fmt, *, heading: str,
                    notes: list[str], basemap_note: str, changes: dict | None) -> dict:
    """Context for ``summary.html``."""
    metric = w[metric_name(summary)]
    curve = coverage_curve_svg(selected, summary.get("target"), metric,
                               x_label=w["curve_x"], y_label=w["curve_y"].format(metric=metric))
    return {"w": w, "heading": heading, "rows": _summary_rows(summary, selected, w, f),
            "network": network_summary(summary, w, f), "changes": changes,
            "curve_title": w["coverage_curve"].format(metric=metric),
            "curve": Markup(curve),  # charts.line_chart_svg escapes its labels
            "notes": notes, "basemap_note": basemap_note}


def coverage_ramp(target, f: Fmt, w: dict) -> list[tuple[str, str]]:
    """Legend ramp of the district classes: (colour, lower edge in %)."""
    out = []
    for k, (lo, _hi, colour) in enumerate(coverage_classes(Fmt.num(target))):
        label = w["far_below"] if k == 0 else f"{100 * lo:g}"
        out.append((colour, label))
    return out


def legend_context(summary: dict, cats: list[dict], w: dict, f: Fmt, *, synthetic: bool,
                   existing_elsewhere: bool, uncovered: list[int], density: bool,
                   network: dict | None) -> dict:
    """Context for ``legend.html``."""
    short = w["density_short"]
    net = None
    if network is not None:
        shown = ", ".join(network["orphans"][:LEGEND_ORPHANS])
        more = len(network["orphans"]) - LEGEND_ORPHANS
        net = {**network, "n_orphans": f.int(len(network["orphans"])),
               "orphans_shown": shown + (", " + w["more"].format(n=f.int(more)) if more > 0 else ""),
               "conflict": network["conflict"] and f.int(network["conflict"]),
               "overload": network["overload"] and f.int(network["overload"]),
               "channels": [(c, f.int(ch)) for ch, c in network["channels"].items()]}
    metric = w[metric_name(summary)]
    return {"w": w, "categories": cats, "existing_elsewhere": existing_elsewhere,
            "synthetic": synthetic, "candidate_colour": CANDIDATE_COLOUR, "network": net,
            "colours": {"orphan": ORPHAN_COLOUR, "conflict": CONFLICT_COLOUR,
                        "overload": OVERLOAD_COLOUR},
            "coverage_title": w["district_coverage"].format(metric=metric),
            "coverage_ramp": coverage_ramp(summary.get("target"), f, w),
            "uncovered": [(UNCOVERED_COLOURS[k], short[k]) for k in uncovered],
            "density": list(zip(DENSITY_COLOURS, short)) if density else []}
