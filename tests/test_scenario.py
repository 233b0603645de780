"""The scenario file: defaults, round trip through TOML, derivation."""

from __future__ import annotations

import pytest

from conftest import write_toy_city
from coverage import Budget, InputError, load_scenario, save_scenario


def test_round_trip_keeps_everything(tmp_path):
    path = write_toy_city(tmp_path / "c", extra='forced = ["SC-001"]\nforbidden = ["SC-002"]')
    text = path.read_text()
    text = text.replace("[categories.library]\nradius_m = 200\ncost = 1.5\n",
                        '[categories.library]\ncost = 1.5\nwired = false\n[categories.library.radio]\n'
                        'band = "5.8"\neirp_dbm = 30\n')
    path.write_text(text + "\n[network]\nmesh_range_m = 450\n\n[budget]\nmax_sites = 12\n")
    scenario = load_scenario(path)
    copy_path = tmp_path / "elsewhere" / "copy.toml"
    copy_path.parent.mkdir()
    save_scenario(scenario, copy_path)
    again = load_scenario(copy_path)
    assert again.replace(source_file=None) == scenario.replace(source_file=None)
    assert again.categories["library"].radio.band == "5.8" and not again.categories["library"].wired
    assert again.budget == Budget(max_sites=12) and again.network.mesh_range_m == 450
    assert again.study_area.path == (tmp_path / "c" / "boundary.gpkg").resolve()


def test_replace_validates(toy_scenario):
    scenario = load_scenario(toy_scenario)
    assert scenario.replace(target=0.5).target == 0.5
    with pytest.raises(InputError, match="target"):
        scenario.replace(target=0)
    with pytest.raises(InputError, match="both forced and forbidden"):
        scenario.replace(forced=("SC-001",), forbidden=("SC-001",))
    with pytest.raises(InputError, match="unknown category"):
        scenario.with_category("museum", radius_m=10)


def test_with_category_overrides_a_link_budget(tmp_path):
    path = write_toy_city(tmp_path / "c")
    path.write_text(path.read_text().replace(
        "[categories.school]\nradius_m = 150\ncost = 1.0\n",
        '[categories.school]\ncost = 1.0\n[categories.school.radio]\nenvironment = "residential"\n'))
    scenario = load_scenario(path).with_category("school", radius_m=90)
    assert scenario.categories["school"].radius_m == 90 and scenario.categories["school"].radio.radius_m == 90
    save_scenario(scenario, tmp_path / "s.toml")
    assert load_scenario(tmp_path / "s.toml").categories["school"].radius_m == 90


def test_defaults_and_area_metric_without_population(tmp_path):
    path = write_toy_city(tmp_path / "c")
    text = path.read_text()
    text = text.replace('metric = "population"\n', "").split("[population]")[0] + "[categories" + \
        text.split("[population]")[1].split("[categories", 1)[1]
    path.write_text(text)
    scenario = load_scenario(path)
    assert scenario.metric == "area" and scenario.population is None
    with pytest.raises(InputError, match="no \\[population\\] layer"):
        scenario.replace(metric="population")
