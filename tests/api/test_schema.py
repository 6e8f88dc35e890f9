"""The OpenAPI document describes the views as they are, and the views answer as it says."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import URLPattern
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from patchbay.api import urls as api_urls
from patchbay.api.schema import PATHS, document
from patchbay.models import APIToken, WebhookEvent
from tests.api.conftest import API

CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]


def documented_path(pattern: URLPattern) -> str:
    route = str(pattern.pattern).removeprefix("api")
    return route.replace("<str:", "{").replace(">", "}")


def test_the_document_names_every_url_and_method_the_views_have():
    served = {}
    for pattern in api_urls.urlpatterns:
        view = pattern.callback.view
        path = documented_path(pattern)
        if path == "/schema/":
            continue
        cls = view.view_class
        served[path] = {method for method in ("get", "post", "put", "patch", "delete")
                        if hasattr(cls, method)}  # fmt: skip

    documented = {
        path: {method for method in item if method != "parameters"} for path, item in PATHS.items()
    }
    assert documented == served


def test_each_operation_documents_the_permissions_it_checks():
    for pattern in api_urls.urlpatterns:
        path = documented_path(pattern)
        if path == "/schema/":
            continue
        cls = pattern.callback.view.view_class
        for method, permissions in cls.permissions.items():
            description = PATHS[path][method.lower()]["description"]
            for permission in permissions:
                assert permission in description, (path, method)


@pytest.mark.django_db
def test_the_document_is_served_with_the_sites_mount_point(client):
    response = client.get(f"{API}/schema/")

    assert response.status_code == 200
    assert response.json() == document(f"{API}/")
    assert response.json()["servers"] == [{"url": API}]
    assert response.json()["openapi"] == "3.1.0"


schema = schemathesis.openapi.from_wsgi(f"{API}/schema/", get_wsgi_application())


@pytest.fixture
def bearer(django_user_model):
    # The WSGI handler closes the connection after each request (Django's test client
    # stops it from doing so, as here): the test's transaction must stay open.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield _bearer(django_user_model)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _bearer(django_user_model):
    user = django_user_model.objects.create_superuser("fuzz", password=None)
    for number in range(1, 3):
        WebhookEvent.objects.create(provider="stripe", event_id=f"evt_{number}", status="failed")
    return {"Authorization": f"Bearer {APIToken.objects.issue(user)[1]}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_conforms_to_the_document(case, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)
