"""Health bookkeeping on the ExternalService row, in one atomic UPDATE per call."""

from __future__ import annotations

from django.db.models import Case, F, Value, When
from django.utils import timezone

from patchbay.conf import conf
from patchbay.models import ExternalService
from patchbay.models.services import HealthStatus


def record_outcome(
    provider: str, *, success: bool, service_fault: bool = False, error: str = "", name: str = ""
) -> None:
    """Update counters and health after one live call.

    ``service_fault`` marks failures that say the service itself is unwell
    (timeouts, 5xx, bad credentials); other failures (a declined card) prove it
    answered, so they keep it HEALTHY while still counting as failed requests.
    """
    now = timezone.now()
    updates: dict[str, object] = {"total_requests": F("total_requests") + 1}
    if not success:
        updates.update(
            failed_requests=F("failed_requests") + 1, last_error=error[:2000], last_failure_at=now
        )
    if success or not service_fault:
        updates.update(consecutive_failures=0, health_status=HealthStatus.HEALTHY)
        if success:
            updates["last_success_at"] = now
    else:
        updates.update(
            consecutive_failures=F("consecutive_failures") + 1,
            health_status=Case(
                When(
                    consecutive_failures__gte=conf.HEALTH_DOWN_THRESHOLD - 1,
                    then=Value(HealthStatus.DOWN),
                ),
                default=Value(HealthStatus.DEGRADED),
            ),
        )
    if not ExternalService.objects.filter(provider=provider).update(**updates):
        ExternalService.objects.get_or_create(provider=provider, defaults={"name": name})
        ExternalService.objects.filter(provider=provider).update(**updates)
