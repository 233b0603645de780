"""Sweeps: how coverage and cost respond to the target, the budget or a category's radius.

Each sweep re-optimises from one prepared problem: targets and budgets reuse the
coverage matrix as it is; a radius sweep rebuilds only the matrix. Results are
DataFrames with one row per setting; :func:`plot_sweep` draws one as an SVG chart.
"""

from __future__ import annotations

import math
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import InputError
from .scenario import Budget

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .planning import Plan

COLUMNS = ["coverage_population", "coverage_area", "coverage", "target_met", "n_new", "total_cost", "stop_reason"]


def sweep_targets(plan: Plan, targets: Sequence[float]) -> pd.DataFrame:
    """One greedy plan per target; adds the marginal cost per percentage point."""
    import pandas as pd

    rows = [_row(plan.replan(target=float(t), solver=_fast(plan)), target=float(t)) for t in sorted(targets)]
    table = pd.DataFrame(rows)
    step = table["target"].diff() * 100
    table["cost_per_point"] = table["total_cost"].diff() / step
    return table


def sweep_budgets(plan: Plan, max_sites: Sequence[int] | None = None,
                  max_cost: Sequence[float] | None = None) -> pd.DataFrame:
    """One greedy plan per budget (number of new sites, or total cost of new sites)."""
    import pandas as pd

    if (max_sites is None) == (max_cost is None):
        raise InputError("sweep one budget at a time: max_sites or max_cost")
    if max_sites is not None:
        return pd.DataFrame([_row(plan.replan(budget=Budget(max_sites=int(n)), solver=_fast(plan)), max_sites=int(n))
                             for n in sorted(max_sites)])
    return pd.DataFrame([_row(plan.replan(budget=Budget(max_cost=float(c)), solver=_fast(plan)), max_cost=float(c))
                         for c in sorted(max_cost)])


def sweep_radius(plan: Plan, category: str, radii_m: Sequence[float]) -> pd.DataFrame:
    """One greedy plan per coverage radius (metres) of ``category``."""
    import pandas as pd

    rows = []
    for radius in sorted(radii_m):
        variant = plan.scenario.with_category(category, radius_m=float(radius))
        rows.append(_row(plan.replan(categories=variant.categories, solver=_fast(plan)),
                         category=category, radius_m=float(radius)))
    return pd.DataFrame(rows)


def _fast(plan: Plan):
    """The plan's solver settings without the optimality bound, which a sweep does not report."""
    import dataclasses

    return dataclasses.replace(plan.scenario.solver, bound=False)


def _row(result: Plan, **setting) -> dict:
    summary = result.summary(network=False)
    return {**setting, **{key: summary[key] for key in COLUMNS}, "n_selected": summary["n_selected"]}


MAX_SWEEP_RUNS = 200


def parse_range(text: str, what: str, max_runs: int = MAX_SWEEP_RUNS) -> list[float]:
    """Values from "a,b,c" or "start:stop:step" (stop included when on the step).

    ``what`` (e.g. the flag ``--target``) is named in errors. A range longer than
    ``max_runs`` values is refused before anything runs: each value is a full re-plan.
    """
    bad = InputError(f"{what} {text!r}: give values as a,b,c or start:stop:step, e.g. 0.90:0.99:0.01")
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if not all(math.isfinite(v) for v in (start, stop, step)) or step <= 0 or stop < start:
                raise bad
            n = math.floor((stop - start) / step + 1e-9) + 1
            _check_length(n, text, what, max_runs)
            return [round(start + i * step, 10) for i in range(n)]
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise bad from None
    if not values or not all(math.isfinite(v) for v in values):
        raise bad
    _check_length(len(values), text, what, max_runs)
    return values


def _check_length(n: int, text: str, what: str, max_runs: int) -> None:
    if n > max_runs:
        raise InputError(f"{what} {text!r} is {n:,} runs, each a full re-plan; at most {max_runs} are allowed: "
                         "use a larger step or a shorter range")


def parse_target_sweep(text: str, flag: str = "--target") -> list[float]:
    """Targets (fractions in (0, 1]) from a range text such as 0.90:0.99:0.01."""
    from .scenario import Scenario
    from .schema import check_field

    values = parse_range(text, flag)
    for v in values:
        check_field(Scenario, "target", v, f"{flag} {text!r}: targets are fractions; each")
    return values


def parse_budget_sweep(text: str, flag: str = "--budget") -> tuple[str, list[float]]:
    """``("max_sites", [...])`` or ``("max_cost", [...])`` from sites=RANGE or cost=RANGE."""
    from .schema import check_field

    kind, _, rest = text.partition("=")
    if kind not in ("sites", "cost") or not rest:
        raise InputError(f"{flag} {text!r}: give sites=RANGE or cost=RANGE, e.g. sites=100:1000:100")
    key = "max_sites" if kind == "sites" else "max_cost"
    values = parse_range(rest, flag)
    if kind == "sites":
        if not all(float(v).is_integer() for v in values):
            raise InputError(f"{flag} {text!r}: site counts are whole numbers, e.g. sites=100:1000:100")
        values = [int(v) for v in values]
    for v in values:
        check_field(Budget, key, v, f"{flag} {text!r}: each {kind} budget")
    return key, values


def parse_radius_sweep(text: str, categories, flag: str = "--radius") -> tuple[str, list[float]]:
    """``(category, radii)`` from CATEGORY=RANGE (metres); ``categories`` are the scenario's."""
    from .scenario import Category
    from .schema import check_field

    category, _, rest = text.partition("=")
    if not rest:
        raise InputError(f"{flag} {text!r}: give CATEGORY=RANGE in metres, e.g. school=60:160:20")
    if category not in categories:
        raise InputError(f"{flag} {text!r}: unknown category {category!r}; the scenario has: "
                         f"{', '.join(sorted(categories))}")
    values = parse_range(rest, flag)
    for v in values:
        check_field(Category, "radius_m", v, f"{flag} {text!r}: each radius")
    return category, values


def plot_sweep(table: pd.DataFrame, x: str, path: str | Path, title: str = "") -> Path:
    """Write an SVG chart of population (or area) coverage and cost against column ``x``.

    Coverage is drawn in percent, and so is ``x`` when it is a fraction (the target), so
    the chart has one unit for shares. Text (``title``, labels) is escaped by
    :func:`coverage.charts.line_chart_svg`: the file is data, nothing in it runs.
    """
    from .charts import line_chart_svg

    y = "coverage_population" if table["coverage_population"].notna().all() else "coverage_area"
    xs = table[x].to_numpy(dtype=float)
    x_label = x.replace("_", " ")
    if x == "target":
        xs, x_label = 100 * xs, "target (%)"
    svg = line_chart_svg(
        xs, 100 * table[y].to_numpy(dtype=float),
        x_label=x_label, y_label=f"{y.replace('_', ' ')} (%)",
        second=table["total_cost"].to_numpy(dtype=float), second_label="total cost of new sites",
        title=title,
    )
    from .planfolder import write_text  # the one atomic writer

    return write_text(Path(path), svg)


