"""Keep secrets out of logs, IntegrationLog rows and error messages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

# Parameter names whose values are secrets whatever the service.
_SECRET_NAME = re.compile(
    r"(pass(word|code)?|secret|token|api[_-]?key|authorization|signature|credential"
    r"|private[_-]?key|otp|^(verification[_-]?)?code$)",
    re.IGNORECASE,
)
_MAX_STRING = 500


def is_secret_name(name: str) -> bool:
    """Whether a parameter called ``name`` holds a secret."""
    return bool(_SECRET_NAME.search(name))


class Redactor:
    """Masks secret-named values and scrubs known secret strings from text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Short values would mask innocent substrings; real secrets are long.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def text(self, value: str, *, limit: int | None = _MAX_STRING) -> str:
        """``value`` with every known secret replaced by a mask, cut at ``limit`` characters."""
        for secret in self.secrets:
            value = value.replace(secret, MASK)
        if limit is not None and len(value) > limit:
            value = value[:limit] + "…"
        return value

    def data(self, value: Any, *, depth: int = 0) -> Any:
        """A JSON-safe copy of ``value`` with secrets masked."""
        if depth > 6:
            return "…"
        if isinstance(value, Mapping):
            return {
                str(key): MASK if is_secret_name(str(key)) else self.data(item, depth=depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self.data(item, depth=depth + 1) for item in list(value)[:50]]
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return self.text(str(value))
