"""Per-site cost, radius and wired columns override a category's defaults, feature by feature."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from coverage.errors import InputError
from coverage.sites import RADIUS_RANGE_M, site_attributes

WHERE = "school sites layer /data/schools.csv"


def layer(**kw):
    return SimpleNamespace(existing=kw.pop("existing", False), **kw)


def defaults(n):
    return np.full(n, 1.0), np.full(n, 100.0), np.ones(n, dtype=bool)


def attrs(table, lay=None):
    return site_attributes(table, lay or layer(), *defaults(len(table)), WHERE)


def test_literal_columns_override_per_feature():
    table = pd.DataFrame({"cost": [2.5, "0.5"], "radius_m": [80, 150.0], "wired": ["no", "是"]})
    a = attrs(table)
    assert a.cost.tolist() == [2.5, 0.5]
    assert a.radius_m.tolist() == [80.0, 150.0]
    assert a.wired.tolist() == [False, True]
    assert a.columns == {"cost": "cost", "radius_m": "radius_m", "wired": "wired"}


def test_no_columns_keeps_the_category_defaults():
    a = attrs(pd.DataFrame({"name": ["a", "b"]}))
    assert a.cost.tolist() == [1.0, 1.0] and a.radius_m.tolist() == [100.0, 100.0] and a.wired.all()
    assert a.columns == {}


def test_named_columns_win_and_a_missing_one_is_named():
    table = pd.DataFrame({"price": [3.0], "cost": [9.0], "fibre": [0], "reach": [60]})
    a = attrs(table, layer(cost_column="price", wired_column="fibre", radius_column="reach"))
    assert (a.cost[0], a.radius_m[0], bool(a.wired[0])) == (3.0, 60.0, False)
    with pytest.raises(InputError, match=r"schools.csv has no column 'capex' \(named by cost_column"):
        attrs(table, layer(cost_column="capex"))


def test_booleans_read_as_booleans():
    assert attrs(pd.DataFrame({"wired": [True, False]})).wired.tolist() == [True, False]


def test_existing_hotspots_keep_cost_zero():
    a = site_attributes(pd.DataFrame({"cost": [5.0]}), layer(existing=True), np.zeros(1), np.full(1, 100.0),
                        np.ones(1, bool), WHERE)
    assert a.cost.tolist() == [0.0] and "cost" not in a.columns


@pytest.mark.parametrize("column, values, message", [
    ("cost", [1.0, -2.0], r"feature 2 has -2.0 in column 'cost'; a cost must be a positive number"),
    ("cost", [1.0, 0], r"feature 2 has 0.0 in column 'cost'"),
    ("cost", ["1", "cheap"], r"feature 2 has 'cheap' in column 'cost'"),
    ("cost", [1.0, float("nan")], r"feature 2 has no value in column 'cost'"),
    ("cost", [1.0, float("inf")], r"feature 2 has inf in column 'cost'"),
    ("radius_m", [0.5, 100], r"feature 1 has 0.5 in column 'radius_m'; a radius must be a number of metres from 1 to 1000"),
    ("radius_m", [100, 5000], r"feature 2 has 5000 in column 'radius_m'"),
    ("radius_m", ["", 100], r"feature 1 has no value in column 'radius_m'"),
    ("wired", ["yes", "maybe"], r"feature 2 has 'maybe' in column 'wired'; wired must be yes/no"),
    ("wired", [1, 2], r"feature 2 has 2 in column 'wired'"),
])
def test_bad_values_name_file_feature_and_column(column, values, message):
    with pytest.raises(InputError, match=message) as err:
        attrs(pd.DataFrame({column: values}))
    assert str(err.value).startswith(WHERE)
    assert "\n" not in str(err.value)


def test_range_constant_is_what_the_message_says():
    assert RADIUS_RANGE_M == (1.0, 1000.0)


def test_a_layers_cost_and_radius_columns_reach_the_plan(tmp_path):
    from coverage.scenario import load_scenario
    from coverage.sites import load_sites
    from tests.conftest import write_toy_city

    path = write_toy_city(tmp_path)
    schools = pd.read_csv(tmp_path / "schools.csv")
    schools["cost"] = np.linspace(0.5, 3.0, len(schools))
    schools["radius_m"] = 80
    schools.to_csv(tmp_path / "schools.csv", index=False)
    sites = load_sites(load_scenario(path)).set_index("site_id")
    school = sites[sites["category"] == "school"].loc[schools["site_id"]]
    assert school["cost"].tolist() == pytest.approx(schools["cost"].tolist())
    assert (school["radius_m"] == 80).all()
    library = sites[sites["category"] == "library"]
    assert (library["cost"] == 1.5).all() and (library["radius_m"] == 200).all()

    schools.loc[3, "cost"] = -1
    schools.to_csv(tmp_path / "schools.csv", index=False)
    with pytest.raises(InputError, match=r"schools.csv: feature 4 has -1.0 in column 'cost'"):
        load_sites(load_scenario(path))
