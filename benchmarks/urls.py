"""URLs of the benchmarks' Django project: the admin and patchbay's endpoints."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("integrations/", include("patchbay.urls")),
]
