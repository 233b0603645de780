"""Check that two plan folders hold the same plan (issue #12: a restructure changes no output).

Compares ``summary.json`` (less ``runtime_s`` and the sections' wall-clock ``seconds``), ``selected_sites.csv`` byte for byte after
decoding, and every table of ``plan.gpkg`` (attributes and WKB geometry). Prints what
differs and exits 1, or prints "same" and exits 0::

    python scripts/check_same_outputs.py out/before out/after
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyogrio

IGNORED_SUMMARY_KEYS = {"runtime_s"}
IGNORED_NESTED_KEYS = {"seconds"}  # wall-clock time inside the plan-quality sections (improved, bound)


def _summary(folder: Path) -> dict:
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    return {k: _without_timing(v) for k, v in data.items() if k not in IGNORED_SUMMARY_KEYS}


def _without_timing(value):
    if isinstance(value, dict):
        return {k: _without_timing(v) for k, v in value.items() if k not in IGNORED_NESTED_KEYS}
    return value


def _csv_text(folder: Path) -> str:
    return (folder / "selected_sites.csv").read_text(encoding="utf-8-sig")


def _gpkg_tables(folder: Path) -> dict:
    path = folder / "plan.gpkg"
    tables = {}
    for name, _ in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name)
        tables[name] = frame.to_wkb() if "geometry" in frame.columns else frame
    return tables


def differences(a: Path, b: Path) -> list[str]:
    found = []
    sa, sb = _summary(a), _summary(b)
    for key in sorted(set(sa) | set(sb)):
        if sa.get(key) != sb.get(key):
            found.append(f"summary.json: {key} differs")
    if _csv_text(a) != _csv_text(b):
        found.append("selected_sites.csv differs")
    ta, tb = _gpkg_tables(a), _gpkg_tables(b)
    for name in sorted(set(ta) | set(tb)):
        if name not in ta or name not in tb:
            found.append(f"plan.gpkg: layer {name} only in one folder")
        elif not ta[name].equals(tb[name]):
            found.append(f"plan.gpkg: layer {name} differs")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    found = differences(Path(argv[0]), Path(argv[1]))
    for line in found:
        print(line)
    if not found:
        print("same")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
