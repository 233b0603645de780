"""Lagrangian lower bounds for the reduced partial-cover model, by subgradient ascent.

Relax the covering rows ``y_r ≤ Σ_{i ∋ r} x_i`` with multipliers ``u_r ≥ 0`` and the
extra coverage constraints ``Σ_{r ∈ G_k} w_r y_r ≥ need_k`` (k ≥ 1) with ``μ_k ≥ 0``;
keep the target's knapsack ``Σ_r w_r y_r ≥ need_0`` and the bounds ``0 ≤ x, y ≤ 1``::

    L(u, μ) = Σ_i min(0, c_i − Σ_{r ∋ i} u_r)
              + min { Σ_r a_r y_r : Σ_r w_r y_r ≥ need_0, 0 ≤ y ≤ 1 } + Σ_{k≥1} μ_k need_k,
    a_r = u_r − w_r Σ_{k≥1: r ∈ G_k} μ_k.

**Validity.** Let (x, y) be any feasible plan of the model (x integral, y ∈ [0, 1]
with y_r ≤ Σ x over r's sites, every need met). For u, μ ≥ 0 each relaxed term
``u_r (y_r − Σ_{i∋r} x_i)`` and ``μ_k (need_k − Σ_{G_k} w y)`` is ≤ 0, so
``c·x ≥ c·x + Σ u_r(y_r − Σ x) + Σ μ_k(need_k − Σ w y)``; the right-hand side,
regrouped, is ``Σ_i (c_i − Σ_{r∋i} u_r) x_i + Σ_r a_r y_r + Σ μ_k need_k``, and its
minimum over the larger set {x ∈ [0,1], y ∈ [0,1], Σ w y ≥ need_0} (which contains
(x, y), since the target's knapsack is kept) is exactly L(u, μ). So L(u, μ) ≤ the
cost of every feasible plan, for *any* u, μ ≥ 0 — the bound holds however the ascent
went, and the budget (left out of the relaxation) only makes the optimum larger. The
inner knapsack is fractional: rows with a_r < 0 go to 1, then rows by a_r / w_r until
need_0 is met (Dantzig).

**Steps** (Beasley 1990): Polyak's step ``t = λ (1.05·UB − L) / ‖d‖²`` towards just
above the best plan's cost UB, along a *deflected* direction ``d = ½ d_prev + ½ g``
(the average of the subgradients so far, halving their weight each step, as in
Barahona & Anbil's Volume algorithm), its components zeroed where a multiplier sits at
0 and would go negative (Caprara, Fischetti & Toth 1999); λ starts at 2 and is halved
after 30 steps without a better bound. Stop when the bound proves the best plan
optimal (for integer costs: UB − L < 1), when λ < ``MIN_LAMBDA`` or the step count
runs out. (Measured on OR-Library scp41 / scpnrg1, the plain subgradient reached
428.9999 / 159.56 against LP values 429 / 159.89 in under 1,000 steps; CFT's
fluctuation rule, starting at λ = 0.1, stalled at 409 / 129. Deflection adds a
little there, and much on big partial-cover models where plain subgradients zigzag:
400 steps on a 10 k × 159 k model reach 1,942 instead of 1,892; its LP optimum is 1,984.)

**Target floor** (big models, ``floor``): when the best plan is already close to the
bound (the Shenzhen default: 1.2 %), Polyak's target 1.05·UB makes steps so short
that the ascent creeps; aiming at least ``(1 + floor)`` × the bound instead lets the
step factor (halved when the bound stalls) find the right length. Measured on the
default's model (356 k sites × 796 k rows, 10 constraints): 70,433 after 137 steps
with the plain target, 70,567 after 60 and 70,894 after 137 with a floor of 0.3; on
the 381 k × 586 k street lattice 116,857 instead of 114,778 after 137 steps. On the
1 M × 10 k headline (UB 10 % above the LP) it changes nothing: the target is already
that far.

**Big models: steps scaled by weight** (``scaled``). Rows merged from many demand cells
weigh up to thousands of times the lightest, and a row's multiplier settles near its
weight times a price per unit of demand; a plain subgradient moves every multiplier by
the same amount, far too little for heavy rows and far too much for light ones. So the
step is taken in the metric of the row weights (a diagonally preconditioned subgradient
step, the fixed-metric case of Shor's variable-metric methods): direction ``D d`` with
``D = w / mean(w)`` and Polyak's length ``λ (aim − L) / (d·D d)``. Any u ≥ 0 still gives
a valid L, so this changes how fast the bound climbs, not what it proves. With it the
big models also take the first λ at 1 (``first_lambda``), keep more of the previous
direction (``deflect`` 0.7 instead of ½) and halve λ after steps / 60 steps without
progress (at least 4). The lifts do not steer: λ is halved by the steps' own best value
(``top``), so a lifted bound does not count as the steps stalling.

Measured on the 1 M × 10 k headline (LP optimum 1,983.6; the ascent alone, steered by
the plan of 2,101): 300 steps reach 1,916 with the old rule and 1,965 with this one (365
steps: 1,967, for 0.4 s more); 2,000 of the old steps reached 1,974.6. The scaling is
most of it (with deflection 0.8, 250 steps reach 1,938 without it, 1,964 with it). On
the default's model the ascent reaches its 1 % stop after 24 steps instead of 55 (bound
74,991 against 74,975; the solver 3.2 s instead of 5.4 s); deflection above 0.7 there
lets the district multipliers μ run away (72,801 after 85 steps at 0.75). On the 381 k ×
587 k street lattice (191 steps) it does a little worse: bound 120,984 against 121,924,
plan 126,128 against 124,800; the short ascents there swing by as much under any of
these settings (deflection 0.6: 121,788 and 124,716; the old rule at 191 steps: 121,209
and 125,491; 233 steps, λ halved after 4 steps without progress: 121,011 and 126,499,
after 5: 118,513 and 128,464).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from .model import Model

PATIENCE = 30      # steps without a better bound before λ is halved
MIN_LAMBDA = 1e-4
OVERSHOOT = 1.05   # step towards 5 % above the best plan (Beasley)
DEFLECT = 0.5      # weight of the previous direction in the next (Volume-style averaging)
FIRST_LAMBDA = 2.0  # the first step factor λ
LIFT_ROUNDS = 2    # rounds of lift() on the best multipliers at the end of an ascent that lifts


@dataclass(frozen=True)
class Multipliers:
    """The best multipliers found and what they prove."""

    u: np.ndarray
    mu: np.ndarray
    value: float           # L(u, μ): a lower bound on the free sites' cost
    reduced_costs: np.ndarray
    iterations: int


def dual_value(model: Model, u: np.ndarray, mu: np.ndarray, ops: Operators | None = None
               ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """L(u, μ), the reduced costs, and the minimising x (bool) and y of the relaxation."""
    ops = ops or Operators.of(model)
    rc = model.costs - ops.by_site @ u
    a = u - model.weights * (ops.extra @ mu) if len(mu) else u
    y = knapsack(a, model.weights, model.needs[0])
    value = float(np.minimum(rc, 0.0).sum() + dot(a, y) + (mu @ model.needs[1:] if len(mu) else 0.0))
    return value, rc, rc < 0, y


@dataclass(frozen=True, eq=False)
class Operators:
    """The model's matrices in the float forms the ascent, :func:`lift` and the batch
    greedy multiply with, each made once per solve."""

    by_site: sp.csr_matrix   # sites × rows, float
    extra: sp.csr_matrix     # rows × constraints after the target, float

    @classmethod
    def of(cls, model: Model) -> Operators:
        return cls(sp.csr_matrix(model.matrix, dtype=float), sp.csr_matrix(model.groups[:, 1:]))

    @cached_property
    def by_row(self) -> sp.csr_matrix:
        """Rows × sites, float (the transpose of ``by_site``), made on first use."""
        return sp.csr_matrix(self.by_site.T)

    def covered_by(self, model: Model, x: np.ndarray) -> np.ndarray:
        """Σ_{i ∋ r} x_i per row for the sites in mask ``x`` (few of them, usually)."""
        rows = model.matrix[np.flatnonzero(x)].indices
        return np.bincount(rows, minlength=model.n_rows).astype(float)


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """a · b for long vectors without BLAS: OpenBLAS threads its dot product, and on a
    busy machine the threads' hand-off costs 2–7 ms per call against 0.06 ms here."""
    return float(np.einsum("i,i->", a, b))


def knapsack(a: np.ndarray, w: np.ndarray, need: float) -> np.ndarray:
    """y ∈ [0, 1] minimising a·y subject to w·y ≥ need (rows with a < 0 always taken).

    Dantzig's rule: rows by a / w, ties by lower row, until the need is met. Only the
    rows left out (or split) matter: the ones of largest ratio whose weight is the
    excess over the need. A partial sort (``np.partition``) finds the k largest
    ratios, k growing fourfold until their weight reaches the excess; those rows are
    sorted, or, when they are many (on the default's model the excess, 1 % of the
    weight, is spread over a third of the rows), narrowed first by a weighted
    quickselect — split at the median ratio, keep the side that holds the cut.
    """
    neg = a < 0
    any_neg = bool(neg.any())
    total = float(w.sum())
    if need <= (float(w[neg].sum()) if any_neg else 0.0):  # the rows of negative price alone meet it
        return neg.astype(float)
    if need >= total:  # every row, but those of no weight and positive price
        return np.where((w <= 0) & (a > 0), 0.0, 1.0)
    ratio = a / np.maximum(w, 1e-300)
    if any_neg:
        ratio[neg] = -np.inf  # always taken
    y = np.ones(len(a))
    tail, left = _worst_rows(ratio, w, _largest(ratio, w, total - need), total - need, y)
    if len(tail) == 0:
        return y
    dropped = np.cumsum(w[tail])
    k = min(int(np.searchsorted(dropped, left, side="left")), len(tail) - 1)
    before = dropped[k - 1] if k else 0.0
    y[tail[:k]] = 0.0
    y[tail[k]] = min(max(1.0 - (left - before) / w[tail[k]], 0.0), 1.0) if w[tail[k]] > 0 else 0.0
    return y


SORT_ROWS = 32_768  # the quickselect sorts what is left once this few


def _worst_rows(ratio: np.ndarray, w: np.ndarray, idx: np.ndarray, left: float, y: np.ndarray
                ) -> tuple[np.ndarray, float]:
    """Of the rows ``idx`` (ascending; every row of higher ratio among them), set y = 0
    on those surely left out, and return the rows that hold the cut, worst first (ties:
    higher row first), with the weight still to leave out among them."""
    while len(idx) > SORT_ROWS:
        r = ratio[idx]
        pivot = np.partition(r, len(r) // 2)[len(r) // 2]
        hi = r > pivot
        w_hi = float(w[idx[hi]].sum())
        if w_hi >= left:
            idx = idx[hi]
            continue
        y[idx[hi]] = 0.0
        left -= w_hi
        eq = idx[r == pivot]
        w_eq = float(w[eq].sum())
        if w_eq >= left:
            return eq[::-1], left  # one ratio: higher row first
        y[eq] = 0.0
        left -= w_eq
        idx = idx[r < pivot]
    return idx[np.lexsort((-idx, -ratio[idx]))], left


def _largest(ratio: np.ndarray, w: np.ndarray, excess: float) -> np.ndarray:
    """Indices (ascending) of every ratio ≥ the k-th largest, for the least k (from twice
    the rows of average weight the excess makes, growing fourfold; or all) whose rows
    weigh at least ``excess``; all tied values are kept together."""
    n = len(ratio)
    k = max(64, int(2 * excess * n / max(float(w.sum()), 1e-300)))
    while k < n:
        kth = np.partition(ratio, n - k)[n - k]
        top = np.flatnonzero(ratio >= kth)
        if float(w[top].sum()) >= excess:
            return top
        k *= 4
    return np.arange(n)


def lift(model: Model, u: np.ndarray, mu: np.ndarray, rounds: int, ops: Operators | None = None
         ) -> tuple[np.ndarray, float, np.ndarray]:
    """Coordinate-wise dual ascent from ``(u, μ)``: ``rounds`` rounds that each keep L from
    falling and usually raise it.

    With π the knapsack's cut price (the largest ratio a_r / w_r among rows it takes),
    a row priced above the cut is left out of the knapsack and its u_r only makes its
    sites' reduced costs more negative: lower it to the cut. A row wholly taken below the
    cut adds u_r to L through the knapsack; raising u_r by δ adds δ, and costs nothing
    while every site covering it keeps a non-negative reduced cost: raise it by its
    share of the least slack among its sites (each site's slack split evenly over the
    rows raised at once, so no site goes negative), at most to the cut. Every point is
    evaluated exactly by :func:`dual_value`, so the result is a proof whatever the
    heuristic does. Measured on the 1 M × 10 k headline: 1,885.8 → 1,898.2 after one
    round, 1,907.4 after five (0.16 s), 1,910.9 after 25. Returns (u, L, reduced costs).
    """
    ops = ops or Operators.of(model)
    by_row = ops.by_row
    filled = np.diff(by_row.indptr) > 0
    starts = by_row.indptr[:-1][filled]
    w = model.weights
    best, rc, _, y = dual_value(model, u, mu, ops)
    best_u, best_rc = u, rc
    for _ in range(rounds):
        a = u - w * (ops.extra @ mu if len(mu) else 0.0)
        ratio = a / np.maximum(w, 1e-300)
        pi = float(ratio[y > 0].max()) if (y < 1).any() and (y > 0).any() else np.inf
        full = (y >= 1) & (ratio < pi)
        n_raised = np.asarray(ops.by_site @ full.astype(float)).ravel()
        share = np.maximum(rc, 0.0) / np.maximum(n_raised, 1.0)
        least = np.full(len(u), np.inf)
        least[filled] = np.minimum.reduceat(share[by_row.indices], starts)
        room = np.where(full, np.minimum((pi - ratio) * w, least), 0.0)
        u = np.maximum(np.where(ratio > pi, u - (ratio - pi) * w, u) + np.maximum(room, 0.0), 0.0)
        value, rc, _, y = dual_value(model, u, mu, ops)
        if value > best:
            best_u, best, best_rc = u, value, rc
    return best_u, best, best_rc


def initial_multipliers(model: Model) -> np.ndarray:
    """Each row priced at its cheapest site's cost per unit of reachable weight."""
    m = model.matrix
    reach = np.asarray(m @ model.weights).ravel()
    price = np.where(reach > 0, model.costs / np.maximum(reach, 1e-300), np.inf)
    coo = m.tocoo()
    cheapest = np.full(m.shape[1], np.inf)
    np.minimum.at(cheapest, coo.col, price[coo.row])
    return model.weights * np.where(np.isfinite(cheapest), cheapest, 0.0)


def ascend(model: Model, upper: Callable[[], float], max_steps: int, integral: bool,
           on_step: Callable[[int, np.ndarray], None] | None = None, u0: np.ndarray | None = None,
           stop_gap: float = 0.0, patience: int = PATIENCE, floor: float = 0.0, lift_every: int = 0,
           ops: Operators | None = None, scaled: bool = False, first_lambda: float = FIRST_LAMBDA,
           deflect: float = DEFLECT) -> Multipliers:
    """Subgradient ascent (see the module docstring). ``upper()`` is the current best
    plan's free cost (it may fall as ``on_step(step, u)`` finds plans). ``stop_gap``:
    stop once (upper − bound) / bound is at most this (0: only when proven optimal);
    ``patience``: steps without a better bound before λ is halved (short ascents on big
    models halve sooner: measured on a 381 k × 587 k street lattice, 80 steps reach
    a bound 12 % higher with 4 than with 30). ``floor``: step towards at least
    (1 + floor) × the current bound even when the best plan is closer (see
    ``BIG_TARGET_FLOOR`` in :mod:`.cover`). ``lift_every``: every so many steps, one
    round of :func:`lift` on the best multipliers (the steps go on from their own point:
    restarting from the lifted one stalled the default's ascent), and ``LIFT_ROUNDS``
    at the end (0: never). ``ops``: the model's :class:`Operators`, when the caller
    multiplies with them too. ``scaled``, ``first_lambda``, ``deflect``: the big models'
    step rule (module docstring)."""
    ops = ops or Operators.of(model)
    u = initial_multipliers(model) if u0 is None else u0.copy()
    mu = np.zeros(len(model.needs) - 1)
    best = Multipliers(u.copy(), mu.copy(), -np.inf, model.costs.copy(), 0)
    lam, stale, step, top = first_lambda, 0, 0, -np.inf
    d_u = d_mu = None
    metric = model.weights / max(float(model.weights.mean()), 1e-300) if scaled else None
    for step in range(1, max_steps + 1):
        value, rc, x, y = dual_value(model, u, mu, ops)
        if value > best.value + 1e-9 * max(1.0, abs(value)):
            best = Multipliers(u.copy(), mu.copy(), value, rc, step)
        if value > top + 1e-9 * max(1.0, abs(value)):  # the steps' own best (lifts aside) steers λ
            top, stale = value, 0
        else:
            stale += 1
            if stale >= patience:
                lam, stale = lam / 2, 0
        if on_step is not None:
            on_step(step, u)
        ub = upper()
        if _done(ub, best.value, integral, stop_gap) or lam < MIN_LAMBDA:
            break
        if lift_every and step % lift_every == 0:  # the best point lifted; the steps go on from theirs
            best = _lifted(model, best, 1, ops)
        g_u = y - ops.covered_by(model, x)
        g_mu = model.needs[1:] - ops.extra.T @ (model.weights * y) if len(mu) else np.zeros(0)
        if d_u is not None:  # deflect: the average of this and the earlier directions
            g_u *= 1 - deflect
            g_u += deflect * d_u
            g_mu = deflect * d_mu + (1 - deflect) * g_mu
        np.maximum(g_u, 0.0, out=g_u, where=u <= 0)  # no step below a multiplier at 0
        g_mu[(mu <= 0) & (g_mu < 0)] = 0.0
        d_u, d_mu = g_u, g_mu
        step_u = g_u if metric is None else metric * g_u
        norm = dot(g_u, step_u) + float(g_mu @ g_mu)
        if norm <= 0:
            break
        aim = max(OVERSHOOT * ub, (1 + floor) * max(value, top)) if floor > 0 else OVERSHOOT * ub
        t = lam * max(aim - value, 1e-9 * max(1.0, abs(ub))) / norm
        moved = step_u * t
        moved += u
        u = np.maximum(moved, 0.0, out=moved)
        mu = np.maximum(mu + t * g_mu, 0.0)
    if lift_every:
        best = _lifted(model, best, LIFT_ROUNDS, ops)
    return Multipliers(best.u, best.mu, best.value, best.reduced_costs, step)


def _lifted(model: Model, best: Multipliers, rounds: int, ops: Operators) -> Multipliers:
    """``best`` after ``rounds`` rounds of :func:`lift` when they raised its bound."""
    u, value, rc = lift(model, best.u, best.mu, rounds, ops)
    if value > best.value + 1e-9 * max(1.0, abs(value)):
        return Multipliers(u, best.mu.copy(), value, rc, best.iterations)
    return best


def _done(ub: float, lower: float, integral: bool, stop_gap: float) -> bool:
    """The bound proves ``ub`` optimal, or the gap is within ``stop_gap``."""
    if ub - lower <= (1 - 1e-6 if integral else 1e-9 * max(1.0, abs(ub))):
        return True
    return stop_gap > 0 and lower > 0 and (ub - lower) / lower <= stop_gap
