"""The scenario: which layers to read and how to plan, as plain, serialisable data.

A scenario is a small TOML file (see the README, "Scenario file") or the same
structure built in Python. The dataclasses below mirror the file: one dataclass per
table, one field per key, each declared with its type, range and fix-it hint
(:func:`~coverage.schema.setting`); reading, writing and checking are the generic
walkers of :mod:`coverage.schema`. Paths in a file are relative to the file's folder;
on load they become absolute so a :class:`Scenario` can be used from anywhere.

Derive what-if variants with :meth:`Scenario.replace` or, for command-line style
overrides, :meth:`Scenario.with_overrides`::

    base = load_scenario("gis_data/shenzhen/scenario.toml")
    cheaper = base.replace(target=0.95)
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .schema import (
    Context, check, check_keys, check_value, field_types, require_table, setting, spec_of, toml_key, write_table,
    write_value,
)
from .schema import read_table as _read_table

METRICS = ("population", "area")
LANGUAGES = ("en", "zh")
BANDS = ("2.4", "5.2", "5.8")
EFFORTS = ("fast", "thorough")
_COLUMN = "a column name in quotes"


@dataclass(frozen=True)
class LayerSource:
    """Where a layer lives and how to read it.

    ``crs`` declares the coordinate system of the file when the file does not say it
    (CSV) or says it wrongly: any pyproj string (``"EPSG:4326"``), or ``"gcj02"`` /
    ``"bd09"`` for Chinese web-map data, which is converted to WGS84 on load.
    ``lon_column`` / ``lat_column`` name the coordinate columns of a CSV file; by
    default common names (lon, lng, longitude, x / lat, latitude, y) are detected.
    ``encoding`` is a CSV file's text encoding (None: detected); ``sheet`` an Excel
    sheet (name, or 0-based number; the older ``layer`` key also names it) and
    ``header_row`` the 1-based row of the column names in a CSV or Excel sheet.
    """

    path: Path = setting(example='path = "layer.gpkg"')
    layer: str | None = setting(None, hint="give the layer (or Excel sheet) name in quotes")
    crs: str | None = setting(None, hint='e.g. crs = "EPSG:4326", "gcj02" or "bd09"')
    lon_column: str | None = setting(None, example='lon_column = "lng"')
    lat_column: str | None = setting(None, example='lat_column = "lat"')
    encoding: str | None = setting(None, codec=True, hint='e.g. encoding = "gbk"; leave it out to detect it')
    sheet: str | int | None = setting(None, lo=0, hi=1000, hint='e.g. sheet = "Sites" or sheet = 0 (the first)')
    header_row: int | None = setting(None, lo=1, hi=1000, hint="the 1-based row holding the column names, e.g. 2")

    @classmethod
    def from_toml(cls, raw: Any, ctx: Context, loc: str, extra: tuple[str, ...] = ()) -> LayerSource:
        """A layer table, or just its path as text (``study_area = "boundary.gpkg"``)."""
        if isinstance(raw, str):
            raw = {"path": raw}
        table = require_table(raw, f"{ctx.where}: {loc}", f'{loc} path = "layer.gpkg"')
        if "path" not in table:
            raise InputError(f"{ctx.where}: {loc} needs a path, e.g. path = \"layer.gpkg\"")
        return _read_table(cls, table, ctx, loc, extra)


@dataclass(frozen=True)
class SiteLayer:
    """A layer of candidate (or existing) hotspot sites: a ``[[sites]]`` table.

    Every feature takes ``category``, or the value of ``category_column``. Site ids
    come from ``id_column``; without one they are ``<file stem>-<row number>``.
    ``existing = True`` marks hotspots already installed: they are preselected and
    cost nothing new. ``cost_column`` / ``radius_column`` / ``wired_column`` name
    per-site overrides of the category's cost, radius (metres) and backhaul; when not
    given, columns literally named ``cost``, ``radius_m`` and ``wired`` are used.
    """

    source: LayerSource = setting(flatten=True)
    category: str | None = setting(None, hint="name a [categories.NAME] table")
    category_column: str | None = setting(None, example='category_column = "kind"')
    id_column: str | None = setting(None, example='id_column = "site_id"')
    name_column: str | None = setting(None, example='name_column = "name"')
    existing: bool = setting(False, hint="write existing = true or existing = false, without quotes")
    cost_column: str | None = setting(None, example='cost_column = "cost"')
    radius_column: str | None = setting(None, example='radius_column = "radius_m"')
    wired_column: str | None = setting(None, example='wired_column = "has_fibre"')

    @classmethod
    def from_toml(cls, raw: Any, ctx: Context, loc: str) -> SiteLayer:
        table = require_table(raw, f"{ctx.where}: {loc}", '[[sites]] path = "schools.csv"')
        if "path" not in table:
            raise InputError(f"{ctx.where}: {loc} needs a path, e.g. path = \"schools.csv\"")
        return _read_table(cls, table, ctx, loc)


@dataclass(frozen=True)
class Category:
    """A kind of site (``[categories.NAME]``): coverage radius in metres and the cost of
    one new hotspot.

    ``radio`` (a :class:`~coverage.radio.RadioProfile`) is the access point installed
    at such sites; when the scenario gives a radio profile and no ``radius_m``, the
    radius comes from its link budget. ``wired`` says whether such sites have fibre
    backhaul (public buildings and hubs usually do) or must link wirelessly (mesh).
    ``phase`` orders the build (1 first); ``required = true`` installs every site of it.
    ``label_zh`` is the label on Chinese pages and summaries (``language = "zh"``).
    """

    name: str = setting(toml=False)
    radius_m: float = setting(lo=0, lo_open=True, hi=5000, unit="metres",
                              hint="outdoor Wi-Fi reaches tens to a few hundred metres, e.g. radius_m = 100")
    cost: float = setting(1.0, lo=0, lo_open=True, hi=1e9, hint="cost of one new hotspot, e.g. cost = 1.0")
    label: str | None = setting(None, example='label = "School"')
    label_zh: str | None = setting(None, example='label_zh = "学校"')
    radio: Any = None
    wired: bool = setting(True, hint="write wired = true or wired = false, without quotes")
    phase: int = setting(1, lo=1, hi=20, hint="phase 1 is built first, e.g. phase = 2")
    required: bool = setting(False, hint="write required = true to install every site of the category")

    @property
    def display_name(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    @classmethod
    def from_toml(cls, raw: Any, ctx: Context, loc: str, name: str) -> Category:
        """A [categories.NAME] table: radius_m, or a radio profile whose link budget gives it."""
        table = require_table(raw, f"{ctx.where}: {loc}", f"{loc} radius_m = 100")
        radio_table = table.get("radio")
        check_keys(table, {toml_key(f) for f in dataclasses.fields(cls) if spec_of(f).toml} | {"radio"},
                   f"{ctx.where}: {loc}")
        if radio_table is None:
            if "radius_m" not in table:
                raise InputError(f"{ctx.where}: {loc} needs radius_m (metres), or a {loc[:-1]}.radio] profile; "
                                 "add e.g. radius_m = 100")
            return _read_table(cls, {k: v for k, v in table.items() if k != "radio"}, ctx, loc, name=name)
        if "radius_m" in table:
            raise InputError(f"{ctx.where}: {loc}: give radius_m or a radio profile, not both "
                             "(a fixed radius with a profile goes in the radio table: radius_m = …)")
        from .radio import profile_from_table, radius_m  # numpy: only for scenarios with radio profiles

        radio_loc = f"{ctx.where} {loc[:-1]}.radio]"
        radio = profile_from_table(require_table(radio_table, radio_loc, 'band = "2.4"'), radio_loc)
        rest = {k: v for k, v in table.items() if k != "radio"}
        return _read_table(cls, rest, ctx, loc, name=name, radio=radio,
                           radius_m=radius_m(radio, radio_loc).radius_m)

    def to_toml(self, rel: Any) -> dict:
        table = write_table(self, rel)
        table["cost"] = self.cost
        if self.radio is None:
            table = {"radius_m": self.radius_m, **table}
        else:
            table.pop("radius_m", None)
            defaults = type(self.radio)()
            table["radio"] = {k: v for k, v in dataclasses.asdict(self.radio).items()
                              if v is not None and v != getattr(defaults, k)} or {"band": self.radio.band}
        return table


@dataclass(frozen=True)
class Budget:
    """Limits on the new sites (existing hotspots do not count against it): ``[budget]``."""

    max_sites: int | None = setting(None, lo=0, hi=10_000_000, hint="a count of new sites, e.g. max_sites = 500")
    max_cost: float | None = setting(None, lo=0, hi=1e12, hint="total cost of new sites, e.g. max_cost = 800")

    @property
    def is_limited(self) -> bool:
        return self.max_sites is not None or self.max_cost is not None


@dataclass(frozen=True)
class Network:
    """Settings of the channel, backhaul and capacity checks: ``[network]``.

    ``band`` is the band of categories without a radio profile. Hotspots interfere when
    their circles overlap or when closer than ``co_channel_distance_m`` (0: overlap
    only). Wireless sites link to each other within ``mesh_range_m`` metres. Concurrent
    users per site = population served × ``take_up_rate`` × ``concurrency``, against
    ``users_per_ap`` for each of ``aps_per_site`` access points.
    """

    band: str = setting("2.4", choices=BANDS, hint='the band in GHz, e.g. band = "5.8"')
    co_channel_distance_m: float = setting(0.0, lo=0, hi=10_000, unit="metres", example="co_channel_distance_m = 0")
    mesh_range_m: float = setting(300.0, lo=0, hi=50_000, unit="metres", example="mesh_range_m = 300")
    take_up_rate: float = setting(0.10, noun="a fraction", lo=0, hi=1, hint="share of the people served, e.g. 0.10")
    concurrency: float = setting(0.20, noun="a fraction", lo=0, hi=1, hint="share of users online at once, e.g. 0.20")
    users_per_ap: float = setting(50.0, lo=0, hi=10_000, hint="concurrent users one access point serves, e.g. 50")
    aps_per_site: int = setting(1, lo=1, hi=64, hint="access points per site, e.g. aps_per_site = 2")

    @classmethod
    def from_toml(cls, raw: Any, ctx: Context, loc: str) -> Network:
        table = dict(require_table(raw, f"{ctx.where}: {loc}", '[network] band = "2.4"'))
        band = table.get("band")
        if isinstance(band, (int, float)) and not isinstance(band, bool):
            table["band"] = f"{band:g}"  # band = 2.4 written as a number
        return _read_table(cls, table, ctx, loc)


@dataclass(frozen=True)
class Solver:
    """How hard to work after greedy: ``[solver]``.

    ``local_search`` drops redundant sites and tries 1-out/1-in swaps (capped by
    ``max_rounds`` and ``max_swap_evaluations`` so results are deterministic); ``bound``
    proves a lower bound on the optimal cost with the LP relaxation (HiGHS, at most
    ``bound_time_limit_s`` seconds); ``exact`` solves the integer programme (HiGHS MILP,
    at most ``exact_time_limit_s`` seconds) and keeps its plan when it is cheaper.
    ``effort`` is "fast" or "thorough".
    """

    local_search: bool = setting(True, hint="write local_search = true or false, without quotes")
    max_rounds: int = setting(10, lo=0, hi=10_000, example="max_rounds = 10")
    max_swap_evaluations: int = setting(20_000, lo=0, hi=1_000_000_000, example="max_swap_evaluations = 20000")
    bound: bool = setting(True, hint="write bound = true or false, without quotes")
    bound_time_limit_s: float = setting(10.0, lo=0, lo_open=True, hi=86_400, unit="seconds",
                                        example="bound_time_limit_s = 10")
    exact: bool = setting(False, hint="write exact = true or false, without quotes")
    exact_time_limit_s: float = setting(60.0, lo=0, lo_open=True, hi=86_400, unit="seconds",
                                        example="exact_time_limit_s = 60")
    effort: str = setting("fast", choices=EFFORTS, hint='e.g. effort = "thorough"')


@dataclass(frozen=True)
class Gapfill:
    """Generated gap-filling candidates: ``[gapfill]``. Sites on a square lattice of
    ``spacing_m`` metres, of category ``category`` (radius, cost, wiring and phase
    from ``[categories.<category>]``), over demand the layers' sites do not reach."""

    category: str = setting(hint='name a [categories.NAME] table, e.g. category = "street"')
    spacing_m: float = setting(100.0, lo=5, hi=10_000, unit="metres", hint="lattice spacing, e.g. spacing_m = 100")


@dataclass(frozen=True)
class Equity:
    """District minimum coverage on top of the city-wide target: ``[equity]``
    ``min_coverage`` for every district and ``[equity.districts]`` per district."""

    min_coverage: float | None = setting(None, noun="a fraction", lo=0, hi=1, hint="e.g. min_coverage = 0.9")
    districts: dict[str, float] = setting(default_factory=dict, lo=0, hi=1,
                                          hint='fractions per district name, e.g. "Futian" = 0.95')


@dataclass(frozen=True)
class Rollout:
    """A year-by-year roll-out: ``[rollout]``. Each year installs at most
    ``budget_per_year`` (cost units) or ``sites_per_year`` new sites, from ``start_year``
    (to ``end_year`` when given)."""

    start_year: int = setting(lo=1990, hi=2200, hint="a calendar year, e.g. start_year = 2011")
    end_year: int | None = setting(None, lo=1990, hi=2200, hint="a calendar year, e.g. end_year = 2015")
    budget_per_year: float | None = setting(None, lo=0, lo_open=True, hi=1e12, hint="cost units a year, e.g. 200")
    sites_per_year: int | None = setting(None, lo=1, hi=10_000_000, hint="new sites a year, e.g. 800")


@dataclass(frozen=True)
class Scenario:
    """Everything a planning run needs: the top level of a scenario file.

    ``target`` is the fraction (0–1] of total demand to cover, measured by ``metric``
    ("population" or "area"). ``cell_size_m`` is the side of a demand cell in metres.
    ``language`` ("en" or "zh") is the default language of the map and summary.
    ``demand_points_per_cell`` (k) splits each cell into k × k demand points sharing its
    demand; a point counts as covered when it lies within ``radius − coverage_margin_m``
    metres of a hotspot (see docs/reach99.md: coverage must not be a grid artefact).
    """

    study_area: LayerSource = setting(example='[study_area] path = "boundary.gpkg"')
    sites: tuple[SiteLayer, ...] = setting(example='[[sites]] path = "schools.csv"')
    categories: dict[str, Category] = setting(example="[categories.school] radius_m = 100")
    name: str = setting("scenario", always=True, example='name = "Shenzhen"')
    target: float = setting(0.99, noun="a fraction", lo=0, lo_open=True, hi=1, always=True, hint="e.g. target = 0.99")
    metric: str = setting("population", choices=METRICS, always=True, hint='e.g. metric = "area"')
    cell_size_m: float = setting(100.0, lo=1, hi=10_000, unit="metres", always=True,
                                 hint="the side of a demand cell, e.g. cell_size_m = 100")
    demand_points_per_cell: int = setting(1, lo=1, hi=4, always=False,
                                          hint="k for k × k demand points per cell, e.g. demand_points_per_cell = 2")
    coverage_margin_m: float = setting(0.0, lo=0, hi=100, unit="metres",
                                       hint="a point counts as covered this far inside a radius, e.g. 25")
    districts: LayerSource | None = None
    district_name_column: str = setting("name", table="districts", key="name_column", example='name_column = "name"')
    population: LayerSource | None = None
    population_column: str = setting("population", table="population", key="column",
                                      example='column = "population"')
    budget: Budget = setting(default_factory=Budget)
    forced: tuple[str, ...] = setting((), example='forced = ["LB-FT-051"]')
    forbidden: tuple[str, ...] = setting((), example='forbidden = ["SC-002"]')
    network: Network = setting(default_factory=Network)
    solver: Solver = setting(default_factory=Solver)
    language: str = setting("en", choices=LANGUAGES, hint='e.g. language = "zh"')
    gapfill: Gapfill | None = None
    equity: Equity = setting(default_factory=Equity)
    rollout: Rollout | None = None
    source_file: Path | None = setting(None, toml=False)

    def __post_init__(self) -> None:
        validate(self)

    def replace(self, **changes: Any) -> Scenario:
        """A copy with some fields changed, validated like the original."""
        return dataclasses.replace(self, **changes)

    def with_category(self, name: str, **changes: Any) -> Scenario:
        """A copy in which category ``name`` has new settings (``radius_m``, ``cost``)."""
        if name not in self.categories:
            raise InputError(
                f"unknown category {name!r}; the scenario has: {', '.join(sorted(self.categories))}"
            )
        categories = dict(self.categories)
        radio = categories[name].radio
        if "radius_m" in changes and radio is not None:  # a fixed radius overrides the link budget
            changes = {**changes, "radio": dataclasses.replace(radio, radius_m=changes["radius_m"])}
        categories[name] = dataclasses.replace(categories[name], **changes)
        return self.replace(categories=categories)

    def with_overrides(self, labels: Mapping[str, str] | None = None, **changes: Any) -> Scenario:
        """A copy with settings given by name, wherever they live in the file (``target``,
        ``cell_size_m``, ``max_sites``, ``max_cost``, ``local_search``, ``bound``, ``exact``,
        ``effort``, ``language``, …). ``None`` values are ignored. Each value is checked
        on its own first, and an error names ``labels[key]`` (e.g. the command-line flag
        ``--cell-size``) instead of the file's key."""
        labels = labels or {}
        grouped: dict[str, dict[str, Any]] = {}
        for key, value in changes.items():
            if value is None:
                continue
            owner, f = _override_field(key)
            spec, label = spec_of(f), labels.get(key, key)
            if label != key:  # the fix in the caller's terms: "e.g. --cell-size 100", not "cell_size_m = 100"
                spec = dataclasses.replace(spec, hint=spec.hint.replace(f"{key} = ", f"{label} "),
                                           example=spec.example.replace(f"{key} = ", f"{label} "))
            check_value(value, field_types(type(self) if owner is None else _OWNERS[owner])[key], spec, label)
            grouped.setdefault(owner or "", {})[key] = value
        top = grouped.pop("", {})
        for owner, values in grouped.items():
            top[owner] = dataclasses.replace(getattr(self, owner), **values)
        return self.replace(**top) if top else self


_OWNERS = {"budget": Budget, "solver": Solver}


def _override_field(key: str) -> tuple[str | None, dataclasses.Field]:
    """Which table holds setting ``key``: None for the top level, or "budget"/"solver"."""
    overridable = {"target", "metric", "cell_size_m", "language", "name", "demand_points_per_cell",
                   "coverage_margin_m"}
    if key in overridable:
        return None, next(f for f in dataclasses.fields(Scenario) if f.name == key)
    for owner, cls in _OWNERS.items():
        for f in dataclasses.fields(cls):
            if f.name == key:
                return owner, f
    raise TypeError(f"with_overrides: unknown setting {key!r}")


def validate(scenario: Scenario) -> None:
    """Raise :class:`InputError` for settings that cannot work: every value type- and
    range-checked against its declaration, then the rules that tie values together."""
    where = f"scenario file {scenario.source_file}" if scenario.source_file else "scenario"
    check(scenario, where)
    if not scenario.sites:
        raise InputError(f"{where}: no site layers; add at least one [[sites]] table with a path and a category")
    if scenario.metric == "population" and scenario.population is None:
        raise InputError(
            f"{where}: metric is 'population' but no [population] layer is given; "
            "add one or set metric = \"area\""
        )
    for i, layer in enumerate(scenario.sites):
        _check_site_layer(layer, f"{where}: [[sites]] #{i + 1} ({layer.source.path.name})", scenario.categories)
    if scenario.gapfill is not None and scenario.gapfill.category not in scenario.categories:
        raise InputError(f"{where}: [gapfill] category {scenario.gapfill.category!r} is not defined; add "
                         f"[categories.{scenario.gapfill.category}] with radius_m and cost")
    _check_margin(scenario, where)
    rollout = scenario.rollout
    if rollout is not None and rollout.end_year is not None and rollout.end_year < rollout.start_year:
        raise InputError(f"{where}: [rollout] end_year {rollout.end_year} is before start_year "
                         f"{rollout.start_year}; give an end_year ≥ start_year")
    both = sorted(set(scenario.forced) & set(scenario.forbidden))
    if both:
        raise InputError(f"{where}: sites both forced and forbidden: {', '.join(both)}; keep each in one list")


def _check_margin(scenario: Scenario, where: str) -> None:
    """The coverage margin must leave every category a positive radius."""
    margin = scenario.coverage_margin_m
    if margin <= 0:
        return
    for name, cat in sorted(scenario.categories.items()):
        if cat.radius_m <= margin:
            raise InputError(f"{where}: coverage_margin_m = {margin:g} is not below [categories.{name}] radius_m = "
                             f"{cat.radius_m:g}; lower the margin or raise the radius")


def _check_site_layer(layer: SiteLayer, here: str, categories: Mapping[str, Category]) -> None:
    if (layer.category is None) == (layer.category_column is None):
        raise InputError(f"{here}: give exactly one of category or category_column")
    if layer.category is not None and layer.category not in categories:
        raise InputError(f"{here}: category {layer.category!r} is not defined; "
                         f"add [categories.{layer.category}] with radius_m and cost")


# --- reading and writing TOML -------------------------------------------------------


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read a scenario TOML file; relative layer paths are taken from its folder."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise InputError(f"scenario file {path} does not exist; check the path") from None
    except IsADirectoryError:
        raise InputError(f"scenario file {path} is a folder; name the .toml file inside it, "
                         f"e.g. {path / 'scenario.toml'}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"scenario file {path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                         f"position {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"scenario file {path} is not valid TOML: {exc}; fix that line "
                         '(see the README, "Scenario file")') from None
    except OSError as exc:
        raise InputError(f"scenario file {path} cannot be read: {exc.strerror}; check its permissions") from None
    return scenario_from_dict(data, base_dir=path.resolve().parent, source_file=path)


def scenario_from_dict(data: Mapping[str, Any], base_dir: str | os.PathLike | None = None,
                       source_file: Path | None = None) -> Scenario:
    """Build a :class:`Scenario` from the structure of a scenario file (a dict as
    :mod:`tomllib` returns it); relative paths are taken from ``base_dir``."""
    where = f"scenario file {source_file}" if source_file else "scenario"
    ctx = Context(where=where, base_dir=Path(base_dir) if base_dir else Path.cwd())
    data = dict(require_table(data, where, "a TOML document"))
    for key, example in (("study_area", '[study_area] path = "boundary.gpkg"'),
                         ("sites", '[[sites]] path = "schools.csv"'),
                         ("categories", "[categories.school] radius_m = 100")):
        if key not in data:
            raise InputError(f"{where}: missing {key}; add it, e.g. {example}")
    data.setdefault("name", source_file.stem if source_file else "scenario")
    data.setdefault("metric", "population" if data.get("population") else "area")
    given = {"source_file": source_file}
    for key, extra in (("districts", ("name_column",)), ("population", ("column",))):
        if data.get(key) is not None:
            given[key] = LayerSource.from_toml(data[key], ctx, f"[{key}]", extra)
    return _read_table(Scenario, data, ctx, "", **given)


def scenario_to_dict(scenario: Scenario, relative_to: Path | None = None) -> dict:
    """The scenario-file structure of ``scenario``; paths relative to ``relative_to``."""

    def rel(path: Path) -> str:
        if relative_to is None:
            return str(path)
        return Path(os.path.relpath(path, relative_to)).as_posix()

    data = write_table(scenario, rel)
    data["study_area"] = write_value(scenario.study_area, rel)  # always a table, even with only a path
    order = [*_FILE_ORDER, *data]  # the layers first, as a person writes the file; the rest as declared
    return {key: data[key] for key in dict.fromkeys(order) if key in data}


_FILE_ORDER = ("name", "language", "target", "metric", "cell_size_m", "demand_points_per_cell", "coverage_margin_m",
               "forced", "forbidden",
               "study_area", "districts", "population", "budget")


def save_scenario(scenario: Scenario, path: str | os.PathLike, relative_to: str | os.PathLike | None = None) -> None:
    """Write ``scenario`` as a TOML file with paths relative to ``relative_to``
    (default: the file's folder)."""
    import tomli_w

    path = Path(path)
    base = Path(relative_to).resolve() if relative_to else path.resolve().parent
    text = tomli_w.dumps(scenario_to_dict(scenario, relative_to=base))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
