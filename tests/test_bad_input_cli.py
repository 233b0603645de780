"""Bad input through the command line, as a table (issue #11): every row must exit with
status 2 (130 for an interruption), print exactly one line on stderr that names the file
and the key or flag and says how to fix it, print no traceback, leave no output folder
and leave every input byte-identical.

Rows: every bad scenario value of ``helpers.BAD_SCENARIO_VALUES`` (run through ``hotspots
plan``), bad scenario files, bad flags of every command, and signals (in a subprocess).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from conftest import UTM, X0, Y0, write_toy_city
from coverage.cli import main
from helpers import BAD_SCENARIO_VALUES, DELETE, FIX, edited, folder_digest, toy_dict, write_scenario


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """The toy city's layers and scenario, written once; rows must not change them."""
    folder = tmp_path_factory.mktemp("bad") / "city"
    write_toy_city(folder)
    big = shapely.box(X0, Y0, X0 + 6000, Y0 + 7000)  # 6 × 7 km, for the memory row
    gpd.GeoDataFrame({"name": ["big"]}, geometry=[big], crs=UTM).to_file(folder / "big.gpkg")
    (folder / "not_utf8.toml").write_bytes('name = "深圳"\n'.encode("gb18030"))
    (folder / "bad.toml").write_text("this is = = not toml", encoding="utf-8")
    (folder / "a_folder").mkdir()
    (folder / "existing_file.txt").write_text("keep me", encoding="utf-8")
    return folder / "scenario.toml"


def run_row(capsys, argv: list[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # pragma: no cover - main returns, it must not exit
        code = exc.code
    return code, capsys.readouterr().err


def assert_one_clear_line(code: int, err: str, names: list[str], patterns: tuple[str, ...], status: int = 2):
    assert code == status, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    for name in names:
        assert name in line, (name, line)
    for pattern in patterns:
        assert re.search(pattern, line), (pattern, line)
    assert re.search(FIX + r"|--help", line), line


# --- scenario values: every row of the shared table, end to end --------------------------------


@pytest.mark.parametrize("changes, patterns", [c[1:] for c in BAD_SCENARIO_VALUES],
                         ids=[c[0] for c in BAD_SCENARIO_VALUES])
def test_bad_scenario_value(capsys, city, tmp_path, changes, patterns):
    scenario = write_scenario(tmp_path / "in" / "scenario.toml", edited(toy_dict(city), **changes))
    before, city_before = folder_digest(scenario.parent), folder_digest(city.parent)
    out = tmp_path / "out"
    code, err = run_row(capsys, ["-q", "plan", str(scenario), "--out", str(out), "--no-map"])
    assert_one_clear_line(code, err, [f"scenario file {scenario}"], patterns)
    assert not out.exists()
    assert folder_digest(scenario.parent) == before and folder_digest(city.parent) == city_before


# --- scenario files and flags ------------------------------------------------------------------
# (id, argv with {city}, {dir} (the city folder) and {out}, names the line must contain, patterns)

ROWS = [
    ("file-missing", ["plan", "{dir}/nope.toml"], ["{dir}/nope.toml"], (r"does not exist; check the path",)),
    ("file-not-utf8", ["plan", "{dir}/not_utf8.toml"], ["{dir}/not_utf8.toml"],
     (r"is not UTF-8 text \(byte 0x[0-9a-f]{2} at position \d+\); save it as UTF-8",)),
    ("file-folder", ["plan", "{dir}/a_folder"], ["{dir}/a_folder"], (r"is a folder; name the \.toml file inside it",)),
    ("file-not-toml", ["plan", "{dir}/bad.toml"], ["{dir}/bad.toml"], (r"is not valid TOML",)),
    ("cell-size-memory", ["plan", "{big}", "--cell-size", "1"], ["{big}"],
     (r"cell_size_m = 1 needs about [\d.,]+ GB of memory \(42,000,000 cells",
      r"use cell_size_m = \d+ or more|plan a smaller study area")),
    ("flag-target-range", ["plan", "{city}", "--target", "1.5"], ["--target"],
     (r"^error: --target must be a fraction > 0 and ≤ 1; got 1\.5",)),
    ("flag-target-zero", ["plan", "{city}", "--target", "0"], ["--target"], (r"--target must be a fraction",)),
    ("flag-target-text", ["plan", "{city}", "--target", "x"], ["--target"], (r"invalid float value: 'x'",)),
    ("flag-target-nan", ["plan", "{city}", "--target", "nan"], ["--target"], (r"--target must be a fraction",)),
    ("flag-cell-zero", ["plan", "{city}", "--cell-size", "0"], ["--cell-size"],
     (r"--cell-size must be a number ≥ 1 and ≤ 10,000 metres; got 0",)),
    ("flag-cell-negative", ["plan", "{city}", "--cell-size", "-1"], ["--cell-size"], (r"--cell-size must be",)),
    ("flag-cell-huge", ["plan", "{city}", "--cell-size", "1e9"], ["--cell-size"], (r"--cell-size must be",)),
    ("flag-cell-inf", ["plan", "{city}", "--cell-size", "inf"], ["--cell-size"], (r"--cell-size must be",)),
    ("flag-max-sites-negative", ["plan", "{city}", "--max-sites", "-1"], ["--max-sites"],
     (r"--max-sites must be a whole number ≥ 0",)),
    ("flag-max-sites-float", ["plan", "{city}", "--max-sites", "2.5"], ["--max-sites"], (r"invalid int value",)),
    ("flag-max-cost-negative", ["plan", "{city}", "--max-cost", "-5"], ["--max-cost"],
     (r"--max-cost must be a number ≥ 0",)),
    ("flag-metric", ["plan", "{city}", "--metric", "people"], ["--metric"], (r"invalid choice: 'people'",)),
    ("flag-lang", ["plan", "{city}", "--lang", "fr"], ["--lang"], (r"invalid choice: 'fr'",)),
    ("flag-effort", ["plan", "{city}", "--effort", "max"], ["--effort"], (r"invalid choice: 'max'",)),
    ("flag-unknown", ["plan", "{city}", "--colour", "red"], ["--colour"], (r"unrecognized arguments",)),
    ("flag-metric-without-population", ["plan", "{area_city}", "--metric", "population"], ["{area_city}"],
     (r"no \[population\] layer",)),
    ("plan-out-file", ["plan", "{city}", "--out", "{dir}/existing_file.txt"], ["--out", "existing_file.txt"],
     (r"is a file; give --out a folder",)),
    ("no-command", [], ["hotspots"], (r"required: COMMAND",)),
    ("unknown-command", ["launch"], ["hotspots"], (r"invalid choice: 'launch'",)),
    ("sweep-too-long", ["sweep", "{city}", "--target", "0.01:0.99:0.00001"], ["--target"],
     (r"is 98,001 runs, each a full re-plan; at most 200 are allowed",)),
    ("sweep-target-range", ["sweep", "{city}", "--target", "0.5:1.5:0.5"], ["--target"],
     (r"targets are fractions; each must be a fraction > 0 and ≤ 1; got 1\.5",)),
    ("sweep-target-text", ["sweep", "{city}", "--target", "abc"], ["--target"],
     (r"give values as a,b,c or start:stop:step",)),
    ("sweep-target-inf", ["sweep", "{city}", "--target", "0.5,inf"], ["--target"], (r"give values as a,b,c",)),
    ("sweep-target-backwards", ["sweep", "{city}", "--target", "0.9:0.5:0.1"], ["--target"],
     (r"give values as a,b,c or start:stop:step",)),
    ("sweep-target-zero-step", ["sweep", "{city}", "--target", "0.5:0.9:0"], ["--target"], (r"start:stop:step",)),
    ("sweep-budget-kind", ["sweep", "{city}", "--budget", "trees=1:3:1"], ["--budget"],
     (r"give sites=RANGE or cost=RANGE",)),
    ("sweep-budget-negative", ["sweep", "{city}", "--budget", "sites=-5,5"], ["--budget"],
     (r"each sites budget must be a whole number ≥ 0",)),
    ("sweep-budget-fraction", ["sweep", "{city}", "--budget", "sites=1.5,2.5"], ["--budget"],
     (r"site counts are whole numbers",)),
    ("sweep-budget-cost-negative", ["sweep", "{city}", "--budget", "cost=-1"], ["--budget"],
     (r"each cost budget must be a number ≥ 0",)),
    ("sweep-radius-huge", ["sweep", "{city}", "--radius", "school=1e7"], ["--radius"],
     (r"each radius must be a number > 0 and ≤ 5,000 metres",)),
    ("sweep-radius-category", ["sweep", "{city}", "--radius", "museum=50:100:10"], ["--radius"],
     (r"unknown category 'museum'; the scenario has: existing, library, school",)),
    ("sweep-radius-no-range", ["sweep", "{city}", "--radius", "school"], ["--radius"],
     (r"give CATEGORY=RANGE in metres",)),
    ("sweep-nothing", ["sweep", "{city}"], ["--target", "--budget", "--radius"], (r"one of the arguments",)),
    ("sweep-two", ["sweep", "{city}", "--target", "0.9", "--budget", "sites=1"], ["--budget"],
     (r"not allowed with argument",)),
    ("sweep-out-file", ["sweep", "{city}", "--target", "0.9", "--out", "{dir}/existing_file.txt"],
     ["--out", "existing_file.txt"], (r"is a file; give --out a folder",)),
    ("compare-out-file", ["compare", "{dir}", "{dir}", "--out", "{dir}/existing_file.txt"],
     ["--out", "existing_file.txt"], (r"is a file; give --out a folder",)),
    ("whatif-no-out", ["whatif", "{dir}"], ["--out"], (r"--out is required: give the folder",)),
    ("whatif-add-two-parts", ["whatif", "{dir}", "--out", "{out}", "--add", "114.05,22.54"], ["--add"],
     (r"give a site id, or LON,LAT,CATEGORY",)),
    ("whatif-add-not-numbers", ["whatif", "{dir}", "--out", "{out}", "--add", "x,y,school"], ["--add"],
     (r"a new site is LON,LAT,CATEGORY\[,NAME\] with numbers in degrees",)),
    ("whatif-add-out-of-range", ["whatif", "{dir}", "--out", "{out}", "--add", "200,95,school"], ["--add"],
     (r"longitude must be within ±180 and latitude within ±90",)),
    ("whatif-add-empty", ["whatif", "{dir}", "--out", "{out}", "--add", " "], ["--add"], (r"give a site id",)),
    ("import-osm-no-out", ["import-osm", "Shenzhen"], ["--out"], (r"--out is required",)),
    ("import-osm-timeout", ["import-osm", "Shenzhen", "--out", "{out}", "--timeout", "soon"], ["--timeout"],
     (r"invalid int value: 'soon'",)),
    ("map-lang", ["map", "{dir}", "--lang", "de"], ["--lang"], (r"invalid choice: 'de'",)),
    ("quiet-after-command-still-checks", ["plan", "-q", "{city}", "--target", "2"], ["--target"],
     (r"--target must be a fraction",)),
]


@pytest.fixture(scope="module")
def area_city(city, tmp_path_factory) -> Path:
    """The toy city planned by area (no population layer)."""
    data = edited(toy_dict(city), population=DELETE, metric="area")
    return write_scenario(tmp_path_factory.mktemp("area") / "scenario.toml", data)


@pytest.mark.parametrize("argv, names, patterns", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_file_or_flag(capsys, city, area_city, tmp_path, argv, names, patterns):
    big = write_scenario(tmp_path / "big" / "scenario.toml",
                         edited(toy_dict(city), **{"study_area.path": str(city.parent / "big.gpkg")}))
    out = tmp_path / "out"
    subs = {"{city}": str(city), "{dir}": str(city.parent), "{out}": str(out), "{big}": str(big),
            "{area_city}": str(area_city)}

    def fill(text: str) -> str:
        for key, value in subs.items():
            text = text.replace(key, value)
        return text

    before = folder_digest(city.parent)
    code, err = run_row(capsys, ["-q", *map(fill, argv)])
    assert_one_clear_line(code, err, [fill(n) for n in names], patterns)
    assert not out.exists() and not (tmp_path / "out").exists()
    assert folder_digest(city.parent) == before


def test_table_size():
    """Issue #11 asks for at least 120 rows across the helpers' tables; this file holds ≥ 70."""
    assert len(BAD_SCENARIO_VALUES) + len(ROWS) + len(SIGNALS) >= 70


# --- interruptions: a real process, a real signal ----------------------------------------------

def wait_for_library(pid: int, name: str, timeout_s: float = 60) -> None:
    """Wait until process ``pid`` has mapped a shared library whose path contains ``name``."""
    maps = Path(f"/proc/{pid}/maps")
    if not maps.exists():
        pytest.skip("needs /proc to see when the process is importing")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if name in maps.read_text():
                return
        except OSError:  # pragma: no cover - the process ended
            return
        time.sleep(0.005)


SIGNALS = [("sigint-start-up", signal.SIGINT, None), ("sigterm-start-up", signal.SIGTERM, None),
           ("sigint-building-grid", signal.SIGINT, "Building the"),
           ("sigterm-building-grid", signal.SIGTERM, "Building the")]


@pytest.mark.parametrize("sig, when", [s[1:] for s in SIGNALS], ids=[s[0] for s in SIGNALS])
def test_interrupted(city, tmp_path, sig, when):
    """Ctrl-C or SIGTERM while the command starts (once numpy is being loaded: the heavy
    imports) or once a progress line says it is building the grid: one line, exit 130,
    nothing written."""
    out = tmp_path / "out"
    before = folder_digest(city.parent)
    argv = [sys.executable, "-m", "coverage.cli", *(["-q"] if when is None else []), "plan", str(city),
            "--out", str(out), *([] if when is None else ["--cell-size", "2"])]  # 500,000 cells: seconds
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    if when is None:
        wait_for_library(proc.pid, "numpy")
    else:
        for line in proc.stderr:
            seen.append(line)
            if line.startswith(when):
                break
    proc.send_signal(sig)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, "".join(seen) + err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "interrupted; no outputs were changed"
    if when is None:
        assert err.strip().splitlines() == ["interrupted; no outputs were changed"]
    assert not out.exists()
    assert folder_digest(city.parent) == before
