"""The layout the README's "How it is built" section shows is the one on disk, and its rooms stay small."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib"
MAX_LINES = 500
MAX_CORE_MODULES = 16


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("## How it is built", 1)[1].split("\n## ", 1)[0]


def _named_paths(section: str) -> set[str]:
    """Paths the section names: in the diagram's first and last columns, and in backticks."""
    diagram = section.split("```", 2)[1]
    found = set()
    for line in diagram.splitlines():
        words = line.split()
        if words and words[0].startswith("lib/"):
            found.add(words[0].rstrip(","))
        if words and words[-1].endswith(".py"):
            found.add(words[-1])
    found |= {m for m in re.findall(r"`([\w./]+)`", section) if "/" in m or m.endswith(".py")}
    return found


def _exists(named: str) -> bool:
    if "*" in named:
        return True
    return any((base / named).exists() for base in (ROOT, LIB))


def test_every_module_and_folder_the_readme_names_is_there():
    named = _named_paths(_section())
    assert len(named) > 20, named
    missing = sorted(n for n in named if not _exists(n))
    assert not missing, f"How it is built names what is not on disk: {missing}"


def test_every_subpackage_of_lib_is_in_the_diagram():
    diagram = _section().split("```", 2)[1]
    shown = {line.split()[0].rstrip("/") for line in diagram.splitlines() if line.startswith("lib/")}
    packages = {f"lib/{p.name}" for p in LIB.iterdir() if (p / "__init__.py").is_file()}
    assert not packages - shown, f"subpackages missing from the diagram: {sorted(packages - shown)}"


def test_no_module_in_lib_is_over_the_line_limit():
    long = {
        str(p.relative_to(ROOT)): n for p in LIB.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_lib_itself_holds_few_modules_beside_its_subpackages():
    modules = sorted(p.name for p in LIB.glob("*.py") if p.name != "__init__.py")
    assert len(modules) <= MAX_CORE_MODULES, modules
