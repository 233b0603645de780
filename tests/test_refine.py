"""The full-cover heuristic (coverage.solver.refine) on its own, against HiGHS.

Called directly (no HiGHS after it, as solve_cover does on small models), so a cover
that misses a row, a bound above the optimum or a run that is not repeatable shows.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from coverage.solver import Instance, solve_cover
from coverage.solver import weighting
from coverage.solver.cover import CFT
from coverage.solver.model import build_model
from coverage.solver.refine import SetCover, full_cover, greedy, improve, remove_redundant, solve


def _instance(seed: int, n: int = 60, m: int = 150, unit: bool = False):
    rng = np.random.default_rng(seed)
    matrix = rng.random((n, m)) < 0.06
    matrix[rng.integers(0, n, m), np.arange(m)] = True  # every row coverable
    costs = np.ones(n) if unit else rng.integers(1, 30, n).astype(float)
    return sp.csr_matrix(matrix), costs


def _optimum(matrix, costs) -> float:
    res = milp(costs, constraints=LinearConstraint(sp.csr_matrix(matrix.T, dtype=float), 1, np.inf),
               integrality=np.ones(len(costs)), bounds=Bounds(0, 1), options={"mip_rel_gap": 0})
    assert res.status == 0
    return float(res.fun)


@pytest.mark.parametrize("effort", ["fast", "thorough"])
@pytest.mark.parametrize("seed", range(8))
def test_cover_feasible_bound_valid_and_repeatable(seed, effort):
    matrix, costs = _instance(seed, unit=seed % 2 == 1)
    optimum = _optimum(matrix, costs)
    sc = SetCover.of(matrix, costs)
    best, bound, steps = solve(sc, None, CFT[effort], integral=True)
    assert 1 <= steps <= CFT[effort]["first_steps"]
    assert np.all(np.asarray(matrix[best].sum(axis=0)).ravel() >= 1)  # every row covered
    assert costs[best].sum() >= optimum - 1e-9
    assert bound <= optimum + 1e-9
    assert costs[best].sum() <= 1.1 * optimum  # a heuristic, but not a poor one
    again, bound_again, _ = solve(sc, None, CFT[effort], integral=True)
    assert np.array_equal(best, again) and bound == bound_again


def test_full_cover_test_is_exact():
    """Only a model where every row is needed, with no budget or extra constraint, is
    handed to the set-covering heuristic."""
    matrix, costs = _instance(0)
    weights = np.arange(1, matrix.shape[1] + 1, dtype=float)
    full = build_model(Instance.build(matrix, costs, weights, 1.0))
    assert full_cover(full, has_budget=False)
    assert not full_cover(full, has_budget=True)
    lightest = weights.min() / weights.sum()
    assert not full_cover(build_model(Instance.build(matrix, costs, weights, 1.0 - 2 * lightest)), False)
    cols = np.arange(10)
    assert not full_cover(build_model(Instance.build(matrix, costs, weights, 1.0, constraints=[(cols, 1.0)])),
                          False)


def test_row_lighter_than_the_feasibility_tolerance_is_not_needed():
    """A row whose weight is below the tolerance plans are judged by may be left out by a
    "feasible" plan, so the per-row set-cover bound must not be used there: with weights
    [1e10, 1e10, 1] one site (cost 1) meets a 100 % target within tolerance, and the bound
    must not claim 2."""
    matrix = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    result = solve_cover(matrix, np.ones(2), np.array([1e10, 1e10, 1.0]), 1.0)
    assert result.cost == 1.0
    assert result.lower_bound <= result.cost


def test_solve_cover_full_cover_with_preselected_and_forbidden():
    """The full-cover path keeps preselected sites, never adds forbidden ones, covers
    every point and reports a bound no higher than HiGHS's optimum of the same model."""
    matrix, costs = _instance(3, n=80, m=200)
    pre, forbidden = np.array([5, 17]), np.array([2, 40, 41])
    allowed = np.ones(matrix.shape[0], bool)
    allowed[forbidden] = False
    result = solve_cover(matrix, costs, preselected=pre, allowed=allowed)
    assert set(pre) <= set(result.sites.tolist()) and not set(forbidden) & set(result.sites.tolist())
    assert np.all(np.asarray(matrix[result.sites].sum(axis=0)).ravel() >= 1)
    lb, ub = np.zeros(len(costs)), np.ones(len(costs))
    lb[pre], ub[forbidden] = 1, 0
    res = milp(costs, constraints=LinearConstraint(sp.csr_matrix(matrix.T, dtype=float), 1, np.inf),
               integrality=np.ones(len(costs)), bounds=Bounds(lb, ub), options={"mip_rel_gap": 0})
    assert result.cost >= res.fun - 1e-9 and result.lower_bound <= res.fun + 1e-9


def _plain_greedy(matrix, costs, u):
    """The Lagrangian greedy written the slow, obvious way: every score from scratch each pick."""
    a = np.asarray(sp.csr_matrix(matrix).todense(), dtype=bool)
    unc, order = np.ones(a.shape[1], bool), []
    while unc.any():
        mu = (a & unc).sum(axis=1)
        gamma = costs - (a & unc) @ u
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(mu > 0, np.where(gamma > 0, gamma / np.maximum(mu, 1), gamma * mu), np.inf)
        j = int(np.argmin(score))  # ties: lower column
        order.append(j)
        unc &= ~a[j]
    return order


@pytest.mark.parametrize("seed", range(6))
def test_lazy_greedy_takes_the_plain_greedys_columns(seed):
    """The heap with stale scores picks exactly what rescoring every column would (u on a
    grid of quarters, so both compute the same floating-point scores)."""
    matrix, costs = _instance(seed, unit=seed % 2 == 1)
    u = np.random.default_rng(seed).integers(0, 12, matrix.shape[1]) / 4.0
    assert greedy(SetCover.of(matrix, costs), u).tolist() == _plain_greedy(matrix, costs, u)


@pytest.mark.parametrize("seed", range(6))
def test_improve_keeps_a_cover_and_ends_where_no_added_column_saves(seed):
    matrix, costs = _instance(seed, unit=seed % 2 == 0)
    sc = SetCover.of(matrix, costs)
    start = remove_redundant(sc, greedy(sc, np.zeros(sc.m)))
    better = improve(sc, start)
    assert np.all(np.asarray(matrix[better].sum(axis=0)).ravel() >= 1)
    assert costs[better].sum() <= costs[start].sum()
    for k in np.setdiff1d(np.arange(sc.n), better):  # a local optimum of "add k, drop what it makes redundant"
        assert costs[remove_redundant(sc, np.append(better, k))].sum() >= costs[better].sum() - 1e-9


def _lp(matrix, costs) -> float:
    res = linprog(costs, A_ub=-sp.csr_matrix(matrix.T, dtype=float), b_ub=-np.ones(matrix.shape[1]), bounds=(0, 1),
                  method="highs")
    assert res.status == 0
    return float(res.fun)


@pytest.mark.parametrize("seed", range(6))
def test_lagrangian_bound_between_lp_and_optimum(seed):
    """#15: the full-cover bound (the first ascent's, before any rounding or HiGHS) is never
    above the MILP optimum and within 1 % of the LP relaxation, both computed here by HiGHS."""
    matrix, costs = _instance(seed, n=120, m=200, unit=seed % 3 == 2)
    lp, optimum = _lp(matrix, costs), _optimum(matrix, costs)
    _, bound, _ = solve(SetCover.of(matrix, costs), None, CFT["fast"], integral=True)
    assert bound <= optimum + 1e-9
    assert bound <= lp + 1e-6  # a Lagrangian bound of set covering can't pass the LP's
    assert bound >= 0.99 * lp


@pytest.mark.parametrize("seed", range(6))
def test_weighting_search_returns_a_cheaper_cover_or_nothing(seed):
    """The row-weighting search: from a poor cover, a real cover no dearer, its cost
    recounted; nothing when asked for a cover below the optimum; repeatable."""
    matrix, costs = _instance(seed, unit=seed % 2 == 1)
    sc = SetCover.of(matrix, costs)
    start = list(range(sc.n))  # every column: a cover, and a poor one
    found, cost = weighting.search(sc.lists, sc.row_lists, sc.cost_list, start, 200_000, seed)
    assert np.all(np.asarray(matrix[found].sum(axis=0)).ravel() >= 1)
    assert cost == pytest.approx(costs[found].sum()) and cost <= costs.sum()
    assert cost <= 1.1 * _optimum(matrix, costs)
    assert weighting.search(sc.lists, sc.row_lists, sc.cost_list, start, 200_000, seed) == (found, cost)
    assert weighting.search(sc.lists, sc.row_lists, sc.cost_list, [], 50_000, seed,
                            below=_optimum(matrix, costs) - 0.5) == ([], float("inf"))
