"""The layout rules of DESIGN §9, checked on the source: data flows one way.

- checks import only the small core (findings, urls, config), never the application layer;
- the loopback demo server and demo sites are imported by nothing in the engine;
- the committed ruff configuration passes.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

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


def test_ruff_passes_with_the_committed_configuration():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the test extra (pip install -e '.[test]')"
    done = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_one_cli_framework():
    sources = [ROOT / "scheduler.py", *(p for pkg in ("govcheck", "crawler", "checks", "scoring") for p in (ROOT / pkg).rglob("*.py"))]
    for path in sources:
        assert "argparse" not in imports_of(path), f"{path.relative_to(ROOT)}: the command lines use click"
