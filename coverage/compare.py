"""Compare two plans: coverage overall, per district and per category; sites; cells.

Works on in-memory :class:`~coverage.planning.Plan` objects and on plan folders
written by ``hotspots plan`` alike, through the same small :class:`PlanView`.
Coverage figures are fractions in [0, 1]; population in persons; area in m².
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .planfolder import GEOPACKAGE, SITES_CSV, SUMMARY, PlanFolder, same_grid
from .report import table

if TYPE_CHECKING:  # pragma: no cover
    from .planning import Plan

OVERALL_KEYS = ("coverage_population", "coverage_area", "n_selected", "n_new", "total_cost")


@dataclass(frozen=True)
class PlanView:
    """What a comparison needs from a plan: its summary, selected sites and cells."""

    label: str
    summary: dict
    sites: pd.DataFrame  # site_id, name, category, cost, lon, lat; in rank order
    cells: pd.DataFrame  # cell_id, population, area_m2, covered


@dataclass(frozen=True)
class PlanDiff:
    """Differences from plan ``before`` to plan ``after``."""

    before: str
    after: str
    overall: pd.DataFrame  # index: figure; columns before, after, change
    districts: pd.DataFrame  # name, coverage before/after/change (population and area)
    categories: pd.DataFrame  # category, sites and cost before/after
    sites_added: list[str]
    sites_removed: list[str]
    cells_gained: int | None  # None when the two plans have different demand grids
    cells_lost: int | None
    population_gained: float | None
    population_lost: float | None
    constraints: list[dict] = dataclasses.field(default_factory=list)  # see constraint_changes

    def to_dict(self) -> dict:
        return {
            "before": self.before, "after": self.after,
            "overall": {k: {c: _plain(v) for c, v in row.items()} for k, row in self.overall.iterrows()},
            "districts": [{k: _plain(v) for k, v in row.items()} for row in self.districts.to_dict(orient="records")],
            "categories": [{k: _plain(v) for k, v in row.items()} for row in self.categories.to_dict(orient="records")],
            "sites_added": self.sites_added, "sites_removed": self.sites_removed,
            "cells_gained": self.cells_gained, "cells_lost": self.cells_lost,
            "population_gained": _plain(self.population_gained), "population_lost": _plain(self.population_lost),
            "constraints": [{k: _plain(v) for k, v in c.items()} for c in self.constraints],
        }

    def format(self) -> str:
        """A plain-text report for the terminal."""
        lines = [f"From {self.before} to {self.after}", ""]
        lines += [_constraint_line(c) for c in self.constraints] + ([""] if self.constraints else [])
        rows = []
        for key, row in self.overall.iterrows():
            pct = key.startswith("coverage")
            rows.append([key, _fmt(row["before"], pct), _fmt(row["after"], pct), _fmt(row["change"], pct, sign=True)])
        lines.append(table(["figure", "before", "after", "change"], rows))
        lines.append("")
        lines.append(table(
            ["district", "pop. before", "pop. after", "change", "area change"],
            [[r["name"], _fmt(r["coverage_population_before"], True), _fmt(r["coverage_population_after"], True),
              _fmt(r["coverage_population_change"], True, sign=True), _fmt(r["coverage_area_change"], True, sign=True)]
             for r in self.districts.to_dict(orient="records")],
        ))
        lines.append("")
        lines.append(table(
            ["category", "sites before", "sites after", "cost before", "cost after"],
            [[r["category"], str(r["sites_before"]), str(r["sites_after"]), f"{r['cost_before']:,.1f}",
              f"{r['cost_after']:,.1f}"] for r in self.categories.to_dict(orient="records")],
        ))
        lines.append("")
        lines.append(f"sites added ({len(self.sites_added)}): {_short(self.sites_added)}")
        lines.append(f"sites removed ({len(self.sites_removed)}): {_short(self.sites_removed)}")
        if self.cells_gained is None:
            lines.append("cells: the plans use different demand grids; cell-level changes not compared")
        else:
            people = (f" ({self.population_gained:,.0f} / {self.population_lost:,.0f} people)"
                      if self.population_gained is not None else "")
            lines.append(f"demand units (cells, or points where a cell has several) gained / lost: "
                         f"{self.cells_gained:,} / {self.cells_lost:,}{people}")
        return "\n".join(lines)


def view_of_plan(plan: Plan, label: str | None = None, summary: dict | None = None) -> PlanView:
    """The comparison view of an in-memory plan.

    ``summary``: the plan's summary when the caller has it already (a what-if about to be
    written computes the full one); otherwise the summary.json a plan was loaded from
    exactly (``Plan.saved_summary``), else ``plan.summary(network=False)``.
    """
    if summary is None:
        summary = getattr(plan, "saved_summary", None) or plan.summary(network=False)
    sites = plan.sites
    chosen = sites[["site_id", "name", "category", "cost", sites.geometry.name]].iloc[plan.solution.order]  # rank order
    lonlat = chosen.geometry.to_crs("EPSG:4326")
    sites = pd.DataFrame({
        "site_id": chosen["site_id"].to_numpy(), "name": chosen["name"].to_numpy(),
        "category": chosen["category"].to_numpy(), "cost": chosen["cost"].to_numpy(),
        "lon": lonlat.x.to_numpy(), "lat": lonlat.y.to_numpy(),
    })
    cells = pd.DataFrame({
        "cell_id": plan.demand["cell_id"].to_numpy(),
        "population": plan.demand["population"].to_numpy() if "population" in plan.demand else np.nan,
        "area_m2": plan.demand["area_m2"].to_numpy(),
        "covered": plan.covered,
    })
    return PlanView(label or f"{plan.scenario.name} ({plan.kind})", summary, sites, cells)


def view_of_folder(folder: str | os.PathLike) -> PlanView:
    """The comparison view of a folder written by ``hotspots plan`` (read with :class:`PlanFolder`)."""
    saved = PlanFolder(folder, require=(SUMMARY, SITES_CSV, GEOPACKAGE))
    cells = saved.cell_table[["cell_id", "population", "area_m2", "covered"]].copy()
    cells["covered"] = cells["covered"].astype(bool)
    return PlanView(str(saved.path), saved.summary, saved.sites_table, cells)


def diff_plans(a, b) -> PlanDiff:
    """Differences from ``a`` to ``b`` (each a Plan, a plan folder or a PlanView)."""
    return diff_views(_view(a), _view(b))


def _view(item) -> PlanView:
    if isinstance(item, PlanView):
        return item
    if isinstance(item, (str, os.PathLike)):
        return view_of_folder(item)
    return view_of_plan(item)


def diff_views(a: PlanView, b: PlanView) -> PlanDiff:
    overall = pd.DataFrame(
        [[a.summary.get(k), b.summary.get(k)] for k in OVERALL_KEYS], index=list(OVERALL_KEYS),
        columns=["before", "after"], dtype=float,
    )
    overall["change"] = overall["after"] - overall["before"]

    def districts(view: PlanView) -> pd.DataFrame:
        return pd.DataFrame(view.summary["districts"]).set_index("name")[["coverage_population", "coverage_area"]]

    d = districts(a).merge(districts(b), how="outer", left_index=True, right_index=True,
                           suffixes=("_before", "_after")).sort_index()
    for key in ("coverage_population", "coverage_area"):
        d[f"{key}_change"] = d[f"{key}_after"] - d[f"{key}_before"]

    def categories(view: PlanView) -> pd.DataFrame:
        return view.sites.groupby("category").agg(sites=("site_id", "size"), cost=("cost", "sum"))

    c = categories(a).merge(categories(b), how="outer", left_index=True, right_index=True,
                            suffixes=("_before", "_after")).fillna(0).sort_index()
    c[["sites_before", "sites_after"]] = c[["sites_before", "sites_after"]].astype(int)

    ids_a, ids_b = a.sites["site_id"].tolist(), b.sites["site_id"].tolist()
    in_a, in_b = set(ids_a), set(ids_b)
    added = [s for s in ids_b if s not in in_a]
    removed = [s for s in ids_a if s not in in_b]

    gained = lost = pop_gained = pop_lost = None
    if same_grid(a, b):
        was, now = a.cells["covered"].to_numpy(bool), b.cells["covered"].to_numpy(bool)
        gained, lost = int((now & ~was).sum()), int((was & ~now).sum())
        population = a.cells["population"].to_numpy(dtype=float)
        if not np.isnan(population).all():
            pop_gained, pop_lost = float(population[now & ~was].sum()), float(population[was & ~now].sum())
    return PlanDiff(
        before=a.label, after=b.label, overall=overall, districts=d.reset_index(),
        categories=c.reset_index(), sites_added=added, sites_removed=removed,
        cells_gained=gained, cells_lost=lost, population_gained=pop_gained, population_lost=pop_lost,
        constraints=constraint_changes(a.summary, b.summary),
    )


def constraint_changes(before: dict, after: dict) -> list[dict]:
    """The plan's constraints (the coverage target, each district floor) that are not met
    after, or whose met / not met changed: ``{constraint, district, required, before,
    after, met_before, met_after}`` with coverage fractions (``district`` None for the target).

    A what-if can lose a target by a hundredth of a person: the diff says so in words, where
    coverage rounded to 0.01 pp would show no change."""
    def target(summary: dict) -> dict:
        if summary.get("target") is None or summary.get("target_met") is None:
            return {}
        return {None: (summary["target"], summary.get("coverage"), bool(summary["target_met"]))}

    def floors(summary: dict) -> dict:
        rows = (summary.get("equity") or {}).get("constraints") or []
        return {r["district"]: (r["min_coverage"], r["coverage"], bool(r["met"])) for r in rows}

    was, now = {**target(before), **floors(before)}, {**target(after), **floors(after)}
    changes = []
    for district, (required, coverage, met) in now.items():  # district None: the target
        _, old, met_before = was.get(district, (None, None, None))
        if not met or met != met_before:
            changes.append({"constraint": "target" if district is None else "district floor", "district": district,
                            "required": required, "before": old, "after": coverage,
                            "met_before": met_before, "met_after": met})
    return changes


def _constraint_line(c: dict) -> str:
    """``target 99% of demand: met → NOT MET (99.0000% → 98.9998%)``, four decimals so a
    change too small for the tables below still shows."""
    what = "target" if c["district"] is None else f"{c['district']} floor"
    state = {True: "met", False: "NOT MET", None: "—"}
    before = "—" if c["before"] is None else f"{c['before']:.4%}"
    return (f"{what} {c['required']:.0%}: {state[c['met_before']]} → {state[c['met_after']]} "
            f"({before} → {c['after']:.4%})")


def _plain(value):
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    return value


def _fmt(value, pct: bool, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if pct:
        return f"{value * 100:+.2f} pp" if sign else f"{value:.2%}"
    return f"{value:+,.1f}" if sign else f"{value:,.1f}"


def _short(ids: list[str], n: int = 10) -> str:
    return (", ".join(ids[:n]) + (f", … (+{len(ids) - n})" if len(ids) > n else "")) or "none"
