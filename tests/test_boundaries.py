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
     "musicgen.cli"],
)
def test_light_modules_load_without_torch_or_music21(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "heavy = [m for m in ('torch', 'music21', 'PySide6') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulled in {out.stdout.strip()}"
