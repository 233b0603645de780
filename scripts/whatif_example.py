"""A planner's what-if session, to copy and adapt.

    python scripts/whatif_example.py [SCENARIO.toml] [OUT_DIR]

Plans the scenario (default: bundled Shenzhen), then asks four what-if questions and
writes a target sweep. Each question reuses the base plan's coverage matrix.
"""

import sys
from pathlib import Path

import coverage
from coverage.cli import default_scenario
from coverage.sweep import plot_sweep, sweep_targets

scenario_file = Path(sys.argv[1]) if len(sys.argv) > 1 else default_scenario()
out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("out/whatif-example")
out.mkdir(parents=True, exist_ok=True)

base = coverage.plan(coverage.load_scenario(scenario_file))
print(f"base plan: {len(base.site_ids)} sites, coverage {base.coverage:.2%}")

# 1. Drop the last site the greedy chose and add a new library by coordinates (lon, lat).
last = base.site_ids[-1]
here = base.selected_sites().geometry.iloc[0]
moved = base.evaluate(remove=[last], add=[(here.x + 0.002, here.y, "library", "New library")])
print(f"without {last}, with a new library: coverage {moved.coverage:.2%}")
print(base.diff(moved).format())

# 2. A bigger radius at every category's sites (e.g. better antennas), re-optimised.
wider = base.scenario
for name, category in base.scenario.categories.items():
    wider = wider.with_category(name, radius_m=category.radius_m * 1.5)
bigger = base.replan(categories=wider.categories)
print(f"radii x1.5: {len(bigger.site_ids)} sites, coverage {bigger.coverage:.2%}")

# 3. Cut the budget to 80 % of the base plan's new sites.
n_new = base.summary()["n_new"]
cheaper = base.replan(budget=coverage.Budget(max_sites=int(0.8 * n_new)))
print(f"80 % of the sites: coverage {cheaper.coverage:.2%}")

# 4. Aim lower first, and see what each extra percentage point costs.
table = sweep_targets(base, [0.5, 0.6, 0.7, 0.8, 0.9, base.scenario.target])
table.to_csv(out / "sweep.csv", index=False)
plot_sweep(table, "target", out / "sweep.svg", title="coverage and cost vs. target")
print(table[["target", "coverage", "n_new", "total_cost", "cost_per_point"]].to_string(index=False))
