"""The health bookkeeping of live calls: counters and status on the ExternalService row.

Each batch of outcomes is applied in one atomic UPDATE (see :ref:`health`).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import NamedTuple

from django.db.models import Case, F, Value, When
from django.utils import timezone

from patchbay.conf import conf
from patchbay.models import ExternalService
from patchbay.models.services import HealthStatus


class Outcome(NamedTuple):
    """How one live call went, as far as the service's health is concerned.

    ``service_fault`` marks failures that say the service itself is unwell
    (timeouts, 5xx, bad credentials); other failures (a declined card) prove it
    answered, so they keep it HEALTHY while still counting as failed requests.
    ``at``, the time of the call, defaults to the time it is stored.
    """

    success: bool
    service_fault: bool = False
    error: str = ""
    at: datetime.datetime | None = None

    @property
    def resets(self) -> bool:
        """Whether this outcome ends a run of consecutive failures."""
        return self.success or not self.service_fault


def record_outcome(
    provider: str, *, success: bool, service_fault: bool = False, error: str = "", name: str = ""
) -> None:
    """Update counters and health after one live call."""
    record_outcomes(provider, [Outcome(success, service_fault, error)], name=name)


def record_outcomes(provider: str, outcomes: Sequence[Outcome], *, name: str = "") -> None:
    """Apply ``outcomes`` (oldest first) to the service's row in one UPDATE.

    The result is the same as applying them one by one: only the failures after
    the last reset count towards ``consecutive_failures``, and the health
    status follows from the final count.
    """
    if not outcomes:
        return
    now = timezone.now()
    outcomes = [outcome if outcome.at else outcome._replace(at=now) for outcome in outcomes]
    failures = [outcome for outcome in outcomes if not outcome.success]
    successes = [outcome for outcome in outcomes if outcome.success]
    resets = [index for index, outcome in enumerate(outcomes) if outcome.resets]
    trailing_faults = len(outcomes) - 1 - resets[-1] if resets else len(outcomes)

    updates: dict[str, object] = {"total_requests": F("total_requests") + len(outcomes)}
    if failures:
        updates.update(
            failed_requests=F("failed_requests") + len(failures),
            last_error=failures[-1].error[:2000],
            last_failure_at=failures[-1].at,
        )
    if successes:
        updates["last_success_at"] = successes[-1].at
    threshold = conf.HEALTH_DOWN_THRESHOLD
    if not trailing_faults:
        updates.update(consecutive_failures=0, health_status=HealthStatus.HEALTHY)
    elif resets:  # the run of failures started within this batch
        updates.update(
            consecutive_failures=trailing_faults,
            health_status=HealthStatus.DOWN
            if trailing_faults >= threshold
            else HealthStatus.DEGRADED,
        )
    else:  # the run continues from the stored count
        updates.update(
            consecutive_failures=F("consecutive_failures") + trailing_faults,
            health_status=Case(
                When(
                    consecutive_failures__gte=threshold - trailing_faults,
                    then=Value(HealthStatus.DOWN),
                ),
                default=Value(HealthStatus.DEGRADED),
            ),
        )
    if not ExternalService.objects.filter(provider=provider).update(**updates):
        ExternalService.objects.get_or_create(provider=provider, defaults={"name": name})
        ExternalService.objects.filter(provider=provider).update(**updates)
