"""Making a client reads nothing: its configuration is resolved when it is first used.

A client is made at import time, in a form's ``__init__``, before ``migrate``
or in a test that patches its methods: none of these may need a database.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patchbay.core import registry
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.models import ExternalService
from patchbay.stripe.shortcuts import create_checkout_session
from tests.dummy import SECRET, DummyClient
from tests.interpreter import run_python

CLIENT_CLASSES = [
    "patchbay.stripe.client.StripeClient",
    "patchbay.twilio.client.TwilioClient",
    "patchbay.loops.client.LoopsClient",
    "patchbay.aws.s3.S3Client",
]


def test_clients_made_before_migrate_touch_no_table():
    # The subprocess's database is a new, empty SQLite one: no table exists.
    result = run_python(
        f"""
        import django
        django.setup()
        from django.utils.module_loading import import_string
        for path in {CLIENT_CLASSES!r}:
            client = import_string(path)()
            print(repr(client), client.debug_mode)
        """
    )

    assert result.returncode == 0, result.stderr
    assert "no such table" not in result.stderr
    assert "<StripeClient provider='stripe' live> False" in result.stdout.splitlines()


def test_every_client_is_made_without_database_access():
    # No django_db mark: pytest-django refuses any query with a RuntimeError.
    for client_class in registry.client_classes():
        client = client_class()
        assert repr(client)


class KeyedClient(BaseClient):
    """Takes its configuration as keyword arguments, as BaseClient does (unregistered)."""

    config_fields = {"api_key": ConfigField(secret=True)}


def test_unknown_arguments_are_still_refused_when_the_client_is_made():
    with pytest.raises(TypeError, match=r"unexpected arguments: \['colour'\]"):
        KeyedClient(api_key="k", colour="blue")


def test_a_patched_client_method_runs_without_a_database():
    """The spec's testing recipe, in a test that has no database."""
    session = {"id": "cs_test_123", "url": "https://checkout.stripe.com/c/pay/cs_test_123"}
    with patch("patchbay.stripe.client.StripeClient.create_checkout_session") as mocked:
        mocked.return_value = {"success": True, "session": session}

        result = create_checkout_session(
            "price_123",
            success_url="https://example.com/success",
            cancel_url="https://example.com/cancel",
        )

    assert result == {"success": True, "session": session}
    mocked.assert_called_once()
    assert mocked.call_args.args[0] == "price_123"


@pytest.mark.django_db
def test_configuration_is_read_on_first_use_then_kept(django_assert_num_queries, settings):
    settings.PATCHBAY_SERVICE_CONFIG_TTL = 0  # no cached row: every resolution queries
    ExternalService.objects.update_or_create(
        provider="dummy", defaults={"name": "Dummy", "credentials": {"api_key": SECRET}}
    )

    with django_assert_num_queries(0):
        client = DummyClient(debug_mode=True)
    with django_assert_num_queries(1):
        assert client.config["api_key"] == SECRET
    with django_assert_num_queries(0):
        assert client.config["api_key"] == SECRET
        assert client.redactor.text(f"key {SECRET}") == "key ***"


@pytest.mark.django_db
def test_a_call_reads_the_configuration_once(settings):
    settings.PATCHBAY_SERVICE_CONFIG_TTL = 0
    client = DummyClient(debug_mode=True)

    with CaptureQueriesContext(connection) as queries:
        assert client.create_item("a")["success"] is True
        assert client.create_item("b")["success"] is True

    reads = [q for q in queries if "patchbay_externalservice" in q["sql"] and "SELECT" in q["sql"]]
    assert len(reads) == 1
