"""The management API filters logs and webhook events by tenant."""

from __future__ import annotations

import pytest

from patchbay.models import APIToken, IntegrationLog, WebhookEvent

API = "/integrations/api"


@pytest.fixture
def api(client, admin_user):
    _row, token = APIToken.objects.issue(admin_user, "tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def rows(acme, globex):
    for tenant, name in ((acme, "acme"), (globex, "globex"), (None, "site")):
        IntegrationLog.objects.create(tenant=tenant, provider="dummy", operation=name, success=True)
        WebhookEvent.objects.create(tenant=tenant, provider="dummy", event_id=name)


def test_logs_by_tenant(api, rows, acme):
    found = api.get(f"{API}/logs/", {"tenant": str(acme.pk)}).json()["results"]
    assert [row["operation"] for row in found] == ["acme"]
    site = api.get(f"{API}/logs/", {"tenant": ""}).json()["results"]
    assert [row["operation"] for row in site] == ["site"]
    assert len(api.get(f"{API}/logs/").json()["results"]) == 3


def test_events_by_tenant(api, rows, globex):
    found = api.get(f"{API}/webhooks/events/", {"tenant": str(globex.pk)}).json()["results"]
    assert [event["event_id"] for event in found] == ["globex"]
    assert api.get(f"{API}/logs/", {"tenant": "x" * 65}).status_code == 400
