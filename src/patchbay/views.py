"""patchbay's own views (service endpoints live in each service's package)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from patchbay.health import status_report


@require_GET
@staff_member_required
def status(request: HttpRequest) -> JsonResponse:
    """Every service's mode, configuration sources, health and breaker state (staff only)."""
    return JsonResponse({"services": status_report()})
