"""Settings of the server that figure 3 (webhook throughput) loads.

Served by gunicorn as ``django.core.wsgi:get_wsgi_application()`` with
``DJANGO_SETTINGS_MODULE=benchmarks._webhook_site``; the endpoints are in
``benchmarks._webhook_urls``. The project every benchmark has
(:func:`benchmarks.common.project_settings`: Django's default middleware, the
contrib apps, ``DEBUG = False``, simulation off), configured from the
environment: ``BENCH_DATABASE_URL`` (postgres://...), ``BENCH_REDIS_URL`` and
``STRIPE_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import os

from benchmarks.common import postgres_database, project_settings
from patchbay.cache import cache_settings

globals().update(
    project_settings(
        ROOT_URLCONF="benchmarks._webhook_urls",
        TIME_ZONE="UTC",
        DATABASES={
            "default": postgres_database(
                os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench"),
                # Persistent connections, as any production deployment has (or a pool):
                # connecting per request would measure PostgreSQL's start-up, not patchbay.
                CONN_MAX_AGE=600,
                CONN_HEALTH_CHECKS=False,
            )
        },
        CACHES=cache_settings(
            os.environ.get("BENCH_REDIS_URL") or None, key_prefix="bench-webhooks"
        ),
        STRIPE_WEBHOOK_SECRET=os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        LOGGING={"version": 1, "disable_existing_loggers": False},
    )
)
