"""Django ``CACHES`` for Redis, the store patchbay keeps shared state in."""

from __future__ import annotations

from typing import Any


def cache_settings(redis_url: str | None = None, *, key_prefix: str = "") -> dict[str, Any]:
    """A ``CACHES`` dict: django-redis at ``redis_url``, else local memory.

    Local memory is per process: fine for development, but circuit breakers
    and rate limits are only shared between processes with Redis.
    """
    if redis_url:
        return {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": key_prefix,
                "OPTIONS": {
                    "CLIENT_CLASS": "django_redis.client.DefaultClient",
                    "SOCKET_CONNECT_TIMEOUT": 5,
                    "SOCKET_TIMEOUT": 5,
                },
            }
        }
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "patchbay",
            "KEY_PREFIX": key_prefix,
        }
    }
