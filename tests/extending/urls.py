"""The test project's URLs plus the Acme Notify example's webhook and Acme CRM's view."""

from __future__ import annotations

from django.urls import include, path

from tests.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    *project_urlpatterns,
    path("acme-notify/", include("tests.extending.acme_notify.urls")),
    path("crm/", include("tests.extending.acme_crm.urls")),
]
