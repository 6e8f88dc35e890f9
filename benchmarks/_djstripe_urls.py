"""URLs of the dj-stripe server: its webhook endpoint and the readiness probe."""

from __future__ import annotations

from django.urls import include, path

from benchmarks._webhook_urls import ready_view

urlpatterns = [
    path("ready/", ready_view),
    path("djstripe/", include("djstripe.urls", namespace="djstripe")),
]
