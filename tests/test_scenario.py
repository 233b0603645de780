"""The scenario file: defaults, round trip through TOML, derivation, every validation message.

Scenarios are built from dicts (tests/helpers.py), not by editing TOML text."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from conftest import write_toy_city
from coverage import (
    Budget, Category, Equity, Gapfill, InputError, Rollout, load_scenario, save_scenario,
)
from helpers import BAD_PYTHON_VALUES, BAD_SCENARIO_VALUES, DELETE, FIX, edited, scenario_from, toy_dict, write_scenario


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory):
    """The toy city's scenario as a dict with absolute paths (layers written once)."""
    return toy_dict(write_toy_city(tmp_path_factory.mktemp("toy") / "city"))


def test_round_trip_keeps_everything(toy_data, tmp_path):
    data = edited(toy_data, **{
        "forced": ["SC-001"], "forbidden": ["SC-002"], "categories.library.radius_m": DELETE,
        "categories.library.wired": False, "categories.library.radio": {"band": "5.8", "eirp_dbm": 30},
        "network.mesh_range_m": 450, "budget.max_sites": 12,
    })
    scenario = load_scenario(write_scenario(tmp_path / "c" / "scenario.toml", data))
    copy_path = tmp_path / "elsewhere" / "copy.toml"
    copy_path.parent.mkdir()
    save_scenario(scenario, copy_path)
    again = load_scenario(copy_path)
    assert again.replace(source_file=None) == scenario.replace(source_file=None)
    assert again.categories["library"].radio.band == "5.8" and not again.categories["library"].wired
    assert again.budget == Budget(max_sites=12) and again.network.mesh_range_m == 450
    assert again.study_area.path == Path(toy_data["study_area"]["path"])
    written = tomllib.loads(copy_path.read_text(encoding="utf-8"))
    assert not Path(written["study_area"]["path"]).is_absolute()  # relative to the file


def test_replace_validates(toy_data):
    scenario = scenario_from(toy_data)
    assert scenario.replace(target=0.5).target == 0.5
    with pytest.raises(InputError, match="target"):
        scenario.replace(target=0)
    with pytest.raises(InputError, match="both forced and forbidden"):
        scenario.replace(forced=("SC-001",), forbidden=("SC-001",))
    with pytest.raises(InputError, match="unknown category"):
        scenario.with_category("museum", radius_m=10)


def test_with_category_overrides_a_link_budget(toy_data, tmp_path):
    data = edited(toy_data, **{"categories.school.radius_m": DELETE,
                               "categories.school.radio": {"environment": "residential"}})
    scenario = scenario_from(data).with_category("school", radius_m=90)
    assert scenario.categories["school"].radius_m == 90 and scenario.categories["school"].radio.radius_m == 90
    save_scenario(scenario, tmp_path / "s.toml")
    assert load_scenario(tmp_path / "s.toml").categories["school"].radius_m == 90


def test_defaults_and_area_metric_without_population(toy_data):
    scenario = scenario_from(edited(toy_data, metric=DELETE, population=DELETE))
    assert scenario.metric == "area" and scenario.population is None
    with pytest.raises(InputError, match="no \\[population\\] layer"):
        scenario.replace(metric="population")


# --- every validation message, through the API ------------------------------------------------

@pytest.mark.parametrize("changes, patterns", [c[1:] for c in BAD_SCENARIO_VALUES + BAD_PYTHON_VALUES],
                         ids=[c[0] for c in BAD_SCENARIO_VALUES + BAD_PYTHON_VALUES])
def test_every_validation_message(toy_data, changes, patterns):
    """Each bad value (in a file's dict, or given to replace() from Python) gets its own
    message naming the key, what is allowed and the fix."""
    valid = scenario_from(toy_data)  # the unchanged dict is valid
    with pytest.raises(InputError) as err:
        if callable(changes):
            valid.replace(**changes(valid))
        else:
            scenario_from(edited(toy_data, **changes))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("scenario: ")
    for pattern in patterns:
        assert re.search(pattern, message), message
    assert re.search(FIX, message), message


def test_new_keys_round_trip(toy_data, tmp_path):
    """Contract 1's new keys are read, kept and written back unchanged."""
    data = edited(toy_data, **{
        "language": "zh", "categories.school.phase": 2, "categories.school.required": True,
        "categories.street": {"radius_m": 60, "cost": 0.5, "wired": False, "phase": 2},
        "sites.0.encoding": "gbk", "sites.0.header_row": 2, "sites.1.sheet": 0,
        "sites.0.cost_column": "cost", "sites.0.radius_column": "r", "sites.0.wired_column": "fibre",
        "gapfill": {"category": "street", "spacing_m": 80},
        "equity": {"min_coverage": 0.9, "districts": {"West": 0.95}},
        "rollout": {"start_year": 2011, "end_year": 2015, "budget_per_year": 200.0},
        "solver.effort": "thorough",
    })
    scenario = scenario_from(data)
    assert scenario.language == "zh" and scenario.solver.effort == "thorough"
    assert scenario.categories["school"] == Category("school", 150, 1.0, phase=2, required=True)
    assert scenario.sites[0].source.encoding == "gbk" and scenario.sites[0].source.header_row == 2
    assert scenario.sites[1].source.sheet == 0 and scenario.sites[0].wired_column == "fibre"
    assert scenario.gapfill == Gapfill("street", 80)
    assert scenario.equity == Equity(0.9, {"West": 0.95})
    assert scenario.rollout == Rollout(2011, 2015, budget_per_year=200.0)
    save_scenario(scenario, tmp_path / "s.toml")
    assert load_scenario(tmp_path / "s.toml").replace(source_file=None) == scenario
    assert load_scenario(tmp_path / "s.toml").replace(source_file=None) == scenario


def test_defaults_of_new_keys(toy_data):
    scenario = scenario_from(toy_data)
    assert scenario.language == "en" and scenario.gapfill is None and scenario.rollout is None
    assert scenario.equity == Equity() and scenario.solver.effort == "fast"
    assert scenario.categories["school"].phase == 1 and not scenario.categories["school"].required
    assert scenario.sites[0].cost_column is None and scenario.sites[0].source.encoding is None


def test_with_overrides_names_the_label(toy_data):
    scenario = scenario_from(toy_data)
    changed = scenario.with_overrides(target=0.5, max_sites=3, bound=False, cell_size_m=None)
    assert (changed.target, changed.budget.max_sites, changed.solver.bound) == (0.5, 3, False)
    assert changed.cell_size_m == scenario.cell_size_m and changed.budget.max_cost is None
    with pytest.raises(InputError, match=r"^--cell-size must be a number ≥ 1"):
        scenario.with_overrides({"cell_size_m": "--cell-size"}, cell_size_m=0.5)
    with pytest.raises(InputError, match=r"^max_sites must be a whole number.*got true"):
        scenario.with_overrides(max_sites=True)
    with pytest.raises(TypeError, match="unknown setting"):
        scenario.with_overrides(colour=3)


def test_readme_example_is_a_valid_scenario():
    """The README's "Scenario file" example reads and checks (paths need not exist to read)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scenario file", 1)[1]
    example = section.split("```toml", 1)[1].split("```", 1)[0]
    scenario = scenario_from(tomllib.loads(example), base_dir=Path("/nowhere"))
    assert scenario.gapfill == Gapfill("street", 100) and scenario.rollout.end_year == 2015
    assert scenario.equity == Equity(0.9, {"Futian": 0.95}) and scenario.language == "en"
