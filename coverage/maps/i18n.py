"""Words and number formats of the map pages, in English ("en") and Chinese ("zh").

Every label, legend, panel and popup text of the pages comes from here; the page
script receives the ``js`` part. Numbers: thousands separators, percent with one
space in English ("12.5 %") and none in Chinese ("12.5%").
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import InputError

__all__ = ["LANGS", "check_lang", "plan_language", "words", "js_words", "Fmt"]

LANGS = ("en", "zh")

EN = {
    "lang": "en", "plan_title": "Hotspot plan", "whatif_title": "What-if plan",
    "compare_title": "Hotspot plans compared",
    "target": "Target", "result": "Result", "of": "of",
    "population": "population", "area": "area",
    "target_met": "target met", "target_not_met": "target not met",
    "met": "met", "not_met": "not met",
    "population_covered": "Population covered", "area_covered": "Area covered",
    "best_reachable": "Best reachable", "sites": "Sites", "total_cost": "Total cost (new)",
    "budget": "Budget", "n_sites_word": "sites", "cost_word": "cost",
    "new_existing": "{new} new, {existing} existing kept",
    "coverage_curve": "Coverage curve ({metric})",
    "curve_x": "sites added (greedy order)", "curve_y": "{metric} covered %",
    "no_basemap": "No basemap: this page was made offline, so it shows the plan layers "
                  "on a plain background (no map tiles).",
    "tiles_failed": "No basemap: the map tiles could not be loaded (no network?). "
                    "All plan layers are shown.",
    "legend": "Legend", "selected_hotspots": "Selected hotspots",
    "existing_ring": "existing hotspot (black ring)",
    "synthetic_hollow": "synthetic site (hollow)",
    "candidate_off": "candidate not selected (layer off)",
    "district_coverage": "District coverage ({metric})",
    "far_below": "far below", "target_reached": "target",
    "uncovered_legend": "Uncovered demand, residents/km² (layer off)",
    "density_legend": "Population density layer (off at start)",
    "synthetic_note": "Hollow markers are synthetic sites: generated stand-ins where real "
                      "site data was missing, not real buildings.",
    "network": "Network", "radius": "Radius", "channels": "Channels",
    "backhaul": "Backhaul", "capacity": "Capacity",
    "link_budget": "link budget", "fixed": "fixed",
    "layer_districts": "Districts: coverage", "layer_district_labels": "District names",
    "layer_uncovered": "Uncovered demand", "layer_density": "Population density (all demand)",
    "layer_candidates": "Candidates not selected", "layer_study_area": "Study area",
    "layer_orphans": "Backhaul orphans", "layer_issues": "Network issues",
    "layer_channels": "Channels", "layer_basemap": "Basemap",
    "district": "District", "residents": "Residents", "area_word": "Area",
    "uncovered_density": "Uncovered, density", "out_of_reach": "of them out of reach of every candidate",
    "drawn_on_grid": "drawn on a {m} m grid",
    "density_labels": ["no residents", "< 1,000 /km²", "1,000–5,000 /km²",
                       "5,000–20,000 /km²", "≥ 20,000 /km²"],
    "density_short": ["none", "<1k", "1k", "5k", "20k+"],
    "name": "Name", "category": "Category", "source": "Source", "site_id": "Site id",
    "cost": "Cost", "rank": "Rank (greedy order)", "population_gained": "Population gained",
    "area_gained": "Area gained", "coverage_after": "Coverage after it ({metric})",
    "note": "Note", "status": "Status", "coordinates": "Coordinates",
    "population_served": "Population served",
    "existing_kept": "existing hotspot, kept", "forced": "forced by the scenario",
    "new_site_name": "new {category} site at {lon}, {lat}",
    "changes": "What changed", "added": "added", "removed": "removed", "in_both": "in both",
    "before": "before", "after": "after", "change": "change",
    "plans_compared": "Plans compared", "new_sites": "New sites",
    "sites_changed": "Sites: {added} added, {removed} removed, {kept} in both",
    "cells_changed": "{what}: {cells} cells, {pop} residents, {area}",
    "coverage_gained": "Coverage gained", "coverage_lost": "Coverage lost",
    "grid_differs": "Cell-level changes can't be shown: {why}. Districts and totals are compared.",
    "metrics_differ": "The plans target different metrics ({a} vs {b}); districts show {b} coverage.",
    "layer_change": "Districts: change in coverage", "layer_kept": "Sites in both",
    "layer_removed": "Sites removed (only before)", "layer_added": "Sites added (only after)",
    "removed_radius": "removed, with its radius", "added_radius": "added, with its radius",
    "kept_legend": "in both plans", "cells_legend": "Demand cells",
    "gained_legend": "coverage gained", "lost_legend": "coverage lost",
    "change_legend": "District coverage change",
    "coverage_before": "Coverage before ({metric})",
    "whatif_changes": "Changes against the base plan",
    "more": "… {n} more",
    "scenario": "Scenario", "date": "Date",
    "orphan_legend": "backhaul orphan: no path to fibre ({n})",
    "conflict_legend": "same-channel conflict ({n})",
    "overload_legend": "overloaded, needs extra APs ({n})",
    "no_net_issues": "no orphans, channel conflicts or overloaded sites",
    "channel_layer_off": "channel (layer off)",
    "issues_sites": "{n} sites",
    "phase": "Phase", "year": "Year", "phase_layer": "Phase {phase}: {label}",
    "cells": "Cells", "n_cells": "{n} cells",
}

ZH = {
    "lang": "zh", "plan_title": "热点规划", "whatif_title": "假设方案",
    "compare_title": "热点方案对比",
    "target": "目标", "result": "结果", "of": "的",
    "population": "人口", "area": "面积",
    "target_met": "已达到目标", "target_not_met": "未达到目标",
    "met": "达到", "not_met": "未达到",
    "population_covered": "人口覆盖率", "area_covered": "面积覆盖率",
    "best_reachable": "可达上限", "sites": "站点", "total_cost": "总成本（新建）",
    "budget": "预算", "n_sites_word": "个站点", "cost_word": "成本",
    "new_existing": "新建 {new} 个，保留现有 {existing} 个",
    "coverage_curve": "覆盖曲线（{metric}）",
    "curve_x": "新增站点（贪心顺序）", "curve_y": "{metric}覆盖率 %",
    "no_basemap": "无底图：此页面为离线版本，规划图层显示在空白背景上（无地图瓦片）。",
    "tiles_failed": "无底图：无法加载地图瓦片（无网络？）。所有规划图层均已显示。",
    "legend": "图例", "selected_hotspots": "选定热点",
    "existing_ring": "现有热点（黑色外圈）",
    "synthetic_hollow": "合成站点（空心）",
    "candidate_off": "未选中的候选站点（图层默认关闭）",
    "district_coverage": "各区覆盖率（{metric}）",
    "far_below": "远低于", "target_reached": "目标",
    "uncovered_legend": "未覆盖需求，居民/平方公里（图层默认关闭）",
    "density_legend": "人口密度图层（默认关闭）",
    "synthetic_note": "空心标记为合成站点：在缺少真实站点数据时生成的替代点，并非真实建筑。",
    "network": "网络", "radius": "半径", "channels": "信道",
    "backhaul": "回传", "capacity": "容量",
    "link_budget": "链路预算", "fixed": "固定",
    "layer_districts": "行政区：覆盖率", "layer_district_labels": "行政区名称",
    "layer_uncovered": "未覆盖需求", "layer_density": "人口密度（全部需求）",
    "layer_candidates": "未选中的候选站点", "layer_study_area": "研究区域",
    "layer_orphans": "回传孤立站点", "layer_issues": "网络问题",
    "layer_channels": "信道", "layer_basemap": "底图",
    "district": "行政区", "residents": "居民", "area_word": "面积",
    "uncovered_density": "未覆盖，密度", "out_of_reach": "其中任何候选站点都无法覆盖",
    "drawn_on_grid": "按 {m} 米网格绘制",
    "density_labels": ["无居民", "< 1,000 /平方公里", "1,000–5,000 /平方公里",
                       "5,000–20,000 /平方公里", "≥ 20,000 /平方公里"],
    "density_short": ["无", "<1千", "1千", "5千", "2万+"],
    "name": "名称", "category": "类别", "source": "来源", "site_id": "站点编号",
    "cost": "成本", "rank": "排序（贪心顺序）", "population_gained": "新增覆盖人口",
    "area_gained": "新增覆盖面积", "coverage_after": "加入后覆盖率（{metric}）",
    "note": "备注", "status": "状态", "coordinates": "坐标",
    "population_served": "服务人口",
    "existing_kept": "现有热点，保留", "forced": "情景指定必选",
    "new_site_name": "新增{category}站点（{lon}, {lat}）",
    "changes": "变化", "added": "新增", "removed": "移除", "in_both": "两者皆有",
    "before": "之前", "after": "之后", "change": "变化",
    "plans_compared": "方案对比", "new_sites": "新建站点",
    "sites_changed": "站点：新增 {added} 个，移除 {removed} 个，共有 {kept} 个",
    "cells_changed": "{what}：{cells} 个网格，{pop} 名居民，{area}",
    "coverage_gained": "新增覆盖", "coverage_lost": "失去覆盖",
    "grid_differs": "无法显示网格级变化：{why}。仅比较各区和总数。",
    "metrics_differ": "两个方案的目标指标不同（{a} 与 {b}）；各区显示{b}覆盖率。",
    "layer_change": "行政区：覆盖率变化", "layer_kept": "两者皆有的站点",
    "layer_removed": "移除的站点（仅之前）", "layer_added": "新增的站点（仅之后）",
    "removed_radius": "移除，含覆盖半径", "added_radius": "新增，含覆盖半径",
    "kept_legend": "两个方案皆有", "cells_legend": "需求网格",
    "gained_legend": "新增覆盖", "lost_legend": "失去覆盖",
    "change_legend": "各区覆盖率变化",
    "coverage_before": "之前覆盖率（{metric}）",
    "whatif_changes": "相对基础方案的变化",
    "more": "… 另有 {n} 个",
    "scenario": "情景", "date": "日期",
    "orphan_legend": "回传孤立站点：无光纤路径（{n}）",
    "conflict_legend": "同信道冲突（{n}）",
    "overload_legend": "过载，需要额外 AP（{n}）",
    "no_net_issues": "无孤立站点、信道冲突或过载站点",
    "channel_layer_off": "信道（图层默认关闭）",
    "issues_sites": "{n} 个站点",
    "phase": "阶段", "year": "年份", "phase_layer": "第 {phase} 阶段：{label}",
    "cells": "网格", "n_cells": "{n} 个网格",
}

#: What the page script needs (popups, network lines, notes).
JS_EN = {
    "radio": "Radio", "backhaul": "Backhaul", "users": "Concurrent users",
    "aps": "Access points", "ghz": "GHz", "channel": "channel",
    "neighbours": "same-channel neighbour(s)", "orphan": "ORPHAN: no path to a wired site",
    "wired": "fibre (wired)", "mesh": "wireless mesh", "hops": "hop(s) to fibre",
    "expected": "expected", "aps_needed": "AP(s) needed", "overloaded": "overloaded",
    "extra_aps": "extra AP(s)", "full_screen": "Full screen", "north": "N",
    "tiles_failed": EN["tiles_failed"], "key_prompt": "Tianditu key (kept in this browser only)",
    "as_of": "Map as of year", "all_years": "all",
    "key_needed": "This map uses Tianditu tiles, which need your key: add #tk=YOUR_KEY to the "
                  "address or enter it here.",
}
JS_ZH = {
    "radio": "无线", "backhaul": "回传", "users": "并发用户",
    "aps": "接入点", "ghz": "GHz", "channel": "信道",
    "neighbours": "个同信道邻站", "orphan": "孤立：无到有线站点的路径",
    "wired": "光纤（有线）", "mesh": "无线网状", "hops": "跳到光纤",
    "expected": "（预计）", "aps_needed": "个 AP", "overloaded": "过载",
    "extra_aps": "个额外 AP", "full_screen": "全屏", "north": "北",
    "tiles_failed": ZH["tiles_failed"], "key_prompt": "天地图密钥（仅保存在本浏览器）",
    "as_of": "显示截至年份", "all_years": "全部",
    "key_needed": "此地图使用天地图瓦片，需要您的密钥：在地址后加上 #tk=您的密钥，或在此输入。",
}


def check_lang(lang: str | None) -> str:
    """``lang`` checked ("en" when None); InputError naming the option otherwise."""
    if lang is None:
        return "en"
    if lang not in LANGS:
        raise InputError(f"map option lang={lang!r}: use \"en\" or \"zh\"")
    return lang


def plan_language(summary: dict) -> str | None:
    """The language a plan records (``summary["language"]``, from the scenario), if known."""
    lang = summary.get("language")
    return lang if lang in LANGS else None


def words(lang: str) -> dict[str, Any]:
    """The page words for ``lang``."""
    return ZH if lang == "zh" else EN


def js_words(lang: str) -> dict[str, str]:
    return JS_ZH if lang == "zh" else JS_EN


class Fmt:
    """Number formatting for one language; ``–`` for missing values."""

    def __init__(self, lang: str):
        self.lang = lang
        self.pct_sep = "" if lang == "zh" else " "

    @staticmethod
    def num(value: Any) -> float | None:
        try:
            f = float(value)
        except (TypeError, ValueError):
            return None
        return f if math.isfinite(f) else None

    def pct(self, fraction: Any, digits: int = 1) -> str:
        f = self.num(fraction)
        return "–" if f is None else f"{100.0 * f:,.{digits}f}{self.pct_sep}%"

    def int(self, value: Any) -> str:
        f = self.num(value)
        return "–" if f is None else f"{f:,.0f}"

    def money(self, value: Any) -> str:
        f = self.num(value)
        if f is None:
            return "–"
        return f"{f:,.0f}" if abs(f - round(f)) < 1e-9 else f"{f:,.2f}"

    def km2(self, m2: Any) -> str:
        f = self.num(m2)
        unit = " 平方公里" if self.lang == "zh" else " km²"
        return "–" if f is None else f"{f / 1e6:,.2f}{unit}"

    def pp(self, delta: float | None) -> str:
        """A change in percentage points, signed ("+0.25 pp"); small changes keep 3 digits."""
        if delta is None:
            return "–"
        text = f"{100.0 * delta:+.2f}"
        if float(text) == 0:
            text = f"{100.0 * delta:+.3f}"
        unit = " 个百分点" if self.lang == "zh" else " pp"
        return ("±0.00" if float(text) == 0 else text.replace("-", "−")) + unit
