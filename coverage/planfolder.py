"""The plan folder: its file names, the one safe writer and a lazy reader.

Every file the tool writes goes through this module:

- :func:`replacing_folder` writes a whole folder atomically. Files are written into a
  hidden ``.hotspots-*`` folder beside the output and swapped in only when all of them
  succeeded; a previous output folder is replaced whole, anything else is refused
  (a folder holding an input of the run, a folder of someone else's files, a file).
  Interrupted at any moment (Ctrl-C, SIGTERM, an exception in a late stage), the
  output folder is exactly as it was and no temporary folder is left.
- :func:`write_text`, :func:`write_bytes`, :func:`write_json` write one file
  atomically; :func:`write_csv` writes a CSV that round-trips through ``csv`` and
  pandas and cannot carry a spreadsheet formula (see :func:`neutralise`).
- :class:`PlanFolder` reads a plan folder lazily: each part on first use.

The file contract is in docs/outputs.md. Geometry in the folder is WGS84 (EPSG:4326).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import uuid
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from .errors import InputError

# --- names ------------------------------------------------------------------------------

SUMMARY = "summary.json"
GEOPACKAGE = "plan.gpkg"
SITES_CSV = "selected_sites.csv"
SCENARIO = "scenario.toml"
MAP = "map.html"
DIFF = "diff.json"
COMPARE_MAP = "compare.html"
SWEEP_CSV = "sweep.csv"
SWEEP_SVG = "sweep.svg"

#: Layers of plan.gpkg (docs/outputs.md).
SELECTED_LAYER = "selected_sites"
CANDIDATES_LAYER = "candidates"
CELLS_LAYER = "demand_cells"
DISTRICTS_LAYER = "districts"
STUDY_AREA_LAYER = "study_area"
LAYERS = (SELECTED_LAYER, CANDIDATES_LAYER, CELLS_LAYER, DISTRICTS_LAYER, STUDY_AREA_LAYER)

#: The problem a plan was solved on, for what-if runs without prepare() (coverage.savedproblem):
#: a subfolder of the plan folder and the files in it.
PROBLEM_DIR = "problem"
PROBLEM_MATRIX = "matrix.npz"
PROBLEM_DEMAND = "demand.parquet"
PROBLEM_GRID = "grid.parquet"
PROBLEM_SITES = "sites.parquet"
PROBLEM_STUDY_AREA = "study_area.parquet"
PROBLEM_DISTRICTS = "districts.parquet"
PROBLEM_MANIFEST = "problem.json"
#: How plan.gpkg's layers are made from a plan (coverage.outputs). problem.json records it
#: with plan.gpkg's sha256, so a what-if may copy the layers that do not change from its
#: base folder's plan.gpkg; raise it whenever the content of a layer changes.
GEOPACKAGE_FORMAT = 1

PLAN_FILES = (SUMMARY, GEOPACKAGE, SITES_CSV, SCENARIO, MAP, PROBLEM_DIR)
#: Every name the tool writes into an output folder (plan, what-if, compare, sweep).
OUTPUT_NAMES = frozenset(PLAN_FILES + (DIFF, COMPARE_MAP, SWEEP_CSV, SWEEP_SVG))
#: A folder holding one of these (and only OUTPUT_NAMES) is a previous output of the tool.
PRODUCT_NAMES = frozenset((SUMMARY, DIFF, SWEEP_CSV))
TEMP_PREFIX = ".hotspots-"

# --- CSV ----------------------------------------------------------------------------------

#: First characters that make a spreadsheet cell a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = re.compile(r"^'*[=+\-@\t\r]")


def neutralise(value):
    """``value`` made safe for a spreadsheet: text starting like a formula gets a leading ``'``.

    Text that already starts with quotes before such a character gets one more, so
    :func:`restore` gives back exactly the original. Non-text values pass through.
    """
    if isinstance(value, str) and _NEUTRALISED.match(value):
        return "'" + value
    return value


def restore(value):
    """The inverse of :func:`neutralise` (for the tool reading its own CSVs)."""
    if isinstance(value, str) and value.startswith("'") and _NEUTRALISED.match(value[1:]):
        return value[1:]
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text: text cells neutralised, every cell with a line break quoted.

    Lines end in CRLF (RFC 4180), so a carriage return inside a name is quoted too and
    the file has exactly one record per row for ``csv`` and pandas alike. The text is
    exactly ``DataFrame.to_csv(index=False, lineterminator="\\r\\n")`` of the neutralised
    frame, made column by column (twice as fast on a city's tens of thousands of sites;
    tests/test_outputs.py checks the two agree).
    """
    out = pd.DataFrame(frame).copy()
    for column in out.columns:
        if _is_text(out[column]):
            out[column] = _neutralised(out[column])
    columns = [_csv_cells(out[name]) for name in out.columns]
    if any(cells is None for cells in columns) or not out.columns.map(lambda c: isinstance(c, str)).all():
        return out.to_csv(index=False, lineterminator="\r\n")
    header = ",".join(_csv_quoted(str(name)) for name in out.columns)
    if len(out.columns) == 1:  # a lone empty cell is quoted ("") so the row is not blank
        columns = [[cell if cell else '""' for cell in columns[0]]]
    return "".join(line + "\r\n" for line in [header, *map(",".join, zip(*columns))])


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _neutralised(column: pd.Series) -> pd.Series:
    """:func:`neutralise` on every cell of a text column (vectorised for string columns)."""
    if not pd.api.types.is_string_dtype(column.dtype) or pd.api.types.is_object_dtype(column.dtype):
        return column.map(neutralise)
    hit = column.str.match(_NEUTRALISED.pattern).fillna(False).to_numpy(dtype=bool)
    return column.where(~hit, "'" + column) if hit.any() else column


def _csv_quoted(text: str) -> str:
    """A cell as Python's ``csv`` writes it (QUOTE_MINIMAL, quotes doubled)."""
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def _csv_cells(column: pd.Series) -> list[str] | None:
    """The CSV cells of a column as pandas writes them (missing: empty; floats: their
    shortest repr), or None for a kind of column left to pandas."""
    dtype = column.dtype
    missing = column.isna().to_numpy()
    if pd.api.types.is_bool_dtype(dtype) and not missing.any():
        return ["True" if v else "False" for v in column.to_numpy(dtype=bool).tolist()]
    if dtype == np.float64:
        values = column.to_numpy().tolist()  # Python floats: repr is what numpy's str gives pandas
        return ["" if m else repr(v) for v, m in zip(values, missing.tolist())]
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        return list(map(str, column.to_numpy().tolist()))
    if not (pd.api.types.is_integer_dtype(dtype) or _is_text(column)):
        return None
    values = column.to_numpy(dtype=object).tolist()
    plain = (str, int, float, bool)
    if pd.api.types.is_object_dtype(dtype) and not all(v is None or isinstance(v, plain) for v in values):
        return None
    cells = ["" if m else v if type(v) is str else str(v) for v, m in zip(values, missing.tolist())]
    if _NEEDS_QUOTES.search("\x00".join(cells)):  # a whole column checked at once; most need no quotes
        cells = [_csv_quoted(cell) for cell in cells]
    return cells


def _is_text(column: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype)


def write_csv(frame: pd.DataFrame, path, bom: bool = True) -> Path:
    """Write ``frame`` atomically as CSV (see :func:`csv_text`), UTF-8 with a BOM by default.

    The BOM makes Excel on Chinese Windows read the file as UTF-8; ``bom=False`` writes
    plain UTF-8.
    """
    return write_bytes(path, csv_text(frame).encode("utf-8-sig" if bom else "utf-8"))


def read_csv(path, **kwargs) -> pd.DataFrame:
    """Read a CSV the tool wrote (BOM or not), undoing :func:`neutralise` on text cells."""
    frame = pd.read_csv(path, encoding="utf-8-sig", **kwargs)
    for column in frame.columns:
        if _is_text(frame[column]):
            frame[column] = frame[column].map(restore)
    return frame


# --- single files ---------------------------------------------------------------------------


def write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it and ``os.replace``."""
    path = Path(path)
    tmp = path.with_name(f"{TEMP_PREFIX}{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}; choose a writable output folder") from None
    finally:
        with _signals_deferred():
            tmp.unlink(missing_ok=True)
    return path


def write_text(path, text: str) -> Path:
    """Write UTF-8 ``text`` atomically (see :func:`write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"))


def diff_of(text: str | bytes | None) -> dict | None:
    """The contents of a plan folder's ``diff.json`` (text or bytes), or None when there is
    none or it is not a JSON object: what the maps show of a what-if's changes."""
    if text is None:
        return None
    try:
        diff = json.loads(text)
    except ValueError:
        return None
    return diff if isinstance(diff, dict) else None


def json_text(data) -> str:
    """``data`` as indented UTF-8 JSON; numpy numbers become plain numbers, NaN null."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=_json_default) + "\n"


def write_json(path, data) -> Path:
    """Write ``data`` as JSON atomically (see :func:`json_text`)."""
    return write_text(path, json_text(data))


def _json_default(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


# --- whole folders -----------------------------------------------------------------------


def is_previous_output(folder: Path, names: Iterable[str] = OUTPUT_NAMES,
                       products: Iterable[str] = PRODUCT_NAMES) -> bool:
    """Whether ``folder`` holds only files this tool writes, one of them a product."""
    entries = {p.name for p in Path(folder).iterdir()}
    return entries <= set(names) and bool(entries & set(products))


def check_output_folder(out_dir, inputs: Iterable = (), *, names: Iterable[str] = OUTPUT_NAMES,
                        products: Iterable[str] = PRODUCT_NAMES, flag: str = "--out") -> Path:
    """Refuse an output folder that cannot be replaced safely; return it.

    Refused: a file; a folder that holds (or is) one of ``inputs``; a non-empty folder
    that is not a previous output of the tool; a read-only folder or parent.
    """
    out = Path(out_dir)
    where = out.absolute()
    if out.exists() and not out.is_dir():
        raise InputError(f"output folder {out} is a file; give {flag} a folder (new, empty or a previous output)")
    for item in inputs:
        if item is None:
            continue
        path = Path(item).absolute()
        if _inside(path, where):
            raise InputError(f"output folder {out} holds {path.name}, an input of this run ({path}); "
                             f"writing there would replace it: choose another {flag} folder")
    if out.is_dir():
        try:
            previous = is_previous_output(out, names, products)
            empty = not any(out.iterdir())
        except OSError as exc:
            raise InputError(f"cannot read output folder {out}: {exc.strerror}; choose another {flag} folder") from None
        if not (empty or previous):
            other = sorted(p.name for p in out.iterdir() if p.name not in set(names))
            example = f" (e.g. {other[0]!r})" if other else ""
            raise InputError(f"output folder {out} already holds files not written by hotspots{example}; "
                             f"choose a new or empty {flag} folder, or a previous output to replace")
        if not os.access(out, os.W_OK | os.X_OK):
            raise InputError(f"output folder {out} is read-only; make it writable or choose another {flag} folder")
    parent = _existing_ancestor(where.parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {parent} (permission denied), where {flag} {out} would go; "
                         f"choose a writable {flag} folder")
    return out


@contextmanager
def replacing_folder(out_dir, inputs: Iterable = (), *, names: Iterable[str] = OUTPUT_NAMES,
                     products: Iterable[str] = PRODUCT_NAMES, flag: str = "--out") -> Iterator[Path]:
    """Write a folder atomically: yield an empty temporary folder; on success it becomes ``out_dir``.

    ``out_dir`` is checked first (:func:`check_output_folder`). A previous output there
    is replaced whole; on any exception or interruption (KeyboardInterrupt, SIGTERM,
    SystemExit) the temporary folder is removed and ``out_dir`` is left exactly as it was,
    including not existing. OS errors become one-line :class:`InputError`.
    """
    out = check_output_folder(out_dir, inputs, names=names, products=products, flag=flag)
    where = out.absolute()
    created: list[Path] = []
    tmp: Path | None = None
    with _sigterm_raises():
        try:
            created = _make_parents(where.parent)
            tmp = where.parent / f"{TEMP_PREFIX}{where.name[:64]}-{uuid.uuid4().hex[:12]}"
            tmp.mkdir()  # with the umask's permissions, as the output folder should have (mkdtemp: private)
            yield tmp
            if _swap_in(tmp, where):
                tmp = created = None  # the temporary folder became the output folder
        except OSError as exc:
            raise InputError(f"cannot write output folder {out}: {exc.strerror or exc}; "
                             f"choose a writable {flag} folder with free space") from None
        finally:
            with _signals_deferred():
                if tmp is not None:
                    shutil.rmtree(tmp, ignore_errors=True)
                for folder in reversed(created or []):
                    _remove_if_empty(folder)


def write_folder(out_dir, files: dict, inputs: Iterable = (), **options) -> Path:
    """Write ``files`` (name → str, bytes, or JSON-able dict/list) as the whole folder ``out_dir``."""
    with replacing_folder(out_dir, inputs, **options) as tmp:
        for name, content in files.items():
            if isinstance(content, bytes):
                (tmp / name).write_bytes(content)
            elif isinstance(content, str):
                (tmp / name).write_text(content, encoding="utf-8")
            else:
                (tmp / name).write_text(json_text(content), encoding="utf-8")
    return Path(out_dir)


def _swap_in(tmp: Path, out: Path) -> bool:
    """Put the files of ``tmp`` in place as ``out``, with SIGINT and SIGTERM held back.

    A new ``out`` is ``tmp`` renamed (returns True). An existing ``out`` keeps its
    identity (permissions, the shell's current folder): its entries are moved into
    ``tmp`` and the new ones moved in, each a rename (returns False; ``tmp`` then holds
    the old entries, for the caller to delete). Any error, or a signal that arrived
    meanwhile, undoes every move before it is raised, so ``out`` is as it was.
    """
    with _signals_deferred() as pending:
        if not out.exists():
            os.rename(tmp, out)
            if pending():
                os.rename(out, tmp)
                return False
            return True
        moved: list[tuple[Path, Path]] = []
        try:
            new = sorted(tmp.iterdir())
            old = tmp / f"{TEMP_PREFIX}old"
            old.mkdir()
            for entry in sorted(out.iterdir()):
                os.rename(entry, old / entry.name)
                moved.append((entry, old / entry.name))
            for entry in new:
                os.rename(entry, out / entry.name)
                moved.append((entry, out / entry.name))
        except BaseException:
            _undo(moved)
            raise
        if pending():
            _undo(moved)
        return False


def _undo(moved: list[tuple[Path, Path]]) -> None:
    for source, target in reversed(moved):
        os.rename(target, source)


def _inside(path: Path, folder: Path) -> bool:
    path, folder = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return path == folder or folder in path.parents


def _existing_ancestor(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    missing.reverse()
    for path in missing:
        path.mkdir()
    return missing


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):
        folder.rmdir()


_DEFERRED = (signal.SIGINT, signal.SIGTERM)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def _signals_deferred():
    """Hold back SIGINT and SIGTERM until the block ends; yields a ``pending()`` check.

    Python runs signal handlers in the main thread only, so while the block runs the
    handlers just note the signal; at its end the original handlers are restored and
    the signal is raised again, and they act as they would have.
    """
    if not _main_thread():
        yield lambda: False
        return
    received: list[int] = []
    old = {signum: signal.signal(signum, lambda signum, frame: received.append(signum)) for signum in _DEFERRED}
    try:
        yield lambda: bool(received)
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
        if received:
            signal.raise_signal(received[0])


class Terminated(SystemExit):
    """SIGTERM while writing: raised so that the writer cleans up (exit status 143)."""


@contextmanager
def _sigterm_raises():
    """While writing, SIGTERM with its default action raises :class:`Terminated` instead of killing."""
    if not _main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum, frame):
        raise Terminated(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


# --- reading ----------------------------------------------------------------------------------


class PlanFolder:
    """A plan folder written by ``hotspots plan`` or ``whatif``, read lazily.

    Each part is read on first use and kept: :attr:`summary`, :attr:`sites_table`
    (selected_sites.csv), :attr:`selected`, :attr:`candidates`, :attr:`cells`,
    :attr:`cell_table` (no geometry), :attr:`districts`, :attr:`study_area` (plan.gpkg,
    WGS84, through Arrow), :attr:`scenario` (scenario.toml). A missing optional layer
    reads as None. Problems raise one-line :class:`InputError`.
    """

    def __init__(self, path, require: Iterable[str] = (SUMMARY, GEOPACKAGE)):
        self.path = Path(path)
        if not self.path.is_dir():
            what = "is a file" if self.path.exists() else "does not exist"
            raise InputError(f"{self.path} is not a plan folder: it {what}; write one with `hotspots plan --out DIR`")
        missing = [name for name in require if not (self.path / name).is_file()]
        if missing:
            raise InputError(f"{self.path} is not a plan folder ({' and '.join(missing)} missing); "
                             "write one with `hotspots plan --out DIR` (or `hotspots whatif`)")

    def __repr__(self) -> str:
        return f"PlanFolder({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    @cached_property
    def summary(self) -> dict:
        path = self.file(SUMMARY)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path} is not valid JSON ({exc}); write the plan folder again "
                             "with `hotspots plan --out DIR`") from None
        if not isinstance(data, dict):
            raise InputError(f"{path} should hold a JSON object (docs/outputs.md); write the plan folder again")
        return data

    @cached_property
    def sites_table(self) -> pd.DataFrame:
        """selected_sites.csv in rank order (text exactly as the plan had it)."""
        return self.sites_columns()

    def sites_columns(self, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Some ``columns`` of selected_sites.csv (all when None), in rank order; reading
        only what is needed is faster on a city's tens of thousands of sites."""
        path = self.file(SITES_CSV)
        text = {"site_id": str, "name": str, "category": str, "source": str, "district": str}
        usecols = None if columns is None else list(columns)
        if usecols is not None:
            text = {k: v for k, v in text.items() if k in usecols}
        try:
            return read_csv(path, usecols=usecols, dtype=text, keep_default_na=False, na_values=[""])
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise InputError(f"cannot read {path}: {exc}; write the plan folder again") from None

    @cached_property
    def gpkg_layers(self) -> tuple[str, ...]:
        import pyogrio

        path = self.file(GEOPACKAGE)
        try:
            return tuple(str(row[0]) for row in pyogrio.list_layers(path))
        except Exception as exc:  # noqa: BLE001 - pyogrio raises several types for "cannot open"
            raise InputError(f"cannot read {path} ({exc}); write the plan folder again") from None

    def layer(self, name: str, columns=None, geometry: bool = True, required: bool = False):
        """A layer of plan.gpkg in WGS84 (None when absent and not ``required``)."""
        import pyogrio

        if name not in self.gpkg_layers:
            if required:
                raise InputError(f"{self.file(GEOPACKAGE)} has no layer {name!r}; write the plan folder again")
            return None
        path = self.file(GEOPACKAGE)
        # Arrow: about twice as fast on a big layer (Shenzhen's 216k cells: 1.4 s instead of 2.4 s).
        if not geometry:
            return pyogrio.read_dataframe(path, layer=name, columns=columns, read_geometry=False, use_arrow=True)
        return self.read_layer(path, name, columns)

    @staticmethod
    def read_layer(path, name: str, columns=None):
        """Layer ``name`` of the GeoPackage ``path`` in WGS84, as every reader of plan folders reads it."""
        import geopandas as gpd

        gdf = gpd.read_file(path, layer=name, columns=columns, engine="pyogrio", use_arrow=True)
        if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
            gdf = gdf.to_crs(4326)
        return gdf

    selected = cached_property(lambda self: self.layer(SELECTED_LAYER, required=True))
    candidates = cached_property(lambda self: self.layer(CANDIDATES_LAYER))
    cells = cached_property(lambda self: self.layer(CELLS_LAYER))
    districts = cached_property(lambda self: self.layer(DISTRICTS_LAYER))
    study_area = cached_property(lambda self: self.layer(STUDY_AREA_LAYER))

    @cached_property
    def cell_table(self) -> pd.DataFrame:
        """demand_cells without geometry: cell_id, population, area_m2, covered, reachable."""
        table = self.layer(CELLS_LAYER, geometry=False, required=True)
        keep = [c for c in ("cell_id", "population", "area_m2", "covered", "reachable") if c in table.columns]
        return table[keep]

    @cached_property
    def scenario(self):
        """The scenario the plan was made with (paths relative to the folder)."""
        from .scenario import load_scenario

        return load_scenario(self.file(SCENARIO))


#: Summary keys two plans must share to lie on one demand grid.
GRID_KEYS = ("cell_size_m", "crs_metric", "n_cells")


def grid_difference(a, b) -> str | None:
    """None when two plans (anything with ``summary`` and ``cells``/``cell_table``) share a
    demand grid; otherwise why not, in plain words."""
    for key in GRID_KEYS:
        va, vb = a.summary.get(key), b.summary.get(key)
        if va is None or vb is None or va != vb:
            return f"their demand grids differ ({key}: {va} vs {vb})"
    cells_a, cells_b = _cells_of(a), _cells_of(b)
    if cells_a is None or cells_b is None or "covered" not in cells_a or "covered" not in cells_b:
        return "a plan has no demand cells with a 'covered' column"
    if len(cells_a) != len(cells_b):
        return f"their demand grids differ ({len(cells_a):,} vs {len(cells_b):,} cells)"
    if not np.array_equal(cells_a["cell_id"].to_numpy(), cells_b["cell_id"].to_numpy()):
        return "their demand cells are numbered differently"
    return None


def same_grid(a, b) -> bool:
    """Whether two plans share a demand grid (see :func:`grid_difference`)."""
    return grid_difference(a, b) is None


def _cells_of(view):
    cells = getattr(view, "cell_table", None)
    return cells if cells is not None else getattr(view, "cells", None)
