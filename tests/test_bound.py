"""The LP bound and the exact solve against brute force on tiny instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from conftest import random_cover_instance
from coverage.solver.bounds import coverage_upper_bound, exact, lower_bound, merge_identical_columns, reduce_problem
from coverage.solver.local import improve
from coverage.solver.greedy import greedy_cover, quantise




def brute_force(matrix, weights, costs, target, preselected=(), allowed=None):
    """Least total cost covering the target (None if impossible), over every subset."""
    dense = np.asarray(matrix.todense(), dtype=bool)
    n = dense.shape[0]
    wq = quantise(weights)
    need = target * wq.sum() * (1 - 1e-12)
    pre = list(preselected)
    free = [i for i in range(n) if (allowed is None or allowed[i]) and i not in pre]
    best = None
    for k in range(len(free) + 1):
        for subset in itertools.combinations(free, k):
            chosen = pre + list(subset)
            hit = dense[chosen].any(axis=0) if chosen else np.zeros(dense.shape[1], bool)
            if wq[hit].sum() >= need:
                cost = costs[chosen].sum()
                best = cost if best is None else min(best, cost)
    return best


def best_coverage(matrix, weights, costs, max_sites=None, max_cost=None):
    dense = np.asarray(matrix.todense(), dtype=bool)
    best = 0.0
    for k in range(dense.shape[0] + 1):
        for subset in itertools.combinations(range(dense.shape[0]), k):
            if max_sites is not None and k > max_sites:
                continue
            if max_cost is not None and costs[list(subset)].sum() > max_cost + 1e-9:
                continue
            hit = dense[list(subset)].any(axis=0) if k else np.zeros(dense.shape[1], bool)
            best = max(best, weights[hit].sum() / weights.sum())
    return best


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), target=st.sampled_from([0.5, 0.8, 0.9, 0.99]), n_pre=st.integers(0, 1))
def test_bound_below_optimum_below_greedy(seed, target, n_pre):
    matrix, weights, costs = random_cover_instance(seed)
    if weights.sum() == 0:
        return
    pre = list(range(n_pre))
    allowed = np.ones(matrix.shape[0], dtype=bool)
    allowed[-1] = False  # one forbidden site
    optimum = brute_force(matrix, weights, costs, target, pre, allowed)
    bound = lower_bound(matrix, weights, costs, target, pre, allowed, clamp_to_reachable=False)
    if optimum is None:
        assert bound.value is None and bound.status == "infeasible"
        return
    greedy = greedy_cover(matrix, weights, costs, target, preselected=pre, allowed=allowed)
    improved = improve(matrix, weights, costs, target, greedy, allowed)
    assert bound.proven
    assert bound.value <= optimum + 1e-9
    assert optimum <= improved.cost_after + 1e-9 <= costs[greedy.order].sum() + 2e-9
    assert bound.gap(improved.cost_after) >= 0
    result = exact(matrix, weights, costs, target, pre, allowed)
    assert result.status in ("optimal", "trivial")
    assert result.objective == pytest.approx(optimum)


def test_bound_equals_optimum_when_the_lp_is_integral():
    # disjoint sets: the LP optimum is integral
    blocks = [3, 2, 4, 1]
    rows = []
    start = 0
    for size in blocks:
        row = np.zeros(sum(blocks), dtype=bool)
        row[start:start + size] = True
        rows.append(row)
        start += size
    matrix = sp.csr_matrix(np.array(rows))
    weights, costs = np.ones(sum(blocks)), np.array([1.0, 1.0, 1.0, 1.0])
    bound = lower_bound(matrix, weights, costs, 1.0)
    assert bound.status == "optimal"
    assert bound.value == brute_force(matrix, weights, costs, 1.0) == 4.0


def test_integer_costs_round_the_bound_up():
    # three sites pairwise covering a triangle's edges: LP = 1.5, any plan costs ≥ 2
    matrix = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1]], dtype=bool))
    bound = lower_bound(matrix, np.ones(3), np.ones(3), 1.0)
    assert bound.lp_value == pytest.approx(1.5)
    assert bound.value == 2.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_merging_preserves_the_lp_optimum(seed):
    rng = np.random.default_rng(seed)
    base = rng.random((6, 10)) < 0.3
    dense = base[:, rng.integers(0, 10, 40)]  # many identical columns
    matrix, weights = sp.csr_matrix(dense), rng.integers(1, 5, 40).astype(float)
    costs = rng.uniform(0.5, 2, 6)
    merged, merged_w = merge_identical_columns(matrix, weights)
    assert merged.shape[1] == len({tuple(col) for col in dense.T})
    assert merged_w.sum() == pytest.approx(weights.sum())
    reach = weights[dense.any(axis=0)].sum()
    target = 0.8 * reach / weights.sum()
    assert _plain_lp(dense, weights, costs, target) == pytest.approx(
        lower_bound(matrix, weights, costs, target).lp_value, rel=1e-6, abs=1e-7)


def _plain_lp(dense, weights, costs, target):
    """The unmerged LP written out directly."""
    n, m = dense.shape
    c = np.concatenate([costs, np.zeros(m)])
    a = np.hstack([-dense.T.astype(float), np.eye(m)])
    a = np.vstack([a, np.concatenate([np.zeros(n), -weights])])
    b = np.concatenate([np.zeros(m), [-target * weights.sum()]])
    return linprog(c, A_ub=a, b_ub=b, bounds=(0, 1), method="highs").fun


def test_merge_counts_and_weights():
    dense = np.array([[1, 1, 0, 1, 0], [0, 0, 1, 0, 0], [1, 1, 1, 1, 0]], dtype=bool)
    merged, w = merge_identical_columns(sp.csr_matrix(dense), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    # columns 0, 1, 3 identical; 2 alone; 4 covered by nothing
    assert merged.shape == (3, 3)
    assert sorted(w.tolist()) == [3.0, 5.0, 7.0]


def test_unreachable_cells_count_in_the_total():
    matrix = sp.csr_matrix(np.array([[1, 0, 0, 0]], dtype=bool))
    weights = np.array([1.0, 1.0, 1.0, 1.0])
    red = reduce_problem(matrix, weights, np.ones(1), 0.5)
    assert red.rows_from == 1 and red.total == 4.0 and red.clamped
    assert red.target_used == pytest.approx(0.25)
    assert lower_bound(matrix, weights, np.ones(1), 0.5, clamp_to_reachable=False).status == "infeasible"
    clamped = lower_bound(matrix, weights, np.ones(1), 0.5)
    assert clamped.value == 1.0 and "out of reach" in clamped.message


def test_preselected_cost_counts_and_trivial_target():
    matrix = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    bound = lower_bound(matrix, np.ones(3), np.array([2.0, 1.0]), 0.6, preselected=[0])
    assert bound.status == "trivial" and bound.value == 2.0


def test_time_limit_falls_back_to_a_proven_lagrangian_bound():
    """HiGHS stopped at its time limit proves nothing by itself; the subgradient bound does."""
    rng = np.random.default_rng(0)
    matrix = sp.csr_matrix(rng.random((400, 6000)) < 0.01)
    weights, costs = rng.integers(1, 100, 6000).astype(float), rng.uniform(1, 3, 400)
    bound = lower_bound(matrix, weights, costs, 0.95, time_limit_s=1e-6)
    assert bound.status == "lagrangian" and "HiGHS" in bound.message
    full = lower_bound(matrix, weights, costs, 0.95)
    assert full.status == "optimal"
    assert bound.value <= full.value + 1e-9
    assert bound.gap(100.0) is not None


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), max_sites=st.integers(1, 3), use_cost=st.booleans())
def test_coverage_upper_bound_above_best(seed, max_sites, use_cost):
    matrix, weights, costs = random_cover_instance(seed, n_sites=7, n_cells=15)
    if weights.sum() == 0:
        return
    budget = dict(max_cost=1.5 * max_sites) if use_cost else dict(max_sites=max_sites)
    bound = coverage_upper_bound(matrix, weights, costs, **budget)
    assert bound.kind == "max_coverage" and bound.lower_bound is None
    assert bound.value >= best_coverage(matrix, weights, costs, **budget) - 1e-9


def test_subgradient_bound_is_below_the_optimum_and_close_to_the_lp():
    """On random instances the Lagrangian bound never exceeds the LP value (a valid bound)."""
    from coverage.solver.bounds import reduce_problem, subgradient_bound

    rng = np.random.default_rng(11)
    for seed in range(8):
        rng = np.random.default_rng(seed)
        dense = rng.random((30, 200)) < 0.08
        weights = rng.integers(1, 20, 200).astype(float)
        costs = rng.choice([1.0, 2.0, 3.0], 30)
        matrix = sp.csr_matrix(dense)
        lp = lower_bound(matrix, weights, costs, 0.9).lp_value
        red = reduce_problem(matrix, weights, costs, 0.9)
        greedy = greedy_cover(matrix, weights, costs, 0.9)
        value, steps = subgradient_bound(red, float(costs[greedy.order].sum()))
        assert value <= lp + 1e-6
        assert value >= 0.8 * lp  # and useful: within 20 % of the LP


def test_large_models_get_a_proven_lagrangian_bound():
    rng = np.random.default_rng(5)
    dense = rng.random((40, 300)) < 0.06
    weights = rng.integers(1, 20, 300).astype(float)
    costs = rng.choice([1.0, 2.0], 40)
    matrix = sp.csr_matrix(dense)
    exact_lp = lower_bound(matrix, weights, costs, 0.95)
    forced = lower_bound(matrix, weights, costs, 0.95, max_lp_nonzeros=10)
    assert forced.status == "lagrangian" and forced.proven
    assert forced.value <= exact_lp.value + 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_merging_survives_hash_collisions(seed, monkeypatch):
    """With every column of one size forced into one hash group (a collision on each),
    the exact check still merges only columns with the same site set."""
    from coverage.solver import bounds

    monkeypatch.setattr(bounds, "_group_ids", lambda digest, size: np.unique(size, return_inverse=True)[1])
    rng = np.random.default_rng(seed)
    matrix = sp.csr_matrix(rng.random((6, 40)) < 0.35)  # sites × cells, many repeats
    weights = rng.integers(1, 9, 40).astype(float)
    merged, merged_w = merge_identical_columns(matrix, weights)
    dense, cols = matrix.toarray(), merged.toarray()
    want, got = {}, {}
    for col, w in zip(dense.T, weights):
        want[tuple(col)] = want.get(tuple(col), 0.0) + w
    for col, w in zip(cols.T, merged_w):
        got[tuple(col)] = got.get(tuple(col), 0.0) + w
    assert got == pytest.approx(want)  # each site set keeps exactly its own weight
