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
    return "population" in plan.cells.columns


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
        table["marginal_population"] = solution.gains(plan.cells["population"].to_numpy())
    else:
        table["marginal_population"] = np.nan
    table["marginal_area_m2"] = solution.gains(plan.cells["area_m2"].to_numpy())
    total = plan.weights.sum()
    table["cumulative_coverage"] = np.cumsum(gains) / total if total > 0 else 1.0
    if network:
        extra = plan.network().sites
        for column in extra.columns:
            table[column] = extra[column].to_numpy()
    return table.drop(columns=["layer_file", "layer_row"], errors="ignore")


def site_districts(plan: Plan, sites: gpd.GeoDataFrame) -> np.ndarray:
    """District name of each site: the district holding (or nearest to) it."""
    return nearest_names(np.asarray(sites.geometry.array), plan.districts, plan.scenario.district_name_column)


def district_table(plan: Plan) -> pd.DataFrame:
    """Per district: population, area, covered and unreachable shares, sites selected."""
    cells = plan.cells
    covered, reachable = plan.covered, plan.reachable
    population = cells["population"].to_numpy() if has_population(plan) else np.zeros(len(cells))
    area = cells["area_m2"].to_numpy()
    frame = pd.DataFrame({
        "name": cells["district"].to_numpy(),
        "population": population,
        "area_m2": area,
        "covered_population": np.where(covered, population, 0.0),
        "covered_area_m2": np.where(covered, area, 0.0),
        "unreachable_population": np.where(reachable, 0.0, population),
        "unreachable_area_m2": np.where(reachable, 0.0, area),
    })
    table = frame.groupby("name", sort=True).sum()
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
    cells, covered = plan.cells, plan.covered
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
            name: {"label": c.display_name, "radius_m": float(c.radius_m), "cost": float(c.cost)}
            for name, c in scenario.categories.items()
        },
        "dropped_sites": plan.dropped_sites.to_dict(orient="records"),
        "warnings": list(plan.problem.warnings),
        "runtime_s": round(plan.runtime_s, 3),
    }
    summary.update(plan.quality.as_summary())
    if network:
        summary.update(plan.network().sections)
    return summary


def _num(value):
    """JSON-friendly number: None for NaN, int for whole counts."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    return float(value)
