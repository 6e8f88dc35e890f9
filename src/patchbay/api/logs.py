"""The logs endpoint: IntegrationLog rows, filtered, newest first, a page at a time."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from patchbay.api import serialization
from patchbay.api.base import APIView, answer
from patchbay.api.query import PAGING, date_filter, listing, page
from patchbay.models import IntegrationLog


class LogList(APIView):
    permissions = {"GET": ("patchbay.view_integrationlog",)}
    parameters = {
        "GET": (
            "provider",
            "tenant",
            "level",
            "success",
            "operation",
            "direction",
            "start_date",
            "end_date",
            *PAGING,
        )
    }

    def get(self, request: HttpRequest) -> JsonResponse:
        query = self.query()
        rows = IntegrationLog.objects.filter(date_filter(query, "created_at"))
        if (provider := query.text("provider", max_length=50)) is not None:
            rows = rows.filter(provider=provider)
        if (tenant := query.text("tenant", max_length=64)) is not None:
            rows = rows.filter(tenant_key=tenant)
        if (operation := query.text("operation", max_length=100)) is not None:
            rows = rows.filter(operation=operation)
        if (level := query.choice("level", IntegrationLog.Level.values)) is not None:
            rows = rows.filter(level=level)
        if (direction := query.choice("direction", IntegrationLog.Direction.values)) is not None:
            rows = rows.filter(direction=direction)
        if (success := query.boolean("success")) is not None:
            rows = rows.filter(success=success)
        found, cursor = page(rows, query, order_field="created_at", name="logs")
        return answer(listing([serialization.log(row) for row in found], cursor))
