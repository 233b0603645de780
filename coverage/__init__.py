"""hotspot-coverage: plan public Wi-Fi hotspots to reach a coverage target at least cost.

The small API users script::

    import coverage
    base = coverage.plan(coverage.load_scenario("gis_data/shenzhen/scenario.toml"))
    what_if = base.evaluate(add=[(114.0579, 22.5431, "library")])
    print(base.diff(what_if).format())

Names are imported on first use, so ``import coverage`` (and the ``hotspots`` command's
start-up, its ``--help`` and its argument errors) does not wait for geopandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "InputError": "errors",
    "Plan": "planning", "Problem": "problem", "plan": "planning", "prepare": "problem", "solve": "planning",
    "Budget": "scenario", "Category": "scenario", "Equity": "scenario", "Gapfill": "scenario",
    "LayerSource": "scenario", "Network": "scenario", "Rollout": "scenario", "Scenario": "scenario",
    "SiteLayer": "scenario", "Solver": "scenario", "load_scenario": "scenario", "save_scenario": "scenario",
    "load_plan": "planning", "solve_cover": "solver",
}

__all__ = [
    "Budget", "Category", "Equity", "Gapfill", "InputError", "LayerSource", "Network", "Plan", "Problem", "Rollout",
    "Scenario", "SiteLayer", "Solver", "load_plan", "load_scenario", "plan", "prepare", "save_scenario", "solve",
    "solve_cover",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'coverage' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover
    from .errors import InputError
    from .planning import Plan, load_plan, plan, solve
    from .problem import Problem, prepare
    from .scenario import (
        Budget, Category, Equity, Gapfill, LayerSource, Network, Rollout, Scenario, SiteLayer, Solver, load_scenario,
        save_scenario,
    )
    from .solver import solve_cover
