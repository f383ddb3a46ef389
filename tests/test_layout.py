"""The layout rules of DESIGN §9, checked on the source: data flows one way.

- checks import only the small core (findings, urls, config), never the application layer;
- the loopback demo server and demo sites are imported by nothing in the engine;
- no import cycles between first-party modules, counting imports inside functions (a lazy
  import that closes a loop is a back edge all the same);
- the committed ruff configuration passes.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ("govcheck.findings", "govcheck.urls", "govcheck.config")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def first_party(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in ("govcheck", "crawler", "checks", "scoring")}


def test_checks_import_only_the_core():
    for path in sorted((ROOT / "checks").glob("*.py")):
        for name in first_party(imports_of(path)):
            assert name.startswith("checks") or name in CORE, f"{path.name} imports {name}"


def test_engine_never_imports_the_demo():
    engine = [p for pkg in ("govcheck", "crawler", "checks", "scoring") for p in (ROOT / pkg).rglob("*.py")
              if "demo" not in p.relative_to(ROOT).parts]
    for path in engine:
        demo = {n for n in imports_of(path) if n.startswith("govcheck.demo")}
        # The CLI's `demo` command is the one entry point into it.
        if path.name == "cli.py":
            assert demo <= {"govcheck.demo"}, demo
            continue
        assert not demo, f"{path.relative_to(ROOT)} imports {demo}"


def test_demo_does_not_import_the_cli():
    for path in (ROOT / "govcheck" / "demo").rglob("*.py"):
        assert "govcheck.cli" not in imports_of(path), path


def module_names() -> dict[str, Path]:
    out = {}
    for pkg in ("govcheck", "crawler", "checks", "scoring"):
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module → the first-party modules it imports anywhere in its source (`from a import b`
    counts a.b when that is a module)."""
    modules = module_names()
    graph = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def test_no_import_cycles():
    graph = import_graph()
    done: set[str] = set()

    def walk(node: str, path: list[str]) -> None:
        if node in path:
            raise AssertionError("import cycle: " + " → ".join(path[path.index(node):] + [node]))
        if node in done:
            return
        for nxt in sorted(graph[node]):
            walk(nxt, path + [node])
        done.add(node)

    for name in sorted(graph):
        walk(name, [])


def test_the_cycle_test_sees_a_cycle(monkeypatch, tmp_path):
    # The walk above must notice a loop closed by an import inside a function.
    pkg = tmp_path / "govcheck"
    pkg.mkdir()
    (pkg / "a.py").write_text("import govcheck.b\n", encoding="utf-8")
    (pkg / "b.py").write_text("def f():\n    from govcheck import a\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="govcheck.a → govcheck.b → govcheck.a"):
        test_no_import_cycles()


def test_ruff_passes_with_the_committed_configuration():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the test extra (pip install -e '.[test]')"
    done = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_one_cli_framework():
    sources = [ROOT / "scheduler.py", *(p for pkg in ("govcheck", "crawler", "checks", "scoring") for p in (ROOT / pkg).rglob("*.py"))]
    for path in sources:
        assert "argparse" not in imports_of(path), f"{path.relative_to(ROOT)}: the command lines use click"
