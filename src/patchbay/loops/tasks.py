"""Sending a saved OutboundEmail from a task, under one idempotency key for every attempt."""

from __future__ import annotations

import logging

from django.db.models import QuerySet
from django.utils import timezone

from patchbay.core import sends
from patchbay.core.arguments import storable
from patchbay.core.tasks import enqueue_on_commit, task
from patchbay.models import OutboundEmail
from patchbay.tenancy import use_tenant

logger = logging.getLogger("patchbay.loops")


@task
def deliver_email(email_id: int) -> None:
    """Send the saved email ``email_id`` through :func:`~patchbay.loops.templates.send_template`.

    The row is claimed (``pending`` → ``sending``) by one conditional UPDATE,
    so of the jobs run for it (a retry, a duplicated job, two workers) one
    sends, and every attempt sends the row's idempotency key, so Loops
    delivers it once even should a worker die after its POST. A retryable
    failure (a lost connection, a timeout, a 5xx, a rate limit: with the key,
    any of them is safe to send again) puts the row back to ``pending`` for a
    retry with backoff, up to :setting:`PATCHBAY_SEND_MAX_ATTEMPTS`; a
    permanent one stores it ``failed``.
    """
    if not sends.claim(OutboundEmail.objects.all(), email_id):
        logger.info("Email %s is not pending and due: not sent now.", email_id)
        return
    row = OutboundEmail.objects.get(pk=email_id)
    # The row carries its tenant: sent with that tenant's key, whoever runs the task.
    with use_tenant(row.tenant_key):
        _deliver(row)


def _deliver(row: OutboundEmail) -> None:
    from patchbay.loops.templates import send_template

    email_id = row.pk
    payload = row.payload
    options = {"idempotency_key": row.idempotency_key, **payload.get("options", {})}
    result = send_template(
        row.template_key,
        row.to_email,
        payload.get("data_variables", {}),
        ignore_suppression=bool(payload.get("ignore_suppression")),
        background=False,
        **options,
    )
    if result["success"]:
        OutboundEmail.objects.filter(pk=email_id).update(
            status=OutboundEmail.SENT,
            sent_at=timezone.now(),
            error_code="",
            error_message="",
            updated_at=timezone.now(),
        )
        return
    if result["retryable"]:
        sends.retry_or_fail(OutboundEmail.objects.all(), row, deliver_email, result)
        return
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.FAILED,
        error_code=storable(result["error_code"], 32),
        error_message=storable(result["error"]),
        updated_at=timezone.now(),
    )
    logger.error("Email %s was not sent: [%s] %s", email_id, result["error_code"], result["error"])


def send_again(rows: QuerySet[OutboundEmail]) -> int:
    """Put the failed emails among ``rows`` back to ``pending`` and enqueue them; how many.

    Safe because every attempt at a row carries its one idempotency key: an
    email that did reach Loops is answered as a duplicate, not sent twice.
    The attempts count from zero again; the last error stays until the next.
    """
    pks = list(rows.filter(status=OutboundEmail.FAILED).values_list("pk", flat=True))
    OutboundEmail.objects.filter(pk__in=pks, status=OutboundEmail.FAILED).update(
        status=OutboundEmail.PENDING, attempts=0, next_attempt_at=None, updated_at=timezone.now()
    )
    for pk in pks:
        enqueue_on_commit(deliver_email, pk)
    return len(pks)
