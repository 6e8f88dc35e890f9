"""The example's look ships with it: one stylesheet, no inline style blocks, no CDN, a favicon.

What the pages look like in a browser (phone width, axe-core) is tested in
``tests/browser/test_look.py``; this checks the files themselves, without one.
"""

from __future__ import annotations

import re

from tests.test_example_project import EXAMPLE

TEMPLATES = sorted((EXAMPLE / "templates").rglob("*.html"))
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


def test_the_templates_are_found():
    assert len(TEMPLATES) > 10


def test_no_template_has_a_style_block_or_a_style_attribute():
    # Every rule is in site.css, so that one change restyles every page alike.
    offenders = [
        template.relative_to(EXAMPLE).as_posix()
        for template in TEMPLATES
        if re.search(r"<style\b|\sstyle\s*=", template.read_text(), re.IGNORECASE)
    ]
    assert offenders == []


def test_no_template_loads_anything_from_another_site():
    offenders = [
        template.relative_to(EXAMPLE).as_posix()
        for template in TEMPLATES
        if REMOTE.search(template.read_text())
    ]
    assert offenders == []


def test_base_links_the_stylesheet_and_the_favicon_that_ship_with_the_example():
    base = (EXAMPLE / "templates" / "base.html").read_text()
    static = EXAMPLE / "static" / "example"

    assert "{% static 'example/site.css' %}" in base
    assert '<link rel="icon" href="{% static \'example/favicon.ico\' %}"' in base
    assert (static / "site.css").is_file()
    assert (static / "favicon.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO header
