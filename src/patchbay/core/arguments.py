"""The arguments public functions are given, checked once, by the same rules everywhere.

A request's ``build()`` (see :mod:`patchbay.core.request`) and the shortcuts
check what they were given with these before anything is sent or stored: each
raises :exc:`~patchbay.exceptions.ServiceError` (``invalid_request``, naming
the argument) for a value of the wrong type or out of range, so that a caller's
mistake is a failure result, never a ``TypeError`` from deep inside an SDK.

Row ids have their own rule (:func:`row_id`): an id is a positive integer in
the range of patchbay's primary keys (``BigAutoField``), an ``int`` or a
string of ASCII digits as a form or a URL gives it. Anything else (``None``,
``""``, ``"abc"``, a float, a bool, a negative or huge number, an object)
cannot name a row, and is refused with ``invalid_id`` rather than reaching
the database, which would raise (``ValueError``, ``OverflowError``,
``DataError``). A well-formed id without a row is the caller's ``not_found``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from patchbay.exceptions import ServiceError
from patchbay.results import Failure, failure

if TYPE_CHECKING:
    from django.http import HttpRequest

#: What replaces a character the database cannot store.
REPLACEMENT = "\N{REPLACEMENT CHARACTER}"
#: NUL and lone surrogates (json.loads pairs up valid ones): see :func:`clean_text`.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: How deep :func:`storable_json` keeps a record's data.
MAX_JSON_DEPTH = 20
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


def refusal(error: ServiceError) -> Failure:
    """The failure result of a check that refused an argument."""
    return failure(error.message, error_code=error.error_code, retryable=error.retryable)


def _refuse(name: str, expected: str, value: object) -> ServiceError:
    return ServiceError(
        f"{name} must be {expected}, not {type(value).__name__} {value!r:.40}.",
        error_code="invalid_request",
    )


def text(value: object, name: str, *, required: bool = True, max_length: int | None = None) -> str:
    """``value`` if it is a string (non-empty if ``required``) without NUL, within ``max_length``.

    NUL is refused: no database column or HTTP header accepts it.
    """
    if not isinstance(value, str) or (required and not value) or "\x00" in value:
        return _refuse_text(value, name, required)
    if max_length is not None and len(value) > max_length:
        raise ServiceError(
            f"{name} is {len(value)} characters long; at most {max_length} are accepted.",
            error_code="invalid_request",
        )
    return value


def _refuse_text(value: object, name: str, required: bool) -> str:
    expected = "a non-empty string" if required else "a string"
    if isinstance(value, str) and "\x00" in value:
        expected += " without NUL characters"
    raise _refuse(name, expected, value)


def optional_text(value: object, name: str, *, max_length: int | None = None) -> str | None:
    """``None`` as it is, else :func:`text` (an empty string counts as none)."""
    if value is None or value == "":
        return None
    return text(value, name, max_length=max_length)


def integer(
    value: object, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` if it is an ``int`` (not a bool) from ``minimum`` to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(name, "an integer", value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"from {minimum}" if minimum is not None else ""
        bounds += f" to {maximum}" if maximum is not None else " or more"
        raise ServiceError(
            f"{name} must be an integer {bounds.strip()}, not {str(value)[:40]}.",
            error_code="invalid_request",
        )
    return value


def optional_integer(
    value: object, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    """``None`` as it is, else :func:`integer`."""
    return None if value is None else integer(value, name, minimum=minimum, maximum=maximum)


def mapping(value: object, name: str) -> dict[str, Any]:
    """``value`` as a plain ``dict`` (``None`` is empty) if it is a mapping with string keys."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise _refuse(name, "a mapping with string keys", value)
    return dict(value)


def json_value(value: object, name: str) -> Any:
    """``value`` if a JSON column stores it as it is: dicts, lists, strings, finite numbers...

    NUL is refused in strings, as PostgreSQL's ``jsonb`` refuses it.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise _refuse(name, "JSON without NUL characters", value)
        return value
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, (list, tuple)):
        return [json_value(item, name) for item in value]
    if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
        return {json_value(key, name): json_value(item, name) for key, item in value.items()}
    raise _refuse(name, "JSON data (dicts, lists, strings, numbers)", value)


def user_id(value: object, name: str = "user") -> Any:
    """The primary key of ``value`` if it is a saved user; None for None or an anonymous user."""
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    if value is None or isinstance(value, AnonymousUser):
        return None
    if not isinstance(value, AbstractBaseUser):
        raise _refuse(name, "a user or None", value)
    return value.pk


def http_request(value: object, name: str = "request") -> HttpRequest | None:
    """``value`` if it is an ``HttpRequest`` or None."""
    from django.http import HttpRequest

    if value is not None and not isinstance(value, HttpRequest):
        raise _refuse(name, "an HttpRequest or None", value)
    return value


def storable(value: object, max_length: int | None = None) -> str:
    """``value`` as text a database column accepts: see :func:`clean_text`; cut to ``max_length``.

    For what is stored as a record of something refused (a failed send's
    number), never for what is sent.
    """
    stored = clean_text(str(value))
    return stored[:max_length] if max_length is not None else stored


def clean_text(text: str) -> str:
    """``text`` with each character the database cannot store replaced by U+FFFD.

    NUL, which neither PostgreSQL's text nor its jsonb holds, and lone
    surrogates, which jsonb refuses and UTF-8 cannot encode.
    """
    return UNSTORABLE.sub(REPLACEMENT, text) if UNSTORABLE.search(text) else text


def storable_json(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A copy of ``value`` (JSON-like) that a JSON column stores on every database.

    For records (a call's request summary): text is cleaned as by
    :func:`clean_text`, in keys too; floats JSON cannot represent become the
    strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``; what lies deeper
    than ``max_depth`` becomes ``"…"``. A record keeps what it can, never
    refuses: the call happened.
    """
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Mapping | list | tuple):
        if max_depth <= 0:
            return "\N{HORIZONTAL ELLIPSIS}"
        if isinstance(value, Mapping):
            return {
                clean_text(str(key)): storable_json(item, max_depth=max_depth - 1)
                for key, item in value.items()
            }
        return [storable_json(item, max_depth=max_depth - 1) for item in value]
    return value
