from __future__ import annotations

import pytest
from django.core.cache import caches

from patchbay.cache import cache_settings
from patchbay.redaction import MASK, Redactor, is_secret_name


def test_cache_settings_for_redis():
    caches_setting = cache_settings("redis://localhost:6379/0")
    assert caches_setting["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert caches_setting["default"]["LOCATION"] == "redis://localhost:6379/0"


def test_cache_settings_without_url_is_local_memory():
    assert cache_settings(None)["default"]["BACKEND"].endswith("LocMemCache")
    assert cache_settings("")["default"]["BACKEND"].endswith("LocMemCache")


@pytest.mark.redis
def test_cache_settings_really_connect(redis_url, settings):
    settings.CACHES = cache_settings(redis_url, key_prefix="cache-settings-test")
    cache = caches.create_connection("default")
    cache.set("k", 1)
    assert cache.incr("k") == 2


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "apiKey",
        "password",
        "auth_token",
        "Authorization",
        "webhook_secret",
        "signature",
        "code",
        "otp_code",
        "verification_code",
        "passcode",
        "private_key",
    ],
)
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["email", "to_number", "price_id", "body_length", "error_code", "status_code", "is_private"],
)
def test_ordinary_names(name):
    assert not is_secret_name(name)


def test_redactor_masks_nested_secrets_and_scrubs_known_values():
    redactor = Redactor(["sk_test_123456789", None, "abc"])
    data = {
        "headers": {"Authorization": "Bearer x"},
        "items": [{"note": "key sk_test_123456789"}],
        "n": 3,
    }
    assert redactor.data(data) == {
        "headers": {"Authorization": MASK},
        "items": [{"note": f"key {MASK}"}],
        "n": 3,
    }
    # Too-short "secrets" would mask innocent text; they are ignored.
    assert redactor.text("abc") == "abc"


def test_redactor_truncates_long_text():
    assert len(Redactor().text("x" * 5000)) <= 501
