"""patchbay.urls inside a namespaced include: ``reverse("patchbay:…")`` cannot find it."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("api/", include(([path("integrations/", include("patchbay.urls"))], "api"))),
]
