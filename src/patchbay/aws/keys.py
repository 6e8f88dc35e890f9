"""Object keys made by the server: ``prefix/<uuid>/<sanitized filename>``.

The browser never chooses a key, so it can neither traverse paths nor
overwrite anybody's file; the filename survives only as a readable suffix.
"""

from __future__ import annotations

import re
import unicodedata
import uuid

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120


def sanitize_filename(name: str) -> str:
    """A safe, ASCII, single-segment version of ``name`` (never empty, never dot-only)."""
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("-", ascii_name).strip(".-_")
    if not cleaned:
        return "file"
    stem, dot, extension = cleaned.rpartition(".")
    if dot and len(cleaned) > _MAX_NAME:
        return f"{stem[: _MAX_NAME - len(extension) - 1]}.{extension[:16]}"
    return cleaned[:_MAX_NAME]


def sanitize_prefix(prefix: str) -> str:
    """``prefix`` as clean path segments (no ``..``, no empty or absolute parts)."""
    segments = [_UNSAFE.sub("-", part).strip(".-") for part in str(prefix).split("/")]
    return "/".join(segment for segment in segments if segment) or "uploads"


def make_key(original_filename: str, prefix: str) -> str:
    return f"{sanitize_prefix(prefix)}/{uuid.uuid4().hex}/{sanitize_filename(original_filename)}"
