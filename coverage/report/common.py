"""What the English and Chinese terminal summaries share: the table layout (East Asian
wide characters count two columns), number formats, the stop reasons and the radio /
network lines (technical text, in English in both)."""

from __future__ import annotations

import unicodedata

STOP_TEXT = {
    "target_met": "target met",
    "budget_sites": "stopped: site budget spent",
    "budget_cost": "stopped: cost budget spent",
    "unreachable": "target NOT reachable with these candidates",
    "evaluated": "what-if: sites as given, not optimised",
}


def network_lines(summary: dict) -> list[str]:
    """Radio, channels, backhaul and capacity, when the summary has them."""
    if "radio" not in summary:
        return []
    lines = ["", "Radio (radius per category)"]
    for name, r in summary["radio"].items():
        lines.append(f"  {name:<14} {r['radius_m']:6.0f} m  {r['explanation']}")
    for band, c in summary["channels"].items():
        lines.append(f"Channels at {band} GHz: {c['sites']:,} sites on {len(c['channels'])} channels; "
                     f"{c['conflicts']:,} same-channel pairs left ({c['sites_with_conflicts']:,} sites), "
                     f"{c['conflicts_before_search']:,} before the search")
    b = summary["backhaul"]
    lines.append(f"Backhaul: {b['wired_sites']:,} wired, {b['wireless_sites']:,} wireless (mesh range "
                 f"{b['mesh_range_m']:g} m); {len(b['orphans']):,} wireless site(s) with no path to fibre; "
                 f"at most {b['max_hops']} hops")
    if b.get("fibre_drops"):
        drops = b["fibre_drops"]
        lines.append(f"  fibre drops: {len(drops):,} site(s) to connect to fibre so none is orphaned "
                     f"({', '.join(drops[:3])}{', …' if len(drops) > 3 else ''}); then at most "
                     f"{b['max_hops_after_drops']} hops")
    c = summary["capacity"]
    lines.append(f"Capacity: {c['concurrent_users']:,.0f} concurrent users expected (take-up {c['take_up_rate']:.0%}, "
                 f"concurrency {c['concurrency']:.0%}); {c['overloaded_sites']:,} site(s) over "
                 f"{c['users_per_ap']:g} users per AP need {c['extra_aps']:,} extra AP(s)")
    return lines


def pct(value) -> str:
    return "–" if value is None else f"{value:.1%}"


def count(value) -> str:
    return "–" if value is None else f"{value:,.0f}"


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(text_width(str(x)) for x in col) for col in zip(header, *rows)]

    def pad(text: str, width: int, left: bool) -> str:
        space = " " * (width - text_width(text))
        return text + space if left else space + text

    def fmt(row):
        return "  ".join(pad(str(c), w, i == 0) for i, (c, w) in enumerate(zip(row, widths)))
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def phase_year_tables(summary: dict, phase_header: list[str], year_header: list[str],
                      unscheduled: str) -> list[str]:
    """The phase table and the roll-out table of ``summary`` (when it has them), under the
    given column headers (sites, cost, coverage after each phase / at each year's end);
    ``unscheduled`` is formatted with ``n`` and ``end_year`` when sites miss the budget."""
    lines = []
    if summary.get("phases"):
        lines += ["", table(phase_header, [[str(p["phase"]), f"{p['n_sites']:,}", f"{p['cost']:,.0f}",
                                            pct(p["coverage"])] for p in summary["phases"]])]
    if summary.get("rollout"):
        r = summary["rollout"]
        lines += ["", table(year_header, [[str(y["year"]), f"{y['n_sites']:,}", f"{y['cost']:,.0f}",
                                           pct(y["coverage"])] for y in r["years"]])]
        if r["unscheduled"]:
            lines.append("  " + unscheduled.format(n=r["unscheduled"], end_year=r["end_year"]))
    return lines
