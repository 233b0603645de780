"""The terminal summary in Chinese (``language = "zh"`` or ``--lang zh``, issue #16).

Same figures and tables as :func:`coverage.report.en.format_summary_en`, with Chinese labels;
district names are the districts layer's ``name_zh`` where present (``summary
["district_names_zh"]``), category names their labels. The radio, channel and backhaul
lines are technical text and stay in English.
"""

from __future__ import annotations

from .common import STOP_TEXT, count, network_lines, pct, phase_year_tables, table

STOP_ZH = {
    "target_met": "已达到目标",
    "budget_sites": "已用完站点预算",
    "budget_cost": "已用完费用预算",
    "unreachable": "现有候选点无法达到目标",
    "evaluated": "假设分析：按给定站点计算，未优化",
}
METRIC_ZH = {"population": "人口", "area": "面积"}


def format_summary_zh(summary: dict) -> str:
    """The Chinese terminal summary of ``summary`` (a summary.json structure)."""
    zh = summary.get("district_names_zh") or {}

    def district(name: str) -> str:
        return zh.get(name, name)

    metric = METRIC_ZH.get(summary["metric"], summary["metric"])
    lines = [headline_zh(summary, district), "", f"规划：{summary['scenario']}"]
    stop = STOP_ZH.get(summary["stop_reason"], STOP_TEXT.get(summary["stop_reason"], summary["stop_reason"]))
    reached = "已达到" if summary["target_met"] else "未达到"
    lines.append(f"  目标          {metric}覆盖 {summary['target']:.1%} → {reached}（{stop}）")
    if summary["coverage_population"] is not None:
        lines.append(f"  人口          覆盖 {summary['coverage_population']:.2%}，"
                     f"共 {summary['total_population']:,.0f} 人")
    lines.append(f"  面积          覆盖 {summary['coverage_area']:.2%}，"
                 f"共 {summary['total_area_m2'] / 1e6:,.1f} 平方公里")
    lines.append(f"  站点          {summary['n_selected']:,} 个（新建 {summary['n_new']:,}，"
                 f"已有 {summary['n_existing']:,}），"
                 f"总费用 {summary['total_cost']:,.1f}")
    improved = summary.get("improved")
    before = improved or summary.get("greedy")  # as the English report: after the swap search when it ran
    if before and (summary.get("bound") or {}).get("plan") == "solver":
        lines.append(f"  求解器        {'改进' if improved else '贪心'} {before['n_sites']:,} 个 / "
                     f"费用 {before['cost']:,.1f} → "
                     f"{summary['n_selected']:,} 个 / {summary['total_cost']:,.1f}（拉格朗日求解器的方案）")
    if summary.get("lower_bound") is not None:
        lines.append(f"  最优性        最优费用 ≥ {summary['lower_bound']:,.1f}，差距 {summary['gap']:.2%}")
    lines += _phase_year_tables(summary)
    if summary.get("equity"):
        rows = [[district(f["district"]), pct(f["min_coverage"]), pct(f["coverage"]), "是" if f["met"] else "否",
                 str(f.get("passes_in") or "–")] for f in summary["equity"]["constraints"]]
        lines += ["", table(["区", "最低覆盖", "覆盖率", "达标", "达标年份"], rows)]
    lines += ["", table(
        ["区", "人口", "覆盖率", "面积覆盖", "无法覆盖人口", "站点"],
        [[district(d["name"]), count(d["population"]), pct(d["coverage_population"]), pct(d["coverage_area"]),
          count(d["unreachable_population"]), count(d["n_sites"])] for d in summary["districts"]],
    )]
    lines += ["", table(
        ["类别", "半径 (米)", "单价", "站点", "新建", "费用"],
        [[_label_zh(summary, name), f"{c['radius_m']:,.0f}", f"{c['unit_cost']:g}",
          count(c["sites"]), count(c["new_sites"]), f"{c['cost']:,.1f}"] for name, c in summary["by_category"].items()],
    )]
    lines += network_lines(summary)
    return "\n".join(lines)


def headline_zh(summary: dict, district=lambda name: name) -> str:
    """The answer in one line, in Chinese."""
    metric = METRIC_ZH.get(summary["metric"], summary["metric"])
    met = "已达到" if summary["target_met"] else "未达到"
    parts = [f"第 {p['phase']} 期 {p['n_sites']:,} 个{_noun_zh(summary, p['phase'])}"
             for p in summary.get("phases") or [] if p["n_sites"]]
    what = " + ".join(parts) if parts else f"{summary['n_selected']:,} 个站点"
    line = (f"{metric}覆盖目标 {summary['target']:.0%}：{met}（{summary['coverage']:.2%}）— {what}，"
            f"总费用 {summary['total_cost']:,.0f}")
    floors = (summary.get("equity") or {}).get("constraints") or []
    if floors:
        short = [f for f in floors if not f["met"]]
        lowest = min(f["min_coverage"] for f in floors)
        years = [f.get("passes_in") for f in floors]
        if short:
            names = "、".join(f"{district(f['district'])} {pct(f['coverage'])}" for f in short[:3])
            line += "；未达最低覆盖的区：" + names
        elif summary.get("rollout") and all(y is not None for y in years):
            line += f"；各区覆盖率均于 {max(years)} 年前达到 {lowest:.0%} 以上"
        else:
            line += f"；各区覆盖率均达到 {lowest:.0%} 以上"
    return line


def _label_zh(summary: dict, name: str) -> str:
    """A category's Chinese label (``label_zh``), else its label, else its name."""
    info = summary.get("categories", {}).get(name, {})
    return info.get("label_zh") or info.get("label") or name


def _noun_zh(summary: dict, phase: int) -> str:
    gapfill = summary.get("gapfill")
    categories = summary.get("categories", {})
    if gapfill and categories.get(gapfill["category"], {}).get("phase") == phase:
        return f"{categories[gapfill['category']].get('label_zh') or '街道（灯杆）'}接入点"
    return "公共场所站点" if phase == 1 else "站点"


def _phase_year_tables(summary: dict) -> list[str]:
    return phase_year_tables(summary, ["期", "站点", "费用", "完成后覆盖率"], ["年份", "站点", "费用", "年末覆盖率"],
                             "{n:,} 个站点在 {end_year} 年前超出年度预算，未排期")
