"""Declarative settings: each dataclass field says its type, range and fix-it hint once.

The scenario's dataclasses declare their fields with :func:`setting`; three small
walkers use those declarations and the type annotations:

- :func:`read_table` builds a dataclass from a TOML table (checking the table's keys
  and shapes: a table is a table, a list is a list),
- :func:`check` type- and range-checks every value of a built dataclass, naming the
  TOML key in the error (``[network] mesh_range_m``) with the fix,
- :func:`write_table` turns a dataclass back into the TOML structure.

A TOML boolean is never a number and a string never a boolean; integers are accepted
where a number is expected (``cell_size_m = 100``) and kept as they are.
"""

from __future__ import annotations

import codecs
import dataclasses
import math
import os
import types
import typing
from dataclasses import MISSING, dataclass
from functools import cache
from pathlib import Path
from typing import Any, Union

from .errors import InputError


@dataclass(frozen=True)
class Spec:
    """What the walkers need to know about one field beyond its annotation.

    ``key``: the TOML key (default: the field name). ``table``: the key lives in this
    sub-table of the parent (``[districts] name_column``). ``flatten``: a nested
    dataclass whose keys sit in the parent's table (a site layer's path, crs…).
    ``toml=False``: not a file key. ``lo``/``hi`` (inclusive unless ``lo_open``/``hi_open``),
    ``choices``, ``unit`` and ``hint`` describe the allowed values; ``example`` shows one.
    ``always``: written out even when it has its default value.
    """

    key: str | None = None
    table: str | None = None
    flatten: bool = False
    toml: bool = True
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple = ()
    unit: str = ""
    hint: str = ""
    example: str = ""
    always: bool = False
    codec: bool = False
    noun: str = ""


def setting(default: Any = MISSING, *, default_factory: Any = MISSING, **spec: Any) -> Any:
    """A dataclass field with its :class:`Spec` (keyword arguments of Spec)."""
    return dataclasses.field(default=default, default_factory=default_factory, metadata={"spec": Spec(**spec)})


def spec_of(f: dataclasses.Field) -> Spec:
    return f.metadata.get("spec", Spec())


def toml_key(f: dataclasses.Field) -> str:
    return spec_of(f).key or f.name


# --- types ------------------------------------------------------------------------------


@cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved annotations of a dataclass (``from __future__ import annotations`` safe)."""
    import sys

    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))


def unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``; ``(tp, False)`` otherwise."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) < len(typing.get_args(tp)):
            return (args[0] if len(args) == 1 else Union[tuple(args)]), True  # noqa: UP007
    return tp, False


def _alternatives(tp: Any) -> tuple:
    if typing.get_origin(tp) in (Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _item_type(tp: Any) -> Any:
    """``X`` for ``tuple[X, ...]`` and ``dict[str, X]``; None for other types."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    if origin is dict:
        return args[1]
    return None


# --- checking values --------------------------------------------------------------------


def is_number(value: Any) -> bool:
    """A finite int or float that is not a boolean."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"


def _range_text(spec: Spec) -> str:
    unit = f" {spec.unit}" if spec.unit else ""
    lo = None if spec.lo is None else f"{'>' if spec.lo_open else '≥'} {_fmt(spec.lo)}"
    hi = None if spec.hi is None else f"{'<' if spec.hi_open else '≤'} {_fmt(spec.hi)}"
    if lo and hi:
        return f" {lo} and {hi}{unit}"
    return f" {lo or hi}{unit}" if (lo or hi) else (f" of {spec.unit}" if spec.unit else "")


def describe(tp: Any, spec: Spec) -> str:
    """What a value of this field must be, for an error message."""
    tp, _ = unwrap_optional(tp)
    if spec.choices:
        return "one of " + ", ".join(f'"{c}"' if isinstance(c, str) else str(c) for c in spec.choices)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "a whole number" + _range_text(spec)
    if tp is float:
        return (spec.noun or "a number") + _range_text(spec)
    if tp is Path:
        return "a file path in quotes"
    if tp is str:
        return "text in quotes" + (" naming a text encoding (utf-8, gbk, gb18030…)" if spec.codec else "")
    item = _item_type(tp)
    if typing.get_origin(tp) is tuple and item is str:
        return 'a list of texts, e.g. ["A", "B"]'
    if typing.get_origin(tp) is dict and item is float:
        values = f" with values{_range_text(spec)}" if spec.lo is not None else ""
        return 'a table of numbers, e.g. { "Futian" = 0.95 }' + values
    if set(_alternatives(tp)) == {str, int}:
        return 'text in quotes or a whole number' + _range_text(spec)
    return "a value of the right type"


def _value_ok(value: Any, tp: Any, spec: Spec) -> bool:
    """Type and range of one scalar (or list of texts / table of numbers) value."""
    if spec.choices:
        return any(value == c and type(value) is type(c) for c in spec.choices)
    kinds = _alternatives(tp)
    if bool in kinds and isinstance(value, bool):
        return True
    if isinstance(value, bool):
        return False
    if int in kinds and isinstance(value, int):
        return _in_range(value, spec)
    if float in kinds and is_number(value):
        return _in_range(value, spec)
    if str in kinds and isinstance(value, str):
        return bool(value) and (not spec.codec or _is_codec(value))
    if Path in kinds:
        return isinstance(value, (str, os.PathLike)) and str(value) != ""
    item = _item_type(tp)
    if typing.get_origin(tp) is tuple and item is str:
        return isinstance(value, (tuple, list)) and all(isinstance(v, str) and v for v in value)
    if typing.get_origin(tp) is dict and item is float:
        return isinstance(value, dict) and all(
            isinstance(k, str) and is_number(v) and _in_range(v, spec) for k, v in value.items())
    return False


def _in_range(value: float, spec: Spec) -> bool:
    if spec.lo is not None and (value < spec.lo or (spec.lo_open and value == spec.lo)):
        return False
    return not (spec.hi is not None and (value > spec.hi or (spec.hi_open and value == spec.hi)))


def _is_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def check_value(value: Any, tp: Any, spec: Spec, label: str) -> None:
    """Raise :class:`InputError` ``"<label> must be …; got …"`` unless ``value`` fits."""
    inner, optional = unwrap_optional(tp)
    if value is None and optional:
        return
    if not _value_ok(value, inner, spec):
        fix = f"; {spec.hint}" if spec.hint else (f", e.g. {spec.example}" if spec.example else "")
        raise InputError(f"{label} must be {describe(inner, spec)}; got {_show(value)}{fix}")


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        value = list(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def check_field(cls: type, name: str, value: Any, label: str) -> None:
    """Check ``value`` against the declaration of field ``name`` of dataclass ``cls``."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    check_value(value, field_types(cls)[name], spec_of(f), label)


def sub_table(loc: str, key: str) -> str:
    """The header of table ``key`` inside table ``loc``: ``[network]``, ``[categories.school.radio]``."""
    return f"[{key}]" if not loc else f"{loc[:-1]}.{key}]"


def label_of(where: str, loc: str, key: str) -> str:
    """``"scenario file x.toml: [network] mesh_range_m"``."""
    return f"{where}: {f'{loc} ' if loc else ''}{key}"


def check(obj: Any, where: str, loc: str = "") -> None:
    """Type- and range-check every declared field of dataclass ``obj`` (recursively)."""
    types_ = field_types(type(obj))
    for f in dataclasses.fields(obj):
        spec, tp, value = spec_of(f), types_[f.name], getattr(obj, f.name)
        inner, optional = unwrap_optional(tp)
        here = f"[{spec.table}]" if spec.table else loc
        if (value is None and optional) or inner is Any:
            continue
        if is_dataclass_type(inner):
            if not isinstance(value, inner):
                raise InputError(f"{label_of(where, loc, toml_key(f))} must be a {inner.__name__}; got {_show(value)}; "
                                 f"pass a {inner.__name__}(…)")
            check(value, where, loc if spec.flatten else sub_table(loc, toml_key(f)))
        elif is_dataclass_type(_item_type(inner)):
            _check_items(value, inner, f, where)
        elif spec.toml or spec.choices or spec.lo is not None:
            check_value(value, tp, spec, label_of(where, here, toml_key(f)))


def _check_items(value: Any, tp: Any, f: dataclasses.Field, where: str) -> None:
    item, key = _item_type(tp), toml_key(f)
    if typing.get_origin(tp) is dict:
        if not isinstance(value, dict):
            raise InputError(f"{where}: {key} must be tables [{key}.NAME]; got {_show(value)}; "
                             f"pass a dict of name: {item.__name__}(…)")
        for name, v in value.items():
            if not isinstance(v, item):
                raise InputError(f"{where}: [{key}.{name}] must be a {item.__name__}; got {_show(v)}; "
                                 f"pass a {item.__name__}(…)")
            check(v, where, f"[{key}.{name}]")
    else:
        if not isinstance(value, (tuple, list)):
            raise InputError(f"{where}: {key} must be a tuple of {item.__name__}; got {_show(value)}; "
                             f"pass ({item.__name__}(…), …)")
        for i, v in enumerate(value):
            if not isinstance(v, item):
                raise InputError(f"{where}: [[{key}]] #{i + 1} must be a {item.__name__}; got {_show(v)}; "
                                 f"pass a {item.__name__}(…)")
            check(v, where, f"[[{key}]] #{i + 1}")


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Reading context: ``where`` names the file in messages; paths are relative to ``base_dir``."""

    where: str
    base_dir: Path


def allowed_keys(cls: type, extra: tuple[str, ...] = ()) -> set[str]:
    """The TOML keys of a dataclass's table (flattened children included)."""
    keys = set(extra)
    types_ = field_types(cls)
    for f in dataclasses.fields(cls):
        spec = spec_of(f)
        if not spec.toml or spec.table:
            continue
        if spec.flatten:
            keys |= allowed_keys(unwrap_optional(types_[f.name])[0])
        else:
            keys.add(toml_key(f))
    return keys


def check_keys(table: dict, allowed: set[str], label: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise InputError(f"{label}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))} "
                         "(check the spelling and the [table] it is in)")


def require_table(value: Any, label: str, example: str) -> dict:
    if not isinstance(value, dict):
        raise InputError(f"{label} must be a table, e.g. {example}; got {_show(value)}")
    return value


def read_table(cls: type, table: dict, ctx: Context, loc: str, extra: tuple[str, ...] = (),
               **given: Any) -> Any:
    """Build ``cls`` from TOML ``table``; ``given`` fields are set by the caller (e.g. a name)."""
    check_keys(table, allowed_keys(cls, extra), f"{ctx.where}: {loc or 'top level'}")
    types_ = field_types(cls)
    values: dict[str, Any] = dict(given)
    for f in dataclasses.fields(cls):
        spec = spec_of(f)
        if f.name in values or not spec.toml:
            continue
        tp, _ = unwrap_optional(types_[f.name])
        if spec.flatten:
            values[f.name] = read_table(tp, {k: v for k, v in table.items() if k in allowed_keys(tp)}, ctx, loc)
            continue
        if spec.table:
            sub = table.get(spec.table)
            if isinstance(sub, dict) and toml_key(f) in sub:
                values[f.name] = sub[toml_key(f)]
            continue
        if toml_key(f) in table:
            values[f.name] = read_value(table[toml_key(f)], tp, f, ctx, loc)
        elif f.default is MISSING and f.default_factory is MISSING:
            example = f", e.g. {spec.example}" if spec.example else ""
            raise InputError(f"{ctx.where}: {loc or 'top level'}: missing {toml_key(f)}; add it{example}")
    return cls(**values)


def read_value(raw: Any, tp: Any, f: dataclasses.Field, ctx: Context, loc: str) -> Any:
    """One TOML value as the field's Python value (tables, lists and paths converted)."""
    key = toml_key(f)
    label = label_of(ctx.where, loc, key)
    sub_loc = sub_table(loc, key)
    if is_dataclass_type(tp):
        reader = getattr(tp, "from_toml", None)
        if reader is not None:
            return reader(raw, ctx, sub_loc)
        return read_table(tp, require_table(raw, label, f"[{key}] …"), ctx, sub_loc)
    item = _item_type(tp)
    if typing.get_origin(tp) is tuple:
        if not isinstance(raw, list):
            example = spec_of(f).example or f'{key} = ["A", "B"]'
            raise InputError(f"{label} must be a list, e.g. {example}; got {_show(raw)}")
        if is_dataclass_type(item):
            return tuple(_read_item(item, v, ctx, f"[[{key}]] #{i + 1}") for i, v in enumerate(raw))
        return tuple(raw)
    if typing.get_origin(tp) is dict and is_dataclass_type(item):
        table = require_table(raw, label, f"[{key}.NAME]")
        return {name: _read_item(item, v, ctx, f"[{key}.{name}]", name=name) for name, v in table.items()}
    if tp is Path:
        if not isinstance(raw, str) or not raw:
            check_value(raw, tp, spec_of(f), label)
        return (ctx.base_dir / raw).resolve()
    return raw


def _read_item(cls: type, raw: Any, ctx: Context, loc: str, **given: Any) -> Any:
    reader = getattr(cls, "from_toml", None)
    if reader is not None:
        return reader(raw, ctx, loc, **given)
    return read_table(cls, require_table(raw, f"{ctx.where}: {loc}", f"{loc} …"), ctx, loc, **given)


# --- writing ----------------------------------------------------------------------------


def write_table(obj: Any, rel: Any) -> dict:
    """The TOML structure of dataclass ``obj``: values that differ from the defaults (and
    ``always`` ones), paths through ``rel``; sub-table fields go into their table."""
    out: dict[str, Any] = {}
    later: list[tuple[str, str, Any]] = []
    for f in dataclasses.fields(obj):
        spec, value = spec_of(f), getattr(obj, f.name)
        if not spec.toml or value is None:
            continue
        if spec.flatten:
            out.update(write_table(value, rel))
            continue
        if not spec.always and _is_default(f, value):
            continue
        if spec.table:
            later.append((spec.table, toml_key(f), value))
            continue
        written = write_value(value, rel)
        if written != {}:
            out[toml_key(f)] = written
    for table, key, value in later:
        if isinstance(out.get(table), dict):
            out[table][key] = value
    return out


def _is_default(f: dataclasses.Field, value: Any) -> bool:
    if f.default is not MISSING:
        return value == f.default and type(value) is type(f.default)
    if f.default_factory is not MISSING:
        return value == f.default_factory()
    return False


def write_value(value: Any, rel: Any) -> Any:
    if dataclasses.is_dataclass(value):
        writer = getattr(value, "to_toml", None)
        return writer(rel) if writer is not None else write_table(value, rel)
    if isinstance(value, Path):
        return rel(value)
    if isinstance(value, tuple):
        return [write_value(v, rel) for v in value]
    if isinstance(value, dict):
        return {k: write_value(v, rel) for k, v in value.items()}
    return value
