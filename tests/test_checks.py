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


def test_e001_invalid_encryption_keys(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = ["not-a-key"]
    assert ids(checks.check_encryption_keys()) == ["patchbay.E001"]
    settings.PATCHBAY_ENCRYPTION_KEYS = 42  # no list: reported by check_settings_types
    assert checks.check_encryption_keys() == []
    assert ids(checks.check_settings_types()) == ["patchbay.E001"]


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


@pytest.mark.parametrize(
    ("url_name", "mounted"),
    [
        ("stripe-webhook-tenant", True),  # takes an argument: still mounted
        ("admin:index", True),
        ("patchbay:admin:index", False),  # admin is not inside patchbay's URLs
        ("index", False),  # admin's, reached only through its namespace
    ],
)
def test_e003_reads_the_urlconf_names(settings, monkeypatch, url_name, mounted):
    settings.CHECKED_API_KEY = "key"
    monkeypatch.setattr(CheckedClient, "webhook_url_names", (url_name,))
    assert ("patchbay.E003" in ids(checks.check_services())) is mounted


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


def messages_of(check, check_id):
    return [message for message in check() if message.id == check_id]


@pytest.mark.parametrize(
    ("setting", "value", "check_id", "hint"),
    [
        ("PATCHBAY_SIMULATE", "yes", "patchbay.E005", '== "true"'),
        ("PATCHBAY_SIMULATE", "False", "patchbay.E005", '== "true"'),
        ("PATCHBAY_RECORD_IN_BACKGROUND", "False", "patchbay.E010", '== "true"'),
        ("PATCHBAY_MAGIC_LINK_CONFIRM", 1, "patchbay.E010", '== "true"'),
        ("AWS_S3_ALLOW_PUBLIC_ACL", "yes", "patchbay.E010", '== "true"'),
        ("PATCHBAY_TIMEOUT", 0, "patchbay.E011", "int(os.environ"),
        ("PATCHBAY_BREAKER_THRESHOLD", "x", "patchbay.E011", "int(os.environ"),
        ("AWS_MAX_UPLOAD_SIZE", -5, "patchbay.E011", "int(os.environ"),
        ("PATCHBAY_BREAKER_RECHECK_AFTER", -1, "patchbay.E012", "int(os.environ"),
        ("PATCHBAY_BREAKER_RECHECK_AFTER", "soon", "patchbay.E012", "int(os.environ"),
        ("PATCHBAY_MAX_RETRIES", -1, "patchbay.E012", "int(os.environ"),
        ("PATCHBAY_EMAIL_SUPPRESS_ON", "bounced", "patchbay.E013", 'write ["value"]'),
        ("AWS_UPLOAD_ALLOWED_CONTENT_TYPES", "image/*", "patchbay.E013", 'write ["value"]'),
        ("PATCHBAY_PUBLIC_URL", 42, "patchbay.E014", None),
        ("AWS_DIRECT_UPLOAD_METHOD", "patch", "patchbay.E015", None),
        ("PATCHBAY_PHONE_VERIFICATION_BACKEND", "carrier-pigeon", "patchbay.E007", None),
        ("LOOPS_TRANSACTIONAL_IDS", ["a"], "patchbay.E009", None),
        ("PATCHBAY_ENCRYPTION_KEYS", 42, "patchbay.E001", None),
        ("STRIPE_ENABLED", "false", "patchbay.E017", 'os.environ.get("X", "").lower()'),
        ("TWILIO_ENABLED", "False", "patchbay.E017", 'os.environ.get("X", "").lower()'),
    ],
)
def test_each_invalid_setting_value_has_its_own_id(settings, setting, value, check_id, hint):
    setattr(settings, setting, value)
    messages = checks.check_settings_types()
    assert ids(messages) == [check_id]
    assert messages[0].msg.startswith(setting)
    assert messages[0].hint == hint or hint in messages[0].hint


def test_valid_and_unset_setting_values_pass(settings):
    settings.PATCHBAY_BREAKER_RECHECK_AFTER = 0
    settings.PATCHBAY_RECORD_IN_BACKGROUND = False
    settings.PATCHBAY_TIMEOUT = "2.5"  # a number from the environment is converted
    settings.AWS_DIRECT_UPLOAD_METHOD = "PUT"
    settings.PATCHBAY_EMAIL_SUPPRESS_ON = []
    settings.STRIPE_ENABLED = ""  # the spec's `... or (STRIPE_API_KEY and ...)`: off
    settings.TWILIO_ENABLED = True
    settings.PATCHBAY_SIMULATE = None
    assert checks.check_settings_types() == []


def test_secret_values_are_never_shown():
    from patchbay.conf import SETTINGS, Rule

    setting = SETTINGS["PATCHBAY_ENCRYPTION_KEYS"]
    assert setting.secret
    assert isinstance(setting.rule, Rule)
    from django.test import override_settings

    with override_settings(PATCHBAY_ENCRYPTION_KEYS=12345678):
        assert "12345678" not in (setting.problem() or "x12345678")


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("PATCHBAY_SIMULATED", "PATCHBAY_SIMULATE"),
        ("PATCHBAY_PUBLIC_URLS", "PATCHBAY_PUBLIC_URL"),
        ("PATCHBAY_SOMETHING_ELSE", None),
    ],
)
def test_w005_unknown_patchbay_setting(settings, name, suggestion):
    setattr(settings, name, True)
    messages = messages_of(checks.check_unknown_settings, "patchbay.W005")
    assert [message.msg.split()[0] for message in messages] == [name]
    if suggestion:
        assert messages[0].msg.endswith(f"Did you mean {suggestion}?")
    else:
        assert "Did you mean" not in messages[0].msg
    assert "docs/configuration.rst" in messages[0].hint


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("TWILIO_PHONE_NUMBR", "TWILIO_PHONE_NUMBER"),
        ("STRIPE_WEBHOOK_SECERT", "STRIPE_WEBHOOK_SECRET"),
        ("LOOPS_API_KY", "LOOPS_API_KEY"),
        ("AWS_STORAGE_BUCKET", "AWS_STORAGE_BUCKET_NAME"),
    ],
)
def test_w006_misspelt_provider_setting(settings, name, suggestion):
    setattr(settings, name, "x")
    messages = checks.check_unknown_settings()
    assert ids(messages) == ["patchbay.W006"]
    assert messages[0].msg == f"{name} is not a setting patchbay reads. Did you mean {suggestion}?"
    assert messages[0].hint.startswith(f"Rename it to {suggestion}")


@pytest.mark.parametrize(
    "name",
    [
        *checks.OTHER_LIBRARIES_SETTINGS,
        "AWS_SES_REGION_NAME",
        "STRIPE_PRICE_BASIC",
        "STRIPE_PRICE_PRO",
        "TWILIO_CALLER_ID",
        "LOOPS_NEWSLETTER_LIST",
        "AWS_S3_BUCKET_NAME",
    ],
)
def test_other_libraries_settings_under_provider_prefixes_never_warn(settings, name):
    setattr(settings, name, "x")
    assert checks.check_unknown_settings() == []


def test_declared_settings_are_not_unknown(settings):
    from patchbay.conf import SETTINGS

    for name in SETTINGS:
        setattr(settings, name, None)
    assert checks.check_unknown_settings() == []


def test_e006_cache_alias_missing(settings):
    settings.PATCHBAY_CACHE_ALIAS = "nope"
    assert ids(checks.check_cache()) == ["patchbay.E006"]


def test_w003_sdk_missing_for_a_configured_service(settings):
    assert "patchbay.W003" not in ids(checks.check_services())
    settings.CHECKED_API_KEY = "key"
    messages = [m for m in checks.check_services() if m.id == "patchbay.W003"]
    assert "django-patchbay[checked]" in messages[0].hint


def test_services_neither_configured_nor_enabled_are_not_looked_up(settings, monkeypatch):
    # Finding an SDK walks sys.path (one stat per entry): a start with none of the
    # services set up need not look for any of their SDKs (tests/test_startup.py).
    from patchbay.core import declaration

    looked_up = []
    monkeypatch.setattr(declaration, "sdk_available", lambda module: looked_up.append(module))
    checks.check_services()
    assert looked_up == []
    settings.CHECKED_API_KEY = "key"
    checks.check_services()
    assert looked_up == ["patchbay_missing_sdk_for_tests"]


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
    messages = checks.check_settings_types()
    assert ids(messages) == ["patchbay.E007"]
    assert "must be 'local' or 'twilio_verify'" in messages[0].msg
    assert checks.check_phone_verification() == []  # reported once
    settings.PATCHBAY_PHONE_VERIFICATION_BACKEND = "local"
    assert checks.check_settings_types() == []


def test_e008_twilio_verify_needs_a_service(settings):
    settings.PATCHBAY_PHONE_VERIFICATION_BACKEND = "twilio_verify"
    assert ids(checks.check_phone_verification()) == ["patchbay.E008"]
    settings.TWILIO_VERIFY_SERVICE_SID = "VA" + "0" * 32
    assert checks.check_phone_verification() == []


def test_e016_loops_template_ids_missing(settings):
    assert checks.check_loops_templates() == []
    settings.LOOPS_API_KEY = "loops-key"
    messages = checks.check_loops_templates()
    assert ids(messages) == ["patchbay.E016"]
    assert "password_reset, login_code, team_membership" in messages[0].msg
    assert "silence patchbay.E016" in messages[0].hint
    settings.LOOPS_TRANSACTIONAL_IDS = {
        "password_reset": "a",
        "login_code": "b",
        "team_membership": "c",
    }
    assert checks.check_loops_templates() == []


def test_e009_loops_template_ids_not_a_dict(settings):
    settings.LOOPS_API_KEY = "loops-key"
    settings.LOOPS_TRANSACTIONAL_IDS = ["not", "a", "dict"]
    messages = checks.check_settings_types()
    assert ids(messages) == ["patchbay.E009"]
    assert messages[0].msg.startswith("LOOPS_TRANSACTIONAL_IDS must be a dict")
    assert checks.check_loops_templates() == []  # no E016 on top


def test_e016_neither_when_simulating_nor_when_loops_is_not_used(settings):
    settings.LOOPS_TRANSACTIONAL_IDS = {"password_reset": "a"}
    assert checks.check_loops_templates() == []  # no API key, not enabled
    settings.LOOPS_ENABLED = True
    assert ids(checks.check_loops_templates()) == ["patchbay.E016"]
    settings.PATCHBAY_SIMULATE = True
    assert checks.check_loops_templates() == []


def test_e016_can_be_silenced_without_silencing_e009(settings):
    settings.LOOPS_API_KEY = "loops-key"
    # Only the Loops checks are under test: silence what this configuration also trips.
    settings.SILENCED_SYSTEM_CHECKS = ["patchbay.E016", "patchbay.E003", "patchbay.W004"]
    call_command("check", "--tag", "patchbay")  # E016 alone: no SystemCheckError
    settings.LOOPS_TRANSACTIONAL_IDS = "oops"
    with pytest.raises(SystemCheckError, match=r"patchbay\.E009") as raised:
        call_command("check", "--tag", "patchbay")
    assert "patchbay.E016" not in str(raised.value)


def test_e002_for_any_true_enabled_value(settings):
    settings.CHECKED_ENABLED = "yes, from the environment"
    messages = [m for m in checks.check_services() if m.id == "patchbay.E002"]
    assert messages[0].msg == "CHECKED_ENABLED is on but Checked has no CHECKED_API_KEY."
    settings.CHECKED_ENABLED = ""  # off: nothing is required
    assert "patchbay.E002" not in ids(checks.check_services())


def test_every_check_id_is_documented_with_a_fix():
    import re
    from pathlib import Path

    import patchbay

    source = Path(patchbay.__file__).parent
    used = set()
    for path in source.rglob("*.py"):
        used |= set(re.findall(r"patchbay\.[EW]\d{3}", path.read_text()))
    documented = Path(__file__).resolve().parent.parent / "docs" / "checks.rst"
    entries = dict(
        re.findall(
            r"^``(patchbay\.[EW]\d{3})``\n(.*?)(?=^``patchbay|\Z)",
            documented.read_text(),
            re.M | re.S,
        )
    )
    assert sorted(used - set(entries)) == []
    assert [check_id for check_id, text in entries.items() if "*Fix:*" not in text] == []
