"""The reduced model the Lagrangian solver works on.

From an :class:`~coverage.solver.instance.Instance`: keep the free sites (allowed, not
preselected); drop demand the preselected sites already cover and demand no free site
reaches; merge demand points covered by exactly the same free sites *and* belonging to
exactly the same coverage constraints (weights summed). What remains is::

    minimise   Σ_i c_i x_i                                  x_i ∈ {0, 1} (free sites)
    subject to y_r ≤ Σ_{i covers r} x_i        for every merged row r, y_r ∈ [0, 1]
               Σ_r w_r y_r ≥ need_0                         (the target)
               Σ_{r ∈ G_k} w_r y_r ≥ need_k   for every constraint k
               (and the budget, Σ x ≤ max_sites, Σ c x ≤ max_cost, for plans only)

``need_k`` is the constraint's target share of its total weight less what the
preselected sites cover; when more than the free sites can reach is needed, the need
is clamped to what they reach and ``clamped`` says so (the plan then covers all it can).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .bounds import merge_rows
from .instance import Instance, cells_reached

NEED_SLACK = 1e-12  # relative slack on the needs (float rounding of target × total)


@dataclass(frozen=True, eq=False)
class Model:
    """The reduced model (see the module docstring).

    ``matrix``: free sites × rows (CSR bool); ``free``: instance site index of each
    row of it; ``costs``; ``weights`` per row; ``groups``: rows × constraints (CSR
    float 0/1, column 0 is the target: every row); ``needs`` per constraint (column of
    ``groups``); ``fixed_cost``: the preselected sites' cost.
    """

    matrix: sp.csr_matrix
    free: np.ndarray
    costs: np.ndarray
    weights: np.ndarray
    groups: sp.csr_matrix
    needs: np.ndarray
    fixed_cost: float
    clamped: bool
    rows_from: int

    @property
    def n_rows(self) -> int:
        return self.matrix.shape[1]


def build_model(instance: Instance) -> Model:
    """Reduce ``instance`` to its :class:`Model`."""
    inst = instance
    n_sites, n_cells = inst.matrix.shape
    w = inst.weights
    free = np.flatnonzero(inst.allowed)
    member = _membership(inst)  # cells × constraints (target first)
    pre_reach = cells_reached(inst.matrix, inst.preselected) if len(inst.preselected) else np.zeros(n_cells, bool)
    totals = np.asarray(member.T @ w).ravel()
    pre_cov = np.asarray(member.T @ np.where(pre_reach, w, 0.0)).ravel()
    targets = np.array([inst.target] + [c.target for c in inst.constraints])
    needs = targets * totals * (1 - NEED_SLACK) - pre_cov
    by_cell = sp.csr_matrix((inst.matrix[free] if len(free) < n_sites else inst.matrix).T)  # cells × free sites
    open_cells = np.flatnonzero((np.diff(by_cell.indptr) > 0) & ~pre_reach & (w > 0))
    tagged = by_cell[open_cells]
    if inst.constraints:  # merge respects groups (the target's column is every cell's: no need)
        tagged = sp.hstack([tagged, member[open_cells]], format="csr")
    merged, merged_w = merge_rows(tagged, w[open_cells])
    matrix = sp.csr_matrix(merged[:len(free)], dtype=bool)
    groups = (sp.csr_matrix(merged[len(free):].T, dtype=float) if inst.constraints
              else sp.csr_matrix(np.ones((merged.shape[1], 1))))
    reach = np.asarray(groups.T @ merged_w).ravel()
    clamped = bool(np.any(needs > reach * (1 + 1e-12)))
    needs = np.minimum(np.maximum(needs, 0.0), reach)
    return Model(matrix, free, inst.costs[free], merged_w, groups, needs, float(inst.costs[inst.preselected].sum()),
                 clamped, int(len(open_cells)))


def _membership(inst: Instance) -> sp.csr_matrix:
    """cells × (1 + constraints) 0/1 matrix: column 0 all ones, then each constraint's columns."""
    n_cells = inst.matrix.shape[1]
    cols = [np.arange(n_cells)] + [c.columns for c in inst.constraints]
    rows = np.concatenate(cols)
    which = np.repeat(np.arange(len(cols)), [len(c) for c in cols])
    return sp.csr_matrix((np.ones(len(rows)), (rows, which)), shape=(n_cells, len(cols)))
