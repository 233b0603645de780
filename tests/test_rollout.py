"""Roll-out by year: budgets never exceeded, the plan order respected, coverage per year true."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage.errors import InputError
from coverage.rollout import EXISTING, UNSCHEDULED, rollout, schedule

costs_st = st.lists(st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0]), min_size=0, max_size=60)


@settings(max_examples=200, deadline=None)
@given(costs=costs_st, budget=st.sampled_from([4.0, 5.0, 7.5, 10.0, None]),
       per_year=st.sampled_from([1, 3, 10, None]), start=st.integers(2000, 2030))
def test_budgets_never_exceeded_and_order_respected(costs, budget, per_year, start):
    if budget is None and per_year is None:
        per_year = 5
    costs = np.array(costs)
    year = schedule(costs, start, budget_per_year=budget, sites_per_year=per_year)
    assert np.all(np.diff(year) >= 0)  # never reorders
    assert len(year) == 0 or year[0] == start
    for y in np.unique(year):
        in_year = year == y
        if budget is not None:
            assert costs[in_year].sum() <= budget + 1e-9
        if per_year is not None:
            assert in_year.sum() <= per_year
    # greedy packing: a year is closed only when the next site would not fit in it
    for k in range(1, len(costs)):
        if year[k] > year[k - 1]:
            in_prev = year == year[k - 1]
            full_cost = budget is not None and costs[in_prev].sum() + costs[k] > budget + 1e-9
            full_count = per_year is not None and in_prev.sum() >= per_year
            assert full_cost or full_count
    assert np.array_equal(year, schedule(costs, start, budget_per_year=budget, sites_per_year=per_year))


@settings(max_examples=200, deadline=None)
@given(costs=costs_st, n_years=st.integers(1, 8))
def test_end_year_alone_spreads_evenly(costs, n_years):
    costs = np.array(costs)
    year = schedule(costs, 2011, end_year=2011 + n_years - 1)
    assert np.all(np.diff(year) >= 0)
    assert ((year >= 2011) & (year <= 2011 + n_years - 1)).all()
    if len(costs):
        share = costs.sum() / n_years
        for y in range(2011, 2011 + n_years):  # each year within one (dearest) site of an even share
            assert abs(costs[year == y].sum() - share) <= costs.max() + 1e-9


def test_hand_example_with_existing_and_end_year():
    costs = np.array([0.0, 1.0, 2.0, 1.0, 1.0, 3.0, 1.0])
    existing = np.array([True, False, False, False, False, False, False])
    year = schedule(costs, 2011, budget_per_year=3, existing=existing)
    assert year.tolist() == [EXISTING, 2011, 2011, 2012, 2012, 2013, 2014]
    capped = schedule(costs, 2011, end_year=2012, budget_per_year=3, existing=existing)
    assert capped.tolist() == [EXISTING, 2011, 2011, 2012, 2012, UNSCHEDULED, UNSCHEDULED]


def test_a_site_dearer_than_a_years_budget_is_an_error_naming_it():
    with pytest.raises(InputError, match=r"site 'hub-1' costs 4, more than budget_per_year = 3"):
        schedule(np.array([1.0, 4.0]), 2011, budget_per_year=3, names=["s-1", "hub-1"])


@pytest.mark.parametrize("bad", [dict(budget_per_year=0), dict(budget_per_year=float("nan")),
                                 dict(sites_per_year=0), dict(end_year=2010), dict()])
def test_bad_settings_are_input_errors(bad):
    with pytest.raises(InputError, match=r"\[rollout\]"):
        schedule(np.ones(3), 2011, **bad)


def test_coverage_at_the_end_of_each_year():
    dense = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 1, 0, 1]], dtype=bool)
    matrix = sp.csr_matrix(dense)
    w = np.array([1.0, 1.0, 2.0, 3.0, 3.0])
    costs = np.array([0.0, 1.0, 1.0, 1.0])
    order = np.array([0, 3, 2, 1])  # existing site 0, then three new ones, one per year
    year = schedule(costs[order], 2011, sites_per_year=1, existing=np.array([True, False, False, False]))
    plan = rollout(order, year, matrix, w, costs, 2011, groups={"a": [0, 1, 2], "b": [3, 4]})
    assert [r.year for r in plan.years] == [2011, 2012, 2013]
    assert [r.coverage for r in plan.years] == pytest.approx([7 / 10, 10 / 10, 10 / 10])
    assert [r.groups["b"] for r in plan.years] == pytest.approx([0.5, 1.0, 1.0])
    assert [r.cost for r in plan.years] == [1.0, 1.0, 1.0]
    assert plan.first_year_reaching(0.99) == 2012
    assert plan.first_year_reaching(1.0, "a") == 2011
    assert plan.first_year_reaching(1.1) is None
