"""docs/security.rst's table of security defaults states the defaults patchbay declares."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from patchbay.conf import SETTINGS
from tests.test_settings_docs import _accepted

PAGE = Path(__file__).resolve().parent.parent / "docs" / "security.rst"
# A row of the list-table: its settings (one or more), then its stated default.
ROW = re.compile(
    r"^   \* - (?P<settings>(?::setting:`\w+`,?\s*)+)\n     - ``(?P<default>[^`]*)``$", re.M
)


def rows() -> list[tuple[str, str]]:
    found = []
    for row in ROW.finditer(PAGE.read_text()):
        for name in re.findall(r":setting:`(\w+)`", row.group("settings")):
            found.append((name, row.group("default")))
    return found


def test_the_table_is_read():
    names = [name for name, _ in rows()]
    assert {"PATCHBAY_CLIENT_IP_HEADER", "TWILIO_AUTH_TOKEN", "AWS_MAX_UPLOAD_SIZE"} <= set(names)
    assert len(names) == len(set(names)), "a setting is listed twice"


@pytest.mark.parametrize(("name", "stated"), rows())
def test_each_stated_default_is_the_registry_default(name, stated):
    assert name in SETTINGS, f"{name} is not a setting patchbay reads"
    assert stated in _accepted(SETTINGS[name].default), (name, stated)
