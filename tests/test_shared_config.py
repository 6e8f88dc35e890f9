"""Clients of one configuration share its resolution for ``PATCHBAY_SERVICE_CONFIG_TTL`` s.

A view makes a client per request (the shortcuts do): resolving its
configuration each time (every setting, the ExternalService rows) cost a
presigned URL more than a fifth of what boto3 takes to sign it. Whatever
changes a configuration (a setting changed through Django, a row saved or
deleted) is seen by the next client; with a TTL of 0 every client resolves its
own, as before.
"""

from __future__ import annotations

from unittest.mock import patch

import pytest

from patchbay.core import config as config_module
from patchbay.core.config import forget_service_rows
from patchbay.models import ExternalService
from tests.dummy import SECRET, DummyClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh():
    forget_service_rows()
    yield
    forget_service_rows()


def resolutions():
    return patch.object(config_module, "resolve_config", wraps=config_module.resolve_config)


def test_clients_of_one_configuration_resolve_it_once(settings):
    settings.DUMMY_API_KEY = SECRET
    with resolutions() as resolve:
        assert DummyClient().config["api_key"] == SECRET
        assert DummyClient().config["api_key"] == SECRET
    assert resolve.call_count == 1


def test_arguments_and_tenants_have_configurations_of_their_own(settings):
    settings.DUMMY_API_KEY = SECRET
    assert DummyClient(api_key="other-key-000000").config["api_key"] == "other-key-000000"
    assert DummyClient().config["api_key"] == SECRET
    assert DummyClient(tenant="acme").config.sources["api_key"] == "settings"
    assert DummyClient(region="us").config["region"] == "us"
    assert DummyClient().config["region"] == "eu"


def test_a_changed_setting_is_seen_by_the_next_client(settings):
    settings.DUMMY_API_KEY = SECRET
    assert DummyClient().config["api_key"] == SECRET
    settings.DUMMY_API_KEY = "rotated-key-0000"  # through override_settings: setting_changed
    assert DummyClient().config["api_key"] == "rotated-key-0000"


def test_a_saved_or_deleted_row_is_seen_by_the_next_client(settings):
    settings.DUMMY_API_KEY = SECRET
    assert DummyClient().config.sources["api_key"] == "settings"
    row, _ = ExternalService.objects.update_or_create(
        provider="dummy", defaults={"name": "Dummy", "credentials": {"api_key": "from-the-admin-0"}}
    )
    assert DummyClient().config["api_key"] == "from-the-admin-0"
    row.delete()
    assert DummyClient().config["api_key"] == SECRET


def test_no_sharing_with_a_ttl_of_zero(settings):
    settings.PATCHBAY_SERVICE_CONFIG_TTL = 0
    settings.DUMMY_API_KEY = SECRET
    with resolutions() as resolve:
        assert DummyClient().config["api_key"] == SECRET
        assert DummyClient().config["api_key"] == SECRET
    assert resolve.call_count == 2


def test_shared_configurations_expire_with_the_rows_they_were_made_of(settings):
    settings.DUMMY_API_KEY = SECRET
    with patch.object(config_module.time, "monotonic", return_value=1000.0):
        assert DummyClient().config["api_key"] == SECRET
    with resolutions() as resolve:
        with patch.object(config_module.time, "monotonic", return_value=1004.0):
            assert DummyClient().config["api_key"] == SECRET
        assert resolve.call_count == 0
        with patch.object(config_module.time, "monotonic", return_value=1006.0):
            assert DummyClient().config["api_key"] == SECRET
        assert resolve.call_count == 1
