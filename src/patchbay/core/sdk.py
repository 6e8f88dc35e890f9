"""Import provider SDKs only when a live call needs them.

Keeps ``django.setup()`` fast and lets a project install only the extras it uses.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
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
    # Imported already (every live call after the first): find_spec would answer the same
    # from sys.modules, through several calls; a live call asks each time. A module
    # without __spec__ (a stand-in a test put there) is left to find_spec, which refuses it.
    if getattr(sys.modules.get(module), "__spec__", None) is not None:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
