"""Priority phases: build a plan phase by phase, later phases starting from what earlier ones installed.

A category carries a ``phase`` (1 = first: schools, libraries, metro stations, hubs;
2 = street gap-fill, …) and may be ``required`` (every site of it is installed: a
school's hotspot serves its visitors, not only the residents around it).
:func:`solve_in_phases` runs one solve per phase, in increasing phase number:

- the preselected rows of phase ``p`` are everything installed so far (existing
  hotspots first, then earlier phases in their order), then the forced sites and the
  sites of required categories of phase ``p`` (by row, the stable key);
- the solver may add allowed sites of phase ``≤ p`` not yet installed (a priority site
  that was not worth taking in its own phase may still be taken later);
- each phase aims at the same target; a phase that reaches it leaves nothing for the
  later phases to add (they still install their required sites).

The solver is a callable, so the driver plugs into any solver with the same contract:
``solve_phase(preselected_rows, allowed_mask, target) -> ordered rows`` returning the
rows it selects in order, beginning with ``preselected_rows`` as given (a budget is the
callable's business: it can compute what is left from the preselected rows).
Coverage after each phase is recomputed here from the matrix, not taken from the solver.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .matrix import cells_reached

#: Phase number given to existing hotspots (installed before the plan starts).
EXISTING_PHASE = 0

SolvePhase = Callable[[np.ndarray, np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class PhaseResult:
    """What one phase adds: ``rows`` in order (required and forced first), cost, and
    coverage (fraction of the total weight) after the phase; ``groups`` the coverage of
    each named group of demand columns after it (e.g. districts)."""

    phase: int
    rows: np.ndarray
    cost: float
    coverage: float
    groups: dict[str, float] = field(default_factory=dict)

    @property
    def n_sites(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class PhasedPlan:
    """The whole plan: ``order`` (existing first, then phase by phase) and the phase of each.

    ``phase[k]`` is the phase of ``order[k]`` (:data:`EXISTING_PHASE` for existing
    hotspots); ``phases`` one :class:`PhaseResult` per phase number, ascending.
    """

    order: np.ndarray
    phase: np.ndarray
    n_existing: int
    phases: tuple[PhaseResult, ...]
    coverage_before: float

    def phase_of_rows(self, n_rows: int) -> np.ndarray:
        """Phase per site row (-1 for sites not selected)."""
        out = np.full(n_rows, -1, dtype=np.int64)
        out[self.order] = self.phase
        return out


def solve_in_phases(
    solve_phase: SolvePhase,
    matrix: sp.csr_matrix,
    weights: np.ndarray,
    costs: np.ndarray,
    site_phase: np.ndarray,
    target: float,
    *,
    required: np.ndarray | None = None,
    allowed: np.ndarray | None = None,
    existing: np.ndarray | tuple = (),
    forced: np.ndarray | tuple = (),
    groups: Mapping[str, np.ndarray] | None = None,
) -> PhasedPlan:
    """Build the plan phase by phase with ``solve_phase`` (see the module docstring).

    ``matrix`` (sites × demand, boolean CSR), ``weights`` (per demand column) and
    ``costs`` (per site) are only used to report each phase's cost and coverage.
    ``site_phase`` (per site, int ≥ 1) and ``required`` (per site, bool) come from the
    sites' categories; ``allowed`` masks the sites that may be added (not forbidden);
    ``existing`` rows are installed before phase 1 (cost nothing new), ``forced`` rows
    are installed in their own site's phase. ``groups`` maps a name to a boolean (or
    index) selection of demand columns to report coverage for.
    """
    n = matrix.shape[0]
    site_phase = np.asarray(site_phase, dtype=np.int64)
    if site_phase.shape != (n,) or (site_phase < 1).any():
        raise ValueError("site_phase needs one phase number ≥ 1 per site")
    required = np.zeros(n, bool) if required is None else np.asarray(required, dtype=bool)
    allowed = np.ones(n, bool) if allowed is None else np.asarray(allowed, dtype=bool)
    existing = np.asarray(existing, dtype=np.int64)
    forced = np.asarray(forced, dtype=np.int64)
    weights = np.asarray(weights, dtype=float)
    costs = np.asarray(costs, dtype=float)

    installed = list(existing.tolist())
    phase_of = [EXISTING_PHASE] * len(installed)
    taken = np.zeros(n, dtype=bool)
    taken[existing] = True
    forced_mask = np.zeros(n, dtype=bool)
    forced_mask[forced] = True
    before = _fraction(matrix, weights, installed)
    results = []
    for p in np.unique(site_phase).tolist():
        must = np.flatnonzero((site_phase == p) & ~taken & ((required & allowed) | forced_mask))
        pre = np.array(installed + must.tolist(), dtype=np.int64)
        may = allowed & (site_phase <= p) & ~taken
        may[pre] = False
        chosen = np.asarray(solve_phase(pre, may, target), dtype=np.int64)
        _check_solver_answer(chosen, pre, may, p)
        new = chosen[len(installed):]
        installed.extend(new.tolist())
        phase_of.extend([p] * len(new))
        taken[new] = True
        results.append(PhaseResult(
            phase=int(p), rows=new, cost=float(costs[new].sum()), coverage=_fraction(matrix, weights, installed),
            groups=group_coverage(matrix, weights, installed, groups),
        ))
    return PhasedPlan(order=np.asarray(installed, dtype=np.int64), phase=np.asarray(phase_of, dtype=np.int64),
                      n_existing=len(existing), phases=tuple(results), coverage_before=before)


def _check_solver_answer(chosen: np.ndarray, pre: np.ndarray, may: np.ndarray, phase: int) -> None:
    """The solver must keep the preselected rows first and add only allowed rows, once each."""
    if len(chosen) < len(pre) or not np.array_equal(chosen[:len(pre)], pre):
        raise ValueError(f"phase {phase}: solve_phase must return the preselected rows first, in the order given")
    added = chosen[len(pre):]
    if len(np.unique(added)) != len(added) or not may[added].all():
        raise ValueError(f"phase {phase}: solve_phase added a row that was not allowed, or a row twice")


def group_coverage(matrix: sp.csr_matrix, weights: np.ndarray, rows, groups: Mapping[str, np.ndarray] | None) -> dict:
    """Covered fraction of each group's weight when ``rows`` are installed (1.0 for an empty group)."""
    if not groups:
        return {}
    return group_shares(weights, cells_reached(matrix, np.asarray(rows, dtype=np.int64)), groups)


def group_shares(weights: np.ndarray, covered: np.ndarray, groups: Mapping[str, np.ndarray] | None) -> dict:
    """Covered fraction of each group's weight given the ``covered`` mask of demand columns
    (1.0 for an empty group)."""
    out = {}
    for name, columns in (groups or {}).items():
        w = np.zeros(len(weights))
        w[columns] = weights[columns]
        total = w.sum()
        out[name] = float(w[covered].sum() / total) if total > 0 else 1.0
    return out


def first_stage(matrix: sp.csr_matrix, rows, stage) -> np.ndarray:
    """For each demand column, the lowest ``stage`` (one int per row of ``rows``: a phase,
    a year, a position in the plan order) among the rows that cover it; the int64 maximum
    where none does. ``first_stage(...) <= s`` is then the covered mask once every row of
    stage ≤ s is installed: one pass over the rows, however many stages are asked about.
    """
    rows = np.asarray(rows, dtype=np.int64)
    sub = matrix[rows]
    out = np.full(matrix.shape[1], np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, sub.indices, np.repeat(np.asarray(stage, dtype=np.int64), np.diff(sub.indptr)))
    return out


def _fraction(matrix: sp.csr_matrix, weights: np.ndarray, rows) -> float:
    total = weights.sum()
    if total <= 0:
        return 1.0
    return float(weights[cells_reached(matrix, np.asarray(rows, dtype=np.int64))].sum() / total)


def greedy_phase_solver(matrix: sp.csr_matrix, weights: np.ndarray, costs: np.ndarray, **options) -> SolvePhase:
    """A ``solve_phase`` callable over today's lazy greedy (:func:`coverage.solve.greedy_cover`).

    ``options`` (``max_sites``, ``max_cost``) are passed on; a budget then applies to
    each phase separately, so pass what the caller wants each phase to have.
    """
    from .solver.greedy import greedy_cover

    def solve_phase(preselected: np.ndarray, allowed: np.ndarray, target: float) -> np.ndarray:
        return greedy_cover(matrix, weights, costs, target, preselected=preselected, allowed=allowed, **options).order

    return solve_phase
