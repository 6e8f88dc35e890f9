"""patchbay.urls mounted inside another include without a namespace: reverse() finds it."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("api/", include([path("integrations/", include("patchbay.urls"))]))]
