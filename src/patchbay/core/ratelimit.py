"""Send limits counted in Django's cache, shared by every process when it is Redis.

Each limit is a counter created with ``cache.add`` (atomic: one process wins)
and advanced with ``cache.incr`` (atomic on Redis and in local memory), so
parallel requests cannot slip past it. The window starts with the first
counted send and lasts ``window`` seconds; a companion key remembers when it
ends, to tell refused callers how long to wait.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.core.cache import BaseCache, caches

from patchbay.conf import conf

_PREFIX = "patchbay:ratelimit"


def consume(
    scope: str, identity: str, *, limit: int, window: int, cache: BaseCache | None = None
) -> int | None:
    """Count one use of ``identity`` in ``scope``: None if allowed, else seconds to wait.

    ``identity`` (a number, an IP) is hashed into the key, so keys stay short
    and well-formed whatever the input.
    """
    store = cache or caches[conf.CACHE_ALIAS]
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    key = f"{_PREFIX}:{scope}:{digest}"
    _open_window(store, key, window)
    try:
        count = store.incr(key)
    except ValueError:  # the window ended between add and incr: this use opens a new one
        _open_window(store, key, window)
        count = store.incr(key)
    if count <= limit:
        return None
    resets_at = store.get(f"{key}:reset")
    if resets_at is None:
        return window
    return max(1, math.ceil(float(resets_at) - time.time()))


def _open_window(store: BaseCache, key: str, window: int) -> None:
    """Create the counter unless it exists; only the process that creates it sets the end."""
    if store.add(key, 0, window):
        store.set(f"{key}:reset", time.time() + window, window)
