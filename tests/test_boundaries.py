"""Module boundaries from DESIGN.md, checked on the real import graph."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def core_files() -> list[Path]:
    return sorted((ROOT / "musicgen").rglob("*.py"))


def test_core_never_imports_qt_or_gui() -> None:
    offenders = [p for p in core_files() if imports_of(p) & {"PySide6", "gui", "PyQt5", "PyQt6"}]
    assert not offenders, offenders


def test_only_io_imports_music21() -> None:
    offenders = [
        p.relative_to(ROOT) for p in core_files()
        if "music21" in imports_of(p) and p.parent.name != "io"
    ]
    assert not offenders, offenders


def test_only_io_and_playback_import_mido() -> None:
    offenders = [
        p.relative_to(ROOT) for p in core_files()
        if "mido" in imports_of(p) and p.parent.name not in ("io", "playback")
    ]
    assert not offenders, offenders


@pytest.mark.parametrize(
    "module",
    ["musicgen.melody", "musicgen.tokens", "musicgen.io", "musicgen.corpus", "musicgen.playback",
     "musicgen.cli", "musicgen.generation", "musicgen.library", "musicgen.progress",
     "musicgen.userdirs", "musicgen.train.config", "musicgen.evaluate.stats"],
)
def test_light_modules_load_without_torch_or_music21(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "heavy = [m for m in ('torch', 'music21', 'PySide6') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulled in {out.stdout.strip()}"


# --- no import circles ---------------------------------------------------------------------------
def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    files = sorted((ROOT / "musicgen").rglob("*.py")) + sorted((ROOT / "gui").rglob("*.py"))
    return {module_name(p): p for p in files}


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules `path` imports anywhere (top level, in functions, under TYPE_CHECKING):
    ``from a.b import c`` counts as importing ``a.b.c`` when that is a module, else ``a.b``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in known else base)
    return {m for m in found if m in known and m != name}


def import_circles() -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    modules = project_modules()
    graph = {name: imported_modules(path, name, set(modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for name in graph:
        if name not in index:
            visit(name)
    return circles


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert import_circles() == []


def test_the_circle_check_finds_a_circle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: two modules that import each other are one circle."""
    for name, other in (("a", "b"), ("b", "a")):
        (tmp_path / f"{name}.py").write_text(f"def f():\n    from musicgen import {other}\n")
    modules = {"musicgen.a": tmp_path / "a.py", "musicgen.b": tmp_path / "b.py"}
    monkeypatch.setattr(sys.modules[__name__], "project_modules", lambda: modules)
    assert import_circles() == [["musicgen.a", "musicgen.b"]]
