"""The shape docs/ARCHITECTURE.md promises, checked on the source: thin views, a Flask-free domain, short modules."""
import ast
from pathlib import Path

import pytest

from tests.import_graph import import_graph

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
VIEW_MODULES = sorted([*(PORTAL / "admin").glob("*.py"), *(PORTAL / "requester").glob("*.py"), PORTAL / "auth" / "views.py"])
DOMAIN_PACKAGES = ("portal.entra", "portal.directory")
ALLOWED_FLASK = {"flask_sqlalchemy"}  # db is the one extension the domain may touch
MAX_LINES = 300


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_nodes(tree: ast.Module, everywhere: bool):
    """Import statements anywhere, or only those that run when the module is imported (not inside functions)."""
    if everywhere:
        yield from (n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))
        return
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))


def _external_imports(path: Path, everywhere: bool = True) -> set[str]:
    """Top-level names of the packages a module imports."""
    names = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8")), everywhere):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _portal_imports(module: str, everywhere: bool, graph: dict) -> set[tuple[str, bool]]:
    """(module, used) for each portal module this one imports: `from pkg import submodule` only loads pkg, while
    a module whose names are imported is used (its function-level imports run when those functions do)."""
    found = set()
    for node in _import_nodes(ast.parse(_path(module).read_text(encoding="utf-8")), everywhere):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("portal"):
            submodules = {f"{node.module}.{a.name}" for a in node.names} & graph.keys()
            found |= {(m, True) for m in submodules}
            found.add((node.module, len(submodules) < len(node.names)))
        elif isinstance(node, ast.Import):
            found |= {(a.name, True) for a in node.names if a.name.startswith("portal")}
    return {(name, used) for name, used in found if name in graph}


def _path(module: str) -> Path:
    path = ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _loaded_with(module: str, graph: dict) -> set[str]:
    """Every portal module that using `module` executes: its imports, transitively, and their parent packages'
    module-level code (a parent's function-level imports, such as the app factory's, do not run)."""
    seen, todo = set(), [(module, True)]
    while todo:
        name, used = todo.pop()
        if (name, used) in seen or name not in graph:
            continue
        seen.add((name, used))
        parts = name.split(".")
        todo.extend((".".join(parts[:i]), False) for i in range(1, len(parts)))
        todo.extend(_portal_imports(name, used, graph))
    return seen


def sql_in_views(path: Path) -> list[str]:
    """Lines of a view module that touch the database or commit, which belongs in a service."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "db":
            found.append(f"{path.name}:{node.lineno} db.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr == "commit":
            found.append(f"{path.name}:{node.lineno} .commit")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{path.name}:{node.lineno} imports {m}" for m in modules if m.split(".")[0] == "sqlalchemy"]
    return found


def test_no_view_runs_sql_or_commits():
    """Views read the request, call one service and render: queries and the unit of work live in services."""
    offenders = [line for path in VIEW_MODULES for line in sql_in_views(path)]
    assert offenders == []


def test_sql_check_catches_a_query_in_a_view(tmp_path):
    """The check above is not vacuous: a view that queries and commits is reported on each line."""
    view = tmp_path / "bad.py"
    view.write_text("import sqlalchemy as sa\nfrom portal.database import db\n\ndef page():\n"
                    "    db.session.scalars(sa.select(1))\n    db.session.commit()\n")
    assert sorted(sql_in_views(view)) == ["bad.py:1 imports sqlalchemy", "bad.py:5 db.session", "bad.py:6 .commit",
                                          "bad.py:6 db.session"]


def test_domain_loads_no_flask():
    """entra/ and directory/, and every portal module they pull in, import no Flask (flask_sqlalchemy aside)."""
    graph = import_graph(PORTAL, "portal")
    domain = [m for m in graph if m.startswith(DOMAIN_PACKAGES)]
    assert domain, "the domain packages were not found"
    loaded = set().union(*(_loaded_with(m, graph) for m in domain))
    offenders = {}
    for module, used in sorted(loaded):
        flask = {n for n in _external_imports(_path(module), used) if n.startswith("flask") and n not in ALLOWED_FLASK}
        if flask:
            offenders[module] = sorted(flask)
    assert offenders == {}


@pytest.mark.parametrize("path", sorted(PORTAL.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_portal_module_is_long(path):
    """A module over 300 lines holds more than one idea: split it."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_no_two_functions_or_classes_share_a_name():
    """A name says what a thing is, once: three functions called `plan` were three names too few."""
    places: dict[str, list[str]] = {}
    for path in sorted(PORTAL.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                places.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    assert {name: where for name, where in places.items() if len(where) > 1} == {}
