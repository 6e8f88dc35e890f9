"""Row ids given to shortcuts: parsed once, by one rule, before any query.

An id is a positive integer in the range of patchbay's primary keys
(``BigAutoField``): an ``int``, or a string of ASCII digits as a form or a URL
gives it. Anything else (``None``, ``""``, ``"abc"``, a float, a bool, a
negative or huge number, an object) cannot name a row, and is refused with
``invalid_id`` rather than reaching the database, which would raise
(``ValueError``, ``OverflowError``, ``DataError``). A well-formed id without a
row is the caller's ``not_found``.
"""

from __future__ import annotations

from patchbay.results import Failure, failure

#: The largest primary key a ``BigAutoField`` holds.
MAX_ROW_ID = 2**63 - 1
# Longer digit strings are out of range whatever they say: refused before int().
_MAX_DIGITS = len(str(MAX_ROW_ID))


def row_id(value: object) -> int | None:
    """``value`` as a primary key, or None if it cannot be one (see the module docstring)."""
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > _MAX_DIGITS:
            return None
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):  # True is not row 1
        return None
    return value if 1 <= value <= MAX_ROW_ID else None


def invalid_id(what: str, value: object) -> Failure:
    """The ``invalid_id`` failure for ``value`` given as the id of ``what`` (``"upload"``)."""
    return failure(
        f"{value!r:.40} is not a valid {what} id: give a positive integer.",
        error_code="invalid_id",
    )
