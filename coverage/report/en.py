"""The terminal summary of a plan, in English."""

from __future__ import annotations

from .common import STOP_TEXT, count, network_lines, pct, phase_year_tables, table



def format_summary_en(summary: dict) -> str:
    """The answer first (:func:`headline`), then overall figures, the phase, roll-out and
    district-floor tables and a table per district and per category.

    The radio/network lines are technical text (see :func:`coverage.report.common.network_lines`)."""
    lines = [headline(summary), "", f"Plan: {summary['scenario']}"]
    pop, area = summary["coverage_population"], summary["coverage_area"]
    met = "yes" if summary["target_met"] else "NO"
    lines.append(f"  target            {summary['target']:.1%} of {summary['metric']}  → met: {met} "
                 f"({STOP_TEXT.get(summary['stop_reason'], summary['stop_reason'])})")
    if pop is not None:
        lines.append(f"  population        {pop:.2%} covered of {summary['total_population']:,.0f} people")
    lines.append(f"  area              {area:.2%} covered of {summary['total_area_m2'] / 1e6:,.1f} km²")
    lines.append(f"  max reachable     {summary['max_reachable_coverage']:.2%} of {summary['metric']} "
                 f"with every allowed candidate")
    if not summary["target_met"] and summary["stop_reason"] == "unreachable":
        short = summary["target"] - summary["max_reachable_coverage"]
        lines.append(f"  shortfall         {short:.2%} of {summary['metric']} cannot be reached "
                     f"({summary['n_unreachable_cells']:,} cells out of every candidate's radius)")
    lines.append(f"  sites             {summary['n_selected']:,} ({summary['n_new']:,} new, "
                 f"{summary['n_existing']:,} existing), total cost {summary['total_cost']:,.1f}")
    lines += _quality_lines(summary)
    demand = summary.get("demand") or {}
    if demand.get("points_per_cell", 1) > 1:
        lines.append(f"  demand points     {summary['n_cells']:,} ({demand['points_per_cell']} per "
                     f"{summary['cell_size_m']:g} m "
                     f"cell, covered {demand['coverage_margin_m']:g} m inside a radius); "
                     f"{summary['n_candidates']:,} candidates; {summary['runtime_s']:.1f} s")
    else:
        lines.append(f"  demand cells      {summary['n_cells']:,} of {summary['cell_size_m']:g} m; "
                     f"{summary['n_candidates']:,} candidates; {summary['runtime_s']:.1f} s")
    if summary["dropped_sites"]:
        lines.append(f"  dropped           {len(summary['dropped_sites'])} site(s) outside the study area")

    lines += reach_tables(summary)
    lines.append("")
    lines.append(table(
        ["district", "population", "covered", "area cov.", "unreachable pop.", "sites"],
        [[d["name"], count(d["population"]), pct(d["coverage_population"]), pct(d["coverage_area"]),
          count(d["unreachable_population"]), count(d["n_sites"])] for d in summary["districts"]],
    ))
    lines.append("")
    lines.append(table(
        ["category", "radius m", "unit cost", "sites", "new", "cost"],
        [[name, f"{c['radius_m']:,.0f}", f"{c['unit_cost']:g}", count(c["sites"]), count(c["new_sites"]),
          f"{c['cost']:,.1f}"]
         for name, c in summary["by_category"].items()],
    ))
    lines += network_lines(summary)
    return "\n".join(lines)


def headline(summary: dict) -> str:
    """One line with the answer: target met or not, what each phase installs, the cost,
    and when every district passes its floor."""
    met = "MET" if summary["target_met"] else "NOT MET"
    line = f"Target {summary['target']:.0%} of {summary['metric']}: {met} ({summary['coverage']:.2%})"
    parts = [f"{p['n_sites']:,} {_phase_noun(summary, p['phase'])} (phase {p['phase']})"
             for p in summary.get("phases") or [] if p["n_sites"]]
    what = " + ".join(parts) if parts else f"{summary['n_selected']:,} sites"
    line += f" — {what}, cost {summary['total_cost']:,.0f}"
    floors = (summary.get("equity") or {}).get("constraints") or []
    if floors:
        line += "; " + _floor_clause(floors, summary.get("rollout") is not None)
    return line


def _phase_noun(summary: dict, phase: int) -> str:
    gapfill = summary.get("gapfill")
    categories = summary.get("categories", {})
    if gapfill and categories.get(gapfill["category"], {}).get("phase") == phase:
        return f"{categories[gapfill['category']]['label'].lower()} access points"
    return "public places" if phase == 1 else "sites"


def _floor_clause(floors: list[dict], with_years: bool) -> str:
    lowest = min(f["min_coverage"] for f in floors)
    same = all(f["min_coverage"] == lowest for f in floors)
    floor = f"≥ {lowest:.0%}" if same else "at its floor"
    short = [f for f in floors if not f["met"]]
    if short:
        names = ", ".join(f"{f['district']} {pct(f['coverage'])}" for f in short[:3])
        return f"{len(short)} district(s) below {'their floor' if not same else f'{lowest:.0%}'}: {names}"
    years = [f.get("passes_in") for f in floors]
    if with_years and all(y is not None for y in years):
        return f"every district {floor} by {max(years)}"
    return f"every district {floor}"


def reach_tables(summary: dict) -> list[str]:
    """Tables of the phases, the roll-out years and the district floors, when the plan has them."""
    lines = phase_year_tables(summary, ["phase", "sites", "cost", "coverage after"],
                              ["year", "sites", "cost", "coverage at year end"],
                              "{n:,} site(s) do not fit the yearly budget by {end_year}")
    if summary.get("equity"):
        rows = [[f["district"], pct(f["min_coverage"]), pct(f["coverage"]), "yes" if f["met"] else "NO",
                 pct(f["shortfall"]) if f["shortfall"] else "–", str(f.get("passes_in") or "–")]
                for f in summary["equity"]["constraints"]]
        header = ["district", "floor", "coverage", "met", "shortfall", "passes in"]
        if not summary.get("rollout"):
            header, rows = header[:-1], [r[:-1] for r in rows]
        lines += ["", table(header, rows)]
    return lines


def _quality_lines(summary: dict) -> list[str]:
    """Greedy vs improved, and the proven gap to the optimum."""
    lines = []
    greedy, improved = summary.get("greedy"), summary.get("improved")
    if greedy and improved:
        lines.append(f"  local search      greedy {greedy['n_sites']:,} sites / cost {greedy['cost']:,.1f} → "
                     f"{improved['n_sites']:,} / {improved['cost']:,.1f}")
    before = improved or greedy
    if before and (summary.get("bound") or {}).get("plan") == "solver":
        lines.append(f"  solver            {'improved' if improved else 'greedy'} {before['n_sites']:,} sites / cost "
                     f"{before['cost']:,.1f} → {summary['n_selected']:,} / {summary['total_cost']:,.1f} "
                     "(the Lagrangian solver's plan)")
    if summary.get("lower_bound") is not None:
        how = {"lagrangian": "Lagrangian bound", "milp": "MILP dual bound", "milp-optimal": "proven optimal by MILP",
               "lp": "LP bound", "trivial": "nothing to add"}.get(summary.get("bound_method"), "proven bound")
        lines.append(f"  optimality        plan cost {summary['total_cost']:,.1f}; optimum ≥ "
                     f"{summary['lower_bound']:,.1f} ({how}); gap {summary['gap']:.2%}")
    elif summary.get("coverage_upper_bound") is not None:
        lines.append(f"  optimality        no plan within the budget covers more than "
                     f"{summary['coverage_upper_bound']:.2%} (LP bound)")
    elif summary.get("bound_status"):
        lines.append(f"  optimality        no bound proven ({summary['bound_status']})")
    return lines


