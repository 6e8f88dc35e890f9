"""Mount with ``path("crm/", include("<your package>.acme_crm.urls"))``."""

from __future__ import annotations

from django.urls import path

from tests.extending.acme_crm import views

app_name = "acme_crm"

urlpatterns = [
    path("leads/", views.add_lead, name="add-lead"),
]
