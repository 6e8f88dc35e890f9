"""Sphinx configuration for django-patchbay's documentation."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import django

if TYPE_CHECKING:
    from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
# The repository root makes ``tests.settings`` importable; ``src`` the package itself,
# so the docs build from a checkout without installing it.
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
# The docs never query a database: keep tests.settings on SQLite, which needs no driver,
# even where DATABASE_URL is set for the test suite (tox passes it through).
os.environ.pop("DATABASE_URL", None)
# autodoc imports models and admin modules, which need a configured Django.
django.setup()

import patchbay  # noqa: E402  (needs the sys.path above)

project = "django-patchbay"
author = "django-patchbay maintainers"
copyright = "django-patchbay maintainers"
release = patchbay.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build"]
default_role = "literal"

html_theme = "furo"
html_title = f"django-patchbay {release}"

autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}


def setup(app: Sphinx) -> None:
    # ``.. setting::`` / ``:setting:`` as in Django's own documentation.
    app.add_crossref_type(
        directivename="setting",
        rolename="setting",
        indextemplate="pair: %s; setting",
    )
