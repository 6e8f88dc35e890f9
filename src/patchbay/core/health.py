"""The health bookkeeping of live calls: counters and status on the ExternalService row.

Each batch of outcomes is applied in one atomic UPDATE (see :ref:`health`).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import NamedTuple

from django.db import router, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver as connected_to
from django.utils import timezone

from patchbay.conf import conf
from patchbay.models import ExternalService
from patchbay.models.services import HealthStatus
from patchbay.signals import service_health_changed

logger = logging.getLogger("patchbay")


class Outcome(NamedTuple):
    """How one live call went, as far as the service's health is concerned.

    ``service_fault`` marks failures that say the service itself is unwell
    (timeouts, 5xx, bad credentials); other failures (a declined card) prove it
    answered, so they keep it HEALTHY while still counting as failed requests.
    ``at``, the time of the call, defaults to the time it is stored. A
    ``simulated`` success counts for nothing, but moves a service whose health
    is still UNKNOWN to HEALTHY (see :func:`record_simulated_success`).
    """

    success: bool
    service_fault: bool = False
    error: str = ""
    at: datetime.datetime | None = None
    simulated: bool = False

    @property
    def resets(self) -> bool:
        """Whether this outcome ends a run of consecutive failures."""
        return self.success or not self.service_fault


def record_outcome(
    provider: str,
    *,
    success: bool,
    service_fault: bool = False,
    error: str = "",
    name: str = "",
    tenant_key: str = "",
) -> None:
    """Update counters and health after one live call."""
    record_outcomes(
        provider, [Outcome(success, service_fault, error)], name=name, tenant_key=tenant_key
    )


def record_outcomes(
    provider: str, outcomes: Sequence[Outcome], *, name: str = "", tenant_key: str = ""
) -> None:
    """Apply ``outcomes`` (oldest first) to the service's row of ``tenant_key`` in one UPDATE.

    Each tenant's row has its own health (``""``: the site's); a tenant's
    first outcome creates its row, empty (its configuration still falls back
    to the site's).

    The result is the same as applying them one by one: only the failures after
    the last reset count towards ``consecutive_failures``, and the health
    status follows from the final count. A change of status sends
    :data:`~patchbay.signals.service_health_changed` after commit.
    """
    if any(outcome.simulated for outcome in outcomes):
        if any(outcome.simulated and outcome.success for outcome in outcomes):
            record_simulated_success(provider, tenant_key=tenant_key)
        outcomes = [outcome for outcome in outcomes if not outcome.simulated]
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
    # Each target: the stored rows it applies to, and the status they move to.
    targets: list[tuple[Q, str]]
    if not trailing_faults:
        updates["consecutive_failures"] = 0
        targets = [(Q(), HealthStatus.HEALTHY)]
    elif resets:  # the run of failures started within this batch
        updates["consecutive_failures"] = trailing_faults
        status = HealthStatus.DOWN if trailing_faults >= threshold else HealthStatus.DEGRADED
        targets = [(Q(), status)]
    else:  # the run continues from the stored count
        updates["consecutive_failures"] = F("consecutive_failures") + trailing_faults
        reaches_down = Q(consecutive_failures__gte=threshold - trailing_faults)
        targets = [(~reaches_down, HealthStatus.DEGRADED), (reaches_down, HealthStatus.DOWN)]
    transition = _update(provider, tenant_key, updates, targets)
    if transition is None:
        ExternalService.objects.get_or_create(
            provider=provider, tenant_key=tenant_key, defaults={"name": name}
        )
        transition = _update(provider, tenant_key, updates, targets)
    if transition is not None and _worth_a_signal(*transition):
        # Healthy again needs no reason; a failure's is its error (already redacted).
        reason = failures[-1].error[:2000] if trailing_faults else ""
        _announce(provider, tenant_key, *transition, reason=reason)


#: The services (``provider@tenant``) this process has marked after a simulated success, or
#: found without a row, or not UNKNOWN: later simulated calls cost them no query.
_simulation_noted: set[str] = set()


def record_simulated_success(provider: str, *, tenant_key: str = "", force: bool = False) -> bool:
    """Mark the service HEALTHY after a simulated success, if its health is still UNKNOWN.

    Simulated calls prove the integration works as far as it can without the
    provider: a service that never made a live call then reads HEALTHY (the
    admin says why) instead of UNKNOWN. The counters are left to live calls,
    and a row is never created for it. Once per service and process (until a
    row is saved); ``force`` (*Test connection*) checks again. Whether it changed
    the row.
    """
    seen = f"{provider}@{tenant_key}"
    if _noted(provider, tenant_key) and not force:
        return False
    _simulation_noted.add(seen)
    changed = ExternalService.objects.filter(
        provider=provider, tenant_key=tenant_key, health_status=HealthStatus.UNKNOWN
    ).update(health_status=HealthStatus.HEALTHY)
    return bool(changed)


def writes(provider: str, outcomes: Sequence[Outcome], *, tenant_key: str = "") -> bool:
    """Whether :func:`record_outcomes` of these would write to the database.

    A live outcome always does; simulated ones only for a success of a service
    not yet marked (see :func:`record_simulated_success`).
    """
    if any(not outcome.simulated for outcome in outcomes):
        return True
    return any(outcome.success for outcome in outcomes) and not _noted(provider, tenant_key)


def _noted(provider: str, tenant_key: str) -> bool:
    return f"{provider}@{tenant_key}" in _simulation_noted


def forget_simulation_notes() -> None:
    """Let the next simulated success look at the services' rows again."""
    _simulation_noted.clear()


@connected_to(post_save, sender="patchbay.ExternalService")
@connected_to(post_delete, sender="patchbay.ExternalService")
def _service_saved(**kwargs: object) -> None:
    # A new row (or one reset by hand) may be UNKNOWN again.
    forget_simulation_notes()


# What _update answers when it cannot tell the transition.
_UNTOLD = ("", "")
# Not a change worth a signal: a service's first successful call is how it should be.
_FIRST_SUCCESS = (HealthStatus.UNKNOWN, HealthStatus.HEALTHY)


def _worth_a_signal(old: str, new: str) -> bool:
    return old != new and (old, new) not in {_UNTOLD, _FIRST_SUCCESS}


#: The status a process last saw each service in (``provider``, ``provider@tenant``): its
#: likeliest stored status.
_last_seen: dict[str, str] = {}


def _update(
    provider: str, tenant_key: str, updates: dict[str, object], targets: list[tuple[Q, str]]
) -> tuple[str, str] | None:
    """Apply ``updates`` with the status that follows; ``(old, new)``, None with no row.

    Each UPDATE names the stored status it replaces, so the one that matches
    tells which transition it made: atomic per row, so of processes updating
    at once exactly one sees a given move (PostgreSQL re-reads the row it
    waited for before matching it again). The status this process last saw
    is tried first: nearly always one UPDATE.
    """
    rows = ExternalService.objects.filter(provider=provider, tenant_key=tenant_key)
    seen = f"{provider}@{tenant_key}" if tenant_key else provider
    likeliest = _last_seen.get(seen, HealthStatus.HEALTHY)
    olds = [likeliest, *(status for status in HealthStatus.values if status != likeliest)]
    # A run continuing where it was (down and still failing) first: one UPDATE.
    targets = sorted(targets, key=lambda target: target[1] != likeliest)
    for old in olds:
        for applies_to, new in targets:
            if rows.filter(applies_to, health_status=old).update(**updates, health_status=new):
                _last_seen[seen] = new
                return old, new
    # A status outside the choices (set by hand), or one changing under every attempt:
    # applied without knowing the old one, so no transition is announced.
    status: object = Value(targets[0][1])
    if len(targets) > 1:
        status = Case(*(When(applies_to, then=Value(new)) for applies_to, new in targets))
    if rows.update(**updates, health_status=status):
        _last_seen.pop(seen, None)
        return _UNTOLD
    return None


def _announce(provider: str, tenant_key: str, old: str, new: str, *, reason: str) -> None:
    """Send :data:`~patchbay.signals.service_health_changed` once the change commits."""

    def send() -> None:
        for receiver, response in service_health_changed.send_robust(
            sender=provider,
            provider=provider,
            old_state=old,
            new_state=new,
            reason=reason,
            tenant_key=tenant_key,
        ):
            if isinstance(response, Exception):
                logger.error(
                    "A service_health_changed receiver (%r) failed",
                    receiver,
                    exc_info=response,
                )

    transaction.on_commit(send, using=router.db_for_write(ExternalService))
