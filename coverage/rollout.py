"""Roll-out by year: which year each selected site is installed, and the coverage at the end of each year.

Sites are scheduled in the plan's order (existing hotspots first, then phase by phase,
each phase in its greedy order), which :func:`schedule` never reorders: the year along
the order never goes down, so earlier phases come first and, within a phase, the sites
that add most per unit cost.

Three ways to give the pace (:func:`schedule`):

- ``budget_per_year`` (cost units) and/or ``sites_per_year``: each year takes sites in
  order while both limits hold; the first site that does not fit opens the next year.
  A year's limits are never exceeded. A site that costs more than a whole year's budget
  can never be installed under that budget: :func:`schedule` raises
  :class:`~coverage.errors.InputError` naming the site and the figure to raise (there
  is no silent overspend and no skipping ahead). With ``end_year`` as well, sites that
  do not fit by ``end_year`` are left unscheduled (year :data:`UNSCHEDULED`) and
  reported, not squeezed in.
- ``end_year`` alone: the order is cut into ``end_year - start_year + 1`` consecutive
  slices of about equal cost (each site goes to the year its cost midpoint falls in).

Existing hotspots get year :data:`EXISTING` (installed before the roll-out starts).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .errors import InputError
from .phases import first_stage, group_shares

#: Year of an existing hotspot (installed before the roll-out).
EXISTING = 0
#: Year of a site the budget cannot fit by ``end_year``.
UNSCHEDULED = -1


@dataclass(frozen=True)
class YearResult:
    """One year of the roll-out: the positions in the plan order installed that year,
    their cost, and coverage (fraction of total weight, and per group) at the year's end."""

    year: int
    positions: np.ndarray
    cost: float
    coverage: float
    groups: dict[str, float] = field(default_factory=dict)

    @property
    def n_sites(self) -> int:
        return len(self.positions)


@dataclass(frozen=True)
class RolloutPlan:
    """``year[k]`` is the year of the k-th site of the plan order; ``years`` one entry per
    year from the start year to the last year used (a year may be empty);
    ``unscheduled`` the positions that did not fit by ``end_year``."""

    year: np.ndarray
    years: tuple[YearResult, ...]
    unscheduled: np.ndarray

    def first_year_reaching(self, fraction: float, group: str | None = None) -> int | None:
        """The first year whose end-of-year coverage (of ``group``, or overall) is ≥ ``fraction``."""
        for result in self.years:
            value = result.coverage if group is None else result.groups.get(group, 0.0)
            if value >= fraction - 1e-12:
                return result.year
        return None


def schedule(
    costs: np.ndarray,
    start_year: int,
    *,
    end_year: int | None = None,
    budget_per_year: float | None = None,
    sites_per_year: int | None = None,
    existing: np.ndarray | None = None,
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """Year of each site, in plan order (``costs`` are the sites' costs in that order).

    ``existing`` (bool per position) marks hotspots already installed (year
    :data:`EXISTING`, no budget). ``names`` (per position) name sites in messages.
    See the module docstring for the rules.
    """
    costs = np.asarray(costs, dtype=float)
    existing = np.zeros(len(costs), bool) if existing is None else np.asarray(existing, dtype=bool)
    _check(start_year, end_year, budget_per_year, sites_per_year)
    year = np.full(len(costs), EXISTING, dtype=np.int64)
    new = np.flatnonzero(~existing)
    if budget_per_year is None and sites_per_year is None:
        if end_year is None:
            raise InputError("[rollout] needs budget_per_year, sites_per_year or end_year to set the pace")
        year[new] = start_year + _even_slices(costs[new], end_year - start_year + 1)
        return year
    if budget_per_year is not None:
        too_dear = new[costs[new] > budget_per_year * (1 + 1e-12)]
        if len(too_dear):
            k = int(too_dear[0])
            who = f"site {names[k]!r}" if names is not None else f"site #{k + 1} of the plan"
            raise InputError(
                f"[rollout] {who} costs {costs[k]:g}, more than budget_per_year = {budget_per_year:g}; "
                "raise budget_per_year to at least the dearest site's cost"
            )
    year[new] = _pack(costs[new], start_year, budget_per_year, sites_per_year)
    if end_year is not None:
        year[new[year[new] > end_year]] = UNSCHEDULED
    return year


def _check(start_year, end_year, budget_per_year, sites_per_year) -> None:
    if not isinstance(start_year, int) or isinstance(start_year, bool):
        raise InputError(f"[rollout] start_year must be a whole year such as 2011; got {start_year!r}")
    if end_year is not None and (not isinstance(end_year, int) or end_year < start_year):
        raise InputError(f"[rollout] end_year must be a year ≥ start_year ({start_year}); got {end_year!r}")
    if budget_per_year is not None and not (isinstance(budget_per_year, (int, float))
                                            and math.isfinite(budget_per_year) and budget_per_year > 0):
        raise InputError(f"[rollout] budget_per_year must be a positive number of cost units; got {budget_per_year!r}")
    if sites_per_year is not None and not (isinstance(sites_per_year, int) and not isinstance(sites_per_year, bool)
                                           and sites_per_year >= 1):
        raise InputError(f"[rollout] sites_per_year must be a whole number ≥ 1; got {sites_per_year!r}")


def _pack(costs: np.ndarray, start_year: int, budget: float | None, per_year: int | None) -> np.ndarray:
    """Years in order: a year takes sites while its cost and count limits hold."""
    out = np.empty(len(costs), dtype=np.int64)
    year, spent, count = start_year, 0.0, 0
    limit = math.inf if budget is None else budget * (1 + 1e-12)
    for k, cost in enumerate(costs.tolist()):  # sequential by nature: each year depends on the last
        if count and ((per_year is not None and count >= per_year) or spent + cost > limit):
            year, spent, count = year + 1, 0.0, 0
        out[k] = year
        spent += cost
        count += 1
    return out


def _even_slices(costs: np.ndarray, n_years: int) -> np.ndarray:
    """Year offset (0…n_years-1) of each site: the slice its cost midpoint falls in."""
    if len(costs) == 0:
        return np.empty(0, dtype=np.int64)
    total = costs.sum()
    if total <= 0:
        midpoint, total = np.arange(len(costs)) + 0.5, float(len(costs))
    else:
        midpoint = np.cumsum(costs) - costs / 2
    return np.minimum((midpoint / total * n_years).astype(np.int64), n_years - 1)


def rollout(
    order: np.ndarray,
    year: np.ndarray,
    matrix: sp.csr_matrix,
    weights: np.ndarray,
    costs: np.ndarray,
    start_year: int,
    groups: Mapping[str, np.ndarray] | None = None,
) -> RolloutPlan:
    """Coverage at the end of each year for the sites ``order`` (rows of ``matrix``) installed in ``year``.

    ``year`` comes from :func:`schedule` (one per position of ``order``); ``costs`` are
    per site row. Coverage counts existing hotspots from the start; unscheduled sites never.
    """
    order = np.asarray(order, dtype=np.int64)
    year = np.asarray(year, dtype=np.int64)
    weights = np.asarray(weights, dtype=float)
    costs = np.asarray(costs, dtype=float)
    scheduled = year[year >= start_year]
    last = int(scheduled.max()) if len(scheduled) else start_year
    counted = (year == EXISTING) | (year >= start_year)  # unscheduled sites never count
    # the year each cell is first covered: existing hotspots before the first year
    covered_in = first_stage(matrix, order[counted], np.where(year == EXISTING, start_year - 1, year)[counted])
    everything = {"": np.arange(len(weights))}
    results = []
    for y in range(start_year, last + 1):
        positions = np.flatnonzero(year == y)
        covered = covered_in <= y  # the cells the sites installed by the end of year y cover
        results.append(YearResult(year=y, positions=positions, cost=float(costs[order[positions]].sum()),
                                  coverage=group_shares(weights, covered, everything)[""],
                                  groups=group_shares(weights, covered, groups)))
    return RolloutPlan(year=year, years=tuple(results), unscheduled=np.flatnonzero(year == UNSCHEDULED))
