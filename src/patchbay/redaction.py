"""Keep secrets out of logs, IntegrationLog rows and error messages.

A :class:`Redactor` masks the secrets it is given wherever text quotes them:
as written, percent-encoded (whole or in part, with either case of hex
digits, ``+`` for a space), with JSON's escaped slash, and in Base64. It also
masks the Basic credentials made of them (``base64(user:secret)``, what
Twilio's SDK sends) and any ``Authorization`` credential in the text, known
or not: ``Basic`` followed by Base64 of ``user:password``, and ``Bearer``
followed by a token. A service that echoes the header it was sent into an
error body has it masked before anything stores the error.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

_MAX_STRING = 500

# The patterns are compiled when first used, not at import: a start imports this module
# (core.config does) and compiling them cost it about a millisecond.


@functools.cache
def _secret_name() -> re.Pattern[str]:
    # Parameter names whose values are secrets whatever the service.
    return re.compile(
        r"(pass(word|code)?|secret|token|api[_-]?key|authorization|signature|credential"
        r"|private[_-]?key|otp|^(verification[_-]?)?code$)",
        re.IGNORECASE,
    )


# A credential after its scheme, literal or percent-encoded ("Bearer%20..."). Bearer
# tokens must look like one (16+ characters, a digit or punctuation), not like a word.
@functools.cache
def _basic() -> re.Pattern[str]:
    return re.compile(r"\b(Basic(?:\s+|%20|\+))([A-Za-z0-9+/_-]{8,}(?:={0,2}|(?:%3D){0,2}))", re.I)


@functools.cache
def _bearer() -> re.Pattern[str]:
    return re.compile(
        r"\b(Bearer(?:\s+|%20|\+))"
        r"((?=[A-Za-z0-9._~+/=%-]*[0-9._~+/=%-])[A-Za-z0-9._~+/=%-]{16,})",
        re.I,
    )


def is_secret_name(name: str) -> bool:
    """Whether a parameter called ``name`` holds a secret."""
    return bool(_secret_name().search(name))


class Redactor:
    """Masks secret-named values and scrubs known secret strings from text.

    ``secrets`` are the values to mask; ``basic_auth`` the ``(user, secret)``
    pairs sent as HTTP Basic credentials, whose Base64 form contains neither.
    """

    def __init__(
        self,
        secrets: Iterable[str | None] = (),
        *,
        basic_auth: Iterable[tuple[str | None, str | None]] = (),
    ) -> None:
        # Short values would mask innocent substrings; real secrets are long.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)
        pairs = tuple(
            (user or "", password)
            for user, password in basic_auth
            if password and len(password) >= 6
        )
        self._literal, self._encoded = _compiled(tuple(self.secrets), pairs)

    def text(self, value: str, *, limit: int | None = _MAX_STRING) -> str:
        """``value`` with every known secret replaced by a mask, cut at ``limit`` characters."""
        for secret in self._literal:
            value = value.replace(secret, MASK)
        if self._encoded is not None:
            value = self._encoded.sub(MASK, value)
        value = _basic().sub(_mask_basic, value)
        value = _bearer().sub(lambda match: match.group(1) + MASK, value)
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


# A client is made per call by the shortcuts, and so its redactor: the forms of the same
# few secrets are worked out once per process.
@functools.lru_cache(maxsize=64)
def _compiled(
    secrets: tuple[str, ...], basic_auth: tuple[tuple[str, str], ...]
) -> tuple[list[str], re.Pattern[str] | None]:
    """The literal forms to replace (Base64), and the pattern of every encoded form."""
    literal: set[str] = set()
    for secret in secrets:
        literal |= _base64_forms(secret)
    for user, password in basic_auth:
        literal |= _base64_forms(f"{user}:{password}")
    # Each character as itself or percent-encoded: every way a URL or form quotes it.
    encoded = re.compile("|".join(map(_encoded_pattern, secrets))) if secrets else None
    return sorted(literal, key=len, reverse=True), encoded


def _base64_forms(value: str) -> set[str]:
    """``value`` in standard and URL-safe Base64, with and without padding."""
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(value.encode()).decode()
        forms |= {encoded, encoded.rstrip("=")}
    return {form for form in forms if len(form) >= 8}


def _encoded_pattern(secret: str) -> str:
    parts = []
    for character in secret:
        # Its UTF-8 bytes, each as %XX with either case of hex digit.
        escapes = [re.escape(character), "".join(map(_percent_pattern, character.encode()))]
        if character == " ":
            escapes.append(r"\+")
        elif character == "/":
            escapes.append(r"\\/")  # JSON may escape the slash
        parts.append(f"(?:{'|'.join(escapes)})")
    return "".join(parts)


def _percent_pattern(byte: int) -> str:
    return "%" + "".join(f"[{digit}{digit.lower()}]" for digit in f"{byte:02X}")


def _mask_basic(match: re.Match[str]) -> str:
    """A Basic credential masked if it is Base64 of ``user:password``; left as is if not."""
    token = match.group(2).replace("%3D", "=").replace("%3d", "=")
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_")
        text = decoded.decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return match.group(0)
    if ":" not in text or not text.isprintable():
        return match.group(0)  # a word after "Basic", not a credential
    return match.group(1) + MASK
