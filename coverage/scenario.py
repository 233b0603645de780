"""The scenario: which layers to read and how to plan, as plain, serialisable data.

A scenario is a small TOML file (see the README, "Scenario file") or the same
structure built in Python. Paths in a file are relative to the file's folder; on
load they become absolute so a :class:`Scenario` can be used from anywhere.

Derive what-if variants with :meth:`Scenario.replace`::

    base = load_scenario("gis_data/shenzhen/scenario.toml")
    cheaper = base.replace(target=0.95)
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError

METRICS = ("population", "area")


@dataclass(frozen=True)
class LayerSource:
    """Where a layer lives and how to read it.

    ``crs`` declares the coordinate system of the file when the file does not say it
    (CSV) or says it wrongly: any pyproj string (``"EPSG:4326"``), or ``"gcj02"`` /
    ``"bd09"`` for Chinese web-map data, which is converted to WGS84 on load.
    ``lon_column`` / ``lat_column`` name the coordinate columns of a CSV file; by
    default common names (lon, lng, longitude, x / lat, latitude, y) are detected.
    """

    path: Path
    layer: str | None = None
    crs: str | None = None
    lon_column: str | None = None
    lat_column: str | None = None


@dataclass(frozen=True)
class SiteLayer:
    """A layer of candidate (or existing) hotspot sites.

    Every feature takes ``category``, or the value of ``category_column``. Site ids
    come from ``id_column``; without one they are ``<file stem>-<row number>``.
    ``existing = True`` marks hotspots already installed: they are preselected and
    cost nothing new.
    """

    source: LayerSource
    category: str | None = None
    category_column: str | None = None
    id_column: str | None = None
    name_column: str | None = None
    existing: bool = False


@dataclass(frozen=True)
class Category:
    """A kind of site: coverage radius in metres and the cost of one new hotspot.

    ``radio`` (a :class:`~coverage.radio.RadioProfile`) is the access point installed
    at such sites; when the scenario gives a radio profile and no ``radius_m``, the
    radius comes from its link budget. ``wired`` says whether such sites have fibre
    backhaul (public buildings and hubs usually do) or must link wirelessly (mesh).
    """

    name: str
    radius_m: float
    cost: float = 1.0
    label: str | None = None
    radio: Any = None
    wired: bool = True

    @property
    def display_name(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Budget:
    """Limits on the new sites (existing hotspots do not count against it)."""

    max_sites: int | None = None
    max_cost: float | None = None

    @property
    def is_limited(self) -> bool:
        return self.max_sites is not None or self.max_cost is not None


@dataclass(frozen=True)
class Network:
    """Settings of the channel, backhaul and capacity checks.

    ``band`` is the band of categories without a radio profile. Hotspots interfere when
    their circles overlap or when closer than ``co_channel_distance_m`` (0: overlap
    only). Wireless sites link to each other within ``mesh_range_m`` metres. Concurrent
    users per site = population served × ``take_up_rate`` × ``concurrency``, against
    ``users_per_ap`` for each of ``aps_per_site`` access points.
    """

    band: str = "2.4"
    co_channel_distance_m: float = 0.0
    mesh_range_m: float = 300.0
    take_up_rate: float = 0.10
    concurrency: float = 0.20
    users_per_ap: float = 50.0
    aps_per_site: int = 1


@dataclass(frozen=True)
class Solver:
    """How hard to work after greedy.

    ``local_search`` drops redundant sites and tries 1-out/1-in swaps (capped by
    ``max_rounds`` and ``max_swap_evaluations`` so results are deterministic); ``bound``
    proves a lower bound on the optimal cost with the LP relaxation (HiGHS, at most
    ``bound_time_limit_s`` seconds); ``exact`` solves the integer programme (HiGHS MILP,
    at most ``exact_time_limit_s`` seconds) and keeps its plan when it is cheaper.
    """

    local_search: bool = True
    max_rounds: int = 10
    max_swap_evaluations: int = 20_000
    bound: bool = True
    bound_time_limit_s: float = 10.0
    exact: bool = False
    exact_time_limit_s: float = 60.0


@dataclass(frozen=True)
class Scenario:
    """Everything a planning run needs.

    ``target`` is the fraction (0–1] of total demand to cover, measured by ``metric``
    ("population" or "area"). ``cell_size_m`` is the side of a demand cell in metres.
    """

    study_area: LayerSource
    sites: tuple[SiteLayer, ...]
    categories: dict[str, Category]
    name: str = "scenario"
    target: float = 0.99
    metric: str = "population"
    cell_size_m: float = 100.0
    districts: LayerSource | None = None
    district_name_column: str = "name"
    population: LayerSource | None = None
    population_column: str = "population"
    budget: Budget = field(default_factory=Budget)
    forced: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    network: Network = field(default_factory=Network)
    solver: Solver = field(default_factory=Solver)
    source_file: Path | None = None

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


def validate(scenario: Scenario) -> None:
    """Raise :class:`InputError` for settings that cannot work."""
    where = f"scenario {scenario.source_file}" if scenario.source_file else "scenario"
    if not (isinstance(scenario.target, (int, float)) and 0 < scenario.target <= 1):
        raise InputError(f"{where}: target must be a fraction in (0, 1], e.g. 0.99; got {scenario.target!r}")
    if scenario.metric not in METRICS:
        raise InputError(f"{where}: metric must be one of {', '.join(METRICS)}; got {scenario.metric!r}")
    if scenario.metric == "population" and scenario.population is None:
        raise InputError(
            f"{where}: metric is 'population' but no [population] layer is given; "
            "add one or set metric = \"area\""
        )
    if not (_is_number(scenario.cell_size_m) and scenario.cell_size_m > 0):
        raise InputError(f"{where}: cell_size_m must be a positive number of metres; got {scenario.cell_size_m!r}")
    if not scenario.sites:
        raise InputError(f"{where}: no site layers; add at least one [[sites]] table")
    for name, cat in scenario.categories.items():
        if not (_is_number(cat.radius_m) and cat.radius_m > 0):
            raise InputError(f"{where}: category {name!r}: radius_m must be a positive number of metres")
        if not (_is_number(cat.cost) and cat.cost > 0):
            raise InputError(f"{where}: category {name!r}: cost must be a positive number")
    for layer in scenario.sites:
        if (layer.category is None) == (layer.category_column is None):
            raise InputError(
                f"{where}: site layer {layer.source.path}: give exactly one of category or category_column"
            )
        if layer.category is not None and layer.category not in scenario.categories:
            raise InputError(
                f"{where}: site layer {layer.source.path}: category {layer.category!r} is not defined; "
                f"add [categories.{layer.category}] with radius_m and cost"
            )
    budget = scenario.budget
    if budget.max_sites is not None and (not isinstance(budget.max_sites, int) or budget.max_sites < 0):
        raise InputError(f"{where}: budget max_sites must be a whole number ≥ 0; got {budget.max_sites!r}")
    if budget.max_cost is not None and not (_is_number(budget.max_cost) and budget.max_cost >= 0):
        raise InputError(f"{where}: budget max_cost must be a number ≥ 0; got {budget.max_cost!r}")
    net = scenario.network
    for key in ("co_channel_distance_m", "mesh_range_m", "take_up_rate", "concurrency", "users_per_ap"):
        value = getattr(net, key)
        if not (_is_number(value) and value >= 0):
            raise InputError(f"{where}: [network] {key} must be a number ≥ 0; got {value!r}")
    if net.band not in ("2.4", "5.2", "5.8"):
        raise InputError(f"{where}: [network] band must be \"2.4\", \"5.2\" or \"5.8\" (GHz); got {net.band!r}")
    if not (isinstance(net.aps_per_site, int) and net.aps_per_site >= 1):
        raise InputError(f"{where}: [network] aps_per_site must be a whole number ≥ 1")
    solver = scenario.solver
    for key in ("local_search", "bound", "exact"):
        if not isinstance(getattr(solver, key), bool):
            raise InputError(f"{where}: [solver] {key} must be true or false")
    for key in ("max_rounds", "max_swap_evaluations"):
        if not (isinstance(getattr(solver, key), int) and getattr(solver, key) >= 0):
            raise InputError(f"{where}: [solver] {key} must be a whole number ≥ 0")
    for key in ("bound_time_limit_s", "exact_time_limit_s"):
        if not (_is_number(getattr(solver, key)) and getattr(solver, key) > 0):
            raise InputError(f"{where}: [solver] {key} must be a positive number of seconds")
    both = sorted(set(scenario.forced) & set(scenario.forbidden))
    if both:
        raise InputError(f"{where}: sites both forced and forbidden: {', '.join(both)}; keep each in one list")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# --- reading and writing TOML -------------------------------------------------------

_TOP_KEYS = {
    "name", "target", "metric", "cell_size_m", "study_area", "districts", "population",
    "categories", "sites", "budget", "forced", "forbidden", "network", "solver",
}
_SOURCE_KEYS = {"path", "layer", "crs", "lon_column", "lat_column"}
_SITE_KEYS = _SOURCE_KEYS | {"category", "category_column", "id_column", "name_column", "existing"}
_CATEGORY_KEYS = {"radius_m", "cost", "label", "radio", "wired"}
_NETWORK_KEYS = {f.name for f in dataclasses.fields(Network)}
_SOLVER_KEYS = {f.name for f in dataclasses.fields(Solver)}


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read a scenario TOML file; relative layer paths are taken from its folder."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise InputError(f"scenario file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"scenario file {path} is not valid TOML: {exc}") from None
    return scenario_from_dict(data, base_dir=path.resolve().parent, source_file=path)


def scenario_from_dict(data: dict, base_dir: Path | None = None, source_file: Path | None = None) -> Scenario:
    """Build a :class:`Scenario` from the structure of a scenario file."""
    where = f"scenario file {source_file}" if source_file else "scenario"
    base_dir = Path(base_dir) if base_dir else Path.cwd()
    _check_keys(data, _TOP_KEYS, where)

    def source(table: Any, key: str, keys: set[str] = _SOURCE_KEYS) -> LayerSource:
        if isinstance(table, str):
            table = {"path": table}
        if not isinstance(table, dict) or "path" not in table:
            raise InputError(f"{where}: [{key}] needs a path, e.g. path = \"layer.gpkg\"")
        _check_keys(table, keys, f"{where} [{key}]")
        return LayerSource(
            path=(base_dir / table["path"]).resolve(),
            layer=table.get("layer"),
            crs=table.get("crs"),
            lon_column=table.get("lon_column"),
            lat_column=table.get("lat_column"),
        )

    if "study_area" not in data:
        raise InputError(f"{where}: missing [study_area] with the path of the study-area polygon layer")
    categories = {name: _category(name, table, where) for name, table in data.get("categories", {}).items()}
    sites = []
    for i, table in enumerate(data.get("sites", [])):
        key = f"sites #{i + 1}"
        src = source(table, key, _SITE_KEYS)
        sites.append(SiteLayer(
            source=src,
            category=table.get("category"),
            category_column=table.get("category_column"),
            id_column=table.get("id_column"),
            name_column=table.get("name_column"),
            existing=bool(table.get("existing", False)),
        ))
    districts = data.get("districts")
    population = data.get("population")
    budget = data.get("budget", {})
    _check_keys(budget, {"max_sites", "max_cost"}, f"{where} [budget]")
    network = data.get("network", {})
    _check_keys(network, _NETWORK_KEYS, f"{where} [network]")
    solver = data.get("solver", {})
    _check_keys(solver, _SOLVER_KEYS, f"{where} [solver]")
    if isinstance(network.get("band"), (int, float)):
        network = {**network, "band": f"{network['band']:g}"}
    return Scenario(
        name=data.get("name", source_file.stem if source_file else "scenario"),
        target=data.get("target", 0.99),
        metric=data.get("metric", "population" if population else "area"),
        cell_size_m=data.get("cell_size_m", 100.0),
        study_area=source(data["study_area"], "study_area"),
        districts=source(districts, "districts", _SOURCE_KEYS | {"name_column"}) if districts else None,
        district_name_column=(districts or {}).get("name_column", "name") if isinstance(districts, dict) else "name",
        population=source(population, "population", _SOURCE_KEYS | {"column"}) if population else None,
        population_column=(population or {}).get("column", "population") if isinstance(population, dict) else "population",
        sites=tuple(sites),
        categories=categories,
        budget=Budget(max_sites=budget.get("max_sites"), max_cost=budget.get("max_cost")),
        forced=tuple(str(s) for s in data.get("forced", ())),
        forbidden=tuple(str(s) for s in data.get("forbidden", ())),
        network=Network(**network),
        solver=Solver(**solver),
        source_file=source_file,
    )


def _category(name: str, table: Any, where: str) -> Category:
    """A [categories.NAME] table: radius_m, or a radio profile whose link budget gives it."""
    from .radio import profile_from_table, radius_m

    here = f"{where} [categories.{name}]"
    if not isinstance(table, dict):
        raise InputError(f"{here} must be a table with radius_m (metres) and cost")
    _check_keys(table, _CATEGORY_KEYS, here)
    radio = profile_from_table(table["radio"], f"{here}.radio") if "radio" in table else None
    if radio is None and "radius_m" not in table:
        raise InputError(f"{here} needs radius_m (metres), or a [categories.{name}.radio] profile")
    if radio is not None and "radius_m" in table:
        raise InputError(f"{here}: give radius_m or a radio profile, not both "
                         "(a fixed radius with a profile goes in the radio table: radius_m = …)")
    radius = radius_m(radio, f"{here}.radio").radius_m if radio is not None else table["radius_m"]
    wired = table.get("wired", True)
    if not isinstance(wired, bool):
        raise InputError(f"{here}: wired must be true or false")
    return Category(name=name, radius_m=radius, cost=table.get("cost", 1.0), label=table.get("label"),
                    radio=radio, wired=wired)


def scenario_to_dict(scenario: Scenario, relative_to: Path | None = None) -> dict:
    """The scenario-file structure of ``scenario``; paths relative to ``relative_to``."""

    def rel(path: Path) -> str:
        if relative_to is None:
            return str(path)
        return Path(os.path.relpath(path, relative_to)).as_posix()

    def source(src: LayerSource, **extra: Any) -> dict:
        out = {"path": rel(src.path)}
        for key in ("layer", "crs", "lon_column", "lat_column"):
            if getattr(src, key) is not None:
                out[key] = getattr(src, key)
        out.update({k: v for k, v in extra.items() if v is not None})
        return out

    data: dict[str, Any] = {
        "name": scenario.name,
        "target": scenario.target,
        "metric": scenario.metric,
        "cell_size_m": scenario.cell_size_m,
    }
    if scenario.forced:
        data["forced"] = list(scenario.forced)
    if scenario.forbidden:
        data["forbidden"] = list(scenario.forbidden)
    data["study_area"] = source(scenario.study_area)
    if scenario.districts:
        data["districts"] = source(scenario.districts, name_column=scenario.district_name_column)
    if scenario.population:
        data["population"] = source(scenario.population, column=scenario.population_column)
    budget = {k: v for k, v in dataclasses.asdict(scenario.budget).items() if v is not None}
    if budget:
        data["budget"] = budget
    if scenario.network != Network():
        data["network"] = {k: v for k, v in dataclasses.asdict(scenario.network).items()
                           if v != getattr(Network(), k)}
    if scenario.solver != Solver():
        data["solver"] = {k: v for k, v in dataclasses.asdict(scenario.solver).items()
                          if v != getattr(Solver(), k)}
    data["categories"] = {name: _category_table(c) for name, c in scenario.categories.items()}
    data["sites"] = [
        source(s.source, category=s.category, category_column=s.category_column, id_column=s.id_column,
               name_column=s.name_column, existing=s.existing or None)
        for s in scenario.sites
    ]
    return data


def _category_table(category: Category) -> dict:
    table: dict[str, Any] = {}
    if category.radio is None:
        table["radius_m"] = category.radius_m
    table["cost"] = category.cost
    if category.label is not None:
        table["label"] = category.label
    if not category.wired:
        table["wired"] = False
    if category.radio is not None:
        defaults = type(category.radio)()
        table["radio"] = {k: v for k, v in dataclasses.asdict(category.radio).items()
                          if v is not None and v != getattr(defaults, k)} or {"band": category.radio.band}
    return table


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


def _check_keys(table: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
