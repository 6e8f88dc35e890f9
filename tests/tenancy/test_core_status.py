"""patchbay_status --tenant and the status view's ?tenant=: a tenant's sources and health."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from patchbay.models import ExternalService, HealthCheck
from patchbay.status import ServiceCheck
from patchbay.tenancy import webhook_path
from tests.dummy import DummyClient


@pytest.fixture
def acme_dummy(acme):
    return ExternalService.objects.create(
        tenant=acme, provider="dummy", credentials={"api_key": "acme-key"}
    )


def dummy_of(report):
    return next(service for service in report["services"] if service["provider"] == "dummy")


def test_the_command_shows_a_tenants_sources(acme, acme_dummy, settings):
    settings.DUMMY_REGION = "eu-west"
    out = StringIO()
    call_command("patchbay_status", "--json", "--tenant", str(acme.pk), stdout=out)
    dummy = dummy_of(json.loads(out.getvalue()))
    assert dummy["tenant"] == str(acme.pk)
    assert dummy["sources"] == {"DUMMY_API_KEY": "tenant", "DUMMY_REGION": "settings"}
    site = StringIO()
    call_command("patchbay_status", "--json", stdout=site)
    assert "tenant" not in dummy_of(json.loads(site.getvalue()))


def test_probing_a_tenant_stores_its_health_check(acme, acme_dummy, settings):
    settings.PATCHBAY_SIMULATE = True
    # What --probe runs per service (other test modules register services that fail theirs).
    ServiceCheck(DummyClient, str(acme.pk)).run()
    check = HealthCheck.objects.get(service=acme_dummy)
    assert (check.status, check.tenant_key) == ("success", str(acme.pk))


def test_an_unknown_tenant_fails(acme):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("patchbay_status", "--tenant", "999999", stdout=StringIO())


def test_the_view_takes_the_tenant(admin_client, acme, acme_dummy):
    answer = admin_client.get(f"/integrations/status/?tenant={acme.pk}")
    assert dummy_of(answer.json())["sources"]["DUMMY_API_KEY"] == "tenant"
    unknown = admin_client.get("/integrations/status/?tenant=999999")
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Unknown tenant."}


def test_the_site_wide_webhook_path(db):
    assert webhook_path("stripe-webhook", None) == "/integrations/webhooks/stripe/"
