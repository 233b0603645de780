"""The planning pipeline: scenario in, :class:`Plan` out.

::

    prepare (coverage.problem): layers → demand → sites → coverage matrix → Problem
    solve: phases → lazy greedy → Lagrangian solver → floors → roll-out → Plan

Everything is computed in the UTM zone of the study area (metres); the Plan hands
results back in WGS84 (EPSG:4326).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import analyse
from .errors import InputError
from .layers import WGS84
from .matrix import cells_reached
from .progress import stage
from .scenario import Scenario
from .solver import Instance, Quality, Solution
from .solver.run import improve_and_bound, run_greedy
from .problem import Problem, prepare, saved_problem, weight_column
from .phases import PhasedPlan
from .phasing import is_phased, meet_floors, plan_rollout, solve_phased
from .rollout import RolloutPlan

log = logging.getLogger(__name__)


@dataclass
class Plan:
    """A planning result and everything needed to inspect or re-evaluate it.

    ``solution.order`` indexes ``problem.sites`` in selection order. ``kind`` is
    "optimised" for a plan the planner chose (greedy, then the solver; folders written
    before the solver's plan was kept say "greedy") and "what-if" for a site set
    evaluated as given (see :meth:`evaluate`).
    """

    problem: Problem
    scenario: Scenario
    solution: Solution
    allowed: np.ndarray  # sites the plan may use: allowed candidates and preselected ones
    runtime_s: float = 0.0
    kind: str = "optimised"
    quality: Quality = field(default_factory=Quality)  # greedy / improved / bound figures, see solve()
    inputs: tuple = ()  # files or folders read besides the scenario's layers (a base plan, added layers)
    phases: PhasedPlan | None = None  # the phase of each selected site and what each phase added
    rollout: RolloutPlan | None = None  # the year of each selected site and coverage at each year's end
    # summary.json of the folder the plan was loaded from, when its problem was read back exactly
    # (from_folder); a what-if diffs against it instead of summarising the base again
    saved_summary: dict | None = field(default=None, repr=False)
    # the plan folder this plan's problem was read back from exactly (kept by a what-if, which only
    # appends sites): writing copies what did not change from it (coverage.savedproblem.reusable_base)
    base_folder: Path | None = field(default=None, repr=False)
    # a what-if's base plan: the network check keeps its channels where nothing changed (coverage.whatif)
    base: Plan | None = field(default=None, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    # the problem's data, for convenience
    crs = property(lambda self: self.problem.crs)
    study_area = property(lambda self: self.problem.study_area)
    districts = property(lambda self: self.problem.districts)
    cells = property(lambda self: self.problem.cells)
    demand = property(lambda self: self.problem.demand)  # cells' table: what needs no geometry reads this
    sites = property(lambda self: self.problem.sites)
    dropped_sites = property(lambda self: self.problem.dropped_sites)
    matrix = property(lambda self: self.problem.matrix)

    @property
    def weights(self) -> np.ndarray:
        """Demand per cell in the target metric: persons or m²."""
        return self.demand[weight_column(self.scenario)].to_numpy()

    @property
    def covered(self) -> np.ndarray:
        """Boolean mask of cells covered by the plan."""
        return self.solution.covered

    @property
    def reachable(self) -> np.ndarray:
        """Boolean mask of cells some allowed or preselected site could cover."""
        if "reachable" not in self._cache:
            self._cache["reachable"] = cells_reached(self.matrix, np.flatnonzero(self.allowed))
        return self._cache["reachable"]

    def table(self, network: bool = False) -> gpd.GeoDataFrame:
        """The selected sites in rank order with their gains, in the metric CRS (computed once).

        See :func:`coverage.analyse.selected_table`; ``network`` adds the channel,
        backhaul and load columns. Returns a copy, so callers may change it.
        """
        key = ("table", network)
        if key not in self._cache:
            plain = self._cache.get(("table", False))  # the network columns go last: add them to it
            self._cache[key] = analyse.selected_table(self, network=network) if plain is None or not network \
                else analyse.with_network_columns(plain.copy(), self)
        return self._cache[key].copy()

    @property
    def coverage(self) -> float:
        """Covered fraction of total demand in the target metric."""
        return analyse.fraction(self.weights, self.covered)

    @property
    def target_met(self) -> bool:
        return analyse.meets(self.coverage, self.scenario.target)

    @property
    def site_ids(self) -> list[str]:
        """Ids of the selected sites in rank order."""
        return self.sites["site_id"].to_numpy()[self.solution.order].tolist()

    def selected_sites(self, network: bool = False) -> gpd.GeoDataFrame:
        """The selected sites in rank order with marginal gains, in WGS84.

        With ``network=True`` also each site's band, channel, backhaul hops and load.
        """
        return self.table(network=network).to_crs(WGS84)

    def summary(self, network: bool = True) -> dict:
        """The contents of ``summary.json`` (see docs/outputs.md).

        ``network=False`` leaves out the radio, channel, backhaul and capacity sections,
        which take a second or two on a city (sweeps do without them).
        """
        key, plain = ("summary", network), self._cache.get(("summary", False))
        if key not in self._cache and network and plain is not None:
            self._cache[key] = {**plain, **self.network().sections}  # what summarise adds last
        elif key not in self._cache:
            self._cache[key] = analyse.summarise(self, network=network)
        return self._cache[key]

    def network(self):
        """Channels, backhaul and capacity of the selected sites (:class:`~coverage.engineering.NetworkReport`)."""
        if "network" not in self._cache:
            from .engineering import network_report

            with stage("Checking channels, backhaul and capacity") as st:
                self._cache["network"] = report = network_report(self)
                st.result = ", ".join(f"{b} GHz: {c['conflicts']:,} same-channel pairs"
                                      for b, c in report.sections["channels"].items())
        return self._cache["network"]

    def keep_network(self, report) -> None:
        """Use ``report`` as :meth:`network` (e.g. computed by a child process from this plan)."""
        self._cache["network"] = report

    def write(self, out_dir, map: bool = True, map_options: dict | None = None, *, bom: bool = True,
              extra: dict | None = None, offline: bool | None = None):
        """Write summary.json, plan.gpkg, selected_sites.csv, scenario.toml (and map.html) as ``out_dir``.

        The folder is written whole and atomically; see :func:`coverage.outputs.write_plan`
        for ``map_options`` (passed to the map), ``bom`` (CSV byte-order mark) and ``extra``.
        """
        from .outputs import write_plan

        return write_plan(self, out_dir, map=map, map_options=map_options, bom=bom, extra=extra, offline=offline)

    @classmethod
    def from_folder(cls, folder) -> Plan:
        """Rebuild a Plan from a folder written by ``hotspots plan`` (or ``whatif``).

        The problem the plan was solved on is read back from the folder's ``problem/``
        (:mod:`coverage.savedproblem`: matrix, demand units, candidates; no layer is read);
        an older folder, or one whose scenario.toml was edited, is prepared again from
        its scenario.toml. Its selected sites are taken in rank order, what-if sites
        included. A layer changed since the plan was made is refused (InputError); after
        a fresh prepare, a coverage that no longer matches the summary is logged.
        """
        from .planfolder import SCENARIO, SITES_CSV, SUMMARY, PlanFolder
        from .solver import evaluate_order
        from .whatif import NEW_SOURCE, new_sites_table

        saved = PlanFolder(folder, require=(SCENARIO, SUMMARY, SITES_CSV))
        problem = saved_problem(saved.path, saved.scenario)
        exact = problem is not None
        if exact:  # only the columns needed: a city's CSV has tens of thousands of rows
            selected = saved.sites_columns(("site_id", "existing", "forced"))
        else:
            selected = saved.sites_table
            problem = prepare(saved.scenario)
            added = selected[selected["source"] == NEW_SOURCE]
            if len(added):
                records = added[["site_id", "name", "lon", "lat", "category"]].to_dict(orient="records")
                problem = problem.with_new_sites(new_sites_table(problem, records))
        order = problem.site_index(selected["site_id"].tolist())
        n_pre = int((_as_bool(selected["existing"]) | _as_bool(selected["forced"])).sum())
        summary = saved.summary
        solution = replace(evaluate_order(problem.matrix, order, n_preselected=n_pre),
                           stop_reason=summary.get("stop_reason", "evaluated"))
        result = cls(problem=problem, scenario=saved.scenario, solution=solution,
                     allowed=usable_sites(problem), kind=summary.get("kind", "optimised"),
                     quality=Quality.from_summary(summary), inputs=(saved.path,))
        if exact and summary.get("coverage") == result.coverage and summary.get("n_selected") == len(order):
            result.saved_summary, result.base_folder = summary, saved.path
        if abs(result.coverage - summary.get("coverage", result.coverage)) > 1e-9:
            log.warning("%s: coverage is now %.4f %% but was saved as %.4f %%; the input layers have changed since",
                        saved.path, 100 * result.coverage, 100 * summary["coverage"])
        return result

    def replan(self, **changes) -> Plan:
        """Optimise again with some scenario settings changed (``target=0.95``, ``budget=…``).

        Reuses the demand grid and the coverage matrix where the change allows.
        """
        scenario = self.scenario.replace(**changes)
        return solve(self.problem.with_scenario(scenario))

    def evaluate(self, add=(), remove=(), crs: str | None = None) -> Plan:
        """Coverage of this plan's sites with some added or removed, without re-optimising.

        ``add`` takes site ids, new sites as ``(lon, lat, category)`` tuples or dicts
        with ``lon``, ``lat``, ``category`` (and optional ``site_id``, ``name``), or a
        GeoDataFrame of points with a ``category`` column. ``remove`` takes site ids.
        Added sites go last in the order; the result is a what-if Plan. ``crs`` declares
        the coordinates of added sites and layers: ``"gcj02"`` (Amap, Tencent), ``"bd09"``
        (Baidu) or any pyproj CRS such as ``"EPSG:32649"``; default WGS84 longitude/latitude
        (a layer file or GeoDataFrame otherwise keeps its own CRS).
        """
        from .whatif import evaluate

        return evaluate(self, add=add, remove=remove, crs=crs)

    def diff(self, other: Plan):
        """What changes from this plan to ``other``: coverage, districts, categories, sites, cells."""
        from .compare import diff_plans

        return diff_plans(self, other)


def solve(problem: Problem) -> Plan:
    """Choose sites for ``problem`` under its scenario's target and budget.

    Builds the solver's :class:`~coverage.solver.Instance` and runs the solver: lazy
    greedy first; then, as the scenario's ``[solver]`` settings say, a local search
    that never loses the target, a proven lower bound on the optimal cost, and
    optionally an exact solve. ``Plan.quality`` (a :class:`~coverage.solver.Quality`)
    records each step.
    """
    start = time.perf_counter()
    scenario = problem.scenario
    groups = district_groups(problem)
    instance = build_instance(problem, groups)
    phased = None
    if is_phased(scenario):
        solution, quality, phased = solve_phased(instance, problem.sites, scenario, groups)
    else:
        solution = meet_floors(instance, run_greedy(instance, f" to {scenario.target:.1%} of {scenario.metric}"))
        solution, quality = improve_and_bound(instance, solution, scenario.solver)
    schedule = None
    if scenario.rollout is not None:
        with stage("Scheduling the roll-out by year") as st:
            schedule = plan_rollout(solution.order, problem.sites, instance, scenario.rollout, groups)
            st.result = f"{len(schedule.years)} years, {len(schedule.unscheduled):,} sites unscheduled"
    return Plan(problem=problem, scenario=scenario, solution=solution, allowed=instance.usable,
                runtime_s=time.perf_counter() - start, quality=quality, phases=phased, rollout=schedule)


def usable_sites(problem: Problem) -> np.ndarray:
    """Mask of the sites a plan of ``problem`` may contain: allowed or preselected
    (``build_instance(problem).usable`` without building the solver's instance)."""
    remaining_budget(problem.sites, problem.scenario)  # the same one-line errors as build_instance
    preselected, allowed = selection_sets(problem.sites, problem.scenario)
    mask = allowed.copy()
    mask[preselected] = True
    return mask


def district_groups(problem: Problem) -> dict[str, np.ndarray]:
    """Demand columns of each district, by name (sorted), for per-district figures."""
    return columns_by_name(problem.demand["district"])


def columns_by_name(names_of_columns) -> dict[str, np.ndarray]:
    """For each distinct name (as str, sorted), the ascending indices where it occurs.

    One factorisation and one stable sort, not one comparison over all columns per name.
    """
    codes, names = pd.factorize(pd.Series(names_of_columns).astype(str), sort=False)
    by_code = np.argsort(codes, kind="stable")
    runs = np.split(by_code, np.cumsum(np.bincount(codes, minlength=len(names)))[:-1])
    return {str(name): runs[k] for k, name in sorted(enumerate(names), key=lambda item: str(item[1]))}


def build_instance(problem: Problem, groups: dict[str, np.ndarray] | None = None) -> Instance:
    """The solver's instance for ``problem``: its matrix, demand weights, site costs,
    target, existing/forced/forbidden sites and what the budget leaves after forced sites.
    ``groups`` may pass :func:`district_groups` when the caller has it already."""
    scenario, sites = problem.scenario, problem.sites
    preselected, allowed = selection_sets(sites, scenario)
    max_sites, max_cost = remaining_budget(sites, scenario)
    groups = district_groups(problem) if groups is None else groups
    return Instance.build(problem.matrix, sites["cost"].to_numpy(), problem.demand[weight_column(scenario)].to_numpy(),
                          scenario.target, preselected=preselected, allowed=allowed,
                          max_sites=max_sites, max_cost=max_cost,
                          constraints=district_constraints(groups, getattr(scenario, "equity", None)))


def district_constraints(districts, equity) -> tuple:
    """The solver's coverage constraints for ``[equity]`` district minimums.

    ``districts`` is the district of each demand column, or :func:`district_groups`'
    name → columns. ``equity.min_coverage`` (a fraction, or None) applies to every
    district and ``equity.districts`` (name → fraction) sets or overrides it per
    district; each becomes (the district's cell columns, fraction, name). No equity
    settings: none.
    """
    if equity is None:
        return ()
    default = getattr(equity, "min_coverage", None)
    per_district = dict(getattr(equity, "districts", {}) or {})
    groups = districts if isinstance(districts, dict) else columns_by_name(districts)
    out = []
    for name, columns in groups.items():
        share = per_district.get(name, default)
        if share is not None and share > 0:
            out.append((columns, float(share), name))
    return tuple(out)


def plan(scenario: Scenario) -> Plan:
    """Plan hotspots for ``scenario``: read the layers, build demand, solve, return a Plan."""
    start = time.perf_counter()
    result = solve(prepare(scenario))
    result.runtime_s = time.perf_counter() - start
    return result


def load_plan(folder) -> Plan:
    """A saved plan folder as a :class:`Plan`, ready for what-if runs (see :meth:`Plan.from_folder`)."""
    return Plan.from_folder(folder)


def _as_bool(column: pd.Series) -> np.ndarray:
    """A CSV column of True/False (as written by pandas) as booleans."""
    if column.dtype == bool:
        return column.to_numpy()
    return column.astype(str).str.strip().str.lower().isin(("true", "1")).to_numpy()


def selection_sets(sites: gpd.GeoDataFrame, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Preselected site rows (existing then forced, each by site_id) and the rows greedy may add."""
    forbidden = sites["site_id"].isin(scenario.forbidden).to_numpy()
    existing = sites["existing"].to_numpy(dtype=bool) & ~forbidden
    forced = sites["site_id"].isin(scenario.forced).to_numpy() & ~existing
    preselected = np.concatenate([np.flatnonzero(existing), np.flatnonzero(forced)])
    allowed = ~forbidden & ~existing & ~forced & ~sites["existing"].to_numpy(dtype=bool)
    return preselected, allowed


def remaining_budget(sites: gpd.GeoDataFrame, scenario: Scenario) -> tuple[int | None, float | None]:
    """What the budget leaves for greedy after the forced new sites."""
    budget = scenario.budget
    forced = sites[sites["site_id"].isin(scenario.forced) & ~sites["existing"]]
    max_sites = max_cost = None
    if budget.max_sites is not None:
        max_sites = budget.max_sites - len(forced)
        if max_sites < 0:
            raise InputError(
                f"the {len(forced)} forced site(s) exceed the budget of {budget.max_sites} sites; "
                "raise max_sites or force fewer sites"
            )
    if budget.max_cost is not None:
        max_cost = budget.max_cost - float(forced["cost"].sum())
        if max_cost < -1e-9:
            raise InputError(
                f"the forced sites cost {forced['cost'].sum():g}, more than the budget max_cost {budget.max_cost:g}; "
                "raise max_cost or force fewer sites"
            )
    return max_sites, max_cost
