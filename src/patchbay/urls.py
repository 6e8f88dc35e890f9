"""Mount with ``path("integrations/", include("patchbay.urls"))``."""

from __future__ import annotations

from django.urls import path

from patchbay import views

app_name = "patchbay"

urlpatterns = [
    path("status/", views.status, name="status"),
]
