"""The whole solve of one :class:`~coverage.solver.instance.Instance`: greedy, then as the
settings say, local search, a proven bound and an exact solve; typed results out."""

from __future__ import annotations

import logging

import numpy as np

from ..progress import every, stage
from .bounds import coverage_upper_bound, exact
from .cover import CoverResult, solve_instance
from .greedy import Solution, greedy_cover
from .instance import Instance, cells_reached
from .local import improve, ranked_solution
from .quality import Quality

log = logging.getLogger(__name__)


def plan_stats(instance: Instance, solution: Solution) -> dict:
    """Sites, cost (cost units) and covered fraction of the total weight of ``solution``."""
    w = instance.weights
    total = float(w.sum())
    return {"n_sites": int(len(solution.order)), "cost": float(instance.costs[solution.order].sum()),
            "coverage": float(w[solution.covered].sum() / total) if total > 0 else 1.0}


def run_greedy(instance: Instance, label: str = "") -> Solution:
    """Lazy greedy on ``instance`` with progress logged every 2 s."""
    with stage(f"Choosing sites (lazy greedy{label})") as st:
        solution = greedy_cover(
            instance.matrix, instance.weights, instance.costs, instance.target,
            preselected=instance.preselected, allowed=instance.allowed,
            max_sites=instance.max_sites, max_cost=instance.max_cost,
            progress=every(2.0, lambda n, f: log.info("  %s sites added, %.2f %% covered", f"{n:,}", 100 * f)),
        )
        st.result = f"{len(solution.order):,} sites, stop: {solution.stop_reason}"
    return solution


def improve_and_bound(instance: Instance, solution: Solution, settings) -> tuple[Solution, Quality]:
    """Local search, bound and exact solve after greedy, per ``settings`` (a scenario's Solver)."""
    inst = instance
    greedy_stats = plan_stats(inst, solution)
    improved = bound_fields = exact_fields = None
    if settings.local_search:
        with stage("Local search (drop redundant sites, swap one for one)") as st:
            better = improve(inst.matrix, inst.weights, inst.costs, inst.target, solution, inst.allowed,
                             max_sites=inst.max_sites, max_cost=inst.max_cost, max_rounds=settings.max_rounds,
                             max_swap_evaluations=settings.max_swap_evaluations)
            solution = better.solution
            st.result = (f"{better.sites_before:,} → {better.sites_after:,} sites, "
                         f"cost {better.cost_before:,.1f} → {better.cost_after:,.1f}")
        improved = {**plan_stats(inst, solution), **better.as_dict()}
    if settings.bound or settings.local_search:
        solution, bound_fields = _bound(inst, solution, settings)
        if not settings.bound:  # the solver's plans are kept, its certificate not reported
            bound_fields = {}
    if settings.exact:
        solution, exact_fields = _exact(inst, solution, settings)
    return solution, Quality(greedy=greedy_stats, improved=improved, exact=exact_fields, **(bound_fields or {}))


def _bound(inst: Instance, solution: Solution, settings) -> tuple[Solution, dict]:
    """The Lagrangian solver from the current plan: its plan replaces the current one when it
    is cheaper and meets every requirement the current plan meets (:func:`adoptable`), and
    the bound on the optimal cost.

    Under a budget that stopped greedy short of the target, the question is how much
    any plan can cover: the LP's upper bound on coverage answers it instead.
    """
    cost = float(inst.costs[solution.order].sum())
    if solution.stop_reason in ("budget_sites", "budget_cost"):
        if not settings.bound:
            return solution, {}
        with stage("Bounding the coverage within the budget (LP relaxation, HiGHS)") as st:
            bound = coverage_upper_bound(inst.matrix, inst.weights, inst.costs, inst.preselected, inst.allowed,
                                         inst.max_sites, inst.max_cost, time_limit_s=settings.bound_time_limit_s)
            st.result = bound.status
        return solution, dict(bound_status=bound.status, bound={**bound.as_dict(), "method": "lp"},
                              bound_method="lp", coverage_upper_bound=bound.value)
    effort = getattr(settings, "effort", "fast")
    with stage(f"Lagrangian solver ({effort}): cheaper plans and a proven lower bound") as st:
        result = solve_instance(inst, effort=effort, start=solution.order)
        adopted = result.feasible and adoptable(inst, solution, result.sites)
        if adopted:
            new = np.setdiff1d(result.sites, inst.preselected)
            solution = ranked_solution(inst.matrix, inst.weights, inst.costs, new, inst.preselected,
                                       solution.stop_reason)
            cost = float(inst.costs[solution.order].sum())
        gap = _gap(cost, result.lower_bound)
        st.result = (f"cost {cost:,.1f}{' (the solver’s plan)' if adopted else ''}, optimum ≥ "
                     f"{result.lower_bound:,.1f} ({result.bound_method}), gap {gap:.2%}"
                     if gap is not None else "no bound proven")
    return solution, dict(lower_bound=result.lower_bound, gap=gap, bound_status=_status(result, gap),
                          bound_method=result.bound_method,
                          bound={**_bound_dict(inst, result), "plan": "solver" if adopted else "greedy"})


def adoptable(inst: Instance, current: Solution, sites) -> bool:
    """Whether the plan ``sites`` (instance site indices) may replace ``current``: it holds
    every preselected site (existing, forced, earlier phases), keeps within the budgets,
    and covers, checked here on the matrix, at least what ``current`` covers of the target
    and of each coverage constraint, up to what is asked (the target, each floor); and it
    is cheaper, or it meets a constraint ``current`` misses."""
    sites = np.unique(np.asarray(sites, dtype=np.int64))
    new = np.setdiff1d(sites, inst.preselected)
    if len(np.setdiff1d(inst.preselected, sites)) or not inst.allowed[new].all():
        return False
    cost = float(inst.costs[sites].sum())
    if (inst.max_sites is not None and len(new) > inst.max_sites) or (
            inst.max_cost is not None and float(inst.costs[new].sum()) > inst.max_cost + 1e-9):
        return False
    mine, theirs = cells_reached(inst.matrix, sites), current.covered
    needs = [(np.arange(len(inst.weights)), inst.target)] + [(c.columns, c.target) for c in inst.constraints]
    shares = [(_share(inst.weights, cols, mine), _share(inst.weights, cols, theirs), need) for cols, need in needs]
    if any(share < min(need, before) - 1e-12 for share, before, need in shares):
        return False
    fixes = any(before < need - 1e-12 <= share for share, before, need in shares)
    return cost < float(inst.costs[current.order].sum()) - 1e-9 * max(1.0, cost) or fixes


def _share(weights: np.ndarray, columns: np.ndarray, covered: np.ndarray) -> float:
    total = float(weights[columns].sum())
    return float(weights[columns][covered[columns]].sum() / total) if total > 0 else 1.0


def _gap(cost: float, lower: float | None) -> float | None:
    if lower is None:
        return None
    if lower <= 0:
        return 0.0 if cost <= 0 else None
    return max(0.0, (cost - lower) / lower)


def _status(result: CoverResult, gap: float | None) -> str:
    if result.lower_bound is None:
        return "infeasible" if not result.feasible else "failed"
    if result.bound_method == "trivial":
        return "trivial"
    return "optimal" if gap == 0 else result.bound_method


def _bound_dict(inst: Instance, result: CoverResult) -> dict:
    message = "target out of reach; bound for the reachable share" if result.clamped else ""
    return {"kind": "min_cost", "value": result.lower_bound, "method": result.bound_method,
            "iterations": result.iterations, "message": message, "target_used": inst.target,
            "seconds": result.seconds, "rows_from": result.rows_from, "rows_to": result.rows}


def _exact(inst: Instance, solution: Solution, settings) -> tuple[Solution, dict]:
    with stage("Exact solve (HiGHS MILP)") as st:
        result = exact(inst.matrix, inst.weights, inst.costs, inst.target, inst.preselected, inst.allowed,
                       time_limit_s=settings.exact_time_limit_s)
        fields = {"status": result.status, "cost": result.objective, "dual_bound": result.dual_bound,
                  "gap": result.gap, "message": result.message}
        if result.sites is not None and result.objective < inst.costs[solution.order].sum() - 1e-9:
            solution = ranked_solution(inst.matrix, inst.weights, inst.costs,
                                       result.sites[len(inst.preselected):], inst.preselected, solution.stop_reason)
        st.result = result.status
    return solution, fields

