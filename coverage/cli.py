"""The ``hotspots`` command: a thin layer over the Python API.

Errors a user can fix (:class:`~coverage.errors.InputError`) are printed on one line and
the command exits with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

from .errors import InputError

EXIT_INPUT_ERROR = 2


def default_scenario() -> Path:
    """The bundled Shenzhen scenario (inside the installed package or the source tree)."""
    here = Path(__file__).resolve().parent
    for root in (here / "gis_data", here.parent / "gis_data"):
        candidate = root / "shenzhen" / "scenario.toml"
        if candidate.exists():
            return candidate
    raise InputError("the bundled Shenzhen scenario is missing; name a scenario file: hotspots plan SCENARIO.toml")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _show_progress(quiet=args.quiet)
    try:
        return args.run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("interrupted; no outputs were changed", file=sys.stderr)
        return 130


def _show_progress(quiet: bool) -> None:
    """Our own log messages on stderr (not those of GDAL or other libraries)."""
    logger = logging.getLogger("coverage")
    for old in [h for h in logger.handlers if getattr(h, "hotspots_cli", False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.hotspots_cli = True
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hotspots",
        description="Plan public Wi-Fi hotspots to reach a coverage target at least cost.",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="show only warnings and errors")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    p = commands.add_parser("plan", help="plan hotspots for a scenario and write the outputs",
                            description="Plan hotspots for a scenario (default: the bundled Shenzhen one).")
    p.add_argument("scenario", nargs="?", type=Path, help="scenario TOML file (default: bundled Shenzhen)")
    p.add_argument("-o", "--out", type=Path, default=None, help="output folder (default: out/<scenario name>)")
    p.add_argument("--target", type=float, help="fraction of demand to cover, e.g. 0.95")
    p.add_argument("--metric", choices=("population", "area"), help="what the target is measured in")
    p.add_argument("--cell-size", type=float, metavar="METRES", help="demand cell size in metres")
    p.add_argument("--max-sites", type=int, help="budget: at most this many new sites")
    p.add_argument("--max-cost", type=float, help="budget: at most this total cost of new sites")
    p.add_argument("--no-local-search", action="store_true", help="keep greedy's plan as it is")
    p.add_argument("--no-bound", action="store_true", help="skip the lower bound on the optimal cost")
    p.add_argument("--exact", action="store_true", help="also solve the integer programme (HiGHS, time-limited)")
    _map_options(p)
    p.set_defaults(run=run_plan)

    w = commands.add_parser("whatif", help="evaluate a plan with sites added or removed, without re-optimising",
                            description="Coverage of a saved plan with sites added or removed (not re-optimised); "
                                        "writes the new plan, its map and a diff against the base.")
    w.add_argument("base", type=Path, help="a plan folder written by `hotspots plan`")
    w.add_argument("--add", action="append", default=[], metavar="SITE",
                   help="a site id, or LON,LAT,CATEGORY[,NAME] for a new site (WGS84); repeat for more")
    w.add_argument("--add-layer", action="append", default=[], type=Path, metavar="FILE",
                   help="a point layer of new sites with a 'category' column")
    w.add_argument("--remove", action="append", default=[], metavar="SITE_ID", help="a site id to drop; repeat for more")
    w.add_argument("-o", "--out", type=Path, required=True, help="output folder for the what-if plan")
    _map_options(w)
    w.set_defaults(run=run_whatif)

    c = commands.add_parser("compare", help="compare two plan folders",
                            description="Print the differences between two plan folders; with --out, also "
                                        "write diff.json and a before/after map.")
    c.add_argument("before", type=Path, help="plan folder A")
    c.add_argument("after", type=Path, help="plan folder B")
    c.add_argument("-o", "--out", type=Path, help="folder for diff.json and compare.html")
    c.add_argument("--offline", action="store_true", help="make a map that needs no network")
    c.set_defaults(run=run_compare)

    s = commands.add_parser("sweep", help="coverage and cost against the target, the budget or a radius",
                            description="Re-optimise for a range of targets, budgets or radii; writes "
                                        "sweep.csv and sweep.svg.")
    s.add_argument("scenario", nargs="?", type=Path, help="scenario TOML file (default: bundled Shenzhen)")
    what = s.add_mutually_exclusive_group(required=True)
    what.add_argument("--target", metavar="RANGE", help="targets, e.g. 0.90:0.99:0.01 or 0.9,0.95,0.99")
    what.add_argument("--budget", metavar="KIND=RANGE", help="sites=100:1000:100 or cost=50:500:50")
    what.add_argument("--radius", metavar="CATEGORY=RANGE", help="e.g. school=60:160:20 (metres)")
    s.add_argument("-o", "--out", type=Path, default=None, help="output folder (default: out/<scenario>-sweep)")
    s.set_defaults(run=run_sweep)

    o = commands.add_parser("import-osm", help="import schools, libraries and transport hubs from OpenStreetMap",
                            description="Write a ready-to-plan folder (boundary, site layers, scenario.toml) "
                                        "from OpenStreetMap (needs network, or a --cache-dir with cached answers).")
    o.add_argument("place", help='place name such as "Shenzhen, China" (or "福田区, 深圳市"), or a boundary file')
    o.add_argument("-o", "--out", type=Path, required=True, help="folder to write")
    o.add_argument("--boundary", type=Path, help="study-area polygon file to use instead of the OSM boundary")
    o.add_argument("--population", type=Path, help="population layer; makes the scenario plan for people")
    o.add_argument("--population-column", default="population", help="population column (default: population)")
    o.add_argument("--cache-dir", type=Path, help="keep Overpass answers here and reuse them")
    o.add_argument("--timeout", type=int, default=180, metavar="S", help="Overpass query time limit in seconds")
    o.set_defaults(run=run_import_osm)

    m = commands.add_parser("map", help="(re)draw map.html from a plan folder without re-solving")
    m.add_argument("plan_dir", type=Path, help="a folder written by `hotspots plan`")
    m.add_argument("--out", type=Path, default=None, help="HTML file to write (default: PLAN_DIR/map.html)")
    m.add_argument("--offline", action="store_true", help="make a map that needs no network (inlined Leaflet)")
    m.set_defaults(run=run_map)
    return parser


def _map_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-map", action="store_true", help="skip map.html")
    parser.add_argument("--offline", action="store_true", help="make a map that needs no network (inlined Leaflet)")


def run_plan(args: argparse.Namespace) -> int:
    from .planning import plan
    from .report import format_summary
    from .scenario import Budget, load_scenario

    scenario = load_scenario(args.scenario or default_scenario())
    changes = {}
    if args.target is not None:
        changes["target"] = args.target
    if args.metric is not None:
        changes["metric"] = args.metric
    if args.cell_size is not None:
        changes["cell_size_m"] = args.cell_size
    if args.max_sites is not None or args.max_cost is not None:
        changes["budget"] = Budget(
            max_sites=args.max_sites if args.max_sites is not None else scenario.budget.max_sites,
            max_cost=args.max_cost if args.max_cost is not None else scenario.budget.max_cost,
        )
    if args.no_local_search or args.no_bound or args.exact:
        changes["solver"] = dataclasses.replace(
            scenario.solver,
            local_search=scenario.solver.local_search and not args.no_local_search,
            bound=scenario.solver.bound and not args.no_bound,
            exact=scenario.solver.exact or args.exact,
        )
    if changes:
        scenario = scenario.replace(**changes)
    out = args.out or Path("out") / _slug(scenario.name)
    result = plan(scenario)
    result.write(out, map=not args.no_map, offline=args.offline)
    print(format_summary(result.summary()))
    print(f"\nOutputs in {out}/")
    return 0


def run_map(args: argparse.Namespace) -> int:
    from .maps import render_map

    path = render_map(args.plan_dir, args.out, offline=args.offline)
    print(f"Map written to {path}")
    return 0


def run_whatif(args: argparse.Namespace) -> int:
    from .compare import diff_plans
    from .whatif import load_plan

    base = load_plan(args.base)
    add = [_parse_site(text) for text in args.add] + list(args.add_layer)
    result = base.evaluate(add=add, remove=args.remove)
    diff = diff_plans(base, result)
    result.write(args.out, map=not args.no_map, offline=args.offline)
    _write_json(diff.to_dict(), args.out / "diff.json")
    print(diff.format())
    print(f"\nWhat-if plan in {args.out}/ (diff.json: the changes against {args.base})")
    return 0


def _parse_site(text: str):
    """A site id, or LON,LAT,CATEGORY[,NAME] for a new site."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) >= 3:
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError:
            raise InputError(f"--add {text!r}: a new site is LON,LAT,CATEGORY[,NAME] with numbers in degrees, "
                             "e.g. 114.0579,22.5431,school") from None
        return {"lon": lon, "lat": lat, "category": parts[2], "name": ",".join(parts[3:]) or None}
    if len(parts) == 2:
        raise InputError(f"--add {text!r}: give a site id, or LON,LAT,CATEGORY for a new site")
    return text.strip()


def run_compare(args: argparse.Namespace) -> int:
    from .compare import diff_plans

    diff = diff_plans(args.before, args.after)
    print(diff.format())
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        _write_json(diff.to_dict(), args.out / "diff.json")
        from .maps import render_compare_map

        path = render_compare_map(args.before, args.after, args.out / "compare.html", offline=args.offline)
        print(f"\nDiff and map in {args.out}/ ({path.name})")
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    from .planning import plan
    from .scenario import load_scenario
    from .sweep import parse_range, plot_sweep, sweep_budgets, sweep_radius, sweep_targets

    scenario = load_scenario(args.scenario or default_scenario())
    if args.target:
        values = parse_range(args.target, "--target")
        bad = [v for v in values if not 0 < v <= 1]
        if bad:
            raise InputError(f"--target {args.target!r}: targets are fractions in (0, 1], e.g. 0.90:0.99:0.01")
        base = plan(scenario.replace(target=max(values)))
        table, x = sweep_targets(base, values), "target"
    elif args.budget:
        kind, _, text = args.budget.partition("=")
        if kind not in ("sites", "cost") or not text:
            raise InputError(f"--budget {args.budget!r}: give sites=RANGE or cost=RANGE, e.g. sites=100:1000:100")
        values = parse_range(text, "--budget")
        base = plan(scenario)
        if kind == "sites":
            table, x = sweep_budgets(base, max_sites=[int(v) for v in values]), "max_sites"
        else:
            table, x = sweep_budgets(base, max_cost=values), "max_cost"
    else:
        category, _, text = args.radius.partition("=")
        if category not in scenario.categories:
            raise InputError(f"--radius {args.radius!r}: unknown category {category!r}; the scenario has: "
                             f"{', '.join(sorted(scenario.categories))}")
        values = parse_range(text, "--radius")
        base = plan(scenario)
        table, x = sweep_radius(base, category, values), "radius_m"
    out = args.out or Path("out") / f"{_slug(scenario.name)}-sweep"
    out.mkdir(parents=True, exist_ok=True)
    csv_tmp = out / ".sweep.csv.tmp"
    table.to_csv(csv_tmp, index=False)
    csv_tmp.replace(out / "sweep.csv")
    plot_sweep(table, x, out / "sweep.svg", title=f"{scenario.name}: coverage and cost vs. {x.replace('_', ' ')}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.4f}"))
    print(f"\nSweep in {out}/ (sweep.csv, sweep.svg)")
    return 0


def run_import_osm(args: argparse.Namespace) -> int:
    from .osm import import_osm

    scenario = import_osm(args.place, args.out, boundary=args.boundary, population=args.population,
                          population_column=args.population_column, cache_dir=args.cache_dir, timeout_s=args.timeout)
    print(f"Scenario written to {scenario}\nPlan it with: hotspots plan {scenario}")
    return 0


def _write_json(data: dict, path: Path) -> None:
    import json

    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def _slug(name: str) -> str:
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.strip().lower()).strip("-")
    return slug or "plan"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
