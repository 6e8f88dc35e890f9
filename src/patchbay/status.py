"""The status of every registered service: what is known without calling it, and probes.

:func:`status_report` reads configuration, health and breaker state;
:class:`ServiceCheck` probes a service and stores a ``HealthCheck`` row. The
``patchbay_status`` command, the ``status`` view and the admin's *Test
connection* action use them. (The health counters every live call updates
are kept by :mod:`patchbay.core.health`.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from patchbay.core import registry
from patchbay.core.client import BaseClient
from patchbay.core.health import record_simulated_success
from patchbay.core.recording import refusal_counts
from patchbay.models import ExternalService, HealthCheck, WebhookEvent
from patchbay.tenancy import use_tenant


@dataclass(frozen=True)
class ServiceCheck:
    """Probes one service (of ``tenant_key``; ``""``: the site's) and keeps a HealthCheck row."""

    client_class: type[BaseClient]
    tenant_key: str = ""

    @property
    def provider(self) -> str:
        """The provider this check probes."""
        return self.client_class.provider

    def run(self, *, debug_mode: bool | None = None) -> HealthCheck:
        """Probe the service, store and return the HealthCheck, update the service's health."""
        started = time.perf_counter()
        # Made inside use_tenant, so that clients whose __init__ takes no tenant get it; a
        # key, "" included, names the tenant: the site's probe is never tenant_required.
        with use_tenant(self.tenant_key):
            client = self.client_class(debug_mode=debug_mode)
        result = client.check_health()
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        if result["success"]:
            status = HealthCheck.Status.SUCCESS
        elif result.get("error_code") == "timeout":
            status = HealthCheck.Status.TIMEOUT
        else:
            status = HealthCheck.Status.FAILURE
        # Without the credentials, which a changed key may have made unreadable: the
        # check's result then says so (decryption_failed).
        service, _ = ExternalService.objects.defer("credentials").get_or_create(
            provider=self.provider,
            tenant_key=self.tenant_key,
            defaults={"name": self.client_class.label()},
        )
        check = HealthCheck.objects.create(
            tenant_key=self.tenant_key,
            service=service,
            status=status,
            response_time_ms=elapsed_ms,
            simulated=bool(result.get("simulated", False)),
            error="" if result["success"] else result["error"],
        )
        ExternalService.objects.filter(pk=service.pk).update(last_checked_at=timezone.now())
        if check.simulated and result["success"]:
            # The row may be new, made after the call was recorded: marked here for sure.
            record_simulated_success(self.provider, tenant_key=self.tenant_key, force=True)
        return check


def checks(tenant_key: str = "") -> list[ServiceCheck]:
    """A check for every registered service (of ``tenant_key``)."""
    return [ServiceCheck(client_class, tenant_key) for client_class in registry.client_classes()]


#: How far back the status counts refused webhook deliveries.
REFUSALS_SHOWN_FOR = timedelta(hours=24)
#: The status ``note`` of a simulating service.
SIMULATED_NOTE = "simulated: no credentials needed"


def service_status(client_class: type[BaseClient], tenant_key: str = "") -> dict[str, Any]:
    """What is known about one service (of tenant ``tenant_key``) without calling it.

    Configuration values are named by their Django setting
    (``AWS_STORAGE_BUCKET_NAME``), as users set them. ``missing`` is what
    the current mode needs and lacks: nothing while simulating, which needs
    no credentials; ``missing_for_live`` is what live calls would need.
    ``refused_deliveries`` counts the webhook deliveries refused in the last
    24 hours, by reason. For a tenant, ``tenant`` is its key, and the
    sources say ``tenant`` for values of its own row (see :doc:`/tenants`).
    """
    with use_tenant(tenant_key):  # as in ServiceCheck.run
        client = client_class()
    simulating = client.debug_mode
    missing_for_live = client_class.setting_names(client.config.missing())
    sources = client.config.describe()
    # Health only: credentials a changed key cannot decrypt must not break the report.
    row = (
        ExternalService.objects.filter(provider=client_class.provider, tenant_key=tenant_key)
        .defer("credentials")
        .first()
    )
    tenant = {"tenant": tenant_key} if tenant_key else {}
    return {
        **tenant,
        "provider": client_class.provider,
        "name": client_class.label(),
        "mode": "simulated" if simulating else "live",
        "note": SIMULATED_NOTE if simulating else "",
        "enabled": not client.config.disabled_reason,
        "disabled_reason": client.config.disabled_reason,
        "sdk_installed": client_class.sdk_installed(),
        "missing": [] if simulating else missing_for_live,
        "missing_for_live": missing_for_live,
        "credentials_unreadable": client.config.credentials_unreadable,
        "sources": {
            client_class.setting_names([name])[0]: source for name, source in sources.items()
        },
        "health": row.health_status if row else ExternalService.HealthStatus.UNKNOWN,
        "success_rate": row.success_rate if row else None,
        "breaker": client.breaker.state,
        "refused_deliveries": refusal_counts(
            client_class.provider, timezone.now() - REFUSALS_SHOWN_FOR
        ),
    }


def status_report(tenant_key: str = "") -> list[dict[str, Any]]:
    """:func:`service_status` of every registered service, for ``tenant_key``."""
    return [service_status(client_class, tenant_key) for client_class in registry.client_classes()]


#: Webhook events waiting for a (background) run: never run yet, or failed and retried.
UNPROCESSED = (WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED)


def webhook_queue(*, tenant_key: str | None = None) -> list[dict[str, Any]]:
    """Per provider with events waiting or dead: how many, and the oldest waiting one.

    ``queued`` counts events never run, ``retrying`` failed ones awaiting a
    retry, ``dead`` those whose retries are exhausted; ``oldest_unprocessed``
    is when the oldest queued or retrying event was received. The stored
    events are the queue, whichever backend carries the jobs. Every tenant's
    events, or those of ``tenant_key`` (``""``: the site's).
    """
    events = WebhookEvent.objects.all()
    if tenant_key is not None:
        events = events.filter(tenant_key=tenant_key)
    rows = (
        events.filter(status__in=[*UNPROCESSED, WebhookEvent.Status.DEAD])
        .values("provider")
        .annotate(
            queued=Count("pk", filter=Q(status=WebhookEvent.Status.RECEIVED)),
            retrying=Count("pk", filter=Q(status=WebhookEvent.Status.FAILED)),
            dead=Count("pk", filter=Q(status=WebhookEvent.Status.DEAD)),
            oldest_unprocessed=Min("received_at", filter=Q(status__in=UNPROCESSED)),
        )
        .order_by("provider")
    )
    return [dict(row) for row in rows]
