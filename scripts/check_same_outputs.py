"""Check that two plan folders hold the same plan (issue #12: a restructure changes no output).

Compares ``summary.json`` (less ``runtime_s`` and the ``seconds`` timings nested in it),
the text of ``selected_sites.csv`` (BOM and line endings aside), and every table of
``plan.gpkg`` (attributes and WKB geometry) except the QGIS ``layer_styles`` table, which
is presentation, not plan content. Prints what differs and exits 1, or prints "same" and
exits 0::

    python scripts/check_same_outputs.py out/before out/after
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyogrio

#: QGIS styles (coverage/gpkgstyles.py): presentation, not plan content; older folders have none.
IGNORED_GPKG_TABLES = {"layer_styles"}
IGNORED_SUMMARY_KEYS = {"runtime_s", "seconds"}  # wall-clock timings, different on every run


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in IGNORED_SUMMARY_KEYS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _summary(folder: Path) -> dict:
    return _without_timings(json.loads((folder / "summary.json").read_text(encoding="utf-8")))


def _csv_text(folder: Path) -> str:
    return (folder / "selected_sites.csv").read_text(encoding="utf-8-sig")


def _gpkg_tables(folder: Path) -> dict:
    path = folder / "plan.gpkg"
    tables = {}
    for name, _ in pyogrio.list_layers(path):
        if name in IGNORED_GPKG_TABLES:
            continue
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
