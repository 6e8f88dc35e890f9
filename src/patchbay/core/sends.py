"""What the background sends (SMS, emails) share: claiming a row, retrying it, resuming it.

A send's row is the source of truth and the queue only a trigger, as for
webhook events. A task claims a ``pending`` row that is due with one
conditional UPDATE (``pending`` → ``sending``, one attempt more), so however
many jobs run for it, one sends. A failure that is safe to retry puts the row
back to ``pending`` with a ``next_attempt_at`` (the webhooks' backoff, from
:setting:`PATCHBAY_SEND_RETRY_DELAY`) and enqueues the retry for then, until
:setting:`PATCHBAY_SEND_MAX_ATTEMPTS`; :func:`resume_sends` re-enqueues the
``pending`` rows whose job was lost (the broker was down at enqueue time, the
job was dropped, the backend could not defer the retry). A ``sending`` row is
never resumed: its worker may have sent it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone

from patchbay.conf import conf
from patchbay.core.arguments import storable
from patchbay.core.tasks import PatchbayTask, enqueue, enqueue_after, retry_delay

logger = logging.getLogger("patchbay.tasks")

PENDING = "pending"
SENDING = "sending"
FAILED = "failed"
#: Rows saved or put back this recently are left to the job enqueued for them already.
RESUME_GRACE_SECONDS = 60.0


def due(now: datetime) -> Q:
    """``pending`` rows whose (next) attempt is due at ``now``."""
    return Q(status=PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


def claim(rows: QuerySet[Any], pk: int) -> bool:
    """Claim row ``pk`` of ``rows`` for one attempt (``pending`` → ``sending``); whether won."""
    now = timezone.now()
    return bool(
        rows.filter(due(now), pk=pk).update(
            status=SENDING, attempts=F("attempts") + 1, next_attempt_at=None, updated_at=now
        )
    )


def retry_or_fail(
    rows: QuerySet[Any],
    row: Model,
    task_obj: PatchbayTask[[int], Any],
    result: Any,
    *,
    failed: Mapping[str, Any] | None = None,
) -> bool:
    """After a failed attempt that is safe to retry: schedule the next, or store ``failed``.

    ``row`` is the claimed row, its ``attempts`` already counting this one;
    ``failed``, more fields to store with ``failed``. Returns whether a retry
    was scheduled. The row stays ``pending`` until its ``next_attempt_at``;
    the retry is enqueued for then where the backend can defer a task, and
    :func:`resume_sends` runs it otherwise.
    """
    attempts: int = getattr(row, "attempts", 0)
    what = f"{row._meta.verbose_name} {row.pk}"
    fields: dict[str, Any] = {
        "error_code": storable(result["error_code"], 32),
        "error_message": storable(result["error"]),
        "updated_at": timezone.now(),
    }
    if attempts >= conf.SEND_MAX_ATTEMPTS:
        rows.filter(pk=row.pk).update(status=FAILED, **fields, **(failed or {}))
        logger.error("%s failed after %d attempts: %s", what, attempts, result["error"])
        return False
    when = timezone.now() + timedelta(seconds=retry_delay(attempts, conf.SEND_RETRY_DELAY))
    rows.filter(pk=row.pk).update(status=PENDING, next_attempt_at=when, **fields)
    logger.warning("%s: attempt %d failed, retried at %s", what, attempts, when.isoformat())
    enqueue_after(when, task_obj, row.pk)
    return True


def resume_sends(*, limit: int = 1000, grace: float = RESUME_GRACE_SECONDS) -> int:
    """Enqueue the send of every ``pending`` SMS and email that is due; how many.

    Those saved or put back to ``pending`` in the last ``grace`` seconds are
    left to the job already enqueued for them (were both to run, the claim
    lets one send). ``sending`` rows are never resumed: their worker may have
    sent them (``patchbay_twilio_reconcile`` lists the SMS among them).
    """
    from patchbay.loops.tasks import deliver_email
    from patchbay.models import SMS, OutboundEmail
    from patchbay.twilio.tasks import deliver_sms

    now = timezone.now()
    resumable = due(now) & Q(updated_at__lte=now - timedelta(seconds=grace))
    queues: list[tuple[QuerySet[Any], PatchbayTask[[int], Any]]] = [
        (
            SMS.objects.filter(
                resumable, direction=SMS.DIRECTION_OUTBOUND, external_id__isnull=True
            ),
            deliver_sms,
        ),
        (OutboundEmail.objects.filter(resumable), deliver_email),
    ]
    count = 0
    for rows, task_obj in queues:
        pks = list(rows.order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
        for pk in pks:
            enqueue(task_obj, pk)
        count += len(pks)
    return count
