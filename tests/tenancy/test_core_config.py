"""Configuration per tenant: tenant row > site row > settings, secrets never mixed."""

from __future__ import annotations

import pytest

from patchbay.models import ExternalService
from patchbay.tenancy import SITE, use_tenant
from tests.dummy import DummyClient


@pytest.fixture(autouse=True)
def _site(settings, db):
    settings.PATCHBAY_SIMULATE = False
    settings.DUMMY_API_KEY = "settings-key"
    settings.DUMMY_REGION = "settings-region"


def service(tenant=None, *, credentials=None, options=None, enabled=True):
    # The site's row exists already (made for every service after migrate).
    row, _ = ExternalService.objects.update_or_create(
        tenant_key=str(tenant.pk) if tenant else "",
        provider="dummy",
        defaults={
            "credentials": credentials or {},
            "options": options or {},
            "enabled": enabled,
        },
    )
    return row


def sources(client):
    return {
        name: (client.config[name], client.config.sources[name]) for name in ("api_key", "region")
    }


def test_the_tenant_row_wins_over_the_site_row_which_wins_over_settings(acme, globex):
    service(credentials={"api_key": "site-key"}, options={"region": "site-region"})
    service(acme, credentials={"api_key": "acme-key"}, options={"region": "acme-region"})
    assert sources(DummyClient(tenant=acme)) == {
        "api_key": ("acme-key", "tenant"),
        "region": ("acme-region", "tenant"),
    }
    # Globex has no row: the site's row, as for the site itself.
    assert (
        sources(DummyClient(tenant=globex))
        == sources(DummyClient(tenant=SITE))
        == {
            "api_key": ("site-key", "database"),
            "region": ("site-region", "database"),
        }
    )


def test_an_argument_still_wins(acme):
    service(acme, credentials={"api_key": "acme-key"})
    assert sources(DummyClient(api_key="given", tenant=acme))["api_key"] == ("given", "argument")


def test_a_tenant_storing_credentials_never_gets_the_sites_secrets(acme, settings):
    class TwoSecrets(DummyClient):
        config_fields = {
            **DummyClient.config_fields,
            "webhook_secret": DummyClient.config_fields["api_key"]._replace(
                setting="DUMMY_WEBHOOK_SECRET", required=False
            ),
        }

    settings.DUMMY_WEBHOOK_SECRET = "settings-whsec"
    service(credentials={"webhook_secret": "site-whsec"})
    service(acme, credentials={"api_key": "acme-key"})
    config = TwoSecrets(tenant=acme).config
    assert config["api_key"] == "acme-key"
    assert config["webhook_secret"] is None
    assert config.sources["webhook_secret"] == "default"
    assert "site-whsec" not in config.secret_values()
    # Options still fall back: only secrets belong to one account.
    assert config.sources["region"] == "settings"


def test_a_tenant_row_without_credentials_falls_back_for_secrets_too(acme):
    service(credentials={"api_key": "site-key"})
    service(acme, options={"region": "acme-region"})
    assert sources(DummyClient(tenant=acme)) == {
        "api_key": ("site-key", "database"),
        "region": ("acme-region", "tenant"),
    }


def test_a_disabled_tenant_row_switches_the_service_off_for_that_tenant_only(acme, globex):
    service(acme, credentials={"api_key": "acme-key"}, enabled=False)
    result = DummyClient(tenant=acme).create_item("x")
    assert result["error_code"] == "service_disabled"
    assert DummyClient(tenant=globex).create_item("x")["success"]
    assert DummyClient(tenant=SITE).create_item("x")["success"]


def test_a_disabled_site_row_leaves_a_tenant_with_its_own_row_on(acme, globex):
    service(enabled=False)
    service(acme, credentials={"api_key": "acme-key"})
    assert DummyClient(tenant=acme).create_item("x")["success"]
    assert DummyClient(tenant=globex).create_item("x")["error_code"] == "service_disabled"


def test_the_context_gives_the_tenant_to_clients_made_inside(acme):
    service(acme, credentials={"api_key": "acme-key"})
    with use_tenant(acme):
        client = DummyClient()
    assert client.tenant_key == str(acme.pk)
    assert client.config["api_key"] == "acme-key"
    assert repr(client) == f"<DummyClient provider='dummy' live tenant='{acme.pk}'>"


def test_single_tenant_clients_read_only_the_site_row(settings, django_assert_num_queries):
    settings.PATCHBAY_TENANT_MODEL = None
    service(credentials={"api_key": "site-key"})
    client = DummyClient()
    with django_assert_num_queries(1):
        assert client.config["api_key"] == "site-key"
    assert client.tenant_key == ""
