"""Shared test helpers: scenarios built from dicts (not by editing TOML text), a CLI
runner, and the table of bad scenario values with the message each must produce.

The toy city's layers are written once (``conftest.write_toy_city``); a test takes its
scenario as a dict (:func:`toy_dict`), changes keys with :func:`edited` and writes or
builds it (:func:`write_scenario`, :func:`scenario_from`).
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from coverage.scenario import Scenario, scenario_from_dict

DELETE = object()  # edited(data, key=DELETE) removes the key


def toy_dict(scenario_path: Path) -> dict:
    """The toy city's scenario (as written by ``write_toy_city``) as a dict with absolute paths."""
    data = tomllib.loads(scenario_path.read_text(encoding="utf-8"))
    folder = scenario_path.parent.resolve()

    def absolute(table: dict) -> None:
        table["path"] = str(folder / table["path"])

    for key in ("study_area", "districts", "population"):
        absolute(data[key])
    for table in data["sites"]:
        absolute(table)
    return data


def edited(data: dict, **changes: Any) -> dict:
    """A deep copy of ``data`` with dotted keys set (``"network.mesh_range_m"``) or removed
    (value :data:`DELETE`). Pass dotted keys through a dict: ``edited(d, **{"a.b": 1})``;
    ``"sites.0.existing"`` indexes the list of site layers."""
    data = copy.deepcopy(data)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        table: Any = data
        for part in parents:
            table = table[int(part)] if isinstance(table, list) else table.setdefault(part, {})
        if value is DELETE:
            del table[last]
        elif isinstance(table, list):
            table[int(last)] = value
        else:
            table[last] = value
    return data


def write_scenario(path: Path, data: dict) -> Path:
    """Write ``data`` as a TOML scenario file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def scenario_from(data: dict, base_dir: Path | None = None) -> Scenario:
    return scenario_from_dict(data, base_dir=base_dir)


def folder_digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (to prove inputs are left byte-identical)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- bad scenario values: (id, changes to the toy scenario, patterns the one-line message must match)
# Every message the scenario module can give is here; test_scenario checks them through the
# API and test_bad_input through the command line (exit 2, one line, nothing written).

FIX = r"(e\.g\.|add|give|write|use|keep|check|save|name|fix|leave|plan a|pass)"  # every message ends with a fix

BAD_SCENARIO_VALUES: list[tuple[str, dict, tuple[str, ...]]] = [
    ("target-too-big", {"target": 1.5}, (r"\btarget must be a fraction > 0 and ≤ 1; got 1\.5",)),
    ("target-zero", {"target": 0}, (r"\btarget must be a fraction > 0",)),
    ("target-bool", {"target": True}, (r"\btarget must be a fraction.*got true",)),
    ("target-text", {"target": "0.9"}, (r"\btarget must be a fraction.*got '0\.9'",)),
    ("metric-unknown", {"metric": "people"}, (r'metric must be one of "population", "area"; got \'people\'',)),
    ("cell-zero", {"cell_size_m": 0}, (r"cell_size_m must be a number ≥ 1 and ≤ 10,000 metres; got 0",)),
    ("cell-negative", {"cell_size_m": -5}, (r"cell_size_m must be a number ≥ 1",)),
    ("cell-huge", {"cell_size_m": 1e9}, (r"cell_size_m must be a number ≥ 1 and ≤ 10,000 metres",)),
    ("cell-bool", {"cell_size_m": True}, (r"cell_size_m must be a number.*got true",)),
    ("name-number", {"name": 42}, (r"\bname must be text in quotes; got 42", r'name = "Shenzhen"')),
    ("name-empty", {"name": ""}, (r"\bname must be text in quotes; got ''",)),
    ("language-unknown", {"language": "fr"}, (r'language must be one of "en", "zh"; got \'fr\'',)),
    ("sites-text", {"sites": "x"}, (r"\bsites must be a list, e.g\. \[\[sites\]\] path = \"schools\.csv\"; got 'x'",)),
    ("sites-empty", {"sites": []}, (r"no site layers; add at least one \[\[sites\]\]",)),
    ("sites-item-text", {"sites.0": "schools.csv"}, (r"\[\[sites\]\] #1 must be a table",)),
    ("site-no-path", {"sites.0.path": DELETE}, (r"\[\[sites\]\] #1 needs a path, e.g\. path = ",)),
    ("site-path-number", {"sites.0.path": 5}, (r"\[\[sites\]\] #1 path must be a file path in quotes; got 5",)),
    ("site-existing-text", {"sites.0.existing": "no"},
     (r"\[\[sites\]\] #1 existing must be true or false; got 'no'", "without quotes")),
    ("site-existing-int", {"sites.0.existing": 1}, (r"\[\[sites\]\] #1 existing must be true or false; got 1",)),
    ("site-category-undefined", {"sites.0.category": "museum"},
     (r"\[\[sites\]\] #1 \(schools\.csv\): category 'museum' is not defined; add \[categories\.museum\]",)),
    ("site-category-and-column", {"sites.0.category_column": "kind"},
     (r"\[\[sites\]\] #1 \(schools\.csv\): give exactly one of category or category_column",)),
    ("site-category-number", {"sites.0.category": 3}, (r"\[\[sites\]\] #1 category must be text in quotes; got 3",)),
    ("site-encoding-unknown", {"sites.0.encoding": "klingon"},
     (r"\[\[sites\]\] #1 encoding must be text in quotes naming a text encoding", r'encoding = "gbk"')),
    ("site-header-row-zero", {"sites.0.header_row": 0},
     (r"\[\[sites\]\] #1 header_row must be a whole number ≥ 1 and ≤ 1,000; got 0",)),
    ("site-header-row-float", {"sites.0.header_row": 2.0}, (r"header_row must be a whole number.*got 2\.0",)),
    ("site-sheet-negative", {"sites.0.sheet": -1},
     (r"\[\[sites\]\] #1 sheet must be text in quotes or a whole number ≥ 0",)),
    ("site-sheet-bool", {"sites.0.sheet": True}, (r"sheet must be text in quotes or a whole number.*got true",)),
    ("site-cost-column-number", {"sites.0.cost_column": 5}, (r"\[\[sites\]\] #1 cost_column must be text",)),
    ("site-radius-column-bool", {"sites.0.radius_column": False}, (r"radius_column must be text",)),
    ("site-wired-column-empty", {"sites.0.wired_column": ""}, (r"wired_column must be text",)),
    ("site-unknown-key", {"sites.0.colour": "red"}, (r"\[\[sites\]\] #1: unknown key\(s\) colour; allowed: ",)),
    ("categories-number", {"categories": 5}, (r"\bcategories must be a table, e.g\. \[categories\.NAME\]; got 5",)),
    ("category-number", {"categories.school": 5}, (r"\[categories\.school\] must be a table",)),
    ("radius-huge", {"categories.school.radius_m": 1e7},
     (r"\[categories\.school\] radius_m must be a number > 0 and ≤ 5,000 metres; got 10000000\.0",)),
    ("radius-zero", {"categories.school.radius_m": 0}, (r"\[categories\.school\] radius_m must be a number > 0",)),
    ("radius-text", {"categories.school.radius_m": "100"}, (r"radius_m must be a number.*got '100'",)),
    ("radius-missing", {"categories.school.radius_m": DELETE},
     (r"\[categories\.school\] needs radius_m \(metres\), or a \[categories\.school\.radio\] profile",)),
    ("cost-negative", {"categories.school.cost": -1},
     (r"\[categories\.school\] cost must be a number > 0 and ≤ 1,000,000,000; got -1",)),
    ("cost-zero", {"categories.school.cost": 0}, (r"\[categories\.school\] cost must be a number > 0",)),
    ("wired-text", {"categories.school.wired": "yes"},
     (r"\[categories\.school\] wired must be true or false; got 'yes'",)),
    ("phase-zero", {"categories.school.phase": 0}, (r"\[categories\.school\] phase must be a whole number ≥ 1",)),
    ("phase-float", {"categories.school.phase": 1.5}, (r"phase must be a whole number.*got 1\.5",)),
    ("required-text", {"categories.school.required": "no"},
     (r"\[categories\.school\] required must be true or false; got 'no'",)),
    ("label-number", {"categories.school.label": 3}, (r"\[categories\.school\] label must be text",)),
    ("category-unknown-key", {"categories.school.colour": 1}, (r"\[categories\.school\]: unknown key\(s\) colour",)),
    ("radio-and-radius", {"categories.school.radio": {"band": "2.4"}},
     (r"\[categories\.school\]: give radius_m or a radio profile, not both",)),
    ("budget-sites-bool", {"budget.max_sites": True}, (r"\[budget\] max_sites must be a whole number.*got true",)),
    ("budget-sites-negative", {"budget.max_sites": -1},
     (r"\[budget\] max_sites must be a whole number ≥ 0 and ≤ 10,000,000; got -1",)),
    ("budget-sites-float", {"budget.max_sites": 2.5}, (r"\[budget\] max_sites must be a whole number.*got 2\.5",)),
    ("budget-cost-negative", {"budget.max_cost": -10}, (r"\[budget\] max_cost must be a number ≥ 0",)),
    ("budget-cost-text", {"budget.max_cost": "100"}, (r"\[budget\] max_cost must be a number.*got '100'",)),
    ("budget-number", {"budget": 5}, (r"\bbudget must be a table, e.g\. \[budget\]",)),
    ("budget-unknown-key", {"budget.max_money": 3}, (r"\[budget\]: unknown key\(s\) max_money",)),
    ("forced-text", {"forced": "LB-FT-051"},
     (r"\bforced must be a list, e.g\. forced = \[\"LB-FT-051\"\]; got 'LB-FT-051'",)),
    ("forced-numbers", {"forced": [1, 2]}, (r"\bforced must be a list of texts.*got \[1, 2\]",)),
    ("forbidden-text", {"forbidden": "SC-001"}, (r"\bforbidden must be a list, e.g\. forbidden = ",)),
    ("forced-and-forbidden", {"forced": ["SC-001"], "forbidden": ["SC-001"]},
     (r"sites both forced and forbidden: SC-001; keep each in one list",)),
    ("band-unknown", {"network.band": "3"}, (r'\[network\] band must be one of "2\.4", "5\.2", "5\.8"; got \'3\'',)),
    ("mesh-negative", {"network.mesh_range_m": -1},
     (r"\[network\] mesh_range_m must be a number ≥ 0 and ≤ 50,000 metres; got -1",)),
    ("take-up-over-one", {"network.take_up_rate": 1.5}, (r"\[network\] take_up_rate must be a fraction ≥ 0 and ≤ 1",)),
    ("concurrency-bool", {"network.concurrency": True}, (r"\[network\] concurrency must be a fraction.*got true",)),
    ("aps-zero", {"network.aps_per_site": 0}, (r"\[network\] aps_per_site must be a whole number ≥ 1 and ≤ 64",)),
    ("users-huge", {"network.users_per_ap": 1e9}, (r"\[network\] users_per_ap must be a number ≥ 0 and ≤ 10,000",)),
    ("co-channel-text", {"network.co_channel_distance_m": "far"}, (r"co_channel_distance_m must be a number",)),
    ("network-unknown-key", {"network.power": 3}, (r"\[network\]: unknown key\(s\) power",)),
    ("local-search-text", {"solver.local_search": "no"}, (r"\[solver\] local_search must be true or false; got 'no'",)),
    ("bound-int", {"solver.bound": 1}, (r"\[solver\] bound must be true or false; got 1",)),
    ("rounds-negative", {"solver.max_rounds": -1}, (r"\[solver\] max_rounds must be a whole number ≥ 0",)),
    ("bound-time-zero", {"solver.bound_time_limit_s": 0},
     (r"\[solver\] bound_time_limit_s must be a number > 0 and ≤ 86,400 seconds",)),
    ("exact-time-huge", {"solver.exact_time_limit_s": 1e9}, (r"\[solver\] exact_time_limit_s must be a number",)),
    ("effort-unknown", {"solver.effort": "max"}, (r'\[solver\] effort must be one of "fast", "thorough"; got \'max\'',)),
    ("gapfill-undefined", {"gapfill": {"category": "street", "spacing_m": 100}},
     (r"\[gapfill\] category 'street' is not defined; add \[categories\.street\]",)),
    ("gapfill-spacing-zero", {"gapfill": {"category": "school", "spacing_m": 0}},
     (r"\[gapfill\] spacing_m must be a number ≥ 5 and ≤ 10,000 metres; got 0",)),
    ("gapfill-no-category", {"gapfill": {"spacing_m": 100}}, (r"\[gapfill\]: missing category; add it",)),
    ("gapfill-number", {"gapfill": 100}, (r"\bgapfill must be a table",)),
    ("equity-over-one", {"equity.min_coverage": 1.5}, (r"\[equity\] min_coverage must be a fraction ≥ 0 and ≤ 1",)),
    ("equity-district-over-one", {"equity.districts": {"West": 2}},
     (r"\[equity\] districts must be a table of numbers.*with values ≥ 0 and ≤ 1",)),
    ("equity-district-text", {"equity.districts": {"West": "high"}}, (r"\[equity\] districts must be a table",)),
    ("rollout-year-small", {"rollout": {"start_year": 15}},
     (r"\[rollout\] start_year must be a whole number ≥ 1,990 and ≤ 2,200; got 15",)),
    ("rollout-end-before-start", {"rollout": {"start_year": 2015, "end_year": 2011}},
     (r"\[rollout\] end_year 2011 is before start_year 2015; give an end_year ≥ start_year",)),
    ("rollout-budget-zero", {"rollout": {"start_year": 2011, "budget_per_year": 0}},
     (r"\[rollout\] budget_per_year must be a number > 0",)),
    ("rollout-sites-zero", {"rollout": {"start_year": 2011, "sites_per_year": 0}},
     (r"\[rollout\] sites_per_year must be a whole number ≥ 1",)),
    ("rollout-no-start", {"rollout": {"end_year": 2015}}, (r"\[rollout\]: missing start_year; add it",)),
    ("study-area-missing", {"study_area": DELETE}, (r"missing study_area; add it, e.g\. \[study_area\] path = ",)),
    ("study-area-number", {"study_area": 5}, (r"\[study_area\] must be a table, e.g\. ",)),
    ("study-area-empty-path", {"study_area.path": ""}, (r"\[study_area\] path must be a file path in quotes; got ''",)),
    ("district-column-number", {"districts.name_column": 5}, (r"\[districts\] name_column must be text",)),
    ("population-column-empty", {"population.column": ""}, (r"\[population\] column must be text",)),
    ("population-unknown-key", {"population.weight": 2}, (r"\[population\]: unknown key\(s\) weight",)),
    ("population-metric-no-layer", {"population": DELETE, "metric": "population"},
     (r"metric is 'population' but no \[population\] layer is given; add one or set metric = \"area\"",)),
    ("top-unknown-key", {"colour": 3}, (r"top level: unknown key\(s\) colour; allowed: ",)),
]

# Messages only a Python caller can meet: objects of the wrong type given to Scenario.replace.
# (id, a function of the valid scenario giving replace()'s keyword arguments, patterns)
BAD_PYTHON_VALUES: list[tuple[str, Any, tuple[str, ...]]] = [
    ("py-sites-text", lambda s: {"sites": "x"}, (r"sites must be a tuple of SiteLayer; got 'x'; pass \(SiteLayer",)),
    ("py-site-not-layer", lambda s: {"sites": ("schools.csv",)}, (r"\[\[sites\]\] #1 must be a SiteLayer; got",)),
    ("py-categories-list", lambda s: {"categories": [1]}, (r"categories must be tables \[categories\.NAME\]",)),
    ("py-category-number", lambda s: {"categories": {"school": 5}},
     (r"\[categories\.school\] must be a Category; got 5; pass a Category",)),
    ("py-budget-dict", lambda s: {"budget": {"max_sites": 3}}, (r"budget must be a Budget; got .*pass a Budget",)),
    ("py-forced-text", lambda s: {"forced": "LB-FT-051"}, (r"forced must be a list of texts.*got 'LB-FT-051'",)),
    ("py-budget-bool", lambda s: {"budget": type(s.budget)(max_sites=True)}, (r"\[budget\] max_sites must be",)),
]
