"""The solver: Lagrangian bound and Lagrangian plans, HiGHS where it fits.

:func:`solve_instance` reduces the instance (:mod:`.model`), then

1. starts from the best of a given plan and the plain cost-per-gain greedy;
2. runs the subgradient ascent (:mod:`.lagrangian`): its best value is the proven lower
   bound; every few steps a greedy on the current reduced costs, followed by redundancy
   removal, proposes a plan and the cheapest feasible one is kept (big models: batch
   greedy rounds, steps scaled by row weight, the target floor and lifted multipliers,
   see the constants below);
   when the target is the only need, the 1-out/1-in swap search then polishes the best
   plan on the merged model;
3. solves HiGHS's MILP on the whole reduced model when it is small enough (a proven
   optimum closes the gap: ``bound_method = "milp-optimal"``; otherwise HiGHS's dual
   bound is kept if it is stronger), else on a *core* of the sites with the least
   reduced costs — a neighbourhood far larger than 1-out/1-in swaps;

all deterministic (step counts and HiGHS node limits; a time limit only as a safety
net). A full-cover model (every row needed, no budget, no extra constraint) goes to
:mod:`.refine` instead (Caprara, Fischetti & Toth's heuristic), then to HiGHS when small.
One setting, ``effort`` ("fast" or "thorough"), sets how much of it is done.
:func:`solve_cover` is the public entry point for a bare coverage matrix.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .greedy import evaluate_order
from .instance import Instance
from .lagrangian import DEFLECT, FIRST_LAMBDA, Operators, PATIENCE, ascend
from .local import improve
from .model import Model, build_model
from .refine import cover_all, full_cover
from .primal import batch_greedy, core_columns, dense_groups, greedy, is_feasible, milp, remove_redundant

CFT = {  # full cover (refine.py): the first ascent's steps and greedy every k of them; per three-phase:
    # steps of its first ascent (greedy every k) and of those after each fixing (greedy every k, 0: never),
    # share of the greedy's columns fixed each time; refinement rounds, the stop after so many without
    # a better cover or once they have cost `work` times the first ascent (refine._work); HiGHS on
    # models up to this many site-row pairs (node limit; the seconds are a safety net); the row-weighting
    # local search's runs and their elementary steps in all per site-row pair (refine._weighting)
    "fast": dict(first_steps=600, first_every=100, steps=100, heur_every=10, inner_steps=50, inner_every=0,
                 fix_share=0.3, rounds=20, stall=10, work=1.0, milp_nnz=20_000, milp_s=30.0, ls_runs=4, ls_work=40),
    "thorough": dict(first_steps=1000, first_every=100, steps=200, heur_every=10, inner_steps=100, inner_every=10,
                     fix_share=0.1, rounds=150, stall=40, work=math.inf, milp_nnz=2_000_000, milp_s=60.0,
                     ls_runs=16, ls_work=400),
}
EFFORT = {
    # subgradient steps, heuristic every k steps, full-MILP size (site-row pairs), MILP nodes, seconds,
    # core size per row and nodes, column-fixing rounds and the effort of each
    # and the swap search on the best plan (one-need models up to polish_sites sites): evaluations × sites
    "fast": dict(milp_first_nnz=20_000, steps=400, every=10, milp_nnz=150_000, nodes=500, milp_s=5.0,
                 core_per_row=4, core_nodes=200, refine=0, refine_effort="inner", cft=CFT["fast"],
                 swap_work=100_000_000, polish_sites=50_000),
    "thorough": dict(milp_first_nnz=100_000, steps=2000, every=5, milp_nnz=2_000_000, nodes=20_000,
                     milp_s=60.0, core_per_row=8, core_nodes=5_000, refine=6, refine_effort="inner",
                     cft=CFT["thorough"], swap_work=1_000_000_000,
                     polish_sites=1_000_000),
    "inner": dict(milp_first_nnz=5_000, steps=150, every=10, milp_nnz=30_000, nodes=200, milp_s=2.0,
                  core_per_row=3, core_nodes=100, refine=0, refine_effort="inner", cft=CFT["fast"],
                  swap_work=0, polish_sites=0),
}
ROUND_TOL = 1e-6
WARMUP = 20  # no Lagrangian plans from the first, poor multipliers
HEURISTIC_NNZ = 4_000_000  # Lagrangian plans per solve ≈ this / site-row pairs (at least 3): bounds their time
CORE_ROWS = 20_000  # larger models get no core MILP (building and solving it takes seconds)
BIG_NNZ = 1_000_000  # larger models: no Python-loop greedy plans when a feasible plan is given
BIG_SITES = 50_000  # nor on models with more free sites (each such plan picks thousands of them one by one)
STEP_NNZ = 370_000_000  # subgradient steps × site-row pairs on big models (1 M × 10 k headline: 300 steps)
MIN_STEPS = 60
BIG_STOP_GAP = 0.01  # big models stop the ascent once the gap is within this
BATCH_SHARE = 0.01  # big models: share of the live sites a round of the batch greedy takes
BIG_PLANS_AT = (1 / 3, 2 / 3)  # big models: Lagrangian plans at these shares of the steps (and at the end)
BIG_PATIENCE = 60  # and halve the step after steps / 60 (at least 4) without a better bound
BIG_TARGET_FLOOR = 0.3  # big models step towards at least 30 % above the current bound (lagrangian.ascend)
BIG_LIFTS = 6  # and lift the best multipliers this many times along the ascent (and at its end)
BIG_FIRST_LAMBDA = 1.0  # big models: first step factor, steps scaled per row by its weight, and
BIG_DEFLECT = 0.7  # this weight on the previous direction (lagrangian.ascend, "Big models")


@dataclass(frozen=True)
class CoverResult:
    """A plan and its certificate.

    ``sites``: chosen site (row) indices, preselected first then by index. ``cost``: their
    total cost. ``lower_bound``: proven lower bound on the least cost of any feasible plan
    (None when none was proven, e.g. an unreachable need). ``gap``: (cost − lower_bound) /
    lower_bound. ``bound_method``: "lagrangian", "milp", "milp-optimal" or "trivial".
    ``feasible``: the plan meets every need (False only when a need is out of reach,
    then ``clamped`` and the plan covers all it can, or a budget is too small).
    """

    sites: np.ndarray
    cost: float
    lower_bound: float | None
    gap: float | None
    bound_method: str | None
    feasible: bool
    clamped: bool
    iterations: int
    seconds: float
    rows: int
    rows_from: int
    message: str = ""


def solve_instance(instance: Instance, effort: str = "fast", start=None) -> CoverResult:
    """Solve ``instance`` (module docstring). ``start``: a known plan's site indices."""
    t0 = time.perf_counter()
    if effort not in EFFORT:
        raise ValueError(f"effort must be one of {sorted(EFFORT)}, got {effort!r}")
    opt = EFFORT[effort]
    model = build_model(instance)
    G = dense_groups(model)
    budget = (instance.max_sites, instance.max_cost)
    integral = bool(np.all(np.abs(model.costs - np.round(model.costs)) <= 1e-9))
    if model.n_rows == 0 or np.all(model.needs <= 0):
        return _result(instance, model, np.zeros(len(model.free), bool), 0.0, "trivial", True, 0, t0, "")
    big = model.matrix.nnz > BIG_NNZ
    lean = big or model.matrix.shape[0] > BIG_SITES  # the big models' ascent and plans (full cover aside)
    full = not big and full_cover(model, instance.has_budget)  # refine.solve makes its own first greedy
    best = None if full and start is None else _starting_plan(model, G, budget, instance, start, skip_greedy=lean)
    state = {"plan": best, "cost": _cost(model, best)}
    if full:
        return _full_cover(instance, model, G, budget, state, opt, integral, t0)
    tried_full = model.matrix.nnz <= opt["milp_first_nnz"]
    if tried_full and _milp_first(instance, model, G, budget, state, opt):  # small: HiGHS alone usually
        return _result(instance, model, state["plan"], state["cost"], "milp-optimal", True, 0, t0, "")  # proves it
    mult = _lagrangian(model, G, budget, state, opt, integral, lean)
    lower, method = mult.value, "lagrangian"
    if not _proven(lower, _upper(model, state), integral) and model.matrix.shape[0] <= opt["polish_sites"]:
        _polish(model, G, budget, state, opt["swap_work"] // max(1, model.matrix.shape[0]))
    if not tried_full and not _proven(lower, _upper(model, state), integral):
        lower, method = _milp_after_ascent(instance, model, G, budget, state, mult, opt, lower)
    if state["plan"] is not None and opt["refine"]:
        _refine(instance, model, G, budget, state, mult, opt)
    plan = state["plan"]
    feasible = plan is not None
    if plan is None:  # a need out of reach under the budget: cover what the greedy can
        plan = greedy(model, G, model.costs, budget)
    return _result(instance, model, plan, lower, method, feasible, mult.iterations, t0, "")


def _upper(model: Model, state: dict) -> float:
    """The best plan's cost so far (all sites' cost while there is none)."""
    return state["cost"] if state["plan"] is not None else float(model.costs.sum())


def _milp_first(instance: Instance, model: Model, G, budget, state: dict, opt: dict) -> bool:
    """HiGHS's MILP on the whole (small) model before any ascent; True when it proved its
    plan optimal (then ``state`` holds that plan)."""
    plan, _, optimal = milp(model, np.ones(model.matrix.shape[0], bool), budget, opt["nodes"], opt["milp_s"])
    _offer(state, model, G, budget, plan)
    return bool(optimal and plan is not None and not instance.has_budget)


def _lagrangian(model: Model, G, budget, state: dict, opt: dict, integral: bool, big: bool):
    """The subgradient ascent with Lagrangian plans offered to ``state`` along the way:
    one site at a time every few steps on ordinary models, in rounds (batch greedy) at
    fixed shares of the steps and at the end on big ones. Returns the multipliers."""
    calls = max(3, min(opt["steps"] // opt["every"], HEURISTIC_NNZ // max(model.matrix.nnz, 1)))
    every = max(opt["every"], opt["steps"] // calls)  # fewer Lagrangian plans on big models
    steps = opt["steps"] if not big else min(opt["steps"], max(MIN_STEPS, STEP_NNZ // model.matrix.nnz))
    ops = Operators.of(model) if big else None  # one set of float matrices for the ascent, lift and batch plans
    plans_at = {int(f * steps) for f in BIG_PLANS_AT}

    def heuristic(step: int, u: np.ndarray) -> None:
        if big and state["plan"] is not None:  # Lagrangian plans built in rounds, a third and two thirds in
            if step in plans_at:  # (a cheaper plan steers the steps better)
                _offer(state, model, G, budget, batch_greedy(model, G, ops, u, BATCH_SHARE))
            return
        if step < WARMUP or step % every:
            return
        _offer(state, model, G, budget, greedy(model, G, model.costs, budget, u=u))

    mult = ascend(model, lambda: _upper(model, state), steps, integral, heuristic,
                  stop_gap=BIG_STOP_GAP if big else 0.0, patience=max(4, steps // BIG_PATIENCE) if big else PATIENCE,
                  floor=BIG_TARGET_FLOOR if big else 0.0, lift_every=max(1, steps // BIG_LIFTS) if big else 0,
                  ops=ops, scaled=big, first_lambda=BIG_FIRST_LAMBDA if big else FIRST_LAMBDA,
                  deflect=BIG_DEFLECT if big else DEFLECT)
    if big:  # and one from the best multipliers
        _offer(state, model, G, budget, batch_greedy(model, G, ops, mult.u, BATCH_SHARE))
    return mult


def _polish(model: Model, G, budget, state: dict, evaluations: int) -> None:
    """The 1-out/1-in swap search (:func:`.local.improve`) on the merged model from the
    best plan, when the target is the model's only need (the search knows no other).
    Measured on the 1 M × 10 k headline: the Lagrangian plan 2,176 → 2,105 in 12.6 k
    evaluations on the merged 159 k rows (greedy + swaps on the cells: 2,158). Each
    evaluation scores every site (and each swap made rescans them for redundant ones), so
    the caller caps ``evaluations`` by a work budget in evaluations × sites
    (``swap_work``) and, at ``fast``, leaves models of over 50 k sites alone: on a
    default-sized model without districts (356 k sites) 20 k evaluations took 14.6 s CPU
    and 561 still 3 s (52 swaps, each followed by a redundancy scan of every site)."""
    if state["plan"] is None or len(model.needs) > 1 or evaluations <= 0:
        return
    total = float(model.weights.sum())
    if total <= 0:
        return
    start = evaluate_order(model.matrix, np.flatnonzero(state["plan"]))
    better = improve(model.matrix, model.weights, model.costs, min(1.0, float(model.needs[0]) / total), start,
                     max_sites=budget[0], max_cost=budget[1], max_swap_evaluations=evaluations, time_limit_s=None,
                     rank=False)
    plan = np.zeros(model.matrix.shape[0], dtype=bool)
    plan[better.solution.order] = True
    _offer(state, model, G, budget, plan)


def _full_cover(instance: Instance, model: Model, G, budget, state: dict, opt: dict, integral: bool,
                t0: float) -> CoverResult:
    """Every row must be covered: CFT's Lagrangian heuristic (:mod:`.refine`), then HiGHS's
    MILP when the model is small enough and the gap still open."""
    plan, lower, steps = cover_all(model, state["plan"], opt["cft"], integral)
    _offer(state, model, G, budget, plan)
    method = "lagrangian"
    if model.matrix.nnz <= opt["cft"]["milp_nnz"] and not _proven(lower, state["cost"], integral):
        plan, dual, optimal = milp(model, np.ones(model.matrix.shape[0], bool), budget, opt["nodes"],
                                   opt["cft"]["milp_s"])
        _offer(state, model, G, budget, plan)
        if optimal and plan is not None:
            lower, method = state["cost"], "milp-optimal"
        elif dual is not None and dual > lower:
            lower, method = dual, "milp"
    return _result(instance, model, state["plan"], lower, method, True, steps, t0, "")


def _milp_after_ascent(instance: Instance, model, G, budget, state: dict, mult, opt: dict,
                       lower: float) -> tuple[float, str]:
    """HiGHS after the ascent when the gap is still open: the whole model when it is small
    enough (its dual bound may beat the Lagrangian one), else a core of promising sites
    for a better plan only. Returns the (possibly raised) bound and how it was obtained."""
    method = "lagrangian"
    if model.matrix.nnz <= opt["milp_nnz"]:
        plan, dual, optimal = milp(model, np.ones(model.matrix.shape[0], bool), budget, opt["nodes"], opt["milp_s"])
        _offer(state, model, G, budget, plan)
        if optimal and plan is not None and not instance.has_budget:
            return max(lower, _cost(model, plan)), "milp-optimal"
        if dual is not None and dual > lower:
            return dual, "milp"
    elif model.n_rows <= CORE_ROWS:
        known = state["plan"] if state["plan"] is not None else np.zeros(model.matrix.shape[0], bool)
        core = core_columns(model, mult.reduced_costs, known, opt["core_per_row"])
        plan, _, _ = milp(model, core, budget, opt["core_nodes"], opt["milp_s"])
        _offer(state, model, G, budget, plan)
    return lower, method


def _refine(instance: Instance, model: Model, G, budget, state: dict, mult, opt: dict) -> None:
    """Column fixing (Caprara, Fischetti & Toth): fix a growing share of the best plan's
    sites, those of least reduced cost, and solve what is left again; keep better plans."""
    share = 0.3
    for _ in range(opt["refine"]):
        chosen = np.flatnonzero(state["plan"])
        keep = chosen[np.lexsort((chosen, mult.reduced_costs[chosen]))][: max(1, int(share * len(chosen)))]
        sub = Instance.build(instance.matrix, instance.costs, instance.weights, instance.target,
                             preselected=np.concatenate([instance.preselected, model.free[keep]]),
                             allowed=instance.allowed, max_sites=None if budget[0] is None else budget[0] - len(keep),
                             max_cost=None if budget[1] is None else budget[1] - float(model.costs[keep].sum()),
                             constraints=instance.constraints)
        result = solve_instance(sub, effort=opt["refine_effort"])
        if result.feasible:
            plan = np.zeros(len(model.free), bool)
            pos = np.full(instance.matrix.shape[0], -1)
            pos[model.free] = np.arange(len(model.free))
            idx = pos[result.sites]
            plan[idx[idx >= 0]] = True
            _offer(state, model, G, budget, plan)
        share = min(0.9, share * 1.3)


def solve_cover(coverage, costs, weights=None, target: float = 1.0, **options) -> CoverResult:
    """Least-cost set of rows (sites) covering ``target`` of the columns' weight.

    ``coverage``: scipy sparse boolean matrix, one row per candidate site, one column per
    demand point (True: the site covers the point). ``costs``: cost per row (≥ 0).
    ``weights``: demand per column (default 1). ``target``: fraction (0–1] of the total
    weight to cover. Options: ``preselected`` (rows every plan contains), ``allowed``
    (mask of rows a plan may add), ``max_sites`` / ``max_cost`` (budget on the added
    rows), ``constraints`` (``(columns, target)`` pairs: each group of columns must reach
    its own target fraction, e.g. district minimums), ``effort`` ("fast" default, or
    "thorough"). Returns a :class:`CoverResult` with ``sites``, ``cost``,
    ``lower_bound`` (None when no bound), ``gap`` and ``bound_method``.
    """
    effort = options.pop("effort", "fast")
    start = options.pop("start", None)
    unknown = set(options) - {"preselected", "allowed", "max_sites", "max_cost", "constraints"}
    if unknown:
        raise TypeError(f"solve_cover() got unknown option(s): {', '.join(sorted(unknown))}")
    instance = Instance.build(coverage, costs, weights, target, **options)
    return solve_instance(instance, effort=effort, start=start)


def _starting_plan(model: Model, G, budget, instance: Instance, start, skip_greedy: bool = False
                   ) -> np.ndarray | None:
    """The cheaper feasible of ``start`` (instance site indices) and the plain greedy
    (``skip_greedy``: only when ``start`` is not a feasible plan); under a site budget that
    neither meets, also the greedy on demand per site (cheap sites that reach little can
    use up a tight budget before the target is met)."""
    candidates = []
    if start is not None:
        pos = np.full(instance.matrix.shape[0], -1)
        pos[model.free] = np.arange(len(model.free))
        idx = pos[np.asarray(start, dtype=np.int64)]
        mask = np.zeros(len(model.free), bool)
        mask[idx[idx >= 0]] = True
        candidates.append(mask)
    if not (skip_greedy and candidates and is_feasible(model, G, candidates[0], budget)):
        candidates.append(greedy(model, G, model.costs, budget))
    if budget[0] is not None and not any(p is not None and is_feasible(model, G, p, budget) for p in candidates):
        candidates.append(greedy(model, G, np.ones_like(model.costs), budget))  # demand per site
    state = {"plan": None, "cost": math.inf}
    for plan in candidates:
        _offer(state, model, G, budget, plan)
    return state["plan"]


def _offer(state: dict, model: Model, G, budget, plan) -> None:
    """Keep ``plan`` (after redundancy removal) when feasible and cheaper than the best."""
    if plan is None:
        return
    if not is_feasible(model, G, plan, (None, None)):
        plan = greedy(model, G, model.costs, budget, start=plan)
    plan = remove_redundant(model, G, plan)
    if not is_feasible(model, G, plan, budget):
        return
    cost = _cost(model, plan)
    if state.get("plan") is None or cost < state["cost"] - 1e-9:
        state["plan"], state["cost"] = plan, cost


def _cost(model: Model, plan) -> float:
    return float(model.costs[plan].sum()) if plan is not None else math.inf


def _proven(lower: float, upper: float, integral: bool) -> bool:
    return upper - lower < (1 - 1e-6 if integral else 1e-9 * max(1.0, abs(upper)))


def _result(instance, model: Model, plan, free_lower: float, method: str, feasible: bool, iterations: int,
            t0: float, message: str) -> CoverResult:
    sites = np.concatenate([instance.preselected, np.sort(model.free[plan])]).astype(np.int64)
    cost = float(instance.costs[sites].sum())
    lower = None
    if feasible or method == "trivial":
        lower = model.fixed_cost + max(0.0, free_lower)
        if np.all(np.abs(instance.costs - np.round(instance.costs)) <= 1e-9):
            lower = float(math.ceil(lower - ROUND_TOL * max(1.0, lower)))
        lower = min(lower, cost) if method == "milp-optimal" else lower
    gap = None if lower is None else (0.0 if lower <= 0 and cost <= 0 else
                                      max(0.0, (cost - lower) / lower) if lower > 0 else None)
    return CoverResult(sites, cost, lower, gap, method if lower is not None else None, feasible, model.clamped,
                       iterations, time.perf_counter() - t0, model.n_rows, model.rows_from, message)
