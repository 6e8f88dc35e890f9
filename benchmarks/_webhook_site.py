"""Settings of the server that figure 3 (webhook throughput) loads.

Served by gunicorn as ``django.core.wsgi:get_wsgi_application()`` with
``DJANGO_SETTINGS_MODULE=benchmarks._webhook_site``; the endpoints are in
``benchmarks._webhook_urls``. Configured from the environment:
``BENCH_DATABASE_URL`` (postgres://...), ``BENCH_REDIS_URL`` and ``STRIPE_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from patchbay.cache import cache_settings


def _database(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username or "",
        "PASSWORD": parts.password or "",
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # Persistent connections, as any production deployment has (or a pool):
        # connecting per request would measure PostgreSQL's start-up, not patchbay.
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": False,
    }


SECRET_KEY = "patchbay-benchmark-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "benchmarks._webhook_urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "patchbay",
]
# Django's default stack, so both endpoints pay for a realistic project's middleware.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": _database(
        os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
    )
}
CACHES = cache_settings(os.environ.get("BENCH_REDIS_URL") or None, key_prefix="bench-webhooks")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
# Live mode: simulation would accept the simulator's secret too.
PATCHBAY_SIMULATE = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
