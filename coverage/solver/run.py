"""The whole solve of one :class:`~coverage.solver.instance.Instance`: greedy, then as the
settings say, local search, a proven bound and an exact solve; typed results out."""

from __future__ import annotations

import logging

import numpy as np

from ..progress import every, stage
from .bounds import coverage_upper_bound, exact, lower_bound
from .greedy import Solution, greedy_cover
from .instance import Instance
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
            progress=every(2.0, lambda n, f: log.info("  %d sites added, %.2f %% covered", n, 100 * f)),
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
    if settings.bound:
        bound_fields = _bound(inst, solution, settings)
    if settings.exact:
        solution, exact_fields = _exact(inst, solution, settings)
    return solution, Quality(greedy=greedy_stats, improved=improved, exact=exact_fields, **(bound_fields or {}))


def _bound(inst: Instance, solution: Solution, settings) -> dict:
    cost = float(inst.costs[solution.order].sum())
    with stage("Bounding the optimum (LP relaxation, HiGHS)") as st:
        if solution.stop_reason in ("budget_sites", "budget_cost"):
            bound = coverage_upper_bound(inst.matrix, inst.weights, inst.costs, inst.preselected, inst.allowed,
                                         inst.max_sites, inst.max_cost, time_limit_s=settings.bound_time_limit_s)
        else:
            bound = lower_bound(inst.matrix, inst.weights, inst.costs, inst.target, inst.preselected, inst.allowed,
                                time_limit_s=settings.bound_time_limit_s, upper=cost)
        gap = bound.gap(cost)
        st.result = bound.status + (f": optimum ≥ {bound.value:,.1f}, gap {gap:.2%}" if gap is not None else "")
    return dict(lower_bound=bound.lower_bound, gap=gap, bound_status=bound.status, bound=bound.as_dict(),
                coverage_upper_bound=bound.value if bound.kind == "max_coverage" else None)


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


def usable_mask(instance: Instance) -> np.ndarray:
    return instance.usable
