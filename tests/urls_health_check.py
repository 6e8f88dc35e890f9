"""django-health-check's views with patchbay's checks, as docs/operations.rst mounts them."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from health_check.views import HealthCheckView

from patchbay.health_checks import service_checks

urlpatterns = [
    # Monitors do not sign in: public even behind LoginRequiredMiddleware.
    path("health/", login_not_required(HealthCheckView.as_view(checks=service_checks()))),
    path(
        "health/probe/",
        login_not_required(
            HealthCheckView.as_view(
                checks=service_checks(probe=True, timeout=datetime.timedelta(seconds=0))
            )
        ),
    ),
    path("integrations/", include("patchbay.urls")),
]
