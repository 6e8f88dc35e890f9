"""Reversing patchbay's own URLs, for the clients and shortcuts that need one.

A project that forgot to mount ``patchbay.urls`` gets a failure result that
names the fix (``error_code="urls_not_mounted"``) instead of a
``NoReverseMatch`` from deep inside a simulated Checkout or a sign-in link.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import NoReverseMatch, reverse

from patchbay.exceptions import ServiceError

URLS_NOT_MOUNTED = "urls_not_mounted"
#: The line a project adds to its root URLconf.
MOUNT_HINT = 'path("integrations/", include("patchbay.urls"))'


def patchbay_path(
    name: str, *, args: Sequence[Any] | None = None, kwargs: dict[str, Any] | None = None
) -> str:
    """The path of the URL ``name`` (``"patchbay:…"``).

    Raises :class:`~patchbay.exceptions.ServiceError` with ``error_code``
    ``"urls_not_mounted"`` when it does not reverse, which
    :meth:`BaseClient.call <patchbay.core.client.BaseClient.call>` turns into
    a failure result.
    """
    try:
        return reverse(name, args=args, kwargs=kwargs)
    except NoReverseMatch as exc:
        raise ServiceError(
            f"patchbay's URL {name!r} is not mounted: add {MOUNT_HINT} to the project's "
            "urlpatterns (ROOT_URLCONF).",
            error_code=URLS_NOT_MOUNTED,
        ) from exc


def is_mounted(name: str) -> bool:
    """Whether the URL ``name`` (without arguments) reverses."""
    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True
