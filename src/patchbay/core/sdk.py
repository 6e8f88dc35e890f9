"""Import provider SDKs only when a live call needs them.

Keeps ``django.setup()`` fast and lets a project install only the extras it uses.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from patchbay.exceptions import SDKNotInstalled


def import_sdk(module: str, extra: str) -> ModuleType:
    """Import ``module``, or raise :class:`SDKNotInstalled` naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise SDKNotInstalled(module, extra) from exc


def sdk_available(module: str) -> bool:
    """Whether ``module`` could be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
