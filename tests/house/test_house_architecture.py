"""The architecture rules of docs/architecture.md, checked on the source: which package may
import which, dashboard/ reaching the data only through its data package (dashboard/data/), and
no import cycle between modules (imports inside functions count: they hide cycles, they do not
remove them)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("analytics", "db", "collectors", "dashboard", "feederwatch")
#: package -> the project packages it may import (besides itself)
ALLOWED = {
    "analytics": set(),
    "db": set(),
    "collectors": {"db", "analytics"},
    "dashboard": {"analytics", "db", "collectors"},
    "feederwatch": {"analytics", "db", "collectors", "dashboard"},
}
#: the only dashboard modules that may import db/ or collectors/: the data package and its
#: modules
DASHBOARD_DATA_DOOR = "dashboard.data"


def _is_data_door(module: str) -> bool:
    return module == DASHBOARD_DATA_DOOR or module.startswith(DASHBOARD_DATA_DOOR + ".")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic loads revisions by path, they import db models only
            found[_module_name(path)] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules ``name`` imports anywhere in its body (TYPE_CHECKING blocks excepted)."""
    tree = ast.parse(path.read_text("utf-8"))
    is_package = path.name == "__init__.py"
    out: set[str] = set()

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
                isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
            ):
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES and (hit := resolve(alias.name)):
                    out.add(hit)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] not in PACKAGES:
                return
            for alias in node.names:
                hit = resolve(f"{module}.{alias.name}") or resolve(module)
                if hit:
                    out.add(hit)

    Visitor().visit(tree)
    out.discard(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def test_arch001_packages_import_only_what_the_layers_allow():
    wrong = []
    for module, targets in _graph().items():
        package = module.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if other != package and other not in ALLOWED[package]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_arch002_dashboard_reaches_the_data_only_through_its_data_module():
    wrong = [
        f"{module} -> {target}"
        for module, targets in _graph().items()
        if module.startswith("dashboard") and not _is_data_door(module)
        for target in targets
        if target.split(".")[0] in ("db", "collectors")
    ]
    assert wrong == []


def test_arch003_no_import_cycle_between_modules():
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    assert cycles == []


def test_arch004_the_checker_sees_imports_inside_functions():
    # guards the checker itself: a function-level import is an edge like any other
    graph = _graph()
    assert "collectors.ingest" in graph["dashboard.data.writes"]


def test_arch005_the_rollup_columns_agree_across_the_layers():
    """db/ and analytics/ may not import each other, so each names the rollup columns: the
    database's long rollup frame is the analytics' rollup columns plus the limits each row was
    judged under (docs/formats.md), in that order."""
    from analytics.voltage_rollups import ROLLUP_COLUMNS
    from db.queries.records import _LONG_ROLLUP_COLUMNS

    assert _LONG_ROLLUP_COLUMNS == [*ROLLUP_COLUMNS, "v_low", "v_high"]
