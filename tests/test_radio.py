"""The link-budget radius: path-loss model, reference figures, uplink, legal limits."""

import math

import numpy as np
import pytest

from coverage.errors import InputError
from coverage.radio import (
    RadioProfile,
    check_legal,
    distance_for_loss_m,
    horizontal_radius_m,
    path_loss_db,
    profile_from_table,
    radius_m,
)

# --- the path-loss model, checked by hand -------------------------------------------


def test_los_fit_by_hand():
    # 10·2.12·log10(100) + 29.2 + 10·2.11·log10(1) = 42.4 + 29.2 = 71.6 dB
    assert path_loss_db(100.0, 1.0, "los") == pytest.approx(71.6)
    # ten times the frequency adds 10·γ = 21.1 dB
    assert path_loss_db(100.0, 10.0, "los") == pytest.approx(92.7)


def test_nlos_fits_by_hand():
    # residential: 10·3.01·2 + 18.8 = 79.0 dB at 100 m, 1 GHz
    assert path_loss_db(100.0, 1.0, "residential") == pytest.approx(79.0)
    # urban high-rise: 10·4.00·2 + 10.2 = 90.2 dB at 100 m, 1 GHz
    assert path_loss_db(100.0, 1.0, "urban_highrise") == pytest.approx(90.2)


def test_nlos_never_below_los_close_to_the_ap():
    # At 5 m the high-rise fit alone would give 40·0.699 + 10.2 = 38.2 dB, below LoS
    # (21.2·0.699 + 29.2 = 44.0 dB); the model keeps the LoS value there.
    assert path_loss_db(5.0, 1.0, "urban_highrise") == pytest.approx(path_loss_db(5.0, 1.0, "los"))
    assert path_loss_db(5.0, 1.0, "urban_highrise") == pytest.approx(21.2 * math.log10(5) + 29.2)


def test_loss_grows_with_distance_and_nlos_costs_more():
    d = np.array([50.0, 100.0, 200.0, 400.0])
    for env in ("los", "urban_highrise", "residential"):
        assert np.all(np.diff(path_loss_db(d, 2.4, env)) > 0)
    assert np.all(path_loss_db(d, 2.4, "urban_highrise") > path_loss_db(d, 2.4, "residential"))
    assert np.all(path_loss_db(d, 2.4, "residential") > path_loss_db(d, 2.4, "los"))


@pytest.mark.parametrize("env", ["los", "urban_highrise", "residential"])
def test_inverse_is_exact_and_vectorised(env):
    d = np.array([2.0, 7.0, 20.0, 80.0, 350.0])
    loss = path_loss_db(d, 5.7875, env)
    assert loss.shape == d.shape
    np.testing.assert_allclose(distance_for_loss_m(loss, 5.7875, env), d, rtol=1e-12)


def test_unknown_environment_is_refused():
    with pytest.raises(InputError, match="environment must be one of"):
        path_loss_db(100.0, 2.4, "suburban")


def test_horizontal_radius_by_hand():
    # 3-4-5 triangle: antenna 4.5 m high, handset at 1.5 m → 3 m height difference
    assert horizontal_radius_m(5.0, 4.5) == pytest.approx(4.0)
    assert horizontal_radius_m(2.0, 4.5) == 0.0


# --- the reference-notes figures (2.4 GHz, 20 dBm EIRP, 5 dB body loss) -----------


@pytest.mark.parametrize(
    ("settings", "expected_m"),
    [
        ({"environment": "los"}, 128),
        ({"environment": "urban_highrise"}, 37),
        ({"environment": "residential"}, 68),
        ({"environment": "los", "target_dbm": -75}, 304),
        ({"environment": "los", "band": "5.8", "eirp_dbm": 33}, 221),
    ],
)
def test_reference_figures(settings, expected_m):
    result = radius_m(RadioProfile(**settings))
    assert result.radius_m == pytest.approx(expected_m, abs=3)
    assert result.limited_by == "downlink"
    assert result.uplink_radius_m is None


def test_default_profile_is_the_reference_case():
    profile = RadioProfile()
    assert (profile.band, profile.eirp_dbm, profile.body_loss_db, profile.target_dbm) == ("2.4", 20.0, 5.0, -67.0)
    assert radius_m(profile).downlink_budget_db == pytest.approx(82.0)  # 20 − 5 + 67


def test_higher_mast_shrinks_ground_radius_slightly():
    low = radius_m(RadioProfile(antenna_height_m=3.0)).radius_m
    high = radius_m(RadioProfile(antenna_height_m=15.0)).radius_m
    assert high < low
    # the 3-D distance is the same; only the height triangle differs
    d3 = math.hypot(low, 3.0 - 1.5)
    assert high == pytest.approx(math.sqrt(d3**2 - (15.0 - 1.5) ** 2))


# --- uplink -------------------------------------------------------------------------


def test_uplink_limits_when_the_ap_needs_the_same_signal_as_the_phone():
    # Downlink budget 20 − 5 + 67 = 82 dB; uplink 15 − 5 + 2 + 67 = 79 dB: 3 dB shorter.
    result = radius_m(RadioProfile(ap_sensitivity_dbm=-67))
    assert result.uplink_budget_db == pytest.approx(79.0)
    assert result.limited_by == "uplink"
    assert result.radius_m == result.uplink_radius_m < result.downlink_radius_m
    # 3 dB less budget on a 21.2 dB/decade slope is a factor 10^(−3/21.2) in 3-D distance
    d3_down = math.hypot(result.downlink_radius_m, 6.0 - 1.5)
    d3_up = math.hypot(result.uplink_radius_m, 6.0 - 1.5)
    assert d3_up / d3_down == pytest.approx(10 ** (-3 / 21.2))
    assert "limited by the uplink" in result.explanation


def test_sensitive_ap_leaves_the_downlink_in_charge():
    result = radius_m(RadioProfile(ap_sensitivity_dbm=-82))
    assert result.uplink_budget_db == pytest.approx(94.0)
    assert result.limited_by == "downlink"
    assert result.uplink_radius_m > result.downlink_radius_m == result.radius_m


# --- override and explanation -------------------------------------------------------


def test_fixed_radius_overrides_but_model_is_still_reported():
    result = radius_m(RadioProfile(radius_m=150.0))
    assert result.radius_m == 150.0
    assert result.limited_by == "override"
    assert result.downlink_radius_m == pytest.approx(radius_m(RadioProfile()).radius_m)
    assert "fixed radius 150 m overrides" in result.explanation


def test_explanation_says_band_environment_and_radius():
    text = radius_m(RadioProfile(environment="residential")).explanation
    assert "2.4 GHz" in text and "residential" in text and "P.1411" in text
    assert "radius 68 m, limited by the downlink" in text


def test_explanation_flags_a_radius_outside_the_fitted_range():
    # residential fit is fitted for 30–170 m; −82 dBm at 20 dBm reaches beyond that
    text = radius_m(RadioProfile(environment="residential", target_dbm=-82)).explanation
    assert "outside the fit's 30–170 m range" in text
    assert "outside" not in radius_m(RadioProfile(environment="residential")).explanation


def test_a_budget_that_does_not_reach_the_ground_is_refused():
    # budget 0 − 5 + 50 = 45 dB → about 4.5 m in 3-D, less than the 13.5 m height difference
    with pytest.raises(InputError, match="cannot deliver -50 dBm at ground level"):
        radius_m(RadioProfile(eirp_dbm=0, target_dbm=-50, antenna_height_m=15))


# --- legal limits (China) -----------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {"band": "2.4", "eirp_dbm": 20, "antenna_gain_dbi": 9.9},
        {"band": "2.4", "eirp_dbm": 27, "antenna_gain_dbi": 10},
        {"band": "5.2", "eirp_dbm": 23, "indoor": True},
        {"band": "5.8", "eirp_dbm": 33},
    ],
)
def test_legal_profiles_pass(settings):
    check_legal(RadioProfile(**settings))
    assert radius_m(RadioProfile(**settings)).radius_m > 0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"band": "2.4", "eirp_dbm": 21, "antenna_gain_dbi": 9.9},
            "EIRP 21 dBm is above the China limit of 20 dBm for 2.4 GHz with an antenna gain below 10 dBi",
        ),
        (
            {"band": "2.4", "eirp_dbm": 27.5, "antenna_gain_dbi": 12},
            "EIRP 27.5 dBm is above the China limit of 27 dBm for 2.4 GHz with an antenna gain of 10 dBi or more",
        ),
        (
            {"band": "5.2", "eirp_dbm": 24, "indoor": True},
            "EIRP 24 dBm is above the China limit of 23 dBm for 5150–5350 MHz",
        ),
        (
            {"band": "5.8", "eirp_dbm": 34},
            "EIRP 34 dBm is above the China limit of 33 dBm for 5725–5850 MHz",
        ),
        (
            {"band": "5.2", "eirp_dbm": 20, "indoor": False},
            "the 5150–5350 MHz band (band = '5.2') is indoor only in China",
        ),
    ],
)
def test_illegal_profiles_are_refused_with_a_clear_message(settings, message):
    profile = RadioProfile(**settings)
    with pytest.raises(InputError) as caught:
        check_legal(profile, where="[categories.school.radio]")
    assert str(caught.value).startswith("[categories.school.radio]: ")
    assert message in str(caught.value)
    with pytest.raises(InputError, match="China"):
        radius_m(profile)  # no radius for an illegal profile


def test_illegal_eirp_message_says_how_to_fix_it():
    with pytest.raises(InputError, match="lower eirp_dbm to 20 or less"):
        check_legal(RadioProfile(eirp_dbm=23))


# --- building profiles --------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"band": "6"}, "band must be one of"),
        ({"environment": "suburban"}, "environment must be one of"),
        ({"eirp_dbm": "20"}, "eirp_dbm must be a finite number"),
        ({"eirp_dbm": float("nan")}, "eirp_dbm must be a finite number"),
        ({"antenna_height_m": 0}, "antenna_height_m must be above the ground"),
        ({"radius_m": -5}, "radius_m must be a positive number of metres"),
        ({"body_loss_db": -1}, "body_loss_db must be 0 dB or more"),
        ({"indoor": "yes"}, "indoor must be true or false"),
    ],
)
def test_bad_profiles_are_refused(settings, message):
    with pytest.raises(InputError, match=message):
        RadioProfile(**settings)


def test_profile_from_table_reads_scenario_keys():
    profile = profile_from_table({"band": 5.8, "eirp_dbm": 30, "environment": "residential"})
    assert profile == RadioProfile(band="5.8", eirp_dbm=30, environment="residential")
    assert profile_from_table({"band": 2.4}).band == "2.4"


def test_profile_from_table_names_the_table_in_errors():
    with pytest.raises(InputError, match=r"^\[categories.hub.radio\]: unknown key\(s\) power"):
        profile_from_table({"power": 20}, where="[categories.hub.radio]")
    with pytest.raises(InputError, match=r"^\[categories.hub.radio\]: environment must be one of"):
        profile_from_table({"environment": "city"}, where="[categories.hub.radio]")
