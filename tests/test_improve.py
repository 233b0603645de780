"""Local search after greedy: never below the target, never dearer, never over budget,
never touching preselected or forbidden sites, and the same answer every time."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import random_cover_instance
from coverage.solver.local import improve
from coverage.solver.greedy import evaluate_order, greedy_cover, quantise


def instance(seed):
    return random_cover_instance(seed, n_sites=10, n_cells=30, density=0.2)


def covered_q(matrix, weights, order):
    """Exact covered demand (fixed point) of a set of sites, computed densely."""
    dense = np.asarray(matrix.todense(), dtype=bool)
    hit = dense[np.asarray(order, dtype=int)].any(axis=0) if len(order) else np.zeros(dense.shape[1], bool)
    return int(quantise(weights)[hit].sum())


def need_q(weights, target):
    return target * quantise(weights).sum() * (1 - 1e-12)


def setup(seed, target, n_pre=0, n_forbidden=0):
    matrix, weights, costs = instance(seed)
    n = matrix.shape[0]
    rng = np.random.default_rng(seed + 1000)
    picks = rng.permutation(n)
    pre, forbidden = picks[:n_pre], picks[n_pre:n_pre + n_forbidden]
    allowed = np.ones(n, dtype=bool)
    allowed[pre] = allowed[forbidden] = False
    return matrix, weights, costs, pre, forbidden, allowed


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10_000), target=st.sampled_from([0.5, 0.8, 0.9, 0.99, 1.0]),
       n_pre=st.integers(0, 2), n_forbidden=st.integers(0, 3))
def test_min_cost_invariants(seed, target, n_pre, n_forbidden):
    matrix, weights, costs, pre, forbidden, allowed = setup(seed, target, n_pre, n_forbidden)
    greedy = greedy_cover(matrix, weights, costs, target, preselected=pre, allowed=allowed)
    result = improve(matrix, weights, costs, target, greedy, allowed)
    before = covered_q(matrix, weights, greedy.order)
    after = covered_q(matrix, weights, result.solution.order)
    order = result.solution.order
    # coverage: at least the target when greedy met it, and never less than greedy's otherwise
    assert after >= min(before, need_q(weights, target))
    if before >= need_q(weights, target):
        assert after >= need_q(weights, target)
    # cost never rises
    assert costs[order].sum() <= costs[greedy.order].sum() + 1e-9
    assert result.cost_after == pytest.approx(costs[order].sum())
    assert result.cost_before == pytest.approx(costs[greedy.order].sum())
    # preselected kept first and in order; forbidden never added; no duplicates
    assert list(order[:len(pre)]) == list(pre)
    assert result.solution.n_preselected == len(pre)
    assert not set(order.tolist()) & set(forbidden.tolist())
    assert len(set(order.tolist())) == len(order)
    # the Solution is consistent with its order
    assert np.array_equal(result.solution.first_rank, evaluate_order(matrix, order, len(pre)).first_rank)
    assert result.coverage_after == pytest.approx(after / quantise(weights).sum() if weights.sum() else 1.0)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), max_sites=st.integers(1, 4), use_cost=st.booleans())
def test_budget_invariants(seed, max_sites, use_cost):
    matrix, weights, costs, pre, forbidden, allowed = setup(seed, 0.99, 1, 2)
    budget = dict(max_cost=float(max_sites) * 1.5) if use_cost else dict(max_sites=max_sites)
    greedy = greedy_cover(matrix, weights, costs, 0.99, preselected=pre, allowed=allowed, **budget)
    result = improve(matrix, weights, costs, 0.99, greedy, allowed, **budget)
    order = result.solution.order
    new = order[len(pre):]
    assert covered_q(matrix, weights, order) >= min(covered_q(matrix, weights, greedy.order),
                                                    need_q(weights, 0.99))
    if use_cost:
        assert costs[new].sum() <= budget["max_cost"] * (1 + 1e-12)
    else:
        assert len(new) <= max_sites
    assert list(order[:len(pre)]) == list(pre)
    assert not set(order.tolist()) & set(forbidden.tolist())


def test_drops_the_most_expensive_redundant_site_first():
    # sites 0 and 1 cover halves, site 2 everything; all three selected: 2 is dropped
    # first (dearest), after which 0 and 1 are each needed.
    matrix = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]], dtype=bool))
    weights, costs = np.ones(4), np.array([1.0, 1.0, 3.0])
    result = improve(matrix, weights, costs, 1.0, evaluate_order(matrix, [0, 1, 2]))
    assert sorted(result.solution.order.tolist()) == [0, 1]
    assert result.n_dropped == 1 and result.cost_after == 2.0 and result.cost_before == 5.0


def test_drop_keeps_the_target_not_full_cover():
    # target 0.75: of sites 0 (cells 0-1) and 1 (cells 2-3, dearer) one may go; cell
    # weights make dropping 1 keep 3/4.
    matrix = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool))
    weights, costs = np.array([2.0, 1.0, 1.0, 0.0]), np.array([1.0, 2.0])
    result = improve(matrix, weights, costs, 0.75, evaluate_order(matrix, [0, 1]))
    assert result.solution.order.tolist() == [0]
    assert result.coverage_after == pytest.approx(0.75)


def test_swaps_to_a_cheaper_site():
    # the plan uses the dear site 0; site 1 covers the same cells for less
    matrix = sp.csr_matrix(np.array([[1, 1, 1], [1, 1, 1], [0, 0, 1]], dtype=bool))
    weights, costs = np.ones(3), np.array([5.0, 2.0, 1.0])
    result = improve(matrix, weights, costs, 1.0, evaluate_order(matrix, [0]))
    assert result.solution.order.tolist() == [1]
    assert result.n_swaps == 1 and result.cost_after == 2.0


def test_preselected_and_forbidden_respected():
    matrix = sp.csr_matrix(np.array([[1, 1, 1], [1, 1, 1], [1, 1, 1]], dtype=bool))
    weights, costs = np.ones(3), np.array([5.0, 1.0, 3.0])
    allowed = np.array([False, False, True])  # 0 preselected, 1 forbidden
    plan = evaluate_order(matrix, [0, 2], n_preselected=1)
    result = improve(matrix, weights, costs, 1.0, plan, allowed)
    assert result.solution.order.tolist() == [0]  # 2 is redundant; 0 stays; 1 never comes in


def test_deterministic():
    rng = np.random.default_rng(5)
    matrix = sp.csr_matrix(rng.random((80, 600)) < 0.04)
    weights = rng.integers(1, 50, 600).astype(float)
    costs = rng.choice([1.0, 2.0, 3.0], 80)
    greedy = greedy_cover(matrix, weights, costs, 0.95)
    runs = [improve(matrix, weights, costs, 0.95, greedy) for _ in range(3)]
    assert all(np.array_equal(r.solution.order, runs[0].solution.order) for r in runs)
    assert len({(r.n_dropped, r.n_swaps, r.swap_evaluations) for r in runs}) == 1


def test_swap_evaluation_cap_is_honoured():
    rng = np.random.default_rng(6)
    matrix = sp.csr_matrix(rng.random((80, 600)) < 0.04)
    weights, costs = rng.integers(1, 50, 600).astype(float), rng.choice([1.0, 2.0, 3.0], 80)
    greedy = greedy_cover(matrix, weights, costs, 0.95)
    result = improve(matrix, weights, costs, 0.95, greedy, max_swap_evaluations=3)
    assert result.swap_evaluations <= 3 and result.stop_reason == "max_swap_evaluations"


def test_adds_under_a_budget_after_a_cheaper_swap():
    # budget 3: greedy can afford only the dear site 0; swapping to 1 frees room for 2.
    matrix = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0]], dtype=bool))
    weights, costs = np.array([1.0, 1.0, 1.0, 1.0]), np.array([3.0, 1.0, 2.0])
    plan = evaluate_order(matrix, [0])
    result = improve(matrix, weights, costs, 1.0, plan, max_cost=3.0)
    assert sorted(result.solution.order.tolist()) == [1, 2]
    assert result.coverage_after == pytest.approx(0.75)


def test_ranked_solution_keeps_preselected_first_and_every_site():
    from coverage.solver.local import ranked_solution

    matrix = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 1], [0, 1, 0], [1, 0, 0]], dtype=bool))
    solution = ranked_solution(matrix, np.ones(3), np.ones(4), [0, 1, 2, 3], preselected=[3])
    assert solution.order.tolist() == [3, 1, 0, 2]  # 0 and 2 add nothing after 1: by index
    assert solution.n_preselected == 1


@pytest.mark.parametrize("seed", range(8))
def test_unranked_result_is_the_same_plan(seed):
    """``rank=False`` (the solver's polish) returns the same sites, preselected first, as
    the ranked result, only in index order."""
    matrix, weights, costs, pre, _, allowed = setup(seed, 0.9, n_pre=2, n_forbidden=1)
    start = greedy_cover(matrix, weights, costs, 0.9, preselected=pre, allowed=allowed)
    ranked = improve(matrix, weights, costs, 0.9, start, allowed)
    plain = improve(matrix, weights, costs, 0.9, start, allowed, rank=False)
    assert costs[plain.solution.order].sum() == pytest.approx(plain.cost_after)  # recounted, not echoed
    covered = np.asarray(matrix[plain.solution.order].sum(axis=0)).ravel() > 0
    assert np.array_equal(covered, plain.solution.covered)
    assert weights[covered].sum() >= min(0.9 * weights.sum(), weights[start.covered].sum()) - 1e-9  # reachable share
    assert plain.solution.order[:len(pre)].tolist() == ranked.solution.order[:len(pre)].tolist()
    assert sorted(plain.solution.order.tolist()) == sorted(ranked.solution.order.tolist())
    assert plain.solution.order[len(pre):].tolist() == sorted(plain.solution.order[len(pre):].tolist())
