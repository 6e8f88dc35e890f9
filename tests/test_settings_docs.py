"""The documentation and the settings registry (patchbay.conf) agree.

Every declared setting has one ``.. setting::`` entry, on the configuration
page or its service's page; nothing is documented that patchbay does not read;
and the default each entry states is the registry's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from patchbay.conf import SETTINGS

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = ["configuration.rst", "operations.rst", "stripe.rst", "twilio.rst", "loops.rst", "aws.rst"]
ENTRY = re.compile(r"^\.\. setting:: (\S+)\s*$", re.MULTILINE)
# The end of an entry: the next entry, or a section title's underline.
END = re.compile(r"^\.\. setting:: |^[-~=^]{4,}\s*$", re.MULTILINE)
OWN_TITLE = re.compile(r"\A\s*``\S+``\n[-~=^]{4,}\n")
DEFAULT = re.compile(r"\bDefault\b:?\s*(``(?P<literal>.*?)``)?", re.DOTALL)


def documented() -> dict[str, list[tuple[str, str]]]:
    """``name -> [(page, entry text)]`` for every ``.. setting::`` of the pages."""
    found: dict[str, list[tuple[str, str]]] = {}
    for page in PAGES:
        text = (DOCS / page).read_text()
        for match in ENTRY.finditer(text):
            # An entry of the configuration page starts with its own title: skip it.
            rest = OWN_TITLE.sub("", text[match.end() :], count=1)
            end = END.search(rest)
            found.setdefault(match.group(1), []).append(
                (page, rest[: end.start() if end else None])
            )
    return found


def test_every_declared_setting_is_documented_once():
    entries = documented()
    assert [name for name in SETTINGS if name not in entries] == []
    assert {
        name: [page for page, _ in pages] for name, pages in entries.items() if len(pages) > 1
    } == {}


def test_nothing_is_documented_that_patchbay_does_not_read():
    assert [name for name in documented() if name not in SETTINGS] == []


def _accepted(default: object) -> set[str]:
    if default is None or default == "":
        return {"None", '""'}
    if isinstance(default, str):
        return {f'"{default}"', default}
    return {repr(default).replace("'", '"')}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_the_documented_default_is_the_registry_default(name):
    default = SETTINGS[name].default
    [(page, entry)] = documented()[name]
    stated = DEFAULT.search(entry)
    if stated is None:
        # An entry may leave an unset default unsaid (a required key, say), never a value.
        assert default in (None, ""), f"{page}: {name} does not state its default {default!r}"
        return
    literal = stated.group("literal")
    if literal is None:  # "Default: unset...", said in words
        assert default in (None, ""), f"{page}: {name} states no literal default {default!r}"
    else:
        # A long default (a tuple of types) may run over several lines of the page.
        literal = " ".join(literal.split())
        assert literal in _accepted(default), f"{page}: {name} says {literal}, not {default!r}"
