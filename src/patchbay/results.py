"""The result dicts every client method and shortcut returns, and their types.

A result is a plain ``dict`` so it serializes, compares and prints as the spec
shows: ``{"success": True, ...data}`` or ``{"success": False, "error": "...",
"error_code": "...", "retryable": bool}``. Simulated results add
``"simulated": True``.

Each operation's result type is a union of two :class:`~typing.TypedDict`\\ s,
its success shape (a :class:`Success`) and a :class:`Failure`, told apart by
``success``, which is ``Literal[True]`` in one and ``Literal[False]`` in the
other: after ``if result["success"]:`` a type checker knows which keys the
result has (``result["session"]["url"]``), and an IDE completes them. The
services' shapes are in ``patchbay.<service>.results``.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, TypedDict, overload

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pragma: no cover - typing_extensions comes with Django (asgiref) on 3.10
    from typing_extensions import NotRequired

from patchbay.error_codes import ErrorCode

__all__ = [
    "ErrorCode",
    "Failure",
    "HealthCheckResult",
    "HealthCheckSuccess",
    "NotRequired",
    "RateLimitedFailure",
    "Result",
    "Success",
    "failure",
    "success",
]

#: Any result, untyped: for code that handles results of every operation alike.
Result = dict[str, Any]


class Success(TypedDict):
    """What every successful result has; each operation's success shape extends it."""

    success: Literal[True]
    #: Present (True) only when the result was simulated.
    simulated: NotRequired[bool]


class Failure(TypedDict):
    """A failed result: ``error`` is a sentence for humans, ``error_code`` for code.

    ``error_code`` is one of :class:`~patchbay.error_codes.ErrorCode`;
    ``retryable`` says whether the same call may succeed later.
    """

    success: Literal[False]
    error: str
    error_code: str
    retryable: bool


class RateLimitedFailure(Failure):
    """A failure that may be ``rate_limited``, with ``retry_after`` seconds when it is."""

    retry_after: NotRequired[int]


class HealthCheckSuccess(Success):
    """:meth:`~patchbay.core.client.BaseClient.check_health`: the probe answered."""

    healthy: bool


HealthCheckResult = HealthCheckSuccess | Failure


def success(**data: Any) -> Result:
    """A successful result carrying ``data`` (untyped; typed code builds its dict literally)."""
    return {"success": True, **data}


@overload
def failure(error: str, *, error_code: str, retryable: bool = False) -> Failure: ...


@overload
def failure(  # with data: untyped
    error: str, *, error_code: str, retryable: bool = False, **data: Any
) -> Result: ...


def failure(error: str, *, error_code: str, retryable: bool = False, **data: Any) -> Any:
    """A failed result: ``error`` is a sentence for humans, ``error_code`` for code.

    ``data`` are extra keys the operation documents on failure; typed code adds
    them with ``{**failure(...), "retry_after": 30}`` instead, so that the
    operation's own failure shape checks them.
    """
    result: Failure = {
        "success": False,
        "error": error,
        "error_code": error_code,
        "retryable": retryable,
    }
    return {**result, **data} if data else result
