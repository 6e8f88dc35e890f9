"""Read settings from the environment and from optional ``.env`` files.

Kept to the standard library, so the example needs no extra package.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def load_env_file(path: Path) -> None:
    """Copy ``KEY=value`` lines from ``path`` into ``os.environ``, if the file exists.

    Variables already in the environment win, so a shell export always
    overrides the file. Blank lines, ``# comments`` and an ``export `` prefix
    are allowed; a value may be wrapped in single or double quotes.
    """
    if not path.is_file():
        return
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        name, equals, value = line.partition("=")
        if not equals:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        os.environ.setdefault(name.strip(), value)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def env_optional_str(name: str) -> str | None:
    """The variable's value, or None when it is unset or empty (the setting's "not set")."""
    return env_str(name) or None


def env_bool(name: str, default: bool) -> bool:
    value = env_optional_bool(name)
    return default if value is None else value


def env_optional_bool(name: str) -> bool | None:
    """True, False, or None when the variable is unset or empty."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")


def env_list(name: str) -> list[str]:
    """A comma-separated variable as a list, without empty items."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
