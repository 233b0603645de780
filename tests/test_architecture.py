"""House rules of the package's shape (issue #12), checked on the source itself.

- no import cycle between the package's modules (imports inside functions count: a lazy
  import still ties two modules together; imports under ``if TYPE_CHECKING:`` do not);
- no module imports another module's private (``_underscore``) names;
- the solver core imports no geopandas;
- every module sits in one layer of docs/architecture.md's table and imports only from its
  own layer or the ones above it (the table is the source of truth, so the doc stays true).
"""

from __future__ import annotations

import ast
from pathlib import Path

import re

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "coverage"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, name: str):
    """(imported module, imported names) for every import in the file, outside TYPE_CHECKING."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node)
            for child in node.body for n in ast.walk(child)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def _graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for module, names in _imports(path, name):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules] or [module]
            for target in targets:
                if target in modules and target != name and not name.startswith(target + "."):
                    graph.add_edge(name, target)
    return graph


def test_no_import_cycles():
    graph = _graph()
    # A package's __init__ re-exporting its submodules is not a cycle of design.
    for node in list(graph):
        for target in list(graph.successors(node)):
            if target.startswith(node + ".") and _modules()[node].name == "__init__.py":
                graph.remove_edge(node, target)
    cycles = sorted(sorted(c) for c in nx.simple_cycles(graph))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_no_private_cross_module_imports():
    modules = _modules()
    found = []
    for name, path in modules.items():
        for module, names in _imports(path, name):
            if module.startswith("coverage") and module != name:
                found += [f"{name} imports {module}.{n}" for n in names if n.startswith("_")]
    assert not found, found


@pytest.mark.parametrize("name", [n for n in _modules() if n.startswith("coverage.solver")] or ["coverage.solver"])
def test_solver_core_is_pure(name):
    modules = _modules()
    if name not in modules:
        pytest.skip("no coverage/solver package")
    imported = {m for m, _ in _imports(modules[name], name)}
    assert not {m for m in imported if m.split(".")[0] in ("geopandas", "shapely", "pyproj", "folium")}


ARCHITECTURE = PACKAGE.parent / "docs" / "architecture.md"


def _layers() -> dict[str, int]:
    """Module (or subpackage) name -> layer number, from the table in docs/architecture.md."""
    layers = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*(\d+) · [^|]*\|([^|]*)\|", line)
        if row:
            names = re.sub(r"\([^)]*\)", "", row.group(2))  # a subpackage's modules, in brackets
            for name in re.findall(r"`([a-z_]+)/?`", names):
                layers[f"coverage.{name.split('/')[0]}"] = int(row.group(1))
    layers["coverage"] = max(layers.values())
    return layers


def _layer_of(module: str, layers: dict[str, int]) -> int | None:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in layers:
            return layers[".".join(parts[:i])]
    return None


def test_every_module_is_in_the_architecture_table():
    layers = _layers()
    missing = sorted(m for m in _modules() if _layer_of(m, layers) is None)
    assert not missing, f"add these to docs/architecture.md: {missing}"


def test_imports_point_up_the_layers():
    layers, graph = _layers(), _graph()
    upward = [f"{a} (layer {_layer_of(a, layers)}) imports {b} (layer {_layer_of(b, layers)})"
              for a, b in graph.edges
              if _layer_of(b, layers) is not None and _layer_of(a, layers) is not None
              and _layer_of(b, layers) > _layer_of(a, layers)]
    assert not upward, upward
