"""hotspot-coverage: plan public Wi-Fi hotspots to reach a coverage target at least cost.

The small API users script::

    import coverage
    base = coverage.plan(coverage.load_scenario("gis_data/shenzhen/scenario.toml"))
    what_if = base.evaluate(add=[(114.0579, 22.5431, "library")])
    print(base.diff(what_if).format())
"""

from .errors import InputError
from .planning import Plan, Problem, plan, prepare, solve
from .scenario import (
    Budget, Category, LayerSource, Network, Scenario, SiteLayer, Solver, load_scenario, save_scenario,
)
from .solver import solve_cover
from .whatif import load_plan

__all__ = [
    "Budget", "Category", "InputError", "LayerSource", "Network", "Plan", "Problem", "Scenario", "SiteLayer",
    "Solver", "load_plan", "load_scenario", "plan", "prepare", "save_scenario", "solve",
    "solve_cover",
]
