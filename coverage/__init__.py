"""hotspot-coverage: plan public Wi-Fi hotspots to reach a coverage target at least cost."""

from .errors import InputError
from .planning import Plan, plan
from .scenario import Budget, Category, LayerSource, Scenario, SiteLayer, load_scenario, save_scenario

__all__ = [
    "Budget", "Category", "InputError", "LayerSource", "Plan", "Scenario", "SiteLayer", "plan",
    "load_scenario", "save_scenario",
]
