"""The ``hotspots`` command: a thin layer over the Python API.

Errors a user can fix (:class:`~coverage.errors.InputError`) are printed on one line and
the command exits with status 2.
"""

from __future__ import annotations

import argparse
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
    p.add_argument("--no-map", action="store_true", help="skip map.html")
    p.add_argument("--offline", action="store_true", help="make a map that needs no network (inlined Leaflet)")
    p.set_defaults(run=run_plan)

    m = commands.add_parser("map", help="(re)draw map.html from a plan folder without re-solving")
    m.add_argument("plan_dir", type=Path, help="a folder written by `hotspots plan`")
    m.add_argument("--out", type=Path, default=None, help="HTML file to write (default: PLAN_DIR/map.html)")
    m.add_argument("--offline", action="store_true", help="make a map that needs no network (inlined Leaflet)")
    m.set_defaults(run=run_map)
    return parser


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

    if not (args.plan_dir / "summary.json").exists():
        raise InputError(f"{args.plan_dir} is not a plan folder (no summary.json); run `hotspots plan --out DIR` first")
    path = render_map(args.plan_dir, args.out, offline=args.offline)
    print(f"Map written to {path}")
    return 0


def _slug(name: str) -> str:
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.strip().lower()).strip("-")
    return slug or "plan"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
