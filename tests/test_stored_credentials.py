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
from patchbay.models import ExternalService
from patchbay.stripe.client import StripeClient
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
