"""The map's colours, in one place (the map, the legend and QGIS layer styles use them).

Colours are CSS hex strings. Coverage classes are fractions in [0, 1]; density classes
are residents per km².
"""

from __future__ import annotations

import hashlib
import math

__all__ = [
    "KNOWN_CATEGORY_COLOURS", "EXTRA_PALETTE", "category_colours",
    "coverage_classes", "coverage_class", "NEUTRAL_COLOUR", "DENSITY_BREAKS",
    "UNCOVERED_COLOURS", "DENSITY_COLOURS", "CHANNEL_PALETTE", "ORPHAN_COLOUR",
    "CONFLICT_COLOUR", "OVERLOAD_COLOUR", "CHANGE_BREAKS_PP", "CHANGE_COLOURS",
    "CHANGE_LABELS", "GAIN_COLOUR", "LOSS_COLOUR", "KEPT_COLOUR", "CANDIDATE_COLOUR",
]

#: Colours of the categories the planner ships with.
KNOWN_CATEGORY_COLOURS = {
    "school": "#1f5fbf",
    "library": "#7b3fb0",
    "transport_hub": "#e07b00",
    "existing": "#222222",
}
#: Colours handed out (deterministically, by name) to any other category.
EXTRA_PALETTE = [
    "#0f9d9a", "#b5179e", "#8c564b", "#6a8d00", "#c2185b",
    "#00838f", "#5d4037", "#827717", "#4527a0", "#ad1457",
]
CANDIDATE_COLOUR = "#9e9e9e"

#: District coverage classes relative to the target: colours low -> high, plus a
#: neutral grey for "far below" (under half the target) and for unknown coverage.
NEUTRAL_COLOUR = "#d9d9d9"
COVERAGE_CLASS_COLOURS = ["#fdae61", "#fee08b", "#a6d96a", "#1a9641"]

#: Uncovered demand / population density classes (persons / km²) and colours.
DENSITY_BREAKS = [0.0, 1.0, 1_000.0, 5_000.0, 20_000.0, math.inf]
UNCOVERED_COLOURS = ["#bdbdbd", "#fcbba1", "#fb6a4a", "#de2d26", "#99000d"]
DENSITY_COLOURS = ["#f7f7f7", "#fee8c8", "#fdbb84", "#e34a33", "#7f0000"]

#: Network rings (issue #6): backhaul orphans, channel conflicts, overloaded sites.
ORPHAN_COLOUR, CONFLICT_COLOUR, OVERLOAD_COLOUR = "#d00000", "#c51b7d", "#00b5cc"
CHANNEL_PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e6ab02", "#1f78b4", "#e7298a",
                   "#66a61e", "#a6761d", "#6a3d9a", "#17becf"]

#: Compare map: change in district coverage (percentage points), loss -> gain.
CHANGE_BREAKS_PP = [-math.inf, -5.0, -1.0, -0.1, -0.01, 0.01, 0.1, 1.0, 5.0, math.inf]
CHANGE_COLOURS = ["#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7",
                  "#d9f0d3", "#a6dba0", "#5aae61", "#1b7837"]
CHANGE_LABELS = ["<−5", "−5", "−1", "−.1", "≈0", "+.01", "+.1", "+1", "+5"]
GAIN_COLOUR, LOSS_COLOUR, KEPT_COLOUR = "#1a9641", "#d7191c", "#8c8c8c"


def category_colours(categories) -> dict[str, str]:
    """Colour per category: fixed for known ones, hash-chosen for the rest.

    An unknown category's colour depends only on its name, unless two names hash to
    the same palette slot; then the later one (in sorted order) takes the next free
    slot, so the result is still deterministic.
    """
    names = sorted({str(c) for c in categories})
    out = {c: KNOWN_CATEGORY_COLOURS[c] for c in names if c in KNOWN_CATEGORY_COLOURS}
    used: set[str] = set()
    for cat in names:
        if cat in out:
            continue
        start = int(hashlib.sha1(cat.encode("utf-8")).hexdigest(), 16) % len(EXTRA_PALETTE)
        colour = EXTRA_PALETTE[start]
        for k in range(len(EXTRA_PALETTE)):
            candidate = EXTRA_PALETTE[(start + k) % len(EXTRA_PALETTE)]
            if candidate not in used:
                colour = candidate
                break
        used.add(colour)
        out[cat] = colour
    return out


def coverage_classes(target: float | None) -> list[tuple[float, float, str]]:
    """District coverage classes relative to ``target`` (a fraction; 0.99 if None).

    Returns ``(low, high, colour)``, fractions, low inclusive, high exclusive, from
    low to high: far below (a neutral grey: more than 50 points under the target),
    then up to 19 points under, up to 4 points under, just under, and the target
    reached. For a 99 % target: < 49, 49–80, 80–95, 95–99 and ≥ 99 %.
    """
    t = 0.99 if target is None or not (0 < target <= 1) else float(target)
    inner = [max(0.0, round(t - gap, 6)) for gap in (0.50, 0.19, 0.04)]
    edges = [0.0, *inner, t, math.inf]
    colours = [NEUTRAL_COLOUR] + COVERAGE_CLASS_COLOURS
    return [(edges[k], edges[k + 1], colours[k]) for k in range(5)]


def coverage_class(fraction: float | None, target: float | None) -> int | None:
    """Index into :func:`coverage_classes` for ``fraction`` (None when unknown)."""
    if fraction is None or not math.isfinite(fraction):
        return None
    for k, (lo, hi, _c) in enumerate(coverage_classes(target)):
        if lo <= fraction < hi:
            return k
    return 0
