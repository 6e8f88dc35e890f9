"""The API's URLs, included by :mod:`patchbay.urls` under ``api/``."""

from __future__ import annotations

from django.urls import path

from patchbay.views import LazyView

urlpatterns = [
    path("api/schema/", LazyView("patchbay.api.schema.schema"), name="api-schema"),
    path("api/services/", LazyView("patchbay.api.services.ServiceList"), name="api-services"),
    path(
        "api/services/<str:provider>/",
        LazyView("patchbay.api.services.ServiceDetail"),
        name="api-service",
    ),
    path(
        "api/services/<str:provider>/toggle/",
        LazyView("patchbay.api.services.ServiceToggle"),
        name="api-service-toggle",
    ),
    path(
        "api/services/<str:provider>/test/",
        LazyView("patchbay.api.services.ServiceTest"),
        name="api-service-test",
    ),
    path(
        "api/services/<str:provider>/health/",
        LazyView("patchbay.api.services.ServiceHealth"),
        name="api-service-health",
    ),
    path("api/logs/", LazyView("patchbay.api.logs.LogList"), name="api-logs"),
    path("api/webhooks/events/", LazyView("patchbay.api.webhooks.EventList"), name="api-events"),
    # Before the event's own URL, whose <event_id> would take "reprocess".
    path(
        "api/webhooks/events/reprocess/",
        LazyView("patchbay.api.webhooks.EventsReprocess"),
        name="api-events-reprocess",
    ),
    path(
        "api/webhooks/events/<str:event_id>/",
        LazyView("patchbay.api.webhooks.EventDetail"),
        name="api-event",
    ),
    path(
        "api/webhooks/events/<str:event_id>/reprocess/",
        LazyView("patchbay.api.webhooks.EventReprocess"),
        name="api-event-reprocess",
    ),
]
