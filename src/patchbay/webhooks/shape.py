"""Read an event's fields in a handler, refusing a wrong shape with ``MalformedEvent``.

A signature proves who sent an event, not that it has the shape a handler
reads. patchbay's handlers read every field through these functions, so a
field of the wrong type or length stops the run with
:exc:`~patchbay.exceptions.MalformedEvent` naming it (the event is stored as
``malformed``, answered 200 and never redelivered) instead of a ``TypeError``
or a ``DataError`` answered 500, which the provider retries for days. A
project's handlers may use them too.

``where`` is the dotted path of the object read (``"data.object"``); the
reason names the field under it: ``data.object.id is not a string``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patchbay.exceptions import MalformedEvent

__all__ = ["object_at", "optional_list", "optional_object", "text", "timestamp"]

#: 9999-12-31T23:59:59Z: the last second a ``datetime`` can hold.
MAX_TIMESTAMP = 253_402_300_799


def _name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def object_at(payload: Mapping[str, Any], *path: str) -> dict[str, Any]:
    """The object at ``path`` in ``payload`` (``"data", "object"``); each step must be one."""
    node: Any = payload
    for depth, key in enumerate(path, 1):
        node = node.get(key)
        if not isinstance(node, dict):
            raise MalformedEvent(f"{'.'.join(path[:depth])} is not an object.")
    return node  # type: ignore[no-any-return]


def optional_object(parent: Mapping[str, Any], key: str, where: str = "") -> dict[str, Any]:
    """``parent[key]`` if it is an object, ``{}`` if it is missing or null."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"{_name(where, key)} is not an object.")
    return value


def optional_list(parent: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    """``parent[key]`` if it is a list, ``[]`` if it is missing or null."""
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedEvent(f"{_name(where, key)} is not a list.")
    return value


def text(
    parent: Mapping[str, Any],
    key: str,
    where: str = "",
    *,
    max_length: int | None = None,
    required: bool = False,
) -> str:
    """``parent[key]`` if it is a string of at most ``max_length`` characters; ``""`` if absent.

    Missing, null and ``""`` are absent: with ``required`` they are malformed.
    ``max_length`` is the column's, so the value fits where it is stored.
    """
    value = parent.get(key)
    if value is None or value == "":
        if required:
            raise MalformedEvent(f"{_name(where, key)} is missing.")
        return ""
    if not isinstance(value, str):
        raise MalformedEvent(f"{_name(where, key)} is not a string.")
    if max_length is not None and len(value) > max_length:
        raise MalformedEvent(f"{_name(where, key)} is longer than {max_length} characters.")
    return value


def timestamp(parent: Mapping[str, Any], key: str, where: str = "") -> int | None:
    """``parent[key]`` if it is Unix time in seconds a ``datetime`` can hold; None if absent."""
    value = parent.get(key)
    if value is None:
        return None
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or not 0 <= number <= MAX_TIMESTAMP:
        raise MalformedEvent(f"{_name(where, key)} is not a timestamp.")
    return int(number)
