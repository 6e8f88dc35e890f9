"""Stored credentials after a key change: empty ones need no key, unreadable ones are reported."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.db.models import TextField, Value

from patchbay import checks, crypto
from patchbay.core import registry
from patchbay.core.config import forget_service_rows
from patchbay.core.simulation import outbox
from patchbay.models import ExternalService, IntegrationLog
from patchbay.stripe.client import StripeClient
from patchbay.twilio.shortcuts import send_sms
from tests.test_crypto import raw_credentials

pytestmark = pytest.mark.django_db

SECRET = "sk_live_do-not-leak-9876543210"


def store_raw(provider, token):
    ExternalService.objects.filter(provider=provider).update(
        credentials=Value(token, output_field=TextField())
    )


# -- empty credentials are stored as such -------------------------------------------------


def test_empty_credentials_are_not_encrypted():
    service = ExternalService.objects.create(provider="empty")
    assert raw_credentials(service.pk) == ""
    assert ExternalService.objects.get(pk=service.pk).credentials == {}


def test_rows_made_by_migrate_survive_a_new_secret_key(settings):
    # post_migrate gave every built-in service a row, without credentials.
    assert raw_credentials(ExternalService.objects.get(provider="stripe").pk) == ""
    settings.SECRET_KEY = "a-brand-new-secret-key"
    settings.STRIPE_API_KEY = "sk_test_x"

    assert StripeClient().config["api_key"] == "sk_test_x"  # no DecryptionError


def test_an_encrypted_empty_value_of_an_older_release_still_reads():
    store_raw("stripe", crypto.encrypt("{}"))
    assert ExternalService.objects.get(provider="stripe").credentials == {}


def test_clearing_credentials_needs_no_key(settings):
    service = ExternalService.objects.get(provider="stripe")
    service.credentials = {"api_key": SECRET}
    service.save()
    settings.SECRET_KEY = "a-brand-new-secret-key"

    ExternalService.objects.filter(provider="stripe").update(credentials={})
    assert ExternalService.objects.get(provider="stripe").credentials == {}


# -- the check ----------------------------------------------------------------------------


def test_e024_lists_the_services_no_key_decrypts(settings):
    settings.SECRET_KEY = "the-old-secret-key"
    for provider in ("stripe", "twilio"):
        service = ExternalService.objects.get(provider=provider)
        service.credentials = {"api_key": SECRET}
        service.save()
    settings.SECRET_KEY = "a-brand-new-secret-key"

    (message,) = checks.check_stored_credentials(databases=["default"])
    assert message.id == "patchbay.E024"
    assert "'stripe', 'twilio'" in message.msg
    assert "'loops'" not in message.msg  # empty: nothing to decrypt
    assert "SECRET_KEY_FALLBACKS" in message.hint
    assert "patchbay_rotate_keys" in message.hint
    assert "update(credentials={})" in message.hint
    assert SECRET not in message.msg + message.hint

    settings.SECRET_KEY_FALLBACKS = ["the-old-secret-key"]
    assert checks.check_stored_credentials(databases=["default"]) == []


def test_e024_with_keys_of_your_own(settings):
    settings.PATCHBAY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    store_raw("aws", crypto.encrypt('{"secret_access_key": "x"}'))
    settings.PATCHBAY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    assert [m.id for m in checks.check_stored_credentials(databases=["default"])] == [
        "patchbay.E024"
    ]


def test_e024_reads_the_database_only_when_asked(settings, django_assert_num_queries):
    store_raw("stripe", "not-a-token")
    with django_assert_num_queries(0):
        assert checks.check_stored_credentials() == []  # plain "manage.py check"
    assert checks.check_stored_credentials(databases=["default"]) != []


def test_e024_is_a_database_check(settings):
    store_raw("stripe", "not-a-token")
    assert "patchbay.E024" not in [m.id for m in run_checks(tags=["patchbay"])]
    assert "patchbay.E024" in [
        m.id for m in run_checks(tags=[Tags.database], databases=["default"])
    ]
    with pytest.raises(SystemCheckError, match=r"patchbay\.E024"):
        call_command("check", "--database", "default")


def test_e024_before_the_tables_exist(monkeypatch):
    monkeypatch.setattr(connection.introspection, "table_names", lambda *args, **kwargs: [])
    assert checks.check_stored_credentials(databases=["default"]) == []


# -- clients of credentials no key decrypts ------------------------------------------------


def store_under_an_old_key(settings, provider="stripe", **options):
    settings.SECRET_KEY = "the-old-secret-key"
    ExternalService.objects.filter(provider=provider).update(enabled=True, options=options)
    service = ExternalService.objects.get(provider=provider)
    service.credentials = {"api_key": SECRET}
    service.save()
    settings.SECRET_KEY = "a-brand-new-secret-key"


def assert_names_the_fix(result):
    assert result["success"] is False
    assert result["error_code"] == "decryption_failed"
    assert result["retryable"] is False
    for fix in ("SECRET_KEY_FALLBACKS", "PATCHBAY_ENCRYPTION_KEYS", "patchbay_rotate_keys"):
        assert fix in result["error"]
    assert "admin" in result["error"]
    assert "patchbay.E024" in result["error"]
    assert SECRET not in result["error"]


@pytest.mark.parametrize("debug_mode", [False, True], ids=["live", "simulated"])
def test_a_client_of_undecryptable_credentials_answers_decryption_failed(settings, debug_mode):
    store_under_an_old_key(settings)
    settings.STRIPE_API_KEY = "sk_test_from_settings"

    result = StripeClient(debug_mode=debug_mode).create_customer("ada@example.com")

    assert_names_the_fix(result)
    log = IntegrationLog.objects.get(provider="stripe", operation="create_customer")
    assert log.error_code == "decryption_failed"
    assert not outbox.filter(provider="stripe")


@pytest.mark.parametrize("provider", ["stripe", "twilio", "loops", "aws"])
def test_every_built_in_client_answers_decryption_failed(settings, provider):
    store_under_an_old_key(settings, provider)

    for debug_mode in (False, True):
        client_class = registry.get_client_class(provider)
        assert client_class is not None
        assert_names_the_fix(client_class(debug_mode=debug_mode).check_health())


def test_a_shortcut_answers_decryption_failed(settings):
    store_under_an_old_key(settings, "twilio")
    settings.PATCHBAY_SIMULATE = True

    assert_names_the_fix(send_sms("+14155552671", "Hello"))


def test_the_configuration_of_undecryptable_credentials_reads_without_them(settings):
    store_under_an_old_key(settings, api_version="2024-06-20")
    settings.STRIPE_API_KEY = "sk_test_from_settings"

    config = StripeClient().config

    assert config.credentials_unreadable is True
    assert config["api_version"] == "2024-06-20"  # options are not encrypted
    assert config["api_key"] == "sk_test_from_settings"
    assert config.sources["api_key"] == "settings"


def test_a_disabled_row_of_undecryptable_credentials_is_only_disabled(settings):
    store_under_an_old_key(settings)
    ExternalService.objects.filter(provider="stripe").update(enabled=False)

    result = StripeClient(debug_mode=True).create_customer("ada@example.com")

    assert result["error_code"] == "service_disabled"


def test_the_fix_is_seen_by_the_next_client(settings):
    store_under_an_old_key(settings)
    assert StripeClient().config.credentials_unreadable is True

    settings.SECRET_KEY_FALLBACKS = ["the-old-secret-key"]
    forget_service_rows()

    config = StripeClient().config
    assert config.credentials_unreadable is False
    assert config["api_key"] == SECRET


# -- the migration that clears the encrypted {} of older releases -------------------------


def test_the_migration_clears_encrypted_empty_credentials(settings):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("patchbay.migrations.0009_empty_credentials_unencrypted")
    store_raw("stripe", crypto.encrypt("{}"))
    store_raw("twilio", crypto.encrypt('{"auth_token": "x"}'))
    store_raw("loops", "not-a-token")  # no key decrypts it: left for E024

    class SchemaEditor:
        connection = connection

    migration.clear_empty_credentials(apps, SchemaEditor())

    def raw(provider):
        pk = ExternalService.objects.filter(provider=provider).values_list("pk", flat=True)[0]
        return raw_credentials(pk)

    assert raw("stripe") == ""
    assert ExternalService.objects.get(provider="twilio").credentials == {"auth_token": "x"}
    assert raw("loops") == "not-a-token"


def test_the_status_view_reports_unreadable_credentials(admin_client):
    store_raw("stripe", "not-a-token")
    forget_service_rows()

    response = admin_client.get("/integrations/status/")

    assert response.status_code == 200
    [stripe] = [entry for entry in response.json()["services"] if entry["provider"] == "stripe"]
    assert stripe["credentials_unreadable"] is True
    assert "not-a-token" not in response.content.decode()
