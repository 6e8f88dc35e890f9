"""Settings of the dj-stripe server the webhook benchmark compares against.

Served by gunicorn from the peers' virtual environment (:mod:`benchmarks.peers`:
dj-stripe with its own stripe SDK, no patchbay) as
``django.core.wsgi:get_wsgi_application()`` with
``DJANGO_SETTINGS_MODULE=benchmarks._djstripe_site``. The project of patchbay's
site (:data:`benchmarks.common.BASE_SETTINGS`: the same middleware stack, contrib
apps and ``DEBUG = False``) with dj-stripe in patchbay's place, on its own
scratch database of the same PostgreSQL server and the same kind of cache,
configured from the environment: ``BENCH_DATABASE_URL``, ``BENCH_REDIS_URL``.

dj-stripe verifies each delivery with the secret of a ``WebhookEndpoint`` row
(``python -m benchmarks.peers endpoint``), stores a ``WebhookEventTrigger`` and
an ``Event``, and runs its own handlers inline.
"""

from __future__ import annotations

import os

# benchmarks.common imports nothing but the standard library at the top: importable here.
from benchmarks.common import BASE_SETTINGS, postgres_database, project_settings

_settings = project_settings(
    ROOT_URLCONF="benchmarks._djstripe_urls",
    TIME_ZONE="UTC",
    INSTALLED_APPS=[app for app in BASE_SETTINGS["INSTALLED_APPS"] if app != "patchbay"]
    + ["djstripe"],
    DATABASES={
        "default": postgres_database(
            os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench"),
            # Persistent connections, as patchbay's site has.
            CONN_MAX_AGE=600,
            CONN_HEALTH_CHECKS=False,
        )
    },
    LOGGING={"version": 1, "disable_existing_loggers": False},
    DJSTRIPE_FOREIGN_KEY_TO_FIELD="id",
    DJSTRIPE_WEBHOOK_VALIDATION="verify_signature",
    STRIPE_LIVE_MODE=False,
    # Never used to call Stripe: the events posted are of a type dj-stripe fetches nothing for.
    STRIPE_TEST_SECRET_KEY="sk_test_" + "0" * 24,  # nosec B105
)
for _name in [name for name in _settings if name.startswith("PATCHBAY_")]:
    del _settings[_name]
_settings["SILENCED_SYSTEM_CHECKS"] = []
if os.environ.get("BENCH_REDIS_URL"):
    # patchbay's site's cache backend (django-redis), at the same kind of URL.
    _settings["CACHES"] = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": os.environ["BENCH_REDIS_URL"],
            "KEY_PREFIX": "bench-djstripe",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
globals().update(_settings)
