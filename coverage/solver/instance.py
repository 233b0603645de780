"""The set-cover instance the solver works on: one frozen dataclass, one constructor.

Rows of ``matrix`` are candidate sites, columns demand points (cells); entry (i, j)
is True when site i covers point j. A plan is a set of sites; it must cover at least
``target`` of the total ``weights`` and every extra :class:`CoverConstraint` (a group
of demand columns with its own target fraction, e.g. a district minimum), within the
budget (``max_sites`` / ``max_cost`` limit the sites added beyond the preselected ones).
Nothing here knows about geography: the geographic pipeline, the benchmarks, the tests
and :func:`coverage.solve_cover` all build instances with :meth:`Instance.build`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class CoverConstraint:
    """Cover at least ``target`` (0–1] of the weight of demand ``columns`` (indices)."""

    columns: np.ndarray
    target: float
    name: str = ""


@dataclass(frozen=True, eq=False)
class Instance:
    """A weighted partial set-cover instance (see the module docstring).

    ``matrix``: boolean CSR, sites × demand points. ``weights``: demand per point
    (≥ 0, any unit). ``costs``: cost per site (cost units). ``target``: fraction of the
    total weight to cover. ``preselected``: site indices every plan contains (existing
    and forced, in this order). ``allowed``: mask of the sites a plan may add (never
    includes a preselected site). ``constraints``: extra coverage constraints.
    """

    matrix: sp.csr_matrix
    weights: np.ndarray
    costs: np.ndarray
    target: float
    preselected: np.ndarray
    allowed: np.ndarray
    max_sites: int | None = None
    max_cost: float | None = None
    constraints: tuple[CoverConstraint, ...] = ()

    @classmethod
    def build(cls, matrix, costs, weights=None, target: float = 1.0, *, preselected=(), allowed=None,
              max_sites: int | None = None, max_cost: float | None = None, constraints=()) -> Instance:
        """The one public constructor: checks shapes and normalises types.

        ``weights`` default to 1 per column; ``allowed`` to every site; ``constraints``
        are :class:`CoverConstraint` objects or ``(columns, target)`` pairs.
        """
        matrix = sp.csr_matrix(matrix, dtype=bool)
        matrix.sort_indices()
        n_sites, n_cells = matrix.shape
        costs = np.asarray(costs, dtype=float).reshape(-1)
        weights = np.ones(n_cells) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
        if len(costs) != n_sites:
            raise ValueError(f"costs has {len(costs)} entries but the matrix has {n_sites} rows (sites)")
        if len(weights) != n_cells:
            raise ValueError(f"weights has {len(weights)} entries but the matrix has {n_cells} columns")
        if np.any(weights < 0) or not np.all(np.isfinite(weights)):
            raise ValueError("weights must be finite and ≥ 0")
        if np.any(costs < 0) or not np.all(np.isfinite(costs)):
            raise ValueError("costs must be finite and ≥ 0")
        if not 0 <= target <= 1:
            raise ValueError(f"target must be in [0, 1], got {target}")
        pre = np.asarray(preselected, dtype=np.int64).reshape(-1)
        mask = np.ones(n_sites, dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
        if len(mask) != n_sites:
            raise ValueError(f"allowed has {len(mask)} entries but the matrix has {n_sites} rows")
        mask[pre] = False
        groups = tuple(c if isinstance(c, CoverConstraint) else CoverConstraint(*c) for c in constraints)
        groups = tuple(CoverConstraint(_sorted_unique(c.columns), float(c.target), c.name) for c in groups)
        for c in groups:
            if not 0 <= c.target <= 1:
                raise ValueError(f"constraint {c.name!r}: target must be in [0, 1], got {c.target}")
            if len(c.columns) and (c.columns[0] < 0 or c.columns[-1] >= n_cells):
                raise ValueError(f"constraint {c.name!r}: column index out of range")
        return cls(matrix, weights, costs, float(target), pre, mask, max_sites, max_cost, groups)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    @property
    def usable(self) -> np.ndarray:
        """Mask of the sites a plan may contain: allowed or preselected."""
        mask = self.allowed.copy()
        mask[self.preselected] = True
        return mask

    @property
    def has_budget(self) -> bool:
        return self.max_sites is not None or self.max_cost is not None


def _sorted_unique(columns) -> np.ndarray:
    """``np.unique`` of ``columns`` as int64, without the sort when they are already strictly
    increasing (district columns from ``np.flatnonzero``: 30 ms each on a city)."""
    columns = np.asarray(columns, dtype=np.int64).reshape(-1)
    return columns if np.all(columns[1:] > columns[:-1]) else np.unique(columns)


def cells_reached(matrix: sp.csr_matrix, rows: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the cells covered by any of ``rows`` (all rows when None)."""
    sub = matrix if rows is None else matrix[np.asarray(rows, dtype=np.int64)]
    reached = np.zeros(matrix.shape[1], dtype=bool)
    reached[sub.indices] = True
    return reached
