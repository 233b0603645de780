"""The sparse coverage matrix against a direct distance computation."""

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from coverage.matrix import cells_reached, coverage_matrix


def test_matches_pairwise_distances():
    rng = np.random.default_rng(1)
    sites = rng.uniform(0, 3000, (300, 2))
    cells = rng.uniform(0, 3000, (5000, 2))
    radii = rng.choice([80.0, 150.0, 250.0], 300)
    matrix = coverage_matrix(sites, radii, cells)
    assert sp.issparse(matrix) and matrix.dtype == bool
    expected = cdist(sites, cells) <= radii[:, None]
    assert np.array_equal(matrix.toarray(), expected)
    assert matrix.has_sorted_indices


def test_boundary_and_zero_distance_count_as_covered():
    matrix = coverage_matrix(np.array([[0.0, 0.0]]), np.array([100.0]),
                             np.array([[100.0, 0.0], [100.01, 0.0], [0.0, 0.0]]))
    assert matrix.toarray().tolist() == [[True, False, True]]


def test_many_radii_and_a_shared_tree():
    from coverage.matrix import demand_tree

    rng = np.random.default_rng(2)
    sites, cells = rng.uniform(0, 2000, (200, 2)), rng.uniform(0, 2000, (3000, 2))
    radii = rng.uniform(20, 300, 200)  # every site its own radius
    matrix = coverage_matrix(sites, radii, cells, tree=demand_tree(cells))
    assert np.array_equal(matrix.toarray(), cdist(sites, cells) <= radii[:, None])


def test_empty_inputs():
    assert coverage_matrix(np.empty((0, 2)), np.empty(0), np.zeros((3, 2))).shape == (0, 3)
    assert coverage_matrix(np.zeros((2, 2)), np.ones(2), np.empty((0, 2))).shape == (2, 0)


def test_cells_reached():
    matrix = sp.csr_matrix(np.array([[1, 0, 0], [0, 0, 1]], dtype=bool))
    assert cells_reached(matrix).tolist() == [True, False, True]
    assert cells_reached(matrix, [1]).tolist() == [False, False, True]
    assert cells_reached(matrix, []).tolist() == [False, False, False]
