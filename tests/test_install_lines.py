"""The install lines of the README and the quickstart name every extra, the same way."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALL = re.compile(r'pip install "django-patchbay\[([a-z0-9,-]+)\]"')


def extras_of(path: Path) -> list[set[str]]:
    return [set(found.split(",")) for found in INSTALL.findall(path.read_text())]


def test_full_install_lines_name_every_extra():
    # pyproject.toml spells them ``optional-dependencies.<extra> = [...]`` (tomllib is 3.11+).
    declared = re.findall(
        r"^optional-dependencies\.([a-z0-9-]+) =", (ROOT / "pyproject.toml").read_text(), re.M
    )
    # "tasks" (the Tasks backport) and its engines are chosen, one engine, with the worker
    # setup (docs/background.rst), not by a full install.
    every_extra = set(declared) - {"all", "tasks", "tasks-db", "tasks-rq"}
    assert {"stripe", "twilio", "loops", "aws", "redis"} <= every_extra
    for path in (ROOT / "README.md", ROOT / "docs" / "quickstart.rst"):
        [full] = [extras for extras in extras_of(path) if len(extras) > 1]
        assert full == every_extra, path.name
