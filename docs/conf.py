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


def openapi_reference() -> list[str]:
    """reST for every operation of the management API's OpenAPI document."""
    from patchbay.api.schema import document

    spec = document("/integrations/api/")
    lines: list[str] = []
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters":
                continue
            lines += [
                f".. rubric:: ``{method.upper()} {path}``",
                "",
                operation["summary"] + ".",
                "",
            ]
            lines += [operation["description"], ""]
            for parameter in [*shared, *operation.get("parameters", [])]:
                where = "path" if parameter["in"] == "path" else "query"
                lines += [f"* ``{parameter['name']}`` ({where}): {parameter['description']}"]
            if "requestBody" in operation:
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                name = body.get("$ref", "").rpartition("/")[2] or "a JSON object"
                lines += [f"* Body: ``{name}``" if "$ref" in body else "* Body: a JSON object"]
            answers = operation["responses"].items()
            success = ", ".join(
                f"{status}: {response['description'].rstrip('.')}"
                for status, response in answers
                if int(status) < 400
            )
            errors = ", ".join(status for status, _ in answers if int(status) >= 400)
            lines += [f"* Answers {success}; errors {errors}.", ""]
    for name, schema in spec["components"]["schemas"].items():
        lines += [f".. rubric:: ``{name}``", ""]
        required = set(schema.get("required", []))
        for field, definition in schema.get("properties", {}).items():
            kind = _kind(definition)
            note = f": {definition['description']}" if "description" in definition else ""
            optional = "" if field in required else ", optional"
            lines += [f"* ``{field}`` ({kind}{optional}){note}"]
        lines += [""]
    return lines


def _kind(definition: dict[str, object]) -> str:
    if "$ref" in definition:
        return str(definition["$ref"]).rpartition("/")[2]
    kind = definition.get("type", "any")
    kinds = " or ".join(map(str, kind)) if isinstance(kind, list) else str(kind)
    if "enum" in definition:
        kinds += ": " + ", ".join(map(str, definition["enum"]))  # type: ignore[call-overload]
    return kinds


def setup(app: Sphinx) -> None:
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util.docutils import SphinxDirective

    class OpenAPIReference(SphinxDirective):
        def run(self) -> list[nodes.Node]:
            container = nodes.container()
            self.state.nested_parse(
                StringList(openapi_reference(), source="patchbay.api.schema"),
                self.content_offset,
                container,
            )
            return list(container.children)

    # ``.. openapi-reference::``: docs/operations.rst's API reference, from the document.
    app.add_directive("openapi-reference", OpenAPIReference)
    # ``.. setting::`` / ``:setting:`` as in Django's own documentation.
    app.add_crossref_type(
        directivename="setting",
        rolename="setting",
        indextemplate="pair: %s; setting",
    )
