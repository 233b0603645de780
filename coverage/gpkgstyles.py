"""QGIS layer styles inside plan.gpkg, so the GeoPackage opens styled like the map.

QGIS reads a layer's default style from the ``layer_styles`` table of a GeoPackage
(columns ``f_table_name``, ``f_geometry_column``, ``styleName``, ``styleQML``,
``styleSLD``, ``useAsDefault``, …). Colours come from :mod:`coverage.maps.palette`: sites by
category as on the map, districts by the map's coverage classes relative to the target,
candidates grey, demand cells covered / not covered.
All text that goes into the XML is escaped with :func:`xml.sax.saxutils.quoteattr`.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from xml.sax.saxutils import quoteattr

TABLE = "layer_styles"
STYLE_NAME = "hotspots"

_CREATE = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)"""


def add_styles(gpkg: Path, categories: list[str], labels: dict[str, str] | None = None,
               target: float | None = None) -> None:
    """Write a default QGIS style for each layer of plan.gpkg (selected_sites, candidates,
    districts, demand_cells, study_area) into its ``layer_styles`` table, in the map's
    colours: sites by category, districts by the coverage classes relative to ``target``
    (a fraction), candidates grey, demand cells covered / not covered."""
    from .maps import palette

    colours = palette.category_colours(categories)
    labels = labels or {}
    classes = palette.coverage_classes(target)
    breaks = [low for low, _, _ in classes] + [1.0000001]  # the top class ends above 100 %
    sites = [(c, labels.get(c, c), colours[c]) for c in categories]
    styles = {
        "selected_sites": _categorized("category", sites, "marker"),
        "candidates": _single(_symbol("marker", palette.CANDIDATE_COLOUR, size=1.6, alpha=0.5)),
        "districts": _graduated("coverage", breaks, [colour for _, _, colour in classes]),
        "demand_cells": _categorized('if("covered", 1, 0)',
                                     [("1", "covered", palette.GAIN_COLOUR),
                                      ("0", "not covered", palette.UNCOVERED_COLOURS[3])],
                                     "fill", alpha=0.45, sld_attr="covered"),
        "study_area": _single(_symbol("fill", "#000000", alpha=0.0, outline="#333333")),
    }
    with closing(sqlite3.connect(gpkg)) as db:
        db.execute(_CREATE)
        db.execute("DELETE FROM layer_styles WHERE styleName = ?", (STYLE_NAME,))
        geometry = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        for table, (qml, sld) in styles.items():
            if table not in geometry:
                continue
            db.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                       "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, ui) "
                       "VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', '')",
                       (table, geometry[table], STYLE_NAME, qml, sld, "Colours of the hotspots map"))
        db.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier) "
                   "VALUES (?, 'attributes', ?)", (TABLE, TABLE))
        db.commit()


def _rgba(colour: str, alpha: float = 1.0) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * alpha)}"


def _symbol(kind: str, colour: str, name: str = "0", size: float = 2.4, alpha: float = 1.0,
            outline: str = "#232323") -> str:
    if kind == "marker":
        props = {"name": "circle", "color": _rgba(colour, alpha), "outline_color": _rgba(outline),
                 "size": f"{size:g}", "outline_width": "0.2"}
        layer_class, symbol_type = "SimpleMarker", "marker"
    else:
        props = {"color": _rgba(colour, alpha), "outline_color": _rgba(outline), "outline_width": "0.26",
                 "style": "solid" if alpha > 0 else "no"}
        layer_class, symbol_type = "SimpleFill", "fill"
    options = "".join(f"<Option type=\"QString\" name={quoteattr(k)} value={quoteattr(v)}/>" for k, v in props.items())
    legacy = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in props.items())
    return (f"<symbol type=\"{symbol_type}\" name={quoteattr(name)} alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">"
            f"<layer class=\"{layer_class}\" enabled=\"1\" pass=\"0\" locked=\"0\">"
            f"<Option type=\"Map\">{options}</Option>{legacy}</layer></symbol>")


def _qml(renderer: str) -> str:
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
            f"<qgis version=\"3.28.0\" styleCategories=\"Symbology\">{renderer}</qgis>")


def _sld(rules: list[tuple[str, str, str]], kind: str, attr: str = "") -> str:
    """A small SLD 1.1 with one rule per (filter property value or '', label, colour)."""
    parts = []
    for value, label, colour in rules:
        where = "" if value == "" else (
            f"<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>{_text(attr)}</ogc:PropertyName>"
            f"<ogc:Literal>{_text(value)}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>")
        fill = f"<se:Fill><se:SvgParameter name=\"fill\">{_text(colour)}</se:SvgParameter></se:Fill>"
        symbolizer = (f"<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle</se:WellKnownName>{fill}"
                      "</se:Mark><se:Size>7</se:Size></se:Graphic></se:PointSymbolizer>" if kind == "marker"
                      else f"<se:PolygonSymbolizer>{fill}</se:PolygonSymbolizer>")
        parts.append(f"<se:Rule><se:Name>{_text(label)}</se:Name>{where}{symbolizer}</se:Rule>")
    return ("<StyledLayerDescriptor xmlns=\"http://www.opengis.net/sld\" xmlns:se=\"http://www.opengis.net/se\" "
            "xmlns:ogc=\"http://www.opengis.net/ogc\" version=\"1.1.0\"><NamedLayer><se:Name>layer</se:Name>"
            f"<UserStyle><se:FeatureTypeStyle>{''.join(parts)}</se:FeatureTypeStyle></UserStyle></NamedLayer>"
            "</StyledLayerDescriptor>")


def _text(value: str) -> str:
    return quoteattr(str(value))[1:-1]


def _categorized(attr: str, classes: list[tuple[str, str, str]], kind: str, size: float = 2.4,
                 alpha: float = 1.0, sld_attr: str | None = None) -> tuple[str, str]:
    """QML classes on ``attr`` (a field or a QGIS expression); SLD filters on ``sld_attr``
    (a plain field name: SLD takes no expressions), default ``attr``."""
    categories = "".join(f"<category value={quoteattr(v)} symbol=\"{i}\" label={quoteattr(label)} render=\"true\"/>"
                         for i, (v, label, _) in enumerate(classes))
    symbols = "".join(_symbol(kind, colour, str(i), size=size, alpha=alpha) for i, (_, _, colour) in enumerate(classes))
    renderer = (f"<renderer-v2 type=\"categorizedSymbol\" attr={quoteattr(attr)} forceraster=\"0\" "
                f"symbollevels=\"0\" enableorderby=\"0\"><categories>{categories}</categories>"
                f"<symbols>{symbols}</symbols></renderer-v2>")
    return _qml(renderer), _sld(classes, kind, sld_attr or attr)


def _graduated(attr: str, breaks: list[float], colours: list[str]) -> tuple[str, str]:
    ranges, symbols = [], []
    for i, colour in enumerate(colours):
        low, high = breaks[i], breaks[i + 1]
        label = f"{100 * low:g}–{min(100 * high, 100):g} %"
        ranges.append(f"<range lower=\"{low:.7f}\" upper=\"{high:.7f}\" symbol=\"{i}\" label={quoteattr(label)} "
                      "render=\"true\"/>")
        symbols.append(_symbol("fill", colour, str(i), alpha=0.7))
    renderer = (f"<renderer-v2 type=\"graduatedSymbol\" attr={quoteattr(attr)} graduatedMethod=\"GraduatedColor\" "
                f"forceraster=\"0\" symbollevels=\"0\" enableorderby=\"0\"><ranges>{''.join(ranges)}</ranges>"
                f"<symbols>{''.join(symbols)}</symbols></renderer-v2>")
    return _qml(renderer), _sld([("", "districts", colours[-1])], "fill")


def _single(symbol: str) -> tuple[str, str]:
    renderer = (f"<renderer-v2 type=\"singleSymbol\" forceraster=\"0\" symbollevels=\"0\">"
                f"<symbols>{symbol}</symbols></renderer-v2>")
    return _qml(renderer), _sld([("", "study area", "#ffffff")], "fill")
