"""The admin per tenant: a tenant-scoped staff user sees and adds only its tenant's rows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from patchbay.models import ExternalService, IntegrationLog, WebhookEvent
from tests.tenant_app.models import Organization


def for_admin(request):
    """The test project's hook: staff members of an organization are scoped to it."""
    if request.user.is_superuser:
        return None
    return request.user.organizations.first()


@pytest.fixture
def scoped(acme, tenancy, django_user_model, client):
    tenancy.PATCHBAY_ADMIN_TENANT = "tests.tenancy.test_core_admin.for_admin"
    user = django_user_model.objects.create_user("acme-staff", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=[
                "view_integrationlog",
                "view_webhookevent",
                "view_externalservice",
                "add_externalservice",
                "change_externalservice",
            ]
        )
    )
    acme.members.add(user)
    client.force_login(user)
    return client


@pytest.fixture
def rows(acme, globex):
    made = {}
    for tenant in (acme, globex, None):
        name = tenant.slug if tenant else "site"
        made[name] = (
            IntegrationLog.objects.create(
                tenant=tenant, provider="dummy", operation=f"op-{name}", success=True
            ),
            WebhookEvent.objects.create(tenant=tenant, provider="dummy", event_id=f"evt-{name}"),
        )
    return made


def test_a_scoped_user_sees_only_its_tenants_rows(scoped, rows):
    page = scoped.get("/admin/patchbay/integrationlog/")
    assert page.status_code == 200
    assert [row.operation for row in page.context["cl"].result_list] == ["op-acme"]
    events = scoped.get("/admin/patchbay/webhookevent/").context["cl"].result_list
    assert [event.event_id for event in events] == ["evt-acme"]


def test_another_tenants_row_is_not_found(scoped, rows):
    log, event = rows["globex"]
    assert scoped.get(f"/admin/patchbay/integrationlog/{log.pk}/change/").status_code == 302
    assert scoped.get(f"/admin/patchbay/webhookevent/{event.pk}/change/").status_code == 302
    own_log, _ = rows["acme"]
    assert scoped.get(f"/admin/patchbay/integrationlog/{own_log.pk}/change/").status_code == 200


def test_a_service_a_scoped_user_adds_is_its_tenants(scoped, acme):
    response = scoped.post(
        "/admin/patchbay/externalservice/add/",
        {"provider": "acme-crm", "name": "CRM", "enabled": "on", "options": "{}"},
    )
    assert response.status_code == 302, response.content
    service = ExternalService.objects.get(provider="acme-crm")
    assert service.tenant_key == str(acme.pk)
    # The same provider again for this tenant: a form error, not a 500.
    again = scoped.post(
        "/admin/patchbay/externalservice/add/",
        {"provider": "acme-crm", "name": "CRM", "enabled": "on", "options": "{}"},
    )
    assert again.status_code == 200
    assert "configured already" in again.content.decode()


def test_a_superuser_sees_every_tenant_with_a_tenant_column_and_filter(
    admin_client, rows, tenancy, acme
):
    tenancy.PATCHBAY_ADMIN_TENANT = "tests.tenancy.test_core_admin.for_admin"
    page = admin_client.get("/admin/patchbay/integrationlog/")
    assert len(page.context["cl"].result_list) == 3
    assert "tenant_key" in page.context["cl"].list_display
    filtered = admin_client.get(f"/admin/patchbay/integrationlog/?tenant_key={acme.pk}")
    assert [row.operation for row in filtered.context["cl"].result_list] == ["op-acme"]
    site = admin_client.get("/admin/patchbay/integrationlog/?tenant_key=")
    assert [row.operation for row in site.context["cl"].result_list] == ["op-site"]


def test_without_a_tenant_model_the_admin_is_unchanged(admin_client, db, settings):
    settings.PATCHBAY_TENANT_MODEL = None
    page = admin_client.get("/admin/patchbay/integrationlog/")
    assert "tenant_key" not in page.context["cl"].list_display
    assert Organization.objects.count() == 0
