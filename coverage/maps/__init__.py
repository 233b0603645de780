"""Map pages of saved plans: the plan map (also for what-if plans) and the compare map.

Public entry points (keyword options ``offline``, ``lang``, ``basemap``,
``tianditu_key``, exactly):

* :func:`render_map` (``DIR/map.html``), :func:`render_compare_map` (``compare.html``).
* The palette in :mod:`coverage.maps.palette` (category colours, district coverage
  classes), shared with the QGIS layer styles.

Layout: ``data`` reads a plan folder; ``tables``/``geometry``/``layers`` turn it into
plain data; ``panels`` makes the panel contexts; ``page`` renders the template FILES in
``templates/`` (autoescape) around one JSON blob read by ``static/map.js``. No input
string is ever template source.
"""

from .basemaps import keyed_url, resolve_basemap
from .comparemap import render_compare_map
from .data import PlanData, load_plan
from .page import find_fetched_urls, script_json
from .palette import (COVERAGE_CLASS_COLOURS, DENSITY_COLOURS, EXTRA_PALETTE,
                      KNOWN_CATEGORY_COLOURS, NEUTRAL_COLOUR, UNCOVERED_COLOURS,
                      category_colours, coverage_classes)
from .panels import coverage_curve_svg
from .planmap import render_map

__all__ = ["render_map", "render_compare_map", "category_colours", "coverage_classes",
           "KNOWN_CATEGORY_COLOURS", "EXTRA_PALETTE", "COVERAGE_CLASS_COLOURS",
           "UNCOVERED_COLOURS", "DENSITY_COLOURS", "NEUTRAL_COLOUR", "load_plan", "PlanData",
           "find_fetched_urls", "script_json", "coverage_curve_svg", "keyed_url",
           "resolve_basemap"]
