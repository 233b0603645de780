"""The plan is the Lagrangian solver's when it finds a cheaper one that meets every requirement
(issue #15: "the default `hotspots plan` uses the new solver").

Feasibility is recomputed here independently of the planner: coverage by brute-force
distances from the selected sites to the demand points (no coverage matrix), the target
and every district floor from those, the earlier phases' sites from the site table.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp

from coverage import load_scenario
from coverage.cli import main
from coverage.planning import prepare, solve
from coverage.solver import Instance, evaluate_order
from coverage.solver.run import adoptable
from helpers import write_scenario
from test_reach99 import MARGIN, covered_by, reach_dict, site_xy

SOLVER_ON = {"bound": True, "local_search": False}  # as the bundled default


@pytest.fixture(scope="module", params=[(0.95, 0.9), (0.9, 0.97), (0.99, 0.9)], ids=lambda p: f"t{p[0]}-f{p[1]}")
def solved(request, tmp_path_factory):
    target, floor = request.param
    folder = tmp_path_factory.mktemp("solverplan")
    data = reach_dict(folder / "city", target=target, equity={"min_coverage": floor}, solver=SOLVER_ON,
                      rollout={"start_year": 2011, "sites_per_year": 9})
    path = write_scenario(folder / "s.toml", data)
    return path, solve(prepare(load_scenario(path))), target, floor


def test_the_solvers_plan_is_adopted_cheaper_and_feasible(solved):
    path, plan, target, floor = solved
    summary = plan.summary(network=False)
    assert summary["bound"]["plan"] == "solver"
    assert summary["total_cost"] < summary["greedy"]["cost"]  # never dearer; here strictly cheaper
    assert summary["total_cost"] >= summary["lower_bound"] - 1e-9
    sites = plan.table()
    assert float(sites["cost"].sum()) == pytest.approx(summary["total_cost"])
    points = np.column_stack([plan.cells["x"].to_numpy(), plan.cells["y"].to_numpy()])
    weight = plan.cells["population"].to_numpy(dtype=float)
    covered = covered_by(points, site_xy(sites), sites["radius_m"].to_numpy() - MARGIN)
    assert weight[covered].sum() / weight.sum() >= target - 1e-9
    district = plan.cells["district"].to_numpy()
    for name in np.unique(district):
        mine = district == name
        assert weight[mine & covered].sum() / weight[mine].sum() >= floor - 1e-9, name
    assert summary["equity"]["all_met"] and summary["target_met"]


def test_the_earlier_phases_sites_stay_first_and_the_rollout_follows_the_plan(solved):
    _, plan, _, _ = solved
    sites = plan.table()
    required = set(plan.sites["site_id"][plan.sites["category"].to_numpy() == "school"])
    assert required <= set(sites["site_id"][sites["phase"] == 1])
    assert (sites["phase"] > 1).any()
    assert list(sites["phase"]) == sorted(sites["phase"])  # earlier phases first, then the solver's sites
    years = sites["year"].dropna().to_numpy()
    assert list(years) == sorted(years)  # the roll-out takes the plan in its order


def test_the_solvers_plan_is_deterministic(solved):
    path, plan, _, _ = solved
    again = solve(prepare(load_scenario(path)))
    assert again.site_ids == plan.site_ids


def test_greedys_plan_on_request_and_the_greedy_figures_in_summary(solved, tmp_path):
    path, plan, _, _ = solved
    out = tmp_path / "greedy"
    assert main(["-q", "plan", str(path), "--out", str(out), "--no-map", "--no-bound", "--no-local-search"]) == 0
    greedy = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert greedy["total_cost"] == greedy["greedy"]["cost"] == plan.summary(network=False)["greedy"]["cost"]
    assert greedy["lower_bound"] is None


def _instance(target=0.5, floors=(), preselected=()) -> Instance:
    # sites 0-3 over 6 cells: 0 covers {0,1,2}, 1 covers {3,4,5}, 2 covers {0..5} at cost 3, 3 covers {5}
    rows = [[0, 1, 2], [3, 4, 5], [0, 1, 2, 3, 4, 5], [5]]
    matrix = sp.csr_matrix((np.ones(sum(map(len, rows)), dtype=bool),
                            (np.repeat(np.arange(4), [len(r) for r in rows]), np.concatenate(rows))), shape=(4, 6))
    allowed = np.ones(4, dtype=bool)
    allowed[list(preselected)] = False
    return Instance.build(matrix, np.array([1.0, 1.0, 3.0, 0.5]), np.ones(6), target,
                          preselected=list(preselected), allowed=allowed,
                          constraints=[(np.array(c), f) for c, f in floors])


def _solution(inst: Instance, order) -> object:
    return evaluate_order(inst.matrix, np.asarray(order, dtype=np.int64), n_preselected=len(inst.preselected))


def test_adoptable_accepts_only_a_cheaper_plan_that_meets_what_the_current_one_meets():
    inst = _instance(target=1.0)
    current = _solution(inst, [2])  # cost 3, covers everything
    assert adoptable(inst, current, [0, 1])  # cost 2, covers everything
    assert not adoptable(inst, current, [0, 3])  # cheaper but misses the target
    assert not adoptable(inst, current, [2])  # the same plan is not cheaper
    assert not adoptable(inst, _solution(inst, [0, 1]), [2])  # dearer


def test_adoptable_keeps_preselected_sites_and_floors():
    inst = _instance(target=0.5, preselected=[3])
    current = _solution(inst, [3, 2])
    assert adoptable(inst, current, [3, 0])  # 4 of 6 cells, cost 1.5 < 3.5
    assert not adoptable(inst, current, [0, 1])  # drops the preselected site
    floors = _instance(target=0.5, floors=[([3, 4], 1.0)])
    greedy = _solution(floors, [2])  # covers the floor's cells, cost 3
    assert not adoptable(floors, greedy, [0])  # cheaper, meets the target, misses the floor
    assert adoptable(floors, greedy, [1])  # cheaper and meets both
    short = _solution(floors, [0])  # misses the floor
    assert adoptable(floors, short, [0, 1])  # dearer but meets the floor the current plan misses
