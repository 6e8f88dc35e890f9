"""The cache patchbay keeps shared state in: django-redis missing, Redis not answering."""

from __future__ import annotations

import socket
import sys
import threading

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from patchbay import checks

INSTALL_HINT = 'pip install "django-patchbay[redis]"'


def ids(messages):
    return [message.id for message in messages]


def django_redis_cache(location, **options):
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5, **options},
        }
    }


def free_port():
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the redis extra is missing -----------------------------------------------------------


@pytest.fixture
def without_django_redis(settings, monkeypatch):
    """django-redis named in CACHES but not importable, as without the ``redis`` extra."""
    settings.CACHES = django_redis_cache("redis://127.0.0.1:6379/0")
    # Undone when this fixture ends, before the suite's own fixtures use the cache again.
    with monkeypatch.context() as patch:
        for name in [name for name in sys.modules if name.split(".")[0] == "django_redis"]:
            patch.setitem(sys.modules, name, None)
        patch.setitem(sys.modules, "django_redis", None)  # None: "import" raises ImportError
        yield settings


def test_e023_django_redis_not_installed(without_django_redis):
    (message,) = checks.check_cache_backend_importable()
    assert message.id == "patchbay.E023"
    assert "'default'" in message.msg
    assert INSTALL_HINT in message.hint


def test_e023_silent_when_django_redis_is_installed(settings):
    settings.CACHES = django_redis_cache("redis://127.0.0.1:6379/0")
    assert checks.check_cache_backend_importable() == []


def test_no_patchbay_check_crashes_without_django_redis(without_django_redis):
    without_django_redis.PATCHBAY_SIMULATE = False
    without_django_redis.STRIPE_API_KEY = "sk_live_x"  # the service checks run too

    assert "patchbay.E023" in ids(run_checks(tags=["patchbay"]))
    with pytest.raises(SystemCheckError, match=r"patchbay\.E023"):
        call_command("check", "--tag", "patchbay")


# -- Redis does not answer ----------------------------------------------------------------


def test_w011_redis_not_answering_names_the_url_without_password(settings):
    port = free_port()
    settings.CACHES = django_redis_cache(f"redis://:s3cret-pass@127.0.0.1:{port}/3")

    (message,) = checks.check_redis_answers()
    assert message.id == "patchbay.W011"
    assert f"redis://:***@127.0.0.1:{port}/3" in message.msg
    assert "s3cret-pass" not in message.msg + message.hint
    assert "PATCHBAY_CACHE_ALIAS" in message.hint


def test_w011_for_djangos_own_redis_backend(settings):
    port = free_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://user:s3cret-pass@127.0.0.1:{port}/0",
        }
    }

    (message,) = checks.check_redis_answers()
    assert message.id == "patchbay.W011"
    assert f"redis://user:***@127.0.0.1:{port}/0" in message.msg
    assert "s3cret-pass" not in message.msg


def test_w011_gives_up_after_a_short_timeout(settings, monkeypatch):
    settings.CACHES = django_redis_cache("redis://127.0.0.1:6379/0")
    release = threading.Event()
    monkeypatch.setattr(checks, "_ping_redis", lambda alias: release.wait(5))
    monkeypatch.setattr(checks, "REDIS_CHECK_TIMEOUT", 0.05)
    try:
        (message,) = checks.check_redis_answers()
    finally:
        release.set()
    assert message.id == "patchbay.W011"
    assert "within 0.05 s" in message.msg


def test_w011_only_for_redis_caches(settings, monkeypatch):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    monkeypatch.setattr(checks, "_ping_redis", lambda alias: pytest.fail("pinged"))
    assert checks.check_redis_answers() == []


def test_w011_not_when_django_redis_is_missing(without_django_redis):
    assert checks.check_redis_answers() == []


@pytest.mark.redis
def test_w011_silent_when_redis_answers(settings, redis_url):
    settings.CACHES = django_redis_cache(redis_url)
    assert checks.check_redis_answers() == []
