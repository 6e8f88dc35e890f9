"""What the health dashboard shows, read in a fixed number of queries.

Counts and latency come from the hourly rollups (:mod:`patchbay.core.rollups`),
never from a scan of IntegrationLog rows, so a page costs the same at a million
rows as at a hundred. Each service shows the calls of the mode it is in now:
a simulating service its simulated calls, a live one its live calls.
Windows are whole hours: "the last hour" counts from the start of the hour
before the current one, so it covers between 60 and 120 minutes, and likewise
for the day (24 hours before) and the week (168 hours).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone

from patchbay.core import registry, rollups
from patchbay.models import ExternalService, HealthCheck, IntegrationLog, LogRollup
from patchbay.status import webhook_queue
from patchbay.tenancy import use_tenant

#: The windows each service's success rate and latency are shown for.
WINDOWS: tuple[tuple[str, datetime.timedelta], ...] = (
    ("hour", datetime.timedelta(hours=1)),
    ("day", datetime.timedelta(days=1)),
    ("week", datetime.timedelta(days=7)),
)
#: Hours in the calls and errors chart (the current one last).
CHART_HOURS = 24
#: Latest failures shown per service (found within the last week).
FAILURES_SHOWN = 5


@dataclass(frozen=True)
class WindowStats:
    """Calls of one window: counts, success rate (%), p50 and p95 (ms, see rollups)."""

    name: str
    calls: int
    errors: int
    success_rate: float | None
    p50: int | None
    p95: int | None


@dataclass(frozen=True)
class HourStats:
    hour: datetime.datetime
    calls: int
    errors: int


@dataclass
class ServiceHealth:
    """Everything the dashboard shows about one service."""

    provider: str
    name: str
    simulated: bool
    enabled: bool
    health: str
    breaker: str
    windows: list[WindowStats] = field(default_factory=list)
    hours: list[HourStats] = field(default_factory=list)
    failures: list[IntegrationLog] = field(default_factory=list)
    last_check: HealthCheck | None = None
    backlog: dict[str, Any] = field(default_factory=dict)


def overview(now: datetime.datetime | None = None, *, tenant_key: str = "") -> list[ServiceHealth]:
    """A :class:`ServiceHealth` per registered service, in the registry's order.

    Of one tenant's services (see :doc:`/tenants`): the site's by default.
    """
    now = now or timezone.now()
    current = rollups.hour_of(now)
    starts = {name: current - span for name, span in WINDOWS}
    week_start = min(starts.values())
    services = []
    for client_class in registry.client_classes():
        with use_tenant(tenant_key):  # its configuration and breaker are the tenant's
            client = client_class()
        services.append(
            ServiceHealth(
                provider=client_class.provider,
                name=client_class.label(),
                simulated=client.debug_mode,
                enabled=not client.config.disabled_reason,
                health=ExternalService.HealthStatus.UNKNOWN,
                breaker=client.breaker.state,
            )
        )
    if not services:
        return services
    modes = Q()
    for service in services:
        modes |= Q(provider=service.provider, simulated=service.simulated)
    recent = LogRollup.objects.filter(modes, tenant_key=tenant_key, hour__gte=week_start)
    hourly = _hourly(recent)
    histograms = _histograms(recent, starts)
    _add_rows(services, tenant_key)
    backlog = {row["provider"]: row for row in webhook_queue(tenant_key=tenant_key)}
    chart_hours = [current - datetime.timedelta(hours=n) for n in range(CHART_HOURS - 1, -1, -1)]
    for service in services:
        counts = hourly.get(service.provider, {})
        service.hours = [HourStats(hour, *counts.get(hour, (0, 0))) for hour in chart_hours]
        service.windows = [
            _window(name, counts, starts[name], histograms[service.provider][name])
            for name, _ in WINDOWS
        ]
        service.failures = _failures(service, counts, tenant_key)
        service.backlog = backlog.get(service.provider, {})
    return services


def _hourly(recent: Any) -> dict[str, dict[datetime.datetime, tuple[int, int]]]:
    rows = recent.values("provider", "hour").annotate(c=Sum("calls"), e=Sum("errors")).order_by()
    hourly: dict[str, dict[datetime.datetime, tuple[int, int]]] = defaultdict(dict)
    for row in rows:
        hourly[row["provider"]][rollups.hour_of(row["hour"])] = (row["c"], row["e"])
    return hourly


def _histograms(
    recent: Any, starts: dict[str, datetime.datetime]
) -> dict[str, dict[str, list[int]]]:
    # Not named after the windows: "hour" would shadow the field the filters read.
    sums = {f"in_{name}": Sum("calls", filter=Q(hour__gte=start)) for name, start in starts.items()}
    rows = recent.values("provider", "bucket").annotate(**sums).order_by()
    histograms: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: {name: [0] * rollups.BUCKETS for name in starts}
    )
    for row in rows:
        for name in starts:
            histograms[row["provider"]][name][row["bucket"]] = row[f"in_{name}"] or 0
    return histograms


def _window(
    name: str,
    counts: dict[datetime.datetime, tuple[int, int]],
    start: datetime.datetime,
    histogram: list[int],
) -> WindowStats:
    calls = sum(c for hour, (c, _) in counts.items() if hour >= start)
    errors = sum(e for hour, (_, e) in counts.items() if hour >= start)
    return WindowStats(
        name=name,
        calls=calls,
        errors=errors,
        success_rate=round(100.0 * (calls - errors) / calls, 2) if calls else None,
        p50=rollups.percentile(histogram, 0.50) if calls else None,
        p95=rollups.percentile(histogram, 0.95) if calls else None,
    )


def _add_rows(services: list[ServiceHealth], tenant_key: str) -> None:
    """Health from each ExternalService row, and its last probe: two queries."""
    latest = HealthCheck.objects.filter(service=OuterRef("pk")).order_by("-checked_at", "-id")
    rows = (
        ExternalService.objects.filter(
            tenant_key=tenant_key, provider__in=[service.provider for service in services]
        )
        .only("provider", "health_status")
        .annotate(last_check_id=Subquery(latest.values("pk")[:1]))
    )
    by_provider = {row.provider: row for row in rows}
    checks = HealthCheck.objects.in_bulk(
        [row.last_check_id for row in by_provider.values() if row.last_check_id]
    )
    for service in services:
        row = by_provider.get(service.provider)
        if row is not None:
            service.health = row.health_status
            service.last_check = checks.get(row.last_check_id)


def _failures(
    service: ServiceHealth, counts: dict[datetime.datetime, tuple[int, int]], tenant_key: str
) -> list[IntegrationLog]:
    """The latest failures, read only from the hours the rollups say hold them.

    At most :data:`FAILURES_SHOWN` hours, so the rows read stay few however
    long ago the last failure was.
    """
    hours: list[datetime.datetime] = []
    found = 0
    for hour in sorted(counts, reverse=True):
        if counts[hour][1]:
            hours.append(hour)
            found += counts[hour][1]
            if found >= FAILURES_SHOWN:
                break
    if not hours:
        return []  # no failure this week: no query
    within = Q()
    for hour in hours:
        within |= Q(created_at__gte=hour, created_at__lt=hour + datetime.timedelta(hours=1))
    return list(
        IntegrationLog.objects.filter(
            within,
            tenant_key=tenant_key,
            provider=service.provider,
            direction=IntegrationLog.Direction.OUTBOUND,
            simulated=service.simulated,
            success=False,
        )
        .only("provider", "operation", "created_at", "error_code", "error", "status_code")
        .order_by("-created_at", "-id")[:FAILURES_SHOWN]
    )
