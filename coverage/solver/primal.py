"""Plans for the reduced model: greedy on (Lagrangian) costs, redundancy removal, MILP.

A plan is a boolean mask over the model's free sites. It is *feasible* when every need
of the model is met (the target and each coverage constraint) and it keeps the budget.

- :func:`greedy` — lazy greedy on the sum over constraints of min(covered weight, need)
  (a submodular function, so stale gains are upper bounds and CELF applies), scoring a
  site by ``γ / gain`` when its cost γ is positive and ``γ · gain`` when it is not
  (Caprara, Fischetti & Toth's score, used with Lagrangian reduced costs γ); with the
  true costs it is the classic cost-per-gain greedy.
- :func:`remove_redundant` — drop sites, most expensive first, while every need holds.
- :func:`milp` — HiGHS's MILP on all or part (a "core" of promising sites) of the
  model, with a node limit (deterministic) and a time limit as a safety net.
"""

from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp

from .model import Model

FEAS_TOL = 1e-9


class Cover:
    """Per-row cover counts and per-constraint covered weight of a plan on ``model``."""

    def __init__(self, model: Model, dense_groups: np.ndarray):
        self.model, self.G = model, dense_groups
        self.indptr, self.indices = model.matrix.indptr, model.matrix.indices
        self.counts = np.zeros(model.n_rows, dtype=np.int32)
        self.covw = np.zeros(len(model.needs))

    def rows(self, site: int) -> np.ndarray:
        return self.indices[self.indptr[site]:self.indptr[site + 1]]

    def weight_of(self, rows: np.ndarray) -> np.ndarray:
        return self.model.weights[rows] @ self.G[rows]

    def add(self, site: int) -> None:
        r = self.rows(site)
        new = r[self.counts[r] == 0]
        self.covw += self.weight_of(new)
        self.counts[r] += 1

    def remove(self, site: int) -> None:
        r = self.rows(site)
        self.counts[r] -= 1
        self.covw -= self.weight_of(r[self.counts[r] == 0])

    def gain(self, site: int) -> float:
        r = self.rows(site)
        new = r[self.counts[r] == 0]
        if len(new) == 0:
            return 0.0
        rem = np.maximum(self.model.needs - self.covw, 0.0)
        return float(np.minimum(self.weight_of(new), rem).sum())

    def take(self, chosen: np.ndarray) -> Cover:
        """Add every site of mask ``chosen`` at once (vectorised); returns self."""
        rows = self.model.matrix[np.flatnonzero(chosen)].indices
        self.counts += np.bincount(rows, minlength=self.model.n_rows).astype(np.int32)
        covered = self.counts > 0
        self.covw = (self.model.weights * covered) @ self.G
        return self

    def feasible(self) -> bool:
        needs = self.model.needs
        return bool(np.all(self.covw >= needs - FEAS_TOL * np.maximum(needs, 1.0)))


def dense_groups(model: Model) -> np.ndarray:
    return model.groups.toarray()


def greedy(model: Model, G: np.ndarray, costs: np.ndarray, budget: tuple, start: np.ndarray | None = None,
           u: np.ndarray | None = None) -> np.ndarray:
    """Lazy greedy (module docstring) until every need is met; returns the plan mask.

    A site's score uses γ = cost − Σ u_r over the rows it would newly cover (``u``:
    row multipliers, None for the plain cost), as Caprara, Fischetti & Toth do; as rows
    get covered γ and the gain only change so that the score grows, so stale scores in
    the heap are lower bounds (CELF). ``budget`` is (max_sites, max_cost) on the free
    sites (None for no limit); ``start`` a mask taken first.
    """
    cover = Cover(model, G)
    n = model.matrix.shape[0]
    chosen = np.zeros(n, dtype=bool)
    if start is not None:
        start = np.asarray(start, dtype=bool)
        cover.take(start)
        chosen |= start
    max_sites, max_cost = budget
    spent, count = float(model.costs[chosen].sum()), int(chosen.sum())
    uu = np.zeros(model.n_rows) if u is None else u

    def score(site: int) -> float | None:
        r = cover.rows(site)
        new = r[cover.counts[r] == 0]
        if len(new) == 0:
            return None
        rem = np.maximum(model.needs - cover.covw, 0.0)
        gain = float(np.minimum(cover.weight_of(new), rem).sum())
        if gain <= 0:
            return None
        gamma = costs[site] - float(uu[new].sum())
        return gamma / gain if gamma > 0 else gamma * gain

    # first scores for every site in a few sparse products (the same keys score() gives)
    unc = cover.counts == 0
    rem = np.maximum(model.needs - cover.covw, 0.0)
    gain = np.minimum(np.asarray(model.matrix @ (G * (model.weights * unc)[:, None])), rem).sum(axis=1)
    gamma = costs - np.asarray(model.matrix @ (uu * unc)).ravel()
    keys = np.where(gamma > 0, gamma / np.maximum(gain, 1e-300), gamma * gain)
    live = np.flatnonzero((gain > 0) & ~chosen)
    heap = list(zip(keys[live].tolist(), live.tolist(), [0] * len(live)))
    heapq.heapify(heap)
    picks = 0
    while heap and not cover.feasible():
        if max_sites is not None and count >= max_sites:
            break
        _, site, stamp = heapq.heappop(heap)
        if stamp != picks:
            key = score(site)
            if key is not None:
                heapq.heappush(heap, (key, site, picks))
            continue
        if max_cost is not None and spent + model.costs[site] > max_cost * (1 + 1e-12):
            continue
        cover.add(site)
        chosen[site] = True
        spent += model.costs[site]
        count += 1
        picks += 1
    return chosen


def batch_greedy(model: Model, G: np.ndarray, ops, u: np.ndarray, share: float = 0.01) -> np.ndarray | None:
    """:func:`greedy`'s Lagrangian score in rounds, for models too big for one pick at a time.

    Each round scores every site at once (the weight of its still uncovered rows,
    counted once more for every coverage constraint still short, and γ = cost − Σ u over
    those rows), takes the best ``share`` of the live sites, and accepts those that are
    the best-ranked of the round on every uncovered row they cover (so two sites of one
    round never compete for a row); the rest wait for the next round. Until every need
    is met; None when it cannot be. ``ops``: the model's
    :class:`~coverage.solver.lagrangian.Operators` (float matrices by site and by row, made once per solve).
    Deterministic (ties by lower site). Gains and γ are kept up to date from the rows
    each round covers (two sparse products in all, again only when a constraint is met);
    the chosen sites' gains are recomputed exactly before they are taken.
    """
    by_site, by_row = ops.by_site, ops.by_row
    n, m = by_site.shape
    chosen, uncovered = np.zeros(n, dtype=bool), np.ones(m, dtype=bool)
    wg = model.weights[:, None] * G
    covw = np.zeros(G.shape[1])
    needs = model.needs - FEAS_TOL * np.maximum(model.needs, 1.0)
    short = covw < needs
    value = np.einsum("ij,j->i", G, short.astype(float)) * model.weights
    gain = by_site @ value
    gamma = model.costs - by_site @ u
    floor = 1e-9 * float(model.weights.max(initial=0.0))  # gains below this are float residue
    while np.any(covw < needs):
        live = np.flatnonzero((gain > floor) & ~chosen)
        if len(live) == 0:
            return None
        score = np.where(gamma > 0, gamma / np.maximum(gain, 1e-300), gamma * gain)[live]
        take = max(1, int(share * len(live)))
        top = live[np.argpartition(score, take - 1)[:take]] if take < len(live) else live
        exact = by_site[top] @ value
        top, sc = top[exact > 0], score[np.searchsorted(live, top)][exact > 0]
        if len(top) == 0:  # residue only: refresh every gain
            gain = by_site @ value
            gain[gain <= floor] = 0.0
            continue
        top = top[np.lexsort((top, sc))]
        accepted = _uncontested(model.matrix, top, uncovered)
        chosen[accepted] = True
        newly = np.zeros(m, dtype=bool)
        newly[model.matrix[accepted].indices] = True
        newly &= uncovered
        rows = np.flatnonzero(newly)
        covw += wg[rows].sum(axis=0)
        uncovered[rows] = False
        sub = by_row[rows]
        hit, reps = sub.indices, np.diff(sub.indptr)
        gamma += np.bincount(hit, weights=np.repeat(u[rows], reps), minlength=n)
        if np.array_equal(covw < needs, short):
            gain -= np.bincount(hit, weights=np.repeat(value[rows], reps), minlength=n)
            value[rows] = 0.0
        else:  # a constraint is met: its rows count once less everywhere
            short = covw < needs
            value = np.where(uncovered, np.einsum("ij,j->i", G, short.astype(float)), 0.0) * model.weights
            gain = by_site @ value
    return chosen


def _uncontested(matrix: sp.csr_matrix, ranked: np.ndarray, uncovered: np.ndarray) -> np.ndarray:
    """The sites of ``ranked`` (best first) that rank first among ``ranked`` on every
    uncovered row they cover."""
    rank = np.full(matrix.shape[0], len(ranked), dtype=np.int64)
    rank[ranked] = np.arange(len(ranked))
    sub = matrix[ranked]
    rows, site = sub.indices, np.repeat(ranked, np.diff(sub.indptr))
    open_ = uncovered[rows]
    rows, site = rows[open_], site[open_]
    best = np.full(matrix.shape[1], len(ranked), dtype=np.int64)
    np.minimum.at(best, rows, rank[site])
    beaten = np.zeros(matrix.shape[0], dtype=bool)
    beaten[site[best[rows] != rank[site]]] = True
    return ranked[~beaten[ranked]]


def remove_redundant(model: Model, G: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Drop sites, most expensive first (then higher index), while every need still holds.

    In vectorised rounds: a site is a candidate when the weight it alone covers fits in
    the slack of every need; candidates ranked first (by cost, then index) among the
    candidates on every row they could uncover together are dropped at once, as long as
    their summed lone weight still fits — each round drops at least the best-ranked
    candidate, and the weight lost is exactly that sum. It ends when no site can go
    (after ``REDUNDANT_ROUNDS`` rounds the rest are visited one at a time), so no single
    site of the result is redundant.
    """
    chosen = chosen.copy()
    cover = Cover(model, G).take(chosen)
    wg = model.weights[:, None] * G
    tol = FEAS_TOL * np.maximum(model.needs, 1.0)
    for _ in range(REDUNDANT_ROUNDS):
        sites = np.flatnonzero(chosen)
        sub = model.matrix[sites]
        owner = np.repeat(np.arange(len(sites)), np.diff(sub.indptr))
        lone = _lone_weight(sub, cover.counts, wg)
        slack = cover.covw - model.needs + tol
        fits = np.all(lone <= slack + 1e-9 * np.maximum(np.abs(slack), 1.0), axis=1)
        if not fits.any():
            return chosen
        drop = _uncontested_drops(sites, owner, sub.indices, cover.counts, fits, model.costs)
        spent = np.cumsum(lone[np.searchsorted(sites, drop)], axis=0)
        ok = np.all(spent <= slack + 1e-9 * np.maximum(np.abs(slack), 1.0), axis=1)
        drop = drop[:len(ok) if ok.all() else max(1, int(np.argmin(ok)))]
        chosen[drop] = False
        rows = model.matrix[drop].indices
        cover.counts -= np.bincount(rows, minlength=model.n_rows).astype(np.int32)
        cover.covw = (model.weights * (cover.counts > 0)) @ G
    return _remove_one_by_one(model, G, chosen, cover)


REDUNDANT_ROUNDS = 30


def _lone_weight(sub: sp.csr_matrix, counts: np.ndarray, wg: np.ndarray) -> np.ndarray:
    """Per site of ``sub`` (sites × rows), the weight per need of the rows only it covers."""
    alone = sp.csr_matrix((counts[sub.indices] == 1, sub.indices, sub.indptr), shape=sub.shape, dtype=float)
    return np.asarray(alone @ wg)


def _uncontested_drops(sites, owner, rows, counts, fits, costs) -> np.ndarray:
    """The candidate sites (``fits``), best-ranked first (cost descending, then index
    descending), that rank first among the candidates on every row the candidates
    could uncover together (a row covered by no more sites than candidates)."""
    cand = sites[fits]
    ranked = cand[np.lexsort((-cand, -costs[cand]))]
    rank = np.full(len(sites), len(ranked), dtype=np.int64)
    rank[np.searchsorted(sites, ranked)] = np.arange(len(ranked))
    is_cand = fits[owner]
    r, o = rows[is_cand], owner[is_cand]
    at_risk = np.bincount(r, minlength=len(counts))[r] >= counts[r]
    r, o = r[at_risk], o[at_risk]
    best = np.full(len(counts), len(ranked), dtype=np.int64)
    np.minimum.at(best, r, rank[o])
    beaten = np.zeros(len(sites), dtype=bool)
    beaten[o[best[r] != rank[o]]] = True
    return ranked[~beaten[np.searchsorted(sites, ranked)]]


def _remove_one_by_one(model: Model, G: np.ndarray, chosen: np.ndarray, cover: Cover) -> np.ndarray:
    """The sequential pass (most expensive first) over the sites that might still go."""
    sites = np.flatnonzero(chosen)
    lone = _lone_weight(model.matrix[sites], cover.counts, model.weights[:, None] * G)
    slack = cover.covw - model.needs + FEAS_TOL * np.maximum(model.needs, 1.0)
    maybe = sites[np.all(lone <= slack + 1e-9 * np.maximum(np.abs(slack), 1.0), axis=1)]
    for s in maybe[np.lexsort((-maybe, -model.costs[maybe]))]:
        r = cover.rows(int(s))
        only = r[cover.counts[r] == 1]
        after = cover.covw - cover.weight_of(only)
        if np.all(after >= model.needs - FEAS_TOL * np.maximum(model.needs, 1.0)):
            cover.remove(int(s))
            chosen[s] = False
    return chosen


def is_feasible(model: Model, G: np.ndarray, chosen: np.ndarray, budget: tuple) -> bool:
    max_sites, max_cost = budget
    if max_sites is not None and chosen.sum() > max_sites:
        return False
    if max_cost is not None and model.costs[chosen].sum() > max_cost * (1 + 1e-12):
        return False
    return Cover(model, G).take(chosen).feasible()


def core_columns(model: Model, rc: np.ndarray, chosen: np.ndarray, per_row: int) -> np.ndarray:
    """The core: the ``per_row`` sites of least reduced cost covering each row, every site
    with negative reduced cost, and the best plan's sites (a mask)."""
    return least_per_row(model.matrix.T.tocsr(), rc, per_row) | (rc < 0) | chosen


def least_per_row(by_row: sp.csr_matrix, rc: np.ndarray, per_row: int) -> np.ndarray:
    """Mask of the columns that are among the ``per_row`` of least ``rc`` (ties: lower
    column) of some row of ``by_row`` (rows × columns, CSR)."""
    row_of = np.repeat(np.arange(by_row.shape[0]), np.diff(by_row.indptr))
    order = np.lexsort((by_row.indices, rc[by_row.indices], row_of))
    rank = np.arange(len(order)) - by_row.indptr[row_of[order]]
    mask = np.zeros(len(rc), dtype=bool)
    mask[by_row.indices[order[rank < per_row]]] = True
    return mask


def milp(model: Model, columns: np.ndarray, budget: tuple, node_limit: int, time_limit_s: float):
    """Solve the model restricted to ``columns`` (mask) with HiGHS; returns
    (plan mask or None, proven dual bound or None, optimal?). The dual bound is a valid
    lower bound on the whole model only when ``columns`` is every site."""
    cols = np.flatnonzero(columns)
    sub = sp.csr_matrix(model.matrix[cols], dtype=float)  # core sites × rows
    rows = np.flatnonzero(np.diff(sub.tocsc().indptr) > 0)
    sub = sub[:, rows]
    n, m = sub.shape
    w = model.weights[rows]
    scale = max(float(w.sum()), 1e-300)
    G = model.groups[rows]
    cover = sp.hstack([-sub.T, sp.identity(m, format="csr")], format="csr")
    need = sp.hstack([sp.csr_matrix((G.shape[1], n)), -sp.csr_matrix(G.T.multiply(w / scale))], format="csr")
    blocks, upper = [cover, need], [np.zeros(m), -model.needs / scale]
    max_sites, max_cost = budget
    if max_sites is not None:
        blocks.append(sp.csr_matrix(np.concatenate([np.ones(n), np.zeros(m)])[None, :]))
        upper.append([float(max_sites)])
    if max_cost is not None:
        blocks.append(sp.csr_matrix(np.concatenate([model.costs[cols], np.zeros(m)])[None, :]))
        upper.append([float(max_cost) * (1 + 1e-12)])
    a = sp.vstack(blocks, format="csr")
    c = np.concatenate([model.costs[cols], np.zeros(m)])
    from scipy.optimize import Bounds, LinearConstraint, milp as scipy_milp  # here: slow to import

    res = scipy_milp(c, constraints=LinearConstraint(a, -np.inf, np.concatenate(upper)),
                     integrality=np.concatenate([np.ones(n), np.zeros(m)]), bounds=Bounds(0, 1),
                     options={"time_limit": float(time_limit_s), "node_limit": int(node_limit),
                              "mip_rel_gap": 1e-9, "disp": False})
    plan = None
    if res.x is not None:
        plan = np.zeros(model.matrix.shape[0], dtype=bool)
        plan[cols[res.x[:n] > 0.5]] = True
    dual = getattr(res, "mip_dual_bound", None)
    dual = float(dual) if dual is not None and np.isfinite(dual) else None
    return plan, dual, res.status == 0
