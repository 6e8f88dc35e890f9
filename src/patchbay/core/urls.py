"""Reversing patchbay's own URLs, for the clients and shortcuts that need one.

A project that forgot to mount ``patchbay.urls`` gets a failure result that
names the fix (``error_code="urls_not_mounted"``) instead of a
``NoReverseMatch`` from deep inside a simulated Checkout or a sign-in link.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse

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


def is_included(app_name: str = "patchbay") -> bool:
    """Whether the root URLconf includes the URLconf of ``app_name`` where reverse() finds it.

    Reads the patterns without reversing anything: a process's first
    ``reverse()`` indexes every view, which imports the views that
    :class:`~patchbay.views.LazyView` keeps out of a start (and of the checks).
    Like ``reverse("patchbay:…")``, it looks through includes without a
    namespace only.
    """
    return _includes(get_resolver().url_patterns, app_name)


def is_named(name: str) -> bool:
    """Whether the root URLconf has a URL ``name`` (``"namespace:name"``) where reverse() looks.

    Like :func:`is_included`, it reads the patterns' names without reversing,
    so that asking imports no view. Unlike :func:`is_mounted`, a URL that takes
    arguments counts.
    """
    *namespaces, url_name = name.split(":")
    return _names(get_resolver().url_patterns, namespaces, url_name)


def _names(patterns: Sequence[Any], namespaces: list[str], url_name: str) -> bool:
    for pattern in patterns:
        if not isinstance(pattern, URLResolver):
            if not namespaces and pattern.name == url_name:
                return True
            continue
        if not pattern.namespace:
            found = _names(pattern.url_patterns, namespaces, url_name)
        elif namespaces and namespaces[0] in (pattern.app_name, pattern.namespace):
            found = _names(pattern.url_patterns, namespaces[1:], url_name)
        else:
            continue
        if found:
            return True
    return False


def _includes(patterns: Sequence[Any], app_name: str) -> bool:
    for pattern in patterns:
        if not isinstance(pattern, URLResolver):
            continue
        if app_name in (pattern.app_name, pattern.namespace):
            return True
        if not pattern.namespace and _includes(pattern.url_patterns, app_name):
            return True
    return False
