"""Mount with ``path("integrations/", include("patchbay.urls"))``.

Views are named by dotted path (:class:`~patchbay.views.LazyView`): loading
the URLconf, as ``manage.py check`` and every process's first request do,
imports no view module; each is imported when first needed, by a request to
its URL or by the process's first ``reverse()``.
"""

from __future__ import annotations

from django.urls import path

from patchbay import views
from patchbay.api import urls as api_urls
from patchbay.aws import urls as aws_urls
from patchbay.loops import urls as loops_urls
from patchbay.oauth2 import urls as oauth2_urls
from patchbay.stripe import urls as stripe_urls
from patchbay.twilio import urls as twilio_urls

app_name = "patchbay"

urlpatterns = [
    path("status/", views.status, name="status"),
    path("metrics/", views.metrics, name="metrics"),
    path("dashboard/", views.dashboard, name="dashboard"),
    *api_urls.urlpatterns,
    *stripe_urls.urlpatterns,
    *twilio_urls.urlpatterns,
    *loops_urls.urlpatterns,
    *aws_urls.urlpatterns,
    *oauth2_urls.urlpatterns,
]
