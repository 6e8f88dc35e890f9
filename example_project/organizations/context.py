"""The header's organization switcher, on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from organizations.models import Organization


def organizations(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "organizations": list(Organization.objects.all()),
        "current_organization": getattr(request, "patchbay_tenant", None),
    }
