"""hotspot-coverage: plan public Wi-Fi hotspots to reach a coverage target at least cost."""

from .errors import InputError
from .scenario import Budget, Category, LayerSource, Scenario, SiteLayer, load_scenario, save_scenario

__all__ = [
    "Budget", "Category", "InputError", "LayerSource", "Scenario", "SiteLayer",
    "load_scenario", "save_scenario",
]
