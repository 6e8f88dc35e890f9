"""The health dashboard per tenant: each tenant's calls, health and backlog, never another's."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from patchbay.core import rollups
from patchbay.core.recording import CallRecord, store_records
from patchbay.models import ExternalService, LogRollup, WebhookEvent

URL = "/integrations/dashboard/"


def calls(tenant, count, *, failures=0):
    store_records(
        [
            CallRecord(
                tenant_key=str(tenant.pk) if tenant else "",
                provider="loops",
                operation="send_transactional",
                success=index >= failures,
                duration_ms=40,
                at=timezone.now(),
                error_code="timeout" if index < failures else "",
            )
            for index in range(count)
        ]
    )


def loops(response):
    return next(s for s, _ in response.context["services"] if s.provider == "loops")


def calls_last_hour(response):
    return next(w for w in loops(response).windows if w.name == "hour").calls


@pytest.fixture
def history(acme, globex):
    calls(acme, 3, failures=1)
    calls(globex, 5)
    calls(None, 7)
    ExternalService.objects.create(tenant=acme, provider="loops", health_status="degraded")
    ExternalService.objects.create(tenant=globex, provider="loops", health_status="healthy")
    WebhookEvent.objects.create(tenant=acme, provider="loops", event_id="evt_1")
    WebhookEvent.objects.create(tenant=globex, provider="loops", event_id="evt_1")
    WebhookEvent.objects.create(tenant=globex, provider="loops", event_id="evt_2")


def for_admin(request):
    """The test project's hook: staff members of an organization are scoped to it."""
    return None if request.user.is_superuser else request.user.organizations.first()


def test_rollups_are_kept_per_tenant(history, acme, globex):
    counted = {
        row["tenant_key"]: row["calls"]
        for row in LogRollup.objects.values("tenant_key", "calls").order_by()
    }
    assert counted == {str(acme.pk): 3, str(globex.pk): 5, "": 7}


def test_a_rebuild_keeps_the_tenants_apart(history, acme, globex):
    columns = ("tenant_key", "provider", "calls", "errors")
    kept = sorted(LogRollup.objects.values_list(*columns))
    rollups.rebuild()
    assert sorted(LogRollup.objects.values_list(*columns)) == kept


def test_unscoped_staff_see_the_site_and_choose_a_tenant(admin_client, history, acme, globex):
    site = admin_client.get(URL)
    assert calls_last_hour(site) == 7
    assert [key for key, _ in site.context["tenants"]] == [str(acme.pk), str(globex.pk)]
    chosen = admin_client.get(URL, {"tenant": str(globex.pk)})
    assert calls_last_hour(chosen) == 5
    assert loops(chosen).health == "healthy"
    assert loops(chosen).backlog["queued"] == 2
    assert f'value="{globex.pk}" selected' in chosen.content.decode()


def test_an_unknown_tenant_shows_the_site(admin_client, history):
    assert calls_last_hour(admin_client.get(URL, {"tenant": "no-such-tenant"})) == 7


def test_a_scoped_user_sees_only_its_tenant(
    client, tenancy, django_user_model, history, acme, globex
):
    tenancy.PATCHBAY_ADMIN_TENANT = "tests.tenancy.test_core_dashboard.for_admin"
    user = django_user_model.objects.create_user("acme-staff", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_externalservice", "view_integrationlog"])
    )
    acme.members.add(user)
    client.force_login(user)
    # Asking for another tenant changes nothing: the scope decides.
    response = client.get(URL, {"tenant": str(globex.pk)})
    assert response.context["tenants"] == []
    service = loops(response)
    assert (calls_last_hour(response), service.health, service.backlog["queued"]) == (
        3,
        "degraded",
        1,
    )
    assert [failure.error_code for failure in service.failures] == ["timeout"]
    assert 'name="tenant"' not in response.content.decode()


def test_without_tenancy_there_is_no_choice(admin_client, db):
    response = admin_client.get(URL)
    assert response.context["tenants"] == []
    assert 'name="tenant"' not in response.content.decode()
