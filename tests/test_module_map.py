"""docs/architecture.rst's map of modules lists every module of src/patchbay, and only those."""

from __future__ import annotations

import re
from pathlib import Path

import patchbay

PACKAGE_DIR = Path(patchbay.__file__).parent
ARCHITECTURE = Path(__file__).resolve().parent.parent / "docs" / "architecture.rst"
# A term of the map's definition list: the dotted name alone on its line, unindented.
ENTRY = re.compile(r"^``(?P<name>patchbay(?:\.\w+)*)``$", re.M)


def modules_in(package_dir: Path) -> set[str]:
    """Every module and package below ``package_dir``; the numbered migrations are one entry."""
    names = set()
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        elif parts[-2] == "migrations":
            continue  # stand under ``patchbay.migrations``
        names.add(".".join(parts))
    return names


def mapped_modules(text: str) -> list[str]:
    """The names in the "Map of modules" section of ``text``, in order."""
    section = re.search(
        r"^Map of modules\n-+\n(?P<body>.*?)(?=^[^\n]+\n-{3,}\n|\Z)", text, re.M | re.S
    )
    assert section, "docs/architecture.rst has no 'Map of modules' section"
    return ENTRY.findall(section["body"])


def test_every_module_is_in_the_map_and_the_map_names_only_modules():
    tree = modules_in(PACKAGE_DIR)
    mapped = mapped_modules(ARCHITECTURE.read_text())

    assert sorted(tree - set(mapped)) == [], "modules missing from the map"
    assert sorted(set(mapped) - tree) == [], "the map names modules that do not exist"
    assert len(mapped) == len(set(mapped)), "a module is listed twice"


def test_the_map_reader_sees_what_is_missing_and_what_is_extra(tmp_path):
    package = tmp_path / "patchbay"
    (package / "core").mkdir(parents=True)
    (package / "migrations").mkdir()
    for name in ("__init__.py", "core/__init__.py", "core/client.py", "migrations/__init__.py"):
        (package / name).write_text("")
    (package / "migrations" / "0001_initial.py").write_text("")
    text = (
        "Intro\n-----\n\n``patchbay.elsewhere``\n    Not in the map's section.\n\n"
        "Map of modules\n--------------\n\nCore\n~~~~\n\n"
        "``patchbay``\n    The package.\n``patchbay.core.old``\n    Gone.\n"
        "Not a term: ``patchbay.core.client`` inside a sentence.\n\n"
        "Next\n----\n\n``patchbay.core``\n    After the section.\n"
    )

    assert modules_in(package) == {
        "patchbay",
        "patchbay.core",
        "patchbay.core.client",
        "patchbay.migrations",
    }
    assert mapped_modules(text) == ["patchbay", "patchbay.core.old"]
