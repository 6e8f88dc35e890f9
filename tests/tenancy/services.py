"""What the per-service tenancy tests share: a tenant's own provider account and endpoint.

The fixtures (``tenancy``, ``acme``, ``globex``) are in conftest.py.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from patchbay.models import ExternalService


def connect(tenant: Any, provider: str, **credentials: Any) -> ExternalService:
    """``tenant``'s own ``provider`` account (options go in ``options=``)."""
    options = credentials.pop("options", {})
    service, _ = ExternalService.objects.update_or_create(
        tenant_key=str(tenant.pk),
        provider=provider,
        defaults={"credentials": credentials, "options": options, "enabled": True},
    )
    return service


def endpoint_path(url_name: str, tenant: Any, provider: str) -> str:
    """The path of ``tenant``'s own endpoint ``url_name`` (its row's webhook_endpoint)."""
    service = ExternalService.objects.get(tenant_key=str(tenant.pk), provider=provider)
    return reverse(f"patchbay:{url_name}-tenant", kwargs={"endpoint": service.webhook_endpoint})
