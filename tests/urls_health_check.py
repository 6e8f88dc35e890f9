"""django-health-check's views with patchbay's checks, as docs/operations.rst mounts them."""

from __future__ import annotations

import datetime

from django.urls import include, path
from health_check.views import HealthCheckView

from patchbay.health_checks import service_checks

urlpatterns = [
    path("health/", HealthCheckView.as_view(checks=service_checks())),
    path(
        "health/probe/",
        HealthCheckView.as_view(
            checks=service_checks(probe=True, timeout=datetime.timedelta(seconds=0))
        ),
    ),
    path("integrations/", include("patchbay.urls")),
]
