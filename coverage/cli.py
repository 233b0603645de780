"""The ``hotspots`` command: a thin layer over the Python API.

Errors a user can fix (:class:`~coverage.errors.InputError`, and bad command-line
arguments) are printed on one line and the command exits with status 2. Ctrl-C and
SIGTERM stop it with one line and status 130. Heavy modules (geopandas, the planner)
are imported only by the command that needs them, so ``--help`` and argument errors
answer at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from .errors import InputError

EXIT_INPUT_ERROR = 2
EXIT_INTERRUPTED = 130
TIANDITU_KEY_ENV = "HOTSPOTS_TIANDITU_KEY"

#: Large objects a command keeps alive until the process ends, when it runs from the
#: console entry point :func:`run` (which leaves without freeing them); None when
#: :func:`main` is called from Python, which then frees them as usual.
KEPT: list | None = None

# Scenario settings that command-line flags override, and the flag named in errors.
FLAGS = {
    "target": "--target", "metric": "--metric", "cell_size_m": "--cell-size", "max_sites": "--max-sites",
    "max_cost": "--max-cost", "language": "--lang", "effort": "--effort",
    "local_search": "--no-local-search", "bound": "--no-bound", "exact": "--exact",
}


def default_scenario() -> Path:
    """The bundled Shenzhen scenario (inside the installed package or the source tree)."""
    here = Path(__file__).resolve().parent
    for root in (here / "gis_data", here.parent / "gis_data"):
        candidate = root / "shenzhen" / "scenario.toml"
        if candidate.exists():
            return candidate
    raise InputError("the bundled Shenzhen scenario is missing; name a scenario file: hotspots plan SCENARIO.toml")


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    previous = _stop_on_sigterm()
    try:
        args = build_parser().parse_args(argv)
        _show_progress(quiet=args.quiet)
        return args.run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except SystemExit as exc:  # argparse: --help (0) or a bad argument (2, one line already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        print("interrupted; no outputs were changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop_on_sigterm():
    """Handle SIGTERM like Ctrl-C (the same clean stop); return the previous handler."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. main() called from a worker): leave signals alone
        return None


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``error: <what>; see hotspots plan --help``."""

    def error(self, message: str):
        print(f"error: {self.prog}: {message}; see {self.prog} --help", file=sys.stderr)
        raise SystemExit(EXIT_INPUT_ERROR)


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


# --- the parser -----------------------------------------------------------------------------


def _parents() -> dict[str, argparse.ArgumentParser]:
    """Options shared by several commands, each declared once."""
    quiet = _Parser(add_help=False)
    quiet.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                       help="show only warnings and errors")
    out = _Parser(add_help=False)
    out.add_argument("-o", "--out", type=Path, default=None, metavar="PATH",
                     help="where to write (a folder; for `map`, the HTML file); see the command's description")
    scenario = _Parser(add_help=False)
    scenario.add_argument("scenario", nargs="?", type=Path, help="scenario TOML file (default: bundled Shenzhen)")
    render = _Parser(add_help=False)
    render.add_argument("--offline", action="store_true", help="make a map that needs no network (inlined Leaflet)")
    render.add_argument("--lang", choices=("zh", "en"), default=None,
                        help="language of the map (default: the scenario's language)")
    render.add_argument("--basemap", metavar="NAME_OR_URL", default=None,
                        help="basemap: a name (osm, tianditu-vector, tianditu-imagery) or a WGS84 XYZ tile URL")
    render.add_argument("--tianditu-key", metavar="KEY", default=os.environ.get(TIANDITU_KEY_ENV),
                        help=f"Tianditu tile key (default: ${TIANDITU_KEY_ENV}); never written to outputs")
    write = _Parser(add_help=False, parents=[render])
    write.add_argument("--no-map", action="store_true", help="skip map.html")
    write.add_argument("--no-bom", action="store_true", help="write CSV files as plain UTF-8 (no byte-order mark)")
    return {"quiet": quiet, "out": out, "scenario": scenario, "render": render, "write": write}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hotspots",
                     description="Plan public Wi-Fi hotspots to reach a coverage target at least cost.")
    parser.add_argument("-q", "--quiet", action="store_true", help="show only warnings and errors")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND", parser_class=_Parser)
    p = _parents()
    _add_plan(commands, p)
    _add_whatif(commands, p)
    c = commands.add_parser("compare", parents=[p["quiet"], p["out"], p["render"]], help="compare two plan folders",
                            description="Print the differences between two plan folders; with --out FOLDER, also "
                                        "write diff.json and a before/after map.")
    c.add_argument("before", type=Path, help="plan folder A")
    c.add_argument("after", type=Path, help="plan folder B")
    c.set_defaults(run=run_compare)
    _add_sweep(commands, p)
    _add_import_osm(commands, p)
    m = commands.add_parser("map", parents=[p["quiet"], p["out"], p["render"]],
                            help="(re)draw map.html from a plan folder without re-solving",
                            description="Redraw a plan folder's map; --out FILE (default: PLAN_DIR/map.html).")
    m.add_argument("plan_dir", type=Path, help="a folder written by `hotspots plan`")
    m.set_defaults(run=run_map)
    return parser


def _add_plan(commands, p) -> None:
    s = commands.add_parser("plan", parents=[p["quiet"], p["scenario"], p["out"], p["write"]],
                            help="plan hotspots for a scenario and write the outputs",
                            description="Plan hotspots for a scenario (default: the bundled Shenzhen one); "
                                        "--out FOLDER (default: out/<scenario name>).")
    s.add_argument("--target", type=float, help="fraction of demand to cover, e.g. 0.95")
    s.add_argument("--metric", choices=("population", "area"), help="what the target is measured in")
    s.add_argument("--cell-size", type=float, metavar="METRES", help="demand cell size in metres")
    s.add_argument("--max-sites", type=int, help="budget: at most this many new sites")
    s.add_argument("--max-cost", type=float, help="budget: at most this total cost of new sites")
    s.add_argument("--effort", choices=("fast", "thorough"), help="how hard the solver works")
    s.add_argument("--no-local-search", action="store_true",
                   help="skip the 1-out/1-in swap search (with --no-bound: greedy's plan as it is)")
    s.add_argument("--no-bound", action="store_true",
                   help="skip the lower bound on the optimal cost (with --no-local-search the "
                        "Lagrangian solver does not run: greedy's plan)")
    s.add_argument("--exact", action="store_true", help="also solve the integer programme (HiGHS, time-limited)")
    s.set_defaults(run=run_plan)


def _add_whatif(commands, p) -> None:
    w = commands.add_parser("whatif", parents=[p["quiet"], p["out"], p["write"]],
                            help="evaluate a plan with sites added or removed, without re-optimising",
                            description="Coverage of a saved plan with sites added or removed (not re-optimised); "
                                        "writes the new plan, its map and a diff against the base into --out FOLDER.")
    w.add_argument("base", type=Path, help="a plan folder written by `hotspots plan`")
    w.add_argument("--add", action="append", default=[], metavar="SITE",
                   help="a site id, or LON,LAT,CATEGORY[,NAME] for a new site (WGS84); repeat for more")
    w.add_argument("--add-layer", action="append", default=[], type=Path, metavar="FILE",
                   help="a point layer of new sites with a 'category' column")
    w.add_argument("--remove", action="append", default=[], metavar="SITE_ID",
                   help="a site id to drop; repeat for more")
    w.set_defaults(run=run_whatif)


def _add_sweep(commands, p) -> None:
    s = commands.add_parser("sweep", parents=[p["quiet"], p["scenario"], p["out"]],
                            help="coverage and cost against the target, the budget or a radius",
                            description="Re-optimise for a range of targets, budgets or radii; writes sweep.csv "
                                        "and sweep.svg into --out FOLDER (default: out/<scenario>-sweep).")
    what = s.add_mutually_exclusive_group(required=True)
    what.add_argument("--target", metavar="RANGE", help="targets, e.g. 0.90:0.99:0.01 or 0.9,0.95,0.99")
    what.add_argument("--budget", metavar="KIND=RANGE", help="sites=100:1000:100 or cost=50:500:50")
    what.add_argument("--radius", metavar="CATEGORY=RANGE", help="e.g. school=60:160:20 (metres)")
    s.set_defaults(run=run_sweep)


def _add_import_osm(commands, p) -> None:
    o = commands.add_parser("import-osm", parents=[p["quiet"], p["out"]],
                            help="import schools, libraries and transport hubs from OpenStreetMap",
                            description="Write a ready-to-plan folder (boundary, site layers, scenario.toml) into "
                                        "--out FOLDER from OpenStreetMap (needs network, or a --cache-dir with "
                                        "cached answers).")
    o.add_argument("place", help='place name such as "Shenzhen, China" (or "福田区, 深圳市"), or a boundary file')
    o.add_argument("--boundary", type=Path, help="study-area polygon file to use instead of the OSM boundary")
    o.add_argument("--population", type=Path, help="population layer; makes the scenario plan for people")
    o.add_argument("--population-column", default="population", help="population column (default: population)")
    o.add_argument("--cache-dir", type=Path, help="keep Overpass answers here and reuse them")
    o.add_argument("--timeout", type=int, default=180, metavar="S", help="Overpass query time limit in seconds")
    o.set_defaults(run=run_import_osm)


# --- shared helpers -----------------------------------------------------------------------


def map_options(args: argparse.Namespace) -> dict:
    """The map-rendering options of the command line (contract 2: exactly these keys)."""
    return {"offline": args.offline, "lang": args.lang, "basemap": args.basemap, "tianditu_key": args.tianditu_key}


def _required_out(args: argparse.Namespace, what: str, inputs=()) -> Path:
    if args.out is None:
        raise InputError(f"--out is required: give the folder to write {what} into, e.g. --out out/{what}")
    return _folder_out(args.out, inputs)


def _folder_out(out: Path, inputs=()) -> Path:
    """``out`` checked as an output folder before any work (see planfolder.check_output_folder)."""
    from .planfolder import check_output_folder

    return check_output_folder(out, inputs)


def _write_plan(result, out: Path, args: argparse.Namespace, extra: dict | None = None) -> None:
    """``Plan.write`` with the map options, --no-map and --no-bom."""
    result.write(out, map=not args.no_map, map_options=map_options(args), bom=not args.no_bom, extra=extra)


# --- commands -----------------------------------------------------------------------------


def run_plan(args: argparse.Namespace) -> int:
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario or default_scenario()).with_overrides(
        FLAGS, target=args.target, metric=args.metric, cell_size_m=args.cell_size, max_sites=args.max_sites,
        max_cost=args.max_cost, effort=args.effort, language=args.lang,
        local_search=False if args.no_local_search else None, bound=False if args.no_bound else None,
        exact=True if args.exact else None,
    )
    import time

    from . import planning  # heavy (geopandas): only once the arguments are known to be good
    from .outputs import scenario_inputs, solve_and_write
    from .report import format_summary

    out = _folder_out(args.out or Path("out") / _slug(scenario.name), scenario_inputs(scenario))
    start = time.perf_counter()

    def solve(problem):  # runtime_s: prepare and solve, as planning.plan reports it
        result = planning.solve(problem)
        result.runtime_s = time.perf_counter() - start
        return result

    # what does not depend on the chosen sites is written on the other core while solving
    result = solve_and_write(planning.prepare(scenario), solve, out, map=not args.no_map,
                             map_options=map_options(args), bom=not args.no_bom)
    print(format_summary(result.summary()))
    print(f"\nOutputs in {out}/")
    return 0


def run_map(args: argparse.Namespace) -> int:
    from .maps import render_map

    path = render_map(args.plan_dir, args.out, **map_options(args))
    print(f"Map written to {path}")
    return 0


def run_whatif(args: argparse.Namespace) -> int:
    from .planning import load_plan
    from .whatif import collector_paused

    from .planfolder import DIFF

    out = _required_out(args, "whatif", [args.base, *args.add_layer])
    add = [_parse_site(text) for text in args.add]
    with collector_paused():
        base = load_plan(args.base)
        result = base.evaluate(add=add + list(args.add_layer), remove=args.remove)
        diff = _diff_while_checking_network(base, result)
        _write_plan(result, out, args, extra={DIFF: diff.to_dict()})
    if KEPT is not None:
        KEPT.extend([base, result])
    print(diff.format())
    print(f"\nWhat-if plan in {out}/ (diff.json: the changes against {args.base})")
    return 0


def _diff_while_checking_network(base, result):
    """``diff_plans(base, result)`` with ``result``'s full summary (summary.json needs it),
    its network check (``Plan.network``, ~0.8 s on a city) running in a forked child
    meanwhile: this core makes the comparison views and the rest of the summary, and
    reprojects the grid for plan.gpkg and the map (``Problem.grid_cells_wgs84``, kept)."""
    import dataclasses

    from .compare import diff_plans, view_of_plan
    from .outputs import in_background

    network = in_background(result.network, "checking channels, backhaul and capacity")
    try:
        before = view_of_plan(base)
        after = view_of_plan(result, summary=result.summary(network=False))
        if result.problem.cell_polygons is not None:
            result.problem.grid_cells_wgs84  # noqa: B018 - made now, while the child works
        result.keep_network(network.result())
    except BaseException:
        network.cancel()
        raise
    return diff_plans(before, dataclasses.replace(after, summary=result.summary()))


def _parse_site(text: str):
    """A site id, or LON,LAT,CATEGORY[,NAME] for a new site."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) >= 3:
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError:
            raise InputError(f"--add {text!r}: a new site is LON,LAT,CATEGORY[,NAME] with numbers in degrees, "
                             "e.g. 114.0579,22.5431,school") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(f"--add {text!r}: longitude must be within ±180 and latitude within ±90 degrees "
                             "(WGS84, longitude first), e.g. 114.0579,22.5431,school")
        return {"lon": lon, "lat": lat, "category": parts[2], "name": ",".join(parts[3:]) or None}
    if len(parts) == 2 or not text.strip():
        raise InputError(f"--add {text!r}: give a site id, or LON,LAT,CATEGORY for a new site")
    return text.strip()


def run_compare(args: argparse.Namespace) -> int:
    from .compare import diff_plans

    inputs = [args.before, args.after]
    out = _folder_out(args.out, inputs) if args.out is not None else None
    diff = diff_plans(args.before, args.after)
    print(diff.format())
    if out is not None:
        from .maps import render_compare_map
        from .planfolder import COMPARE_MAP, DIFF, json_text, replacing_folder

        with replacing_folder(out, inputs) as tmp:
            (tmp / DIFF).write_text(json_text(diff.to_dict()), encoding="utf-8")
            render_compare_map(args.before, args.after, tmp / COMPARE_MAP, **map_options(args))
        print(f"\nDiff and map in {out}/ ({COMPARE_MAP})")
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    from . import sweep

    if args.target:
        targets = sweep.parse_target_sweep(args.target)
    elif args.budget:
        budget_key, budgets = sweep.parse_budget_sweep(args.budget)
    from .planning import plan
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario or default_scenario())
    out = _folder_out(args.out or Path("out") / f"{_slug(scenario.name)}-sweep", [scenario.source_file])
    if args.target:
        table, x = sweep.sweep_targets(plan(scenario.replace(target=max(targets))), targets), "target"
    elif args.budget:
        table, x = sweep.sweep_budgets(plan(scenario), **{budget_key: budgets}), budget_key
    else:
        category, radii = sweep.parse_radius_sweep(args.radius, scenario.categories)
        table, x = sweep.sweep_radius(plan(scenario), category, radii), "radius_m"
    from .planfolder import SWEEP_CSV, SWEEP_SVG, replacing_folder, write_csv

    with replacing_folder(out, [scenario.source_file]) as tmp:
        write_csv(table, tmp / SWEEP_CSV)
        sweep.plot_sweep(table, x, tmp / SWEEP_SVG,
                         title=f"{scenario.name}: coverage and cost vs. {x.replace('_', ' ')}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.4f}"))
    print(f"\nSweep in {out}/ (sweep.csv, sweep.svg)")
    return 0


def run_import_osm(args: argparse.Namespace) -> int:
    from .osm import import_osm

    out = _required_out(args, "osm", [args.boundary, args.population, args.cache_dir])
    scenario = import_osm(args.place, out, boundary=args.boundary, population=args.population,
                          population_column=args.population_column, cache_dir=args.cache_dir, timeout_s=args.timeout)
    print(f"Scenario written to {scenario}\nPlan it with: hotspots plan {scenario}")
    return 0


def _slug(name: str) -> str:
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.strip().lower()).strip("-")
    return slug or "plan"


def run() -> None:
    """The console entry point: :func:`main`, then exit with its status.

    It leaves with ``os._exit`` once the output is flushed (logging shut down; every
    file was written and closed by then, and forked children were waited for): a
    city's plans are millions of small objects, and freeing them one by one, then
    tearing the interpreter down, took ~0.6 s of a 5 s ``hotspots whatif``
    (:data:`KEPT` holds them to the end). After an interruption ``os._exit(130)`` is
    needed anyway: a KeyboardInterrupt that hit a C extension while it ran Python code
    (during the heavy imports) marks the interpreter, which would otherwise kill itself
    with SIGINT at exit even though the interruption was handled and reported."""
    global KEPT
    KEPT = []
    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
