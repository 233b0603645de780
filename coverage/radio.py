"""Coverage radius of a hotspot from a radio link budget.

A :class:`RadioProfile` describes one kind of access point (AP): band, EIRP, antenna,
surroundings and the signal a client should receive. :func:`radius_m` turns it into a
horizontal coverage radius in metres, and says why (which link limits it).

Units everywhere: distances and heights in metres, powers in dBm, gains and losses in
dB (antenna gain in dBi), frequencies in GHz.

The path-loss model
-------------------
ITU-R P.1411 §4.1.1, the site-general model for links where both ends are below
rooftop height (street furniture, building walls), whatever the antenna heights::

    L(d) = 10·α·log10(d) + β + 10·γ·log10(f)        d: 3-D distance in m, f in GHz

with the median coefficients of its Table 4:

==================  =====  =====  =====  =====  =============
environment          α      β      γ      σ     fitted range
==================  =====  =====  =====  =====  =============
``los``              2.12   29.2   2.11   5.06   5–660 m
``urban_highrise``   4.00   10.2   2.36   7.60   30–715 m
``residential``      3.01   18.8   2.07   3.07   30–170 m
==================  =====  =====  =====  =====  =============

The two non-line-of-sight (NLoS) fits are the "NLoS allowance": a steeper distance
exponent (4.00 and 3.01 instead of 2.12) for street canyons between high-rise blocks
and for low residential streets. Close to the AP an NLoS fit can fall below the LoS
line, which is not physical, so an NLoS environment uses ``max(L_LoS, L_NLoS)``.
Every fit increases with distance, so the inverse is closed-form (no root finding):
the distance at which the loss reaches a budget is the smaller of the fits' inverses.

Each band is evaluated at the centre of its Chinese allocation (2.442, 5.25 and
5.7875 GHz). With these, the reference figures (2.4 GHz, 20 dBm EIRP, 5 dB body loss)
come out as: −67 dBm → LoS 127 m, urban high-rise 37 m, residential 68 m; −75 dBm →
LoS 303 m; 5.8 GHz at 33 dBm, −67 dBm → LoS 221 m (without antenna-height correction;
the 3-D to horizontal correction for a 6 m mast removes under 0.5 m).

The median fit has a spread (σ above, dB); the radius is a planning median, not a
guarantee at every point.

Legal limits (China, MIIT)
--------------------------
2400–2483.5 MHz: EIRP ≤ 20 dBm with antenna gain < 10 dBi, ≤ 27 dBm with gain ≥ 10 dBi.
5150–5350 MHz: EIRP ≤ 23 dBm, indoor use only. 5725–5850 MHz: EIRP ≤ 33 dBm.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError

BANDS = ("2.4", "5.2", "5.8")
ENVIRONMENTS = ("los", "urban_highrise", "residential")

#: Frequency (GHz) at which each band is evaluated: the centre of its allocation.
BAND_FREQUENCY_GHZ = {"2.4": 2.44175, "5.2": 5.25, "5.8": 5.7875}

#: Human-readable frequency range of each band, for messages.
BAND_RANGE = {"2.4": "2400–2483.5 MHz", "5.2": "5150–5350 MHz", "5.8": "5725–5850 MHz"}

#: How each environment is named in explanations.
ENVIRONMENT_LABEL = {"los": "line of sight", "urban_highrise": "urban high-rise", "residential": "residential"}

#: Height of a handset above the ground, metres.
CLIENT_HEIGHT_M = 1.5


@dataclass(frozen=True)
class _Fit:
    """One ITU-R P.1411 §4.1.1 fit: L = 10·alpha·log10(d) + beta + 10·gamma·log10(f)."""

    alpha: float
    beta: float
    gamma: float
    sigma_db: float
    min_m: float
    max_m: float
    name: str


_LOS = _Fit(2.12, 29.2, 2.11, 5.06, 5.0, 660.0, "ITU-R P.1411 §4.1.1 LoS fit")
_FITS = {
    "los": _LOS,
    "urban_highrise": _Fit(4.00, 10.2, 2.36, 7.60, 30.0, 715.0, "ITU-R P.1411 §4.1.1 NLoS urban high-rise fit"),
    "residential": _Fit(3.01, 18.8, 2.07, 3.07, 30.0, 170.0, "ITU-R P.1411 §4.1.1 NLoS residential fit"),
}


@dataclass(frozen=True)
class LegalLimit:
    """An EIRP ceiling (dBm) and whether the band is indoor only."""

    max_eirp_dbm: float
    indoor_only: bool
    wording: str


@dataclass(frozen=True)
class RadioProfile:
    """One kind of access point and the service it should give.

    - ``band``: "2.4", "5.2" (5150–5350 MHz, indoor only in China) or "5.8" (GHz).
    - ``eirp_dbm``: equivalent isotropically radiated power of the AP, dBm.
    - ``antenna_height_m``: AP antenna above ground, metres (below rooftop: the model
      assumes street furniture or a wall mount, typically 3–15 m).
    - ``environment``: "los" (open squares, parks, wide streets), "urban_highrise"
      (street canyons between towers) or "residential" (low-rise streets).
    - ``target_dbm``: signal a client should receive, dBm (−67 good service, −75 basic).
    - ``indoor``: the AP is installed indoors (needed for the 5.2 GHz band).
    - ``antenna_gain_dbi``: AP antenna gain, dBi; sets the 2.4 GHz legal limit and is
      the AP's receive gain on the uplink.
    - ``body_loss_db``: loss from the user's body and hand, dB, on both links.
    - ``client_eirp_dbm``: a phone's transmit power, dBm (uplink).
    - ``ap_sensitivity_dbm``: signal the AP needs from a phone, dBm. ``None`` (default)
      skips the uplink check; equal to ``target_dbm`` asks for the same data rate both
      ways; about −82 dBm is the lowest 802.11 rate.
    - ``radius_m``: a fixed radius in metres that overrides the model.
    """

    band: str = "2.4"
    eirp_dbm: float = 20.0
    antenna_height_m: float = 6.0
    environment: str = "los"
    target_dbm: float = -67.0
    indoor: bool = False
    antenna_gain_dbi: float = 2.0
    body_loss_db: float = 5.0
    client_eirp_dbm: float = 15.0
    ap_sensitivity_dbm: float | None = None
    radius_m: float | None = None

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def frequency_ghz(self) -> float:
        """Frequency at which the band is evaluated, GHz."""
        return BAND_FREQUENCY_GHZ[self.band]


@dataclass(frozen=True)
class RadiusResult:
    """The coverage radius of a profile and why it is what it is.

    Radii are horizontal distances on the ground in metres. ``uplink_radius_m`` is
    ``None`` when the uplink is not checked. ``limited_by`` is "downlink", "uplink" or
    "override" (a fixed radius was given). Budgets are the largest path loss, dB, each
    link can afford. ``explanation`` is one sentence for a summary.
    """

    radius_m: float
    downlink_radius_m: float
    uplink_radius_m: float | None
    limited_by: str
    downlink_budget_db: float
    uplink_budget_db: float | None
    explanation: str


def profile_from_table(table: Mapping[str, Any], where: str = "radio profile") -> RadioProfile:
    """Build a profile from a scenario-file table, e.g. ``[categories.school.radio]``.

    Keys are the field names of :class:`RadioProfile`; missing keys take the defaults.
    ``where`` names the table in error messages. Raises :class:`InputError` for an
    unknown key or a bad value.
    """
    known = {f.name for f in dataclasses.fields(RadioProfile)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    values = dict(table)
    if "band" in values and isinstance(values["band"], (int, float)) and not isinstance(values["band"], bool):
        values["band"] = f"{values['band']:g}"  # band = 2.4 written as a number
    try:
        return RadioProfile(**values)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def _validate(profile: RadioProfile) -> None:
    if profile.band not in BANDS:
        raise InputError(f"band must be one of {', '.join(repr(b) for b in BANDS)} (GHz), not {profile.band!r}")
    if profile.environment not in ENVIRONMENTS:
        raise InputError(
            f"environment must be one of {', '.join(repr(e) for e in ENVIRONMENTS)}, not {profile.environment!r}"
        )
    numbers = {
        "eirp_dbm": profile.eirp_dbm,
        "antenna_height_m": profile.antenna_height_m,
        "target_dbm": profile.target_dbm,
        "antenna_gain_dbi": profile.antenna_gain_dbi,
        "body_loss_db": profile.body_loss_db,
        "client_eirp_dbm": profile.client_eirp_dbm,
    }
    if profile.ap_sensitivity_dbm is not None:
        numbers["ap_sensitivity_dbm"] = profile.ap_sensitivity_dbm
    if profile.radius_m is not None:
        numbers["radius_m"] = profile.radius_m
    for name, value in numbers.items():
        if not _is_number(value):
            raise InputError(f"{name} must be a finite number, not {value!r}")
    if profile.antenna_height_m <= 0:
        raise InputError(f"antenna_height_m must be above the ground (> 0 m), not {profile.antenna_height_m}")
    if profile.body_loss_db < 0:
        raise InputError(f"body_loss_db must be 0 dB or more, not {profile.body_loss_db}")
    if profile.radius_m is not None and profile.radius_m <= 0:
        raise InputError(f"radius_m must be a positive number of metres, not {profile.radius_m}")
    if not isinstance(profile.indoor, bool):
        raise InputError(f"indoor must be true or false, not {profile.indoor!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def legal_limit(profile: RadioProfile) -> LegalLimit:
    """The Chinese EIRP ceiling (dBm) for the profile's band and antenna gain."""
    if profile.band == "2.4":
        if profile.antenna_gain_dbi >= 10:
            return LegalLimit(27.0, False, "2.4 GHz with an antenna gain of 10 dBi or more")
        return LegalLimit(20.0, False, "2.4 GHz with an antenna gain below 10 dBi")
    if profile.band == "5.2":
        return LegalLimit(23.0, True, "5150–5350 MHz")
    return LegalLimit(33.0, False, "5725–5850 MHz")


def check_legal(profile: RadioProfile, where: str = "radio profile") -> None:
    """Refuse a profile China's radio rules do not allow.

    Raises :class:`InputError` when the EIRP (dBm) is above the limit for the band
    (2.4 GHz: 20 dBm with antenna gain < 10 dBi, 27 dBm with ≥ 10 dBi; 5150–5350 MHz:
    23 dBm; 5725–5850 MHz: 33 dBm), or when an outdoor AP uses the indoor-only
    5150–5350 MHz band. ``where`` names the profile in the message.
    """
    limit = legal_limit(profile)
    if limit.indoor_only and not profile.indoor:
        raise InputError(
            f"{where}: the {BAND_RANGE[profile.band]} band (band = {profile.band!r}) is indoor only in China; "
            f"use band = '5.8' or '2.4' for an outdoor hotspot, or set indoor = true"
        )
    if profile.eirp_dbm > limit.max_eirp_dbm:
        raise InputError(
            f"{where}: EIRP {profile.eirp_dbm:g} dBm is above the China limit of {limit.max_eirp_dbm:g} dBm for "
            f"{limit.wording} (antenna_gain_dbi = {profile.antenna_gain_dbi:g}); "
            f"lower eirp_dbm to {limit.max_eirp_dbm:g} or less"
        )


def path_loss_db(distance_m: Any, freq_ghz: float, environment: str) -> Any:
    """Median path loss in dB at a 3-D distance (metres) and frequency (GHz).

    ITU-R P.1411 §4.1.1 (see the module docstring); for an NLoS environment the loss
    is never below the LoS fit. Accepts a scalar or a numpy array of distances and
    returns the same shape. Distances below 1 m are evaluated at 1 m (the fits start
    at 5 m).
    """
    fit = _fit(environment)
    d = np.maximum(np.asarray(distance_m, dtype=float), 1.0)
    loss = _fit_loss(_LOS, d, freq_ghz)
    if fit is not _LOS:
        loss = np.maximum(loss, _fit_loss(fit, d, freq_ghz))
    return float(loss) if np.ndim(loss) == 0 else loss


def distance_for_loss_m(loss_db: Any, freq_ghz: float, environment: str) -> Any:
    """The 3-D distance in metres at which the median path loss reaches ``loss_db`` (dB).

    The exact inverse of :func:`path_loss_db` (closed form, vectorised): since the loss
    is the maximum of increasing fits, the distance is the minimum of their inverses.
    """
    fit = _fit(environment)
    loss = np.asarray(loss_db, dtype=float)
    distance = _fit_distance(_LOS, loss, freq_ghz)
    if fit is not _LOS:
        distance = np.minimum(distance, _fit_distance(fit, loss, freq_ghz))
    return float(distance) if np.ndim(distance) == 0 else distance


def _fit(environment: str) -> _Fit:
    try:
        return _FITS[environment]
    except KeyError:
        raise InputError(
            f"environment must be one of {', '.join(repr(e) for e in ENVIRONMENTS)}, not {environment!r}"
        ) from None


def _fit_loss(fit: _Fit, distance_m: np.ndarray, freq_ghz: float) -> np.ndarray:
    return 10 * fit.alpha * np.log10(distance_m) + fit.beta + 10 * fit.gamma * math.log10(freq_ghz)


def _fit_distance(fit: _Fit, loss_db: np.ndarray, freq_ghz: float) -> np.ndarray:
    return 10 ** ((loss_db - fit.beta - 10 * fit.gamma * math.log10(freq_ghz)) / (10 * fit.alpha))


def horizontal_radius_m(distance_3d_m: float, antenna_height_m: float) -> float:
    """Ground distance (m) to a handset at 1.5 m that is ``distance_3d_m`` from the antenna."""
    height_difference = antenna_height_m - CLIENT_HEIGHT_M
    return math.sqrt(max(distance_3d_m**2 - height_difference**2, 0.0))


def downlink_budget_db(profile: RadioProfile) -> float:
    """Largest path loss (dB) at which a client still receives ``target_dbm``."""
    return profile.eirp_dbm - profile.body_loss_db - profile.target_dbm


def uplink_budget_db(profile: RadioProfile) -> float | None:
    """Largest path loss (dB) at which the AP still hears a phone, or ``None`` if unchecked."""
    if profile.ap_sensitivity_dbm is None:
        return None
    return profile.client_eirp_dbm - profile.body_loss_db + profile.antenna_gain_dbi - profile.ap_sensitivity_dbm


def radius_m(profile: RadioProfile, where: str = "radio profile") -> RadiusResult:
    """Coverage radius (metres, horizontal) of a profile, after checking it is legal.

    Downlink: the client must receive ``target_dbm``. Uplink (only when
    ``ap_sensitivity_dbm`` is set): the AP must receive ``ap_sensitivity_dbm`` from a
    phone at ``client_eirp_dbm`` through its ``antenna_gain_dbi``. The radius is the
    shorter of the two, or ``profile.radius_m`` when given (the model radii are still
    reported). Raises :class:`InputError` for an illegal profile (:func:`check_legal`)
    or one whose signal is below target even under the antenna.
    """
    check_legal(profile, where)
    freq = profile.frequency_ghz
    fit = _FITS[profile.environment]

    down_budget = downlink_budget_db(profile)
    down = horizontal_radius_m(distance_for_loss_m(down_budget, freq, profile.environment), profile.antenna_height_m)
    up_budget = uplink_budget_db(profile)
    up = None
    if up_budget is not None:
        up = horizontal_radius_m(distance_for_loss_m(up_budget, freq, profile.environment), profile.antenna_height_m)

    if profile.radius_m is not None:
        radius, limited_by = float(profile.radius_m), "override"
    elif up is not None and up < down:
        radius, limited_by = up, "uplink"
    else:
        radius, limited_by = down, "downlink"
    if radius <= 0:
        raise InputError(
            f"{where}: {profile.eirp_dbm:g} dBm EIRP cannot deliver {profile.target_dbm:g} dBm at ground level "
            f"({limited_by} budget too small); raise eirp_dbm or lower target_dbm"
        )

    explanation = _explain(profile, fit, radius, down, up, down_budget, up_budget, limited_by)
    return RadiusResult(
        radius_m=radius,
        downlink_radius_m=down,
        uplink_radius_m=up,
        limited_by=limited_by,
        downlink_budget_db=down_budget,
        uplink_budget_db=up_budget,
        explanation=explanation,
    )


def _explain(
    profile: RadioProfile,
    fit: _Fit,
    radius: float,
    down: float,
    up: float | None,
    down_budget: float,
    up_budget: float | None,
    limited_by: str,
) -> str:
    where = "indoor" if profile.indoor else "outdoor"
    parts = [
        f"{profile.band} GHz {where}, EIRP {profile.eirp_dbm:g} dBm at {profile.antenna_height_m:g} m, "
        f"{ENVIRONMENT_LABEL[profile.environment]} ({fit.name})",
        f"downlink reaches {profile.target_dbm:g} dBm to {down:.0f} m (budget {down_budget:.1f} dB)",
    ]
    if up is None:
        parts.append("uplink not checked")
    else:
        parts.append(
            f"uplink from a {profile.client_eirp_dbm:g} dBm phone reaches {profile.ap_sensitivity_dbm:g} dBm "
            f"at the AP to {up:.0f} m (budget {up_budget:.1f} dB)"
        )
    if limited_by == "override":
        conclusion = f"fixed radius {radius:.0f} m overrides the model"
    else:
        conclusion = f"radius {radius:.0f} m, limited by the {limited_by}"
    sentence = "; ".join(parts) + " → " + conclusion
    if limited_by != "override" and not fit.min_m <= radius <= fit.max_m:
        sentence += f" (outside the fit's {fit.min_m:g}–{fit.max_m:g} m range: treat as a rough estimate)"
    return sentence
