"""Priority phases: phase 1 first (required categories installed whole), later phases build on it."""

import numpy as np
import pytest
import scipy.sparse as sp

from coverage.phases import EXISTING_PHASE, greedy_phase_solver, group_coverage, solve_in_phases
from tests.conftest import random_cover_instance


def plain_greedy(dense, weights, costs, target, pre, allowed):
    """Textbook greedy on a dense matrix (no heap, no quantisation): the independent check."""
    covered = dense[pre].any(axis=0) if len(pre) else np.zeros(dense.shape[1], bool)
    order = list(pre)
    allowed = allowed.copy()
    while weights[covered].sum() < target * weights.sum() * (1 - 1e-12):
        gains = (dense & ~covered).astype(float) @ weights
        ratio = np.where(allowed & (gains > 0), gains / costs, -1)
        if ratio.max() <= 0:
            break
        best = int(np.flatnonzero(ratio == ratio.max())[0])
        order.append(best)
        allowed[best] = False
        covered |= dense[best]
    return np.array(order, dtype=np.int64)


def test_hand_instance():
    # 5 demand columns of weight 1; sites 0, 1 are phase 1 (0 required), 2, 3 phase 2
    dense = np.array([
        [1, 0, 0, 0, 0],  # phase 1, required, covers little
        [0, 1, 1, 0, 0],  # phase 1
        [1, 1, 1, 1, 0],  # phase 2: would be greedy's first pick without phases
        [0, 0, 0, 1, 1],  # phase 2
    ], dtype=bool)
    matrix = sp.csr_matrix(dense)
    w, costs = np.ones(5), np.ones(4)
    site_phase = np.array([1, 1, 2, 2])
    required = np.array([True, False, False, False])
    plan = solve_in_phases(greedy_phase_solver(matrix, w, costs), matrix, w, costs, site_phase, 1.0, required=required)
    assert plan.order.tolist() == [0, 1, 3]
    assert plan.phase.tolist() == [1, 1, 2]
    p1, p2 = plan.phases
    assert (p1.phase, p1.rows.tolist(), p1.cost, p1.coverage) == (1, [0, 1], 2.0, 0.6)
    assert (p2.phase, p2.rows.tolist(), p2.cost, p2.coverage) == (2, [3], 1.0, 1.0)
    assert plan.phase_of_rows(4).tolist() == [1, 1, -1, 2]


def test_required_installs_zero_gain_sites_and_existing_come_first():
    dense = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]], dtype=bool)
    matrix = sp.csr_matrix(dense)
    w, costs = np.array([1.0, 1.0, 1.0]), np.array([0.0, 1.0, 1.0, 1.0])
    plan = solve_in_phases(greedy_phase_solver(matrix, w, costs), matrix, w, costs, np.array([1, 1, 2, 2]), 1.0,
                           required=np.array([False, True, False, False]), existing=[0])
    # site 1 adds nothing after the existing site 0, but its category is required
    assert plan.order.tolist() == [0, 1, 2]
    assert plan.phase.tolist() == [EXISTING_PHASE, 1, 2]
    assert plan.n_existing == 1 and plan.coverage_before == pytest.approx(2 / 3)
    assert plan.phases[0].rows.tolist() == [1] and plan.phases[0].coverage == pytest.approx(2 / 3)


def test_forbidden_required_site_is_not_installed_and_forced_goes_in_its_phase():
    dense = np.eye(4, dtype=bool)
    matrix = sp.csr_matrix(dense)
    w, costs = np.ones(4), np.ones(4)
    allowed = np.array([False, True, True, True])  # site 0 forbidden
    plan = solve_in_phases(greedy_phase_solver(matrix, w, costs), matrix, w, costs, np.array([1, 1, 2, 2]), 0.5,
                           required=np.array([True, False, False, False]), allowed=allowed, forced=[3])
    assert 0 not in plan.order
    assert plan.phase_of_rows(4)[3] == 2


@pytest.mark.parametrize("seed", range(25))
def test_random_instances_against_independent_greedy(seed):
    matrix, w, costs = random_cover_instance(seed, n_sites=12, n_cells=30, density=0.2)
    dense = matrix.toarray()
    rng = np.random.default_rng(seed)
    site_phase = rng.integers(1, 4, 12)
    required = rng.random(12) < 0.2
    target = float(rng.choice([0.5, 0.8, 0.95, 1.0]))
    groups = {"left": np.arange(15), "right": np.arange(15, 30)}
    plan = solve_in_phases(greedy_phase_solver(matrix, w, costs), matrix, w, costs, site_phase, target,
                           required=required, groups=groups)
    installed: list[int] = []
    for result in plan.phases:
        p = result.phase
        must = [i for i in range(12) if site_phase[i] == p and required[i] and i not in installed]
        pre = installed + must
        allowed = (site_phase <= p) & ~np.isin(np.arange(12), pre)
        expect = plain_greedy(dense, w, costs, target, np.array(pre, dtype=np.int64), allowed)
        assert result.rows.tolist() == expect[len(installed):].tolist()
        installed = expect.tolist()
        covered = dense[installed].any(axis=0)
        assert result.coverage == pytest.approx(w[covered].sum() / w.sum())
        assert result.cost == pytest.approx(costs[result.rows].sum())
        for name, cols in groups.items():
            total = w[cols].sum()
            assert result.groups[name] == pytest.approx(w[cols][covered[cols]].sum() / total if total else 1.0)
    assert plan.order.tolist() == installed
    assert np.all(np.diff(plan.phase) >= 0)  # phases never go back


def test_a_solver_that_drops_preselected_rows_is_refused():
    matrix = sp.csr_matrix(np.eye(2, dtype=bool))
    with pytest.raises(ValueError, match="preselected rows first"):
        solve_in_phases(lambda pre, allowed, t: np.array([1]), matrix, np.ones(2), np.ones(2), np.array([1, 1]), 1.0,
                        required=np.array([True, False]))


def test_group_coverage_of_an_empty_group_is_full():
    matrix = sp.csr_matrix(np.eye(2, dtype=bool))
    assert group_coverage(matrix, np.array([1.0, 0.0]), [0], {"a": [0], "b": [1]}) == {"a": 1.0, "b": 1.0}


def test_first_stage_thresholds_are_the_cells_the_installed_rows_reach():
    """``first_stage(...) <= s`` is exactly the mask the rows of stage ≤ s cover (years,
    phases, positions), unsorted stages and rows covering nothing included."""
    from coverage.matrix import cells_reached
    from coverage.phases import first_stage

    rng = np.random.default_rng(11)
    dense = rng.random((40, 90)) < 0.05
    dense[3] = False
    matrix = sp.csr_matrix(dense)
    rows = rng.permutation(40)[:30]
    stage = rng.integers(2011, 2016, len(rows))
    first = first_stage(matrix, rows, stage)
    for s in range(2010, 2017):
        assert np.array_equal(first <= s, cells_reached(matrix, rows[stage <= s]))
    assert (first[~cells_reached(matrix, rows)] == np.iinfo(np.int64).max).all()
