"""Phases and roll-out of a plan: the glue between the planner and :mod:`.phases` / :mod:`.rollout`.

:func:`solve_phased` builds a plan phase by phase (categories' ``phase`` and
``required``) with the same solver path as a one-phase plan: every phase but the last is
a lazy greedy from what earlier phases installed; the last phase is the full solve
(greedy, local search, the Lagrangian solver with the district constraints, the bound),
on the instance whose preselected sites are everything earlier phases installed. The
certificate therefore bounds *the cheapest plan that contains the earlier phases'
sites* (``Quality.bound["scope"]`` says so). :func:`plan_rollout` assigns each selected
site a year (``[rollout]``) in plan order and records coverage at each year's end.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .errors import InputError
from .phases import PhasedPlan, solve_in_phases
from .rollout import RolloutPlan, rollout, schedule
from .solver import Instance, Quality, Solution, cells_reached, evaluate_order, greedy_cover
from .solver.run import improve_and_bound, run_greedy


def is_phased(scenario) -> bool:
    """Whether ``scenario`` asks for a phased plan: a category with phase > 1 or required."""
    return any(c.phase > 1 or c.required for c in scenario.categories.values())


def solve_phased(instance: Instance, sites, scenario, groups: dict) -> tuple[Solution, Quality, PhasedPlan]:
    """Solve ``instance`` (see :func:`coverage.planning.build_instance`) phase by phase.

    ``sites`` is the problem's site table (``category``, ``site_id``); ``groups`` maps
    district names to their demand columns (reported per phase). Budgets in
    ``instance`` (what is left after forced sites) apply to the whole plan: each phase
    gets what earlier phases left of it.
    """
    site_phase = _per_category(sites, scenario, "phase").astype(np.int64)
    required = _per_category(sites, scenario, "required").astype(bool)
    existing = np.flatnonzero(sites["existing"].to_numpy(dtype=bool) & instance.usable)
    forced = np.setdiff1d(instance.preselected, existing)
    phases = np.unique(site_phase).tolist()
    _check_required_budget(instance, required & instance.allowed, sites)
    result: dict = {}

    def solve_phase(pre: np.ndarray, allowed: np.ndarray, target: float) -> np.ndarray:
        new = np.setdiff1d(pre, instance.preselected)
        max_sites = None if instance.max_sites is None else max(0, instance.max_sites - len(new))
        max_cost = None if instance.max_cost is None else max(0.0, instance.max_cost - float(instance.costs[new].sum()))
        result["phase"] = phase = result.get("phase", 0) + 1
        sub = _sub_instance(instance, pre, allowed, target, max_sites, max_cost)
        solution = meet_floors(sub, run_greedy(sub, f", phase {phases[phase - 1]}"))
        result["instance"], result["solution"] = sub, solution
        return solution.order

    phased = solve_in_phases(solve_phase, instance.matrix, instance.weights, instance.costs, site_phase,
                             instance.target, required=required, allowed=instance.allowed,
                             existing=existing, forced=forced)
    sub, solution = result["instance"], result["solution"]
    solution, quality = improve_and_bound(sub, solution, scenario.solver)
    phased = _with_final_order(phased, solution, instance, groups)
    quality = _scoped(quality, phases, len(sub.preselected))
    return solution, quality, phased


def _per_category(sites, scenario, attribute: str) -> np.ndarray:
    """Each site's category's ``attribute`` (phase, required): looked up once per category."""
    codes, names = pd.factorize(sites["category"])
    return np.array([getattr(scenario.categories[name], attribute) for name in names])[codes]


def _sub_instance(instance: Instance, pre: np.ndarray, allowed: np.ndarray, target: float,
                  max_sites: int | None, max_cost: float | None) -> Instance:
    """``instance`` with other preselected sites, allowed sites, target and budget: what
    ``Instance.build`` would make of them, without checking the matrix, weights, costs
    and constraints again (``instance`` was built from them)."""
    pre = np.asarray(pre, dtype=np.int64).reshape(-1)
    mask = np.asarray(allowed, dtype=bool).copy()
    mask[pre] = False
    return replace(instance, target=float(target), preselected=pre, allowed=mask, max_sites=max_sites,
                   max_cost=max_cost)


def _check_required_budget(instance: Instance, required: np.ndarray, sites) -> None:
    """Required sites are installed whatever the budget: refuse a budget they already exceed."""
    n, cost = int(required.sum()), float(instance.costs[required].sum())
    if instance.max_sites is not None and n > instance.max_sites:
        raise InputError(f"the {n:,} sites of required categories exceed the budget left for new sites "
                         f"({instance.max_sites:,}); raise max_sites or set required = false")
    if instance.max_cost is not None and cost > instance.max_cost + 1e-9:
        raise InputError(f"the {n:,} sites of required categories cost {cost:,.1f}, more than the budget left "
                         f"for new sites ({instance.max_cost:,.1f}); raise max_cost or set required = false")


def meet_floors(instance: Instance, solution: Solution) -> Solution:
    """``solution`` with sites added until every coverage constraint of ``instance`` is met.

    The lazy greedy counts gain against the city-wide target only; for each constraint
    it leaves short (a district floor), in order, a greedy on that constraint's demand
    alone adds the allowed sites with the best gain per cost until the floor is met or
    the budget is spent. The Lagrangian solver then starts from a plan that meets them.
    """
    order = np.asarray(solution.order, dtype=np.int64)
    reached = cells_reached(instance.matrix, order) if instance.constraints else None
    added_any = False
    for c in instance.constraints:
        weights = np.zeros_like(instance.weights)
        weights[c.columns] = instance.weights[c.columns]
        if weights.sum() <= 0 or float(weights[reached].sum() / weights.sum()) >= c.target - 1e-12:
            continue
        new = np.setdiff1d(order, instance.preselected)
        max_sites = None if instance.max_sites is None else instance.max_sites - len(new)
        max_cost = None if instance.max_cost is None else instance.max_cost - float(instance.costs[new].sum())
        if (max_sites is not None and max_sites <= 0) or (max_cost is not None and max_cost <= 0):
            break
        allowed = instance.allowed.copy()
        allowed[order] = False
        if not allowed.any():  # nothing left to add (e.g. a phase of required sites only)
            continue
        more = greedy_cover(instance.matrix, weights, instance.costs, c.target, preselected=order, allowed=allowed,
                            max_sites=max_sites, max_cost=max_cost)
        added_any |= len(more.order) > len(order)
        order, reached = more.order, more.covered
    if not added_any:
        return solution
    again = evaluate_order(instance.matrix, order, n_preselected=solution.n_preselected)
    return replace(again, stop_reason=solution.stop_reason)


def _with_final_order(phased: PhasedPlan, solution: Solution, instance: Instance, groups: dict) -> PhasedPlan:
    """The phased plan after the last phase was improved: its rows and figures recomputed."""
    from .phases import first_stage, group_shares

    n_before = len(phased.order) - len(phased.phases[-1].rows)
    order = np.asarray(solution.order, dtype=np.int64)
    if not np.array_equal(order[:n_before], phased.order[:n_before]):
        raise ValueError("the last phase's solve reordered the earlier phases' sites")
    last = phased.phases[-1]
    rows = order[n_before:]
    position = first_stage(instance.matrix, order, np.arange(len(order)))  # first position covering each cell
    out, upto = [], phased.n_existing
    everything = {"": np.arange(len(instance.weights))}
    for p in phased.phases[:-1] + (replace(last, rows=rows),):
        upto += len(p.rows)
        covered = position < upto  # the cells order[:upto] covers
        out.append(replace(p, cost=float(instance.costs[p.rows].sum()),
                           coverage=group_shares(instance.weights, covered, everything)[""],
                           groups=group_shares(instance.weights, covered, groups)))
    phase = np.concatenate([phased.phase[:n_before], np.full(len(rows), last.phase, dtype=np.int64)])
    return replace(phased, order=order, phase=phase, phases=tuple(out))


def _scoped(quality: Quality, phases: list, n_pre: int) -> Quality:
    """Say what the certificate bounds: the last phase's model, with the earlier phases fixed."""
    if len(phases) <= 1 or not quality.bound:
        return quality
    scope = (f"the cheapest plan containing the {n_pre:,} sites installed before phase {phases[-1]} "
             "(earlier phases, existing and forced sites); bound and gap refer to that model")
    return replace(quality, bound={**quality.bound, "scope": scope})


def plan_rollout(order: np.ndarray, sites, instance: Instance, settings, groups: dict) -> RolloutPlan:
    """Years for the sites ``order`` (plan order) under ``settings`` (a scenario's Rollout)."""
    order = np.asarray(order, dtype=np.int64)
    costs = instance.costs[order]
    existing = sites["existing"].to_numpy(dtype=bool)[order]
    years = schedule(costs, settings.start_year, end_year=settings.end_year, budget_per_year=settings.budget_per_year,
                     sites_per_year=settings.sites_per_year, existing=existing,
                     names=sites["site_id"].to_numpy()[order].tolist())
    return rollout(order, years, instance.matrix, instance.weights, instance.costs, settings.start_year, groups=groups)

