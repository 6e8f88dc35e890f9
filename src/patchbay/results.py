"""The result dicts every client method and shortcut returns.

A result is a plain ``dict`` so it serializes, compares and prints as the spec
shows: ``{"success": True, ...data}`` or ``{"success": False, "error": "...",
"error_code": "...", "retryable": bool}``. Simulated results add
``"simulated": True``.
"""

from __future__ import annotations

from typing import Any

Result = dict[str, Any]


def success(**data: Any) -> Result:
    """A successful result carrying ``data``."""
    return {"success": True, **data}


def failure(error: str, *, error_code: str, retryable: bool = False, **data: Any) -> Result:
    """A failed result: ``error`` is a sentence for humans, ``error_code`` for code."""
    return {
        "success": False,
        "error": error,
        "error_code": error_code,
        "retryable": retryable,
        **data,
    }
