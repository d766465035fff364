"""The emulator's imports run one way (app -> blueprints -> common, state, directory, tokens), with no circle."""
from pathlib import Path

import emulator
from tests.import_graph import find_cycle, import_graph


def test_emulator_has_no_import_cycle():
    """No chain of imports, module-level or inside a function, leads from an emulator module back to itself."""
    graph = import_graph(Path(emulator.__file__).parent, "emulator")
    assert "emulator.graph_common" in graph["emulator.delta"] and "emulator.delta" in graph["emulator.app"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_finds_function_level_and_relative_cycles(tmp_path):
    """The check itself can fail: a circle closed by a relative import inside a function is reported."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("def late():\n    from .. import a\n    return a\n")
    (package / "c.py").write_text("import pkg.a\nfrom . import sub\n")
    graph = import_graph(package, "pkg")
    assert graph["pkg.c"] == {"pkg.a", "pkg.sub"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.a"]
    (package / "sub" / "b.py").write_text("")
    assert find_cycle(import_graph(package, "pkg")) is None
