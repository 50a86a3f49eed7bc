"""House rules on size and privacy (issue 20): a module a newcomer can read, procedures short
enough to hold in one's head, and private names kept private.

The checks are functions of a package name so that they can be applied to other packages as
they are brought under the rules; they guard every package of the project (``analytics/``,
``collectors/``, ``dashboard/``, ``db/`` and ``feederwatch/``):

- no module over :data:`MAX_MODULE_LINES` lines;
- no function (method, nested function) over :data:`MAX_FUNCTION_LINES` lines, counted from its
  ``def`` to its last line, except the declarative tables listed with a reason in
  :data:`LONG_FUNCTIONS_ALLOWED`;
- no private name (``_name``, or a ``_module``) imported from, or reached as an attribute of,
  another module of the project.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

MAX_MODULE_LINES = 520
MAX_FUNCTION_LINES = 80
PROJECT_PACKAGES = ("analytics", "db", "collectors", "dashboard", "feederwatch")
#: packages the rules apply to (all of PROJECT_PACKAGES)
CHECKED_PACKAGES = ("analytics", "collectors", "dashboard", "db", "feederwatch")
#: "module:qualified.function" -> why it may be long (a declarative table, not a procedure)
LONG_FUNCTIONS_ALLOWED: dict[str, str] = {}


@dataclass(frozen=True)
class Finding:
    where: str
    lines: int

    def __str__(self) -> str:
        return f"{self.where} ({self.lines} lines)"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def package_modules(package: str, root: Path = ROOT) -> dict[str, Path]:
    """Module name -> source path of every module of ``package`` (migrations excepted)."""
    return {
        _module_name(path, root): path
        for path in sorted((root / package).rglob("*.py"))
        if "migrations" not in path.parts and ".venv" not in path.parts
    }


def long_modules(package: str, limit: int = MAX_MODULE_LINES, root: Path = ROOT) -> list[Finding]:
    """Modules of ``package`` longer than ``limit`` lines."""
    out = []
    for name, path in package_modules(package, root).items():
        n = len(path.read_text("utf-8").splitlines())
        if n > limit:
            out.append(Finding(name, n))
    return out


def function_lengths(package: str, root: Path = ROOT) -> dict[str, int]:
    """``module:qualified.name`` -> lines (def to last line) of every function of ``package``."""
    out: dict[str, int] = {}
    for name, path in package_modules(package, root).items():

        def walk(node: ast.AST, prefix: str, module: str = name) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    qual = f"{prefix}{child.name}"
                    out[f"{module}:{qual}"] = child.end_lineno - child.lineno + 1
                    walk(child, f"{qual}.")
                elif isinstance(child, ast.ClassDef):
                    walk(child, f"{prefix}{child.name}.")
                else:
                    walk(child, prefix)

        walk(ast.parse(path.read_text("utf-8")), "")
    return out


def long_functions(
    package: str,
    limit: int = MAX_FUNCTION_LINES,
    allowed: dict[str, str] | None = None,
    root: Path = ROOT,
) -> list[Finding]:
    """Functions of ``package`` longer than ``limit`` lines, those in ``allowed`` excepted."""
    allowed = LONG_FUNCTIONS_ALLOWED if allowed is None else allowed
    return [
        Finding(where, n)
        for where, n in function_lengths(package, root).items()
        if n > limit and where not in allowed
    ]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(package: str, root: Path = ROOT) -> list[str]:
    """Private names of another project module that a module of ``package`` uses: imported
    (``from m import _x``, ``import m._x``, ``from m._x import y``) or reached as an attribute of
    an imported module (``m._x``). A module may use its own private names, and a package's
    ``__init__`` its submodules' ones (that is its privacy boundary)."""
    found = []
    for name, path in package_modules(package, root).items():
        tree = ast.parse(path.read_text("utf-8"))
        is_package = path.name == "__init__.py"
        module_aliases: dict[str, str] = {}

        def absolute(node: ast.ImportFrom, name: str = name, is_package: bool = is_package) -> str:
            if not node.level:
                return node.module or ""
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            return ".".join(base + ([node.module] if node.module else []))

        def flag(target: str, what: str, name: str = name, is_package: bool = is_package) -> None:
            if is_package and target.startswith(name + "."):
                return
            found.append(f"{name} uses {what}")

        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = absolute(node)
                if module.split(".")[0] not in PROJECT_PACKAGES or module == name:
                    continue
                if any(_is_private(part) for part in module.split(".")):
                    flag(module, f"private module {module}")
                for alias in node.names:
                    if _is_private(alias.name):
                        flag(module, f"{module}.{alias.name}")
                    else:
                        module_aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] not in PROJECT_PACKAGES:
                        continue
                    if any(_is_private(part) for part in alias.name.split(".")):
                        flag(alias.name, f"private module {alias.name}")
                    module_aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases
                and _is_private(node.attr)
            ):
                flag(module_aliases[node.value.id], f"{module_aliases[node.value.id]}.{node.attr}")
    return sorted(set(found))


def test_size001_no_module_over_the_limit():
    found = [str(f) for package in CHECKED_PACKAGES for f in long_modules(package)]
    assert found == [], f"modules over {MAX_MODULE_LINES} lines: split them by concept"


def test_size002_no_function_over_the_limit():
    found = [str(f) for package in CHECKED_PACKAGES for f in long_functions(package)]
    assert found == [], f"functions over {MAX_FUNCTION_LINES} lines: break them into named steps"


def test_size003_the_allow_list_names_long_functions_that_exist():
    # a stale entry would let a new long function of that name in unseen
    lengths = {}
    for package in CHECKED_PACKAGES:
        lengths.update(function_lengths(package))
    stale = [w for w in LONG_FUNCTIONS_ALLOWED if lengths.get(w, 0) <= MAX_FUNCTION_LINES]
    assert stale == []
    assert all(reason.strip() for reason in LONG_FUNCTIONS_ALLOWED.values())


def test_size004_no_private_name_used_across_modules():
    found = [f for package in CHECKED_PACKAGES for f in private_imports(package)]
    assert found == []


def test_size005_the_checks_find_what_they_must(tmp_path):
    # guards the checker itself, on a made-up package that breaks every rule once
    pkg = tmp_path / "analytics"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_hidden.py").write_text("X = 1\n")
    (pkg / "base.py").write_text("def _helper():\n    return 1\n\n\nclass _Model:\n    pass\n")
    body = "\n".join(f"        x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (pkg / "long.py").write_text(f"class K:\n    def method(self):\n{body}\n        return 0\n")
    (pkg / "big.py").write_text("\n" * (MAX_MODULE_LINES + 1))
    (pkg / "sub" / "user.py").write_text(
        "from analytics.base import _Model, _helper\n"
        "from analytics import base as B\n"
        "from analytics._hidden import X\n"
        "from .. import base\n"
        "Y = B._helper() + base._helper() + X\n"
    )
    assert [str(f) for f in long_modules("analytics", root=tmp_path)] == [
        f"analytics.big ({MAX_MODULE_LINES + 1} lines)"
    ]
    assert [f.where for f in long_functions("analytics", allowed={}, root=tmp_path)] == [
        "analytics.long:K.method"
    ]
    assert (
        long_functions("analytics", allowed={"analytics.long:K.method": "a table"}, root=tmp_path)
        == []
    )
    assert private_imports("analytics", root=tmp_path) == [
        "analytics.sub.user uses analytics.base._Model",
        "analytics.sub.user uses analytics.base._helper",
        "analytics.sub.user uses private module analytics._hidden",
    ]
