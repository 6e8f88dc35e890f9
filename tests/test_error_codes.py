"""Every error_code patchbay produces is one of patchbay.error_codes.ErrorCode, documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import patchbay
from patchbay.core import urls
from patchbay.error_codes import ERROR_CODES, ErrorCode
from patchbay.loops import http
from patchbay.stripe import client as stripe_client
from patchbay.twilio import errors as twilio_errors
from patchbay.twilio import verification

SRC = Path(patchbay.__file__).parent
ERROR_CODES_SOURCE = SRC / "error_codes.py"


def literal_codes(node: ast.expr) -> list[str]:
    """The string constants ``node`` may evaluate to (both branches of ``a if c else b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value else []
    if isinstance(node, ast.IfExp):
        return literal_codes(node.body) + literal_codes(node.orelse)
    return []


def codes_in_source() -> dict[str, list[str]]:
    """Each literal ``error_code=`` of src/, with where it is."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.keyword) and node.arg == "error_code":
                for code in literal_codes(node.value):
                    where = f"{path.relative_to(SRC)}:{node.value.lineno}"
                    found.setdefault(code, []).append(where)
    return found


def codes_in_tables() -> set[str]:
    """The codes of the mapping tables, which no ``error_code=`` literal names."""
    return {
        *twilio_errors._PERMANENT_ERRORS.values(),
        *http._ERROR_CODES.values(),
        *(code for _, code, _ in stripe_client._ERRORS),
        *(code for _, code in verification._REFUSALS.values()),
        urls.URLS_NOT_MOUNTED,
    }


def test_the_scan_finds_the_codes_of_src():
    found = codes_in_source()
    # Codes only one module makes: the scan reaches every corner of src/.
    assert {"invalid_body", "circuit_open", "upload_missing", "suppressed"} <= found.keys()


def test_every_code_produced_is_in_the_vocabulary():
    unknown = {code: where for code, where in codes_in_source().items() if code not in ERROR_CODES}
    unknown.update({code: ["a mapping table"] for code in codes_in_tables() - ERROR_CODES})
    assert unknown == {}, "add them to patchbay.error_codes.ErrorCode, with their meaning"


def string_constants() -> set[str]:
    """Every string constant of src/ outside error_codes.py (which holds them all)."""
    return {
        node.value
        for path in SRC.rglob("*.py")
        if path != ERROR_CODES_SOURCE
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_every_code_is_produced_somewhere():
    # Some are passed positionally (the webhook view's refusals): any constant counts.
    unused = ERROR_CODES - string_constants()
    assert unused == set(), "a code nothing produces does not belong"


def test_values_are_plain_strings_equal_to_their_names():
    for name, value in vars(ErrorCode).items():
        if name.isupper():
            assert type(value) is str
            assert value == name.lower()
    assert ErrorCode.TIMEOUT == "timeout"


def test_every_code_has_its_meaning_documented():
    # autodoc shows the "#:" comment above each constant as its meaning (docs/results.rst).
    lines = ERROR_CODES_SOURCE.read_text().splitlines()
    undocumented = [
        line.split("=")[0].strip()
        for number, line in enumerate(lines)
        if re.match(r"    [A-Z_]+ = \"", line) and not lines[number - 1].strip().startswith("#:")
    ]
    assert undocumented == []
    docs = (SRC.parents[1] / "docs" / "results.rst").read_text()
    assert ".. autoclass:: patchbay.error_codes.ErrorCode" in docs
