"""The current tenant: keys, SITE, use_tenant, the middleware, tenant_required."""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import RequestFactory

from patchbay.core.simulation import outbox
from patchbay.models import ExternalService, IntegrationLog
from patchbay.tenancy import (
    SITE,
    TenantMiddleware,
    current_tenant,
    current_tenant_key,
    resolve_tenant_key,
    tenant_for_key,
    tenant_key,
    use_tenant,
)
from tests.dummy import DummyClient
from tests.tenant_app.models import Organization


def test_keys(acme):
    assert tenant_key(acme) == str(acme.pk)
    assert tenant_key(str(acme.pk)) == str(acme.pk)
    assert tenant_key(acme.pk) == str(acme.pk)
    assert tenant_key(SITE) == tenant_key(None) == ""
    assert tenant_for_key(str(acme.pk)) == acme
    assert tenant_for_key("") is None
    assert tenant_for_key("999999") is None  # gone
    assert tenant_for_key("not-a-pk") is None


def test_an_instance_of_another_model_or_an_unsaved_one_is_refused(acme):
    user = get_user_model().objects.create(username="ada")
    with pytest.raises(TypeError, match="not the tenant model"):
        tenant_key(user)
    with pytest.raises(TypeError, match="unsaved"):
        tenant_key(Organization(name="New", slug="new"))
    with pytest.raises(TypeError):
        tenant_key(object())


def test_use_tenant_nests_and_restores(acme, globex):
    assert resolve_tenant_key() == ("", False)
    with use_tenant(acme):
        assert current_tenant_key() == str(acme.pk)
        assert current_tenant() == acme
        with use_tenant(SITE):
            # Explicitly the site: said, so never tenant_required.
            assert resolve_tenant_key() == ("", True)
        with use_tenant(globex):
            assert current_tenant_key() == str(globex.pk)
        assert resolve_tenant_key() == (str(acme.pk), True)
        # An explicit argument wins over the context.
        assert resolve_tenant_key(globex) == (str(globex.pk), True)
    assert resolve_tenant_key() == ("", False)


def test_each_thread_has_its_own_tenant(acme):
    seen = []
    with use_tenant(acme):
        thread = threading.Thread(target=lambda: seen.append(current_tenant_key()))
        thread.start()
        thread.join()
    assert seen == [""]


def test_rows_get_the_tenant_of_the_context_or_of_the_tenant_argument(acme, globex):
    with use_tenant(acme):
        made_inside = ExternalService.objects.create(provider="inside")
    given = ExternalService.objects.create(provider="given", tenant=globex)
    assert made_inside.tenant_key == str(acme.pk)
    assert given.tenant_key == str(globex.pk)
    assert given.tenant == globex
    assert list(ExternalService.objects.for_tenant(acme)) == [made_inside]
    assert ExternalService.objects.for_tenant(SITE).filter(provider="given").count() == 0
    assert f"tenant={globex.pk}" in repr(given)


class TestTenantRequired:
    def test_a_call_naming_no_tenant_fails_and_calls_nothing(self, acme, settings):
        settings.PATCHBAY_SIMULATE = True
        result = DummyClient().create_item("x")
        assert result["success"] is False
        assert result["error_code"] == "tenant_required"
        assert result["retryable"] is False
        assert len(outbox) == 0
        assert IntegrationLog.objects.get().error_code == "tenant_required"

    def test_health_checks_too(self, acme):
        assert DummyClient().check_health()["error_code"] == "tenant_required"

    def test_site_the_context_or_the_setting_off_lets_it_through(self, acme, settings):
        settings.PATCHBAY_SIMULATE = True
        assert DummyClient(tenant=SITE).create_item("x")["success"]
        with use_tenant(acme):
            assert DummyClient().create_item("x")["success"]
        settings.PATCHBAY_TENANT_REQUIRED = False
        assert DummyClient().create_item("x")["success"]

    def test_without_a_tenant_model_nothing_is_required(self, db, settings):
        settings.PATCHBAY_SIMULATE = True
        assert DummyClient().create_item("x")["success"]

    def test_rows_written_during_a_call_get_the_clients_tenant(self, acme, settings):
        settings.PATCHBAY_SIMULATE = True
        written = []

        def behaviour():
            written.append(current_tenant_key())
            return {"item": {"id": "it_1"}}

        settings.PATCHBAY_SIMULATE = False
        settings.DUMMY_API_KEY = "key"
        assert DummyClient(tenant=acme, behaviour=behaviour).create_item("x")["success"]
        assert written == [str(acme.pk)]
        assert IntegrationLog.objects.get().tenant_key == str(acme.pk)


def resolver(request):
    slug = request.headers.get("X-Org")
    return Organization.objects.filter(slug=slug).first() if slug else None


class TestMiddleware:
    @pytest.fixture(autouse=True)
    def _resolver(self, tenancy):
        tenancy.PATCHBAY_TENANT_RESOLVER = "tests.tenancy.test_core_tenancy.resolver"

    def view(self, request):
        return HttpResponse(f"{request.patchbay_tenant}|{current_tenant_key()}")

    def test_the_view_runs_for_the_resolved_tenant(self, acme):
        middleware = TenantMiddleware(self.view)
        response = middleware(RequestFactory().get("/", HTTP_X_ORG="acme"))
        assert response.content.decode() == f"Acme|{acme.pk}"
        assert current_tenant_key() == ""  # restored after the view

    def test_no_tenant_found_leaves_none_current(self, acme):
        response = TenantMiddleware(self.view)(RequestFactory().get("/"))
        assert response.content.decode() == "None|"

    @pytest.mark.django_db(transaction=True)
    def test_async(self, tenancy):
        acme = Organization.objects.create(name="Acme", slug="acme")

        async def view(request):
            return HttpResponse(f"{request.patchbay_tenant}|{current_tenant_key()}")

        middleware = TenantMiddleware(view)
        assert middleware.is_async
        # async_to_sync: the resolver's sync_to_async then runs on this thread's connection.
        response = async_to_sync(middleware)(RequestFactory().get("/", HTTP_X_ORG="acme"))
        assert response.content.decode() == f"Acme|{acme.pk}"
