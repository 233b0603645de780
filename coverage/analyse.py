"""Summaries of a plan: overall, per district, per category, per selected site.

Population figures are persons, areas square metres, coverage a fraction in [0, 1].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from .demand import nearest_names

if TYPE_CHECKING:  # pragma: no cover
    from .planning import Plan

TOLERANCE = 1e-9


def fraction(weights: np.ndarray, mask: np.ndarray) -> float:
    """Share of the total of ``weights`` that lies in ``mask`` (1.0 when the total is 0)."""
    weights = np.asarray(weights, dtype=float)
    total = weights.sum()
    return float(weights[mask].sum() / total) if total > 0 else 1.0


def meets(coverage: float, target: float) -> bool:
    """Whether ``coverage`` reaches ``target``, allowing for float rounding."""
    return coverage >= target - TOLERANCE


def has_population(plan: Plan) -> bool:
    return "population" in plan.demand.columns


def selected_table(plan: Plan, network: bool = False) -> gpd.GeoDataFrame:
    """Selected sites in rank order (metric CRS) with what each one added.

    ``marginal_gain`` is in the target metric (persons or m²); ``cumulative_coverage``
    is the covered fraction in that metric after the site was added. With ``network``
    the columns of :data:`coverage.engineering.SITE_COLUMNS` are added.
    """
    solution = plan.solution
    table = plan.sites.iloc[solution.order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    table["forced"] = table["site_id"].isin(plan.scenario.forced).to_numpy()
    table["district"] = site_districts(plan, table)
    gains = solution.gains(plan.weights)
    table["marginal_gain"] = gains
    if has_population(plan):
        table["marginal_population"] = solution.gains(plan.demand["population"].to_numpy())
    else:
        table["marginal_population"] = np.nan
    table["marginal_area_m2"] = solution.gains(plan.demand["area_m2"].to_numpy())
    total = plan.weights.sum()
    table["cumulative_coverage"] = np.cumsum(gains) / total if total > 0 else 1.0
    table["phase"] = site_phases(plan, table)
    table["year"] = site_years(plan)
    table = table.drop(columns=["layer_file", "layer_row"], errors="ignore")
    return with_network_columns(table, plan) if network else table


def with_network_columns(table: gpd.GeoDataFrame, plan: Plan) -> gpd.GeoDataFrame:
    """``table`` (:func:`selected_table` without them) with the columns of
    :data:`coverage.engineering.SITE_COLUMNS` added last, in place."""
    extra = plan.network().sites
    for column in extra.columns:
        table[column] = extra[column].to_numpy()
    return table


def site_phases(plan: Plan, table: pd.DataFrame) -> np.ndarray:
    """Phase of each selected site (rank order): the phased plan's, else its category's (0: existing)."""
    phases = getattr(plan, "phases", None)
    if phases is not None and np.array_equal(phases.order, plan.solution.order):
        return phases.phase.astype(np.int64)
    categories = plan.scenario.categories
    phase = table["category"].map(lambda c: categories[c].phase if c in categories else 1).to_numpy(dtype=np.int64)
    return np.where(table["existing"].to_numpy(dtype=bool), 0, phase)


def site_years(plan: Plan) -> pd.array:
    """Roll-out year of each selected site (rank order); empty for existing, unscheduled, or no roll-out."""
    schedule = getattr(plan, "rollout", None)
    n = len(plan.solution.order)
    if schedule is None or len(schedule.year) != n:
        return pd.array([pd.NA] * n, dtype="Int64")
    out = pd.array(schedule.year, dtype="Int64")
    out[schedule.year <= 0] = pd.NA
    return out


def cell_coverage(plan: Plan) -> pd.DataFrame:
    """Per grid cell (``cell_id`` of the demand grid): ``population`` (NaN without a
    population layer), ``area_m2``, ``covered_share`` and ``reachable_share`` (fractions
    of the cell's demand units, weighted by area) and ``district``.

    The solver counts demand points (``plan.cells``, several per cell when
    ``demand_points_per_cell > 1``); this aggregates them back to the cells by ``cell_id``.
    """
    units = plan.demand
    area = units["area_m2"].to_numpy(dtype=float)
    frame = pd.DataFrame({
        "cell_id": units["cell_id"].to_numpy(),
        "population": units["population"].to_numpy(dtype=float) if has_population(plan) else np.nan,
        "area_m2": area,
        "covered": np.where(plan.covered, area, 0.0),
        "reachable": np.where(plan.reachable, area, 0.0),
    })
    table = frame.groupby("cell_id", sort=True).sum(min_count=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        covered = np.where(table["area_m2"] > 0, table["covered"] / table["area_m2"], 0.0)
        reachable = np.where(table["area_m2"] > 0, table["reachable"] / table["area_m2"], 0.0)
    grid = plan.problem.grid_cells.set_index("cell_id")
    return pd.DataFrame({
        "cell_id": table.index.to_numpy(),
        "population": table["population"].to_numpy() if has_population(plan) else np.nan,
        "area_m2": table["area_m2"].to_numpy(),
        "covered_share": covered,
        "reachable_share": reachable,
        "district": grid["district"].reindex(table.index).to_numpy(),
    })


def site_districts(plan: Plan, sites: gpd.GeoDataFrame) -> np.ndarray:
    """District name of each site: the district holding (or nearest to) it."""
    return nearest_names(np.asarray(sites.geometry.array), plan.districts, plan.scenario.district_name_column)


def district_table(plan: Plan) -> pd.DataFrame:
    """Per district: population, area, covered and unreachable shares, sites selected."""
    cells = plan.demand
    covered, reachable = plan.covered, plan.reachable
    population = cells["population"].to_numpy() if has_population(plan) else np.zeros(len(cells))
    area = cells["area_m2"].to_numpy()
    frame = pd.DataFrame({
        "population": population,
        "area_m2": area,
        "covered_population": np.where(covered, population, 0.0),
        "covered_area_m2": np.where(covered, area, 0.0),
        "unreachable_population": np.where(reachable, 0.0, population),
        "unreachable_area_m2": np.where(reachable, 0.0, area),
    })
    # grouped by the districts' codes (sorted names): a city's million demand points are not hashed as strings
    codes, names = pd.factorize(cells["district"], sort=True)
    table = frame.groupby(codes).sum()
    table.index = pd.Index(np.asarray(names, dtype=object)[table.index.to_numpy()], name="name")
    with np.errstate(invalid="ignore", divide="ignore"):
        table["coverage_population"] = table["covered_population"] / table["population"]
        table["coverage_area"] = table["covered_area_m2"] / table["area_m2"]
    if not has_population(plan):
        table[["population", "coverage_population", "unreachable_population"]] = np.nan
    metric = "coverage_population" if plan.scenario.metric == "population" else "coverage_area"
    table["coverage"] = table[metric]
    sites = plan.table()
    table["n_sites"] = sites.groupby("district").size().reindex(table.index, fill_value=0).astype(int)
    return table.reset_index()


def category_table(plan: Plan) -> pd.DataFrame:
    """Per category of the selected sites: number, cost, radius and unit cost."""
    sites = plan.table()
    rows = []
    for name, cat in plan.scenario.categories.items():
        chosen = sites[sites["category"] == name]
        rows.append({
            "category": name, "label": cat.display_name, "sites": len(chosen),
            "new_sites": int((~chosen["existing"]).sum()), "cost": float(chosen["cost"].sum()),
            "radius_m": float(cat.radius_m), "unit_cost": float(cat.cost),
            "marginal_gain": float(chosen["marginal_gain"].sum()),
        })
    return pd.DataFrame(rows)


def summarise(plan: Plan, network: bool = True) -> dict:
    """The summary.json structure (docs/outputs.md); ``network`` adds the radio,
    channels, backhaul and capacity sections."""
    scenario = plan.scenario
    cells, covered = plan.demand, plan.covered
    sites = plan.table()
    district_rows = district_table(plan).to_dict(orient="records")
    categories = category_table(plan)
    population = cells["population"].to_numpy() if has_population(plan) else None
    reachable = plan.reachable
    summary = {
        "scenario": scenario.name,
        "target": scenario.target,
        "metric": scenario.metric,
        "coverage_population": fraction(population, covered) if population is not None else None,
        "coverage_area": fraction(cells["area_m2"].to_numpy(), covered),
        "coverage": plan.coverage,
        "target_met": plan.target_met,
        "max_reachable_coverage": fraction(plan.weights, reachable),
        "stop_reason": plan.solution.stop_reason,
        "kind": plan.kind,
        "n_selected": len(sites),
        "n_new": int((~sites["existing"]).sum()),
        "n_existing": int(sites["existing"].sum()),
        "n_forced": int(sites["forced"].sum()),
        "total_cost": float(sites["cost"].sum()),
        "n_candidates": len(plan.sites),
        "n_cells": len(cells),
        "n_unreachable_cells": int((~reachable).sum()),
        "cell_size_m": scenario.cell_size_m,
        "crs_metric": plan.crs.to_string(),
        "total_population": float(population.sum()) if population is not None else None,
        "total_area_m2": float(cells["area_m2"].sum()),
        "budget": {"max_sites": scenario.budget.max_sites, "max_cost": scenario.budget.max_cost},
        "by_district": {row["name"]: _num(row["coverage"]) for row in district_rows},
        "districts": [
            {k: _num(row[k]) if k != "name" else row[k] for k in (
                "name", "population", "area_m2", "coverage_population", "coverage_area",
                "unreachable_population", "unreachable_area_m2", "n_sites")}
            for row in district_rows
        ],
        "by_category": {
            row["category"]: {
                "sites": int(row["sites"]), "new_sites": int(row["new_sites"]), "cost": row["cost"],
                "radius_m": row["radius_m"], "unit_cost": row["unit_cost"], "label": row["label"],
            }
            for _, row in categories.iterrows()
        },
        "categories": {
            name: {"label": c.display_name, "label_zh": c.label_zh, "radius_m": float(c.radius_m),
                   "cost": float(c.cost),
                   "phase": int(c.phase), "required": bool(c.required)}
            for name, c in scenario.categories.items()
        },
        "dropped_sites": plan.dropped_sites.to_dict(orient="records"),
        "warnings": list(plan.problem.warnings),
        "runtime_s": round(plan.runtime_s, 3),
    }
    summary.update(plan.quality.as_summary())
    summary.update(reach_sections(plan, sites, district_rows))
    if network:
        summary.update(plan.network().sections)
    return summary


def reach_sections(plan: Plan, sites: pd.DataFrame, district_rows: list[dict]) -> dict:
    """The summary's ``demand``, ``gapfill``, ``phases``, ``rollout`` and ``equity`` sections."""
    scenario = plan.scenario
    demand = {"cell_size_m": scenario.cell_size_m, "points_per_cell": scenario.demand_points_per_cell ** 2,
              "coverage_margin_m": scenario.coverage_margin_m, "n_points": len(plan.demand)}
    out: dict = {"language": scenario.language, "demand": demand}
    if "name_zh" in plan.districts.columns:
        names = plan.districts[[scenario.district_name_column, "name_zh"]].dropna()
        out["district_names_zh"] = {str(k): str(v) for k, v in zip(names.iloc[:, 0], names.iloc[:, 1])
                                    if str(v).strip()}
    info = getattr(plan.problem, "gapfill", None)
    if info is not None:
        chosen = sites[(sites["source"] == "generated") & (sites["category"] == info["category"])]
        out["gapfill"] = {**info, "selected": int(len(chosen)), "cost": float(chosen["cost"].sum())}
    if plan.phases is not None:
        out["phases"] = [{"phase": p.phase, "n_sites": p.n_sites, "cost": p.cost, "coverage": p.coverage,
                          "by_district": p.groups} for p in plan.phases.phases]
    floors = district_floors(plan, [row["name"] for row in district_rows])
    if plan.rollout is not None:
        r, settings = plan.rollout, scenario.rollout
        out["rollout"] = {
            "start_year": settings.start_year, "end_year": settings.end_year,
            "budget_per_year": settings.budget_per_year, "sites_per_year": settings.sites_per_year,
            "years": [{"year": y.year, "n_sites": y.n_sites, "cost": y.cost, "coverage": y.coverage,
                       "by_district": y.groups} for y in r.years],
            "unscheduled": int(len(r.unscheduled)),
            "target_reached_in": r.first_year_reaching(scenario.target),
        }
    if floors:
        coverage = {row["name"]: row["coverage"] for row in district_rows}
        rows = []
        for name, floor in floors.items():
            value = _num(coverage.get(name))
            met = value is not None and meets(value, floor)
            row = {"district": name, "min_coverage": floor, "coverage": value, "met": met,
                   "shortfall": 0.0 if met or value is None else floor - value}
            if plan.rollout is not None:
                row["passes_in"] = plan.rollout.first_year_reaching(floor, name)
            rows.append(row)
        out["equity"] = {"constraints": rows, "all_met": all(r["met"] for r in rows)}
    return out


def district_floors(plan: Plan, names: list[str]) -> dict[str, float]:
    """The ``[equity]`` minimum coverage of each district that has one (name → fraction)."""
    equity = plan.scenario.equity
    default, per = equity.min_coverage, dict(equity.districts or {})
    floors = {name: per.get(name, default) for name in names}
    return {name: float(v) for name, v in floors.items() if v is not None and v > 0}


def _num(value):
    """JSON-friendly number: None for NaN, int for whole counts."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)
