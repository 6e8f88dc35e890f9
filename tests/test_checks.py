from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from patchbay import checks
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField


class CheckedClient(BaseClient):
    provider = "checked"
    sdk_module = "patchbay_missing_sdk_for_tests"
    extra = "checked"
    enabled_setting = "CHECKED_ENABLED"
    webhook_secret_field = "webhook_secret"
    webhook_url_names = ("status",)  # any mounted patchbay URL name stands in for a webhook
    config_fields = {
        "api_key": ConfigField(setting="CHECKED_API_KEY", secret=True),
        "webhook_secret": ConfigField(
            setting="CHECKED_WEBHOOK_SECRET", secret=True, required=False
        ),
    }


def ids(messages):
    return [message.id for message in messages]


@pytest.fixture(autouse=True)
def _live(settings):
    settings.PATCHBAY_SIMULATE = False


def test_valid_encryption_keys_pass(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert checks.check_encryption_keys() == []


@pytest.mark.parametrize("keys", [["not-a-key"], 42])
def test_e001_invalid_encryption_keys(settings, keys):
    settings.PATCHBAY_ENCRYPTION_KEYS = keys
    assert ids(checks.check_encryption_keys()) == ["patchbay.E001"]


def test_e002_enabled_without_credentials(settings):
    settings.CHECKED_ENABLED = True
    assert "patchbay.E002" in ids(checks.check_services())
    settings.CHECKED_API_KEY = "key"
    assert "patchbay.E002" not in ids(checks.check_services())


def test_e002_not_while_simulating(settings):
    settings.CHECKED_ENABLED = True
    settings.PATCHBAY_SIMULATE = True
    assert "patchbay.E002" not in ids(checks.check_services())


def test_e003_webhook_mounted_without_secret(settings):
    settings.CHECKED_API_KEY = "key"
    assert "patchbay.E003" in ids(checks.check_services())
    settings.CHECKED_WEBHOOK_SECRET = "whsec_x"
    assert "patchbay.E003" not in ids(checks.check_services())


def test_e003_only_when_the_webhook_is_mounted(settings, monkeypatch):
    settings.CHECKED_API_KEY = "key"
    monkeypatch.setattr(CheckedClient, "webhook_url_names", ("not-mounted",))
    assert "patchbay.E003" not in ids(checks.check_services())


@pytest.mark.parametrize("url", ["example.com", "ftp://example.com", "https://"])
def test_e004_malformed_public_url(settings, url):
    settings.PATCHBAY_PUBLIC_URL = url
    assert ids(checks.check_public_url()) == ["patchbay.E004"]


def test_w002_public_url_not_https_in_production(settings):
    settings.PATCHBAY_PUBLIC_URL = "http://example.com"
    assert ids(checks.check_public_url()) == ["patchbay.W002"]
    settings.DEBUG = True
    assert checks.check_public_url() == []
    settings.DEBUG = False
    settings.PATCHBAY_PUBLIC_URL = "https://example.com/"
    assert checks.check_public_url() == []


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PATCHBAY_SIMULATE", "yes"),
        ("PATCHBAY_TIMEOUT", 0),
        ("PATCHBAY_BREAKER_THRESHOLD", "x"),
        ("PATCHBAY_RECORD_IN_BACKGROUND", "False"),
        ("PATCHBAY_BREAKER_RECHECK_AFTER", -1),
        ("PATCHBAY_BREAKER_RECHECK_AFTER", "soon"),
    ],
)
def test_e005_invalid_setting_values(settings, setting, value):
    setattr(settings, setting, value)
    assert ids(checks.check_settings_types()) == ["patchbay.E005"]


def test_e005_zero_recheck_interval_is_valid(settings):
    settings.PATCHBAY_BREAKER_RECHECK_AFTER = 0
    settings.PATCHBAY_RECORD_IN_BACKGROUND = False
    assert checks.check_settings_types() == []


def test_e006_cache_alias_missing(settings):
    settings.PATCHBAY_CACHE_ALIAS = "nope"
    assert ids(checks.check_cache()) == ["patchbay.E006"]


def test_w001_simulation_forced_in_production(settings):
    settings.PATCHBAY_SIMULATE = True
    assert ids(checks.check_simulation()) == ["patchbay.W001"]
    settings.DEBUG = True
    assert checks.check_simulation() == []


def test_w003_sdk_missing_for_a_configured_service(settings):
    assert "patchbay.W003" not in ids(checks.check_services())
    settings.CHECKED_API_KEY = "key"
    messages = [m for m in checks.check_services() if m.id == "patchbay.W003"]
    assert "django-patchbay[checked]" in messages[0].hint


def test_w004_process_local_cache_in_production(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert ids(checks.check_cache()) == ["patchbay.W004"]
    settings.DEBUG = True
    assert checks.check_cache() == []
    settings.DEBUG = False
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://x"}
    }
    assert checks.check_cache() == []


def test_checks_are_registered_with_django(settings, db):
    # db: since Django 6.1 the check command gives the model checks every database, and
    # JSONField's asks the database whether it supports JSON.
    settings.PATCHBAY_ENCRYPTION_KEYS = ["bad"]
    with pytest.raises(SystemCheckError, match=r"patchbay\.E001"):
        call_command("check")


def test_e003_for_your_own_namespaced_webhook_url(settings, monkeypatch):
    settings.CHECKED_API_KEY = "key"
    monkeypatch.setattr(CheckedClient, "webhook_url_names", ("admin:index",))
    assert "patchbay.E003" in ids(checks.check_services())


def test_e007_unknown_phone_verification_backend(settings):
    settings.PATCHBAY_PHONE_VERIFICATION_BACKEND = "carrier-pigeon"
    assert ids(checks.check_phone_verification()) == ["patchbay.E007"]
    settings.PATCHBAY_PHONE_VERIFICATION_BACKEND = "local"
    assert checks.check_phone_verification() == []


def test_e008_twilio_verify_needs_a_service(settings):
    settings.PATCHBAY_PHONE_VERIFICATION_BACKEND = "twilio_verify"
    assert ids(checks.check_phone_verification()) == ["patchbay.E008"]
    settings.TWILIO_VERIFY_SERVICE_SID = "VA" + "0" * 32
    assert checks.check_phone_verification() == []


def test_e009_loops_template_ids(settings):
    assert checks.check_loops_templates() == []
    settings.LOOPS_API_KEY = "loops-key"
    messages = checks.check_loops_templates()
    assert ids(messages) == ["patchbay.E009"]
    assert "password_reset, login_code, team_membership" in messages[0].msg
    settings.LOOPS_TRANSACTIONAL_IDS = {
        "password_reset": "a",
        "login_code": "b",
        "team_membership": "c",
    }
    assert checks.check_loops_templates() == []
    settings.LOOPS_TRANSACTIONAL_IDS = ["not", "a", "dict"]
    assert ids(checks.check_loops_templates()) == ["patchbay.E009"]


def test_e009_neither_when_simulating_nor_when_loops_is_not_used(settings):
    settings.LOOPS_TRANSACTIONAL_IDS = {"password_reset": "a"}
    assert checks.check_loops_templates() == []  # no API key, not enabled
    settings.LOOPS_ENABLED = True
    assert ids(checks.check_loops_templates()) == ["patchbay.E009"]
    settings.PATCHBAY_SIMULATE = True
    assert checks.check_loops_templates() == []
