"""Background processing (``PATCHBAY_WEBHOOK_PROCESSING = "background"``).

The request stores the verified event and answers; a task, enqueued when that
transaction commits, runs its handlers in a worker. The stored event is the
source of truth and the queue only a trigger: a job enqueued twice, or lost,
changes nothing that :func:`resume` does not put right.

Exactly once: a run first *claims* the event with one conditional UPDATE (due,
not done, not claimed by a live claim), which at most one worker wins, and
which counts the attempt; it then locks the row while the handlers run and
their writes commit with the event's new status, so a claim that expires
meanwhile cannot be taken over before that commit, and after it the event is
done. A worker killed mid-run rolls back its transaction; its claim expires
after ``PATCHBAY_WEBHOOK_CLAIM_SECONDS`` and the resume hands the event on.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from patchbay.conf import conf
from patchbay.core import tasks
from patchbay.core.tasks import MAX_RETRY_DELAY as MAX_RETRY_DELAY
from patchbay.core.tasks import (
    enqueue,
    enqueue_after,
    enqueue_on_commit_using,
    task,
)
from patchbay.models import WebhookEvent
from patchbay.tenancy import current_tenant_key, use_tenant
from patchbay.webhooks.processing import (
    DUPLICATE,
    Then,
    _error_text,
    _failure_status,
    dispatch,
    new_event_fields,
)
from patchbay.webhooks.statements import EventStatements
from patchbay.webhooks.verification import VerifiedDelivery

logger = logging.getLogger("patchbay.webhooks")

#: What :func:`process_event` returns when it did not run the event: another worker
#: holds it, it is done, or its retry is not due yet.
SKIPPED = "skipped"
#: Statuses a background run may claim.
RUNNABLE = (WebhookEvent.Status.RECEIVED, WebhookEvent.Status.FAILED)
#: Events stored or failed this recently are left to the job already enqueued for them.
RESUME_GRACE_SECONDS = 60.0


def store_delivery(
    provider: str,
    delivery: VerifiedDelivery,
    then: Then | None = None,
    *,
    tenant_key: str | None = None,
) -> tuple[WebhookEvent, str]:
    """Store ``delivery`` and enqueue its run on commit; the event and the outcome.

    ``tenant_key`` is that of :func:`~patchbay.webhooks.processing.process_delivery`;
    the run reads it from the stored event.

    The outcome is ``"received"`` for a new event and ``"duplicate"`` for a
    redelivery. A redelivery of an event not yet done enqueues a run again:
    the claim makes the extra job harmless.
    """
    using = router.db_for_write(WebhookEvent)
    key = current_tenant_key() if tenant_key is None else tenant_key
    with use_tenant(key), transaction.atomic(using=using):
        event, created = _store(using, provider, delivery)
        outcome = WebhookEvent.Status.RECEIVED if created else DUPLICATE
        if created or event.status in RUNNABLE:
            enqueue_on_commit_using(using, process_webhook_event, event.pk)
        if then is not None:
            then(event, outcome)
    return event, outcome


def _store(using: str, provider: str, delivery: VerifiedDelivery) -> tuple[WebhookEvent, bool]:
    """The stored event and whether this delivery stored it.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` where the database has
    it, as inline processing stores events: the ORM's ``get_or_create`` costs a
    SELECT, a savepoint and the INSERT, and the acknowledgement is mostly that.
    """
    statements = EventStatements.get(connections[using])
    if statements is not None:
        status = WebhookEvent.Status.RECEIVED
        event = statements.claim(provider, delivery, status, timezone.now(), attempts=0)
        if event is not None:
            return event, True
        stored = statements.find(provider, delivery.event_id)
        if stored is not None:
            return stored, False
        # Stored a moment ago and pruned since: the ORM's way stores it anew.
    return WebhookEvent.objects.using(using).get_or_create(
        tenant_key=current_tenant_key(),
        provider=provider,
        event_id=delivery.event_id,
        defaults={**new_event_fields(delivery), "status": WebhookEvent.Status.RECEIVED},
    )


def claimable(now: datetime) -> Q:
    """Events a background run may claim at ``now``."""
    return (
        Q(status__in=RUNNABLE)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
    )


def retry_delay(attempts: int) -> float:
    """Seconds before an event's retry after ``attempts`` failed runs: the shared backoff."""
    return tasks.retry_delay(attempts, conf.WEBHOOK_RETRY_DELAY)


def process_event(event_pk: int) -> str:
    """Claim the event and run its handlers; its new status, or :data:`SKIPPED`."""
    using = router.db_for_write(WebhookEvent)
    events = WebhookEvent.objects.using(using)
    now = timezone.now()
    lease = now + timedelta(seconds=conf.WEBHOOK_CLAIM_SECONDS)
    claimed = events.filter(claimable(now), pk=event_pk).update(
        claimed_until=lease, attempts=F("attempts") + 1, updated_at=now
    )
    if not claimed:
        return SKIPPED
    with transaction.atomic(using=using):
        # Locked until the outcome commits; gone if the claim expired and was taken over.
        event = events.select_for_update().filter(pk=event_pk, claimed_until=lease).first()
        if event is None:
            return SKIPPED
        failed = dispatch(event, using=using)
        if failed is not None:
            _fail(event, failed)
        else:
            event.next_attempt_at = None
        event.claimed_until = None
        event.save(
            update_fields=[
                "status",
                "error",
                "processed_at",
                "next_attempt_at",
                "claimed_until",
                "updated_at",
            ]
        )
    if event.status == WebhookEvent.Status.FAILED and event.next_attempt_at is not None:
        # A backend that cannot defer (the immediate one) leaves the retry to resume().
        enqueue_after(event.next_attempt_at, process_webhook_event, event_pk)
    return event.status


def _fail(event: WebhookEvent, exc: Exception) -> None:
    event.error = _error_text(exc)
    event.next_attempt_at = None
    if _failure_status(exc) == WebhookEvent.Status.MALFORMED:
        event.status = WebhookEvent.Status.MALFORMED  # no retry would change it
    elif event.attempts >= conf.WEBHOOK_MAX_ATTEMPTS:
        event.status = WebhookEvent.Status.DEAD
        logger.error(
            "%s event %s is dead after %d attempts",
            event.provider,
            event.event_id,
            event.attempts,
        )
    else:
        event.status = WebhookEvent.Status.FAILED
        event.next_attempt_at = timezone.now() + timedelta(seconds=retry_delay(event.attempts))


def resume(*, limit: int = 1000, grace: float = RESUME_GRACE_SECONDS) -> int:
    """Enqueue a run of every event that is due and unclaimed; how many were enqueued.

    That is events stored but never run (the broker was down, the job was
    lost), failed ones whose retry is due and ones whose worker died with
    its claim. Those stored or failed in the last ``grace`` seconds are left
    to the job enqueued for them already.
    """
    now = timezone.now()
    due = (
        WebhookEvent.objects.using(router.db_for_read(WebhookEvent))
        .filter(claimable(now), updated_at__lte=now - timedelta(seconds=grace))
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    pks = list(due)
    for pk in pks:
        enqueue(process_webhook_event, pk)
    return len(pks)


@task
def process_webhook_event(event_pk: int) -> str:
    """The task a stored event's run is: :func:`process_event`."""
    return process_event(event_pk)


@task
def resume_webhooks() -> int:
    """The periodic task form of ``patchbay_resume_webhooks``: :func:`resume`."""
    return resume()
