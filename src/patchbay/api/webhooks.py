"""The webhook events endpoints: list, retrieve, and reprocess one or many."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse

from patchbay.api import serialization
from patchbay.api.base import APIView, answer
from patchbay.api.errors import APIError
from patchbay.api.query import PAGING, date_filter, listing, page
from patchbay.core.arguments import row_id
from patchbay.models import WebhookEvent
from patchbay.webhooks.processing import reprocess_many

VIEW = ("patchbay.view_webhookevent",)
# Running handlers again is a change, as the admin's Reprocess action says.
REPROCESS = (*VIEW, "patchbay.change_webhookevent")
#: The most events one request reprocesses (each runs its handlers in its own transaction).
MAX_REPROCESS = 100


class EventList(APIView):
    permissions = {"GET": VIEW}
    parameters = {
        "GET": ("provider", "tenant", "status", "type", "start_date", "end_date", *PAGING)
    }

    def get(self, request: HttpRequest) -> JsonResponse:
        query = self.query()
        events = WebhookEvent.objects.filter(date_filter(query, "received_at"))
        if (provider := query.text("provider", max_length=50)) is not None:
            events = events.filter(provider=provider)
        if (tenant := query.text("tenant", max_length=64)) is not None:
            events = events.filter(tenant_key=tenant)
        if (status := query.choice("status", WebhookEvent.Status.values)) is not None:
            events = events.filter(status=status)
        if (event_type := query.text("type")) is not None:
            events = events.filter(event_type=event_type)
        found, cursor = page(events, query, order_field="received_at", name="events")
        return answer(listing([serialization.webhook_event(event) for event in found], cursor))


class EventDetail(APIView):
    permissions = {"GET": VIEW}

    def get(self, request: HttpRequest, event_id: str) -> JsonResponse:
        self.query()
        event = get_event(event_id)
        return answer(serialization.webhook_event(event, payload=True))


class EventReprocess(APIView):
    permissions = {"POST": REPROCESS}

    def post(self, request: HttpRequest, event_id: str) -> JsonResponse:
        self.query()
        event = get_event(event_id)
        return answer({"results": reprocessed(WebhookEvent.objects.filter(pk=event.pk))})


class EventsReprocess(APIView):
    """Reprocess the events ``{"ids": [...]}`` names: all of them, or none if one is missing."""

    permissions = {"POST": REPROCESS}

    def post(self, request: HttpRequest) -> JsonResponse:
        self.query()
        body = self.body()
        ids = body.get("ids")
        if set(body) != {"ids"} or not isinstance(ids, list) or not 1 <= len(ids) <= MAX_REPROCESS:
            raise APIError(400, f'Give {{"ids": [...]}}: from 1 to {MAX_REPROCESS} event ids.')
        given = [row_id(value) for value in ids]
        wanted = {pk for pk in given if pk is not None}
        if len(wanted) < len(set(given)):
            raise APIError(400, "Every id must be a positive integer.")
        events = WebhookEvent.objects.filter(pk__in=wanted)
        missing = sorted(wanted - set(events.values_list("pk", flat=True)))
        if missing:
            raise APIError(404, f"No webhook event {', '.join(map(str, missing[:10]))}.")
        return answer({"results": reprocessed(events)})


def get_event(event_id: str) -> WebhookEvent:
    pk = row_id(event_id)
    event = WebhookEvent.objects.filter(pk=pk).first() if pk is not None else None
    if event is None:
        raise APIError(404, f"No webhook event {event_id!r:.40}.")
    return event


def reprocessed(events: QuerySet[WebhookEvent]) -> list[dict[str, object]]:
    """Each event after its handlers ran again (the admin action's code path)."""
    results = []
    for event, _status in reprocess_many(events):
        event.refresh_from_db()
        results.append(serialization.webhook_event(event))
    return results
