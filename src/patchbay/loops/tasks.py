"""Sending a saved OutboundEmail from a task, under one idempotency key for every attempt."""

from __future__ import annotations

import logging

from django.db.models import F
from django.utils import timezone

from patchbay.core.arguments import storable
from patchbay.core.tasks import task
from patchbay.models import OutboundEmail

logger = logging.getLogger("patchbay.loops")


class SendNotFinished(Exception):
    """A retryable failure: the row is pending again, and the worker may run the task again."""


@task
def deliver_email(email_id: int) -> None:
    """Send the saved email ``email_id`` through :func:`~patchbay.loops.templates.send_template`.

    Every attempt sends the row's idempotency key, so Loops delivers it once
    however often this runs (a retry, a duplicated job, two workers). A sent or
    failed row is left alone. A retryable failure puts the row back to
    ``pending`` and raises :class:`SendNotFinished`, for the worker to retry.
    """
    from patchbay.loops.templates import send_template

    row = OutboundEmail.objects.filter(pk=email_id).first()
    if row is None or row.status in (OutboundEmail.SENT, OutboundEmail.FAILED):
        logger.info("Email %s is not pending: not sent again.", email_id)
        return
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
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
            status=OutboundEmail.SENT, sent_at=timezone.now(), updated_at=timezone.now()
        )
        return
    retry = result["retryable"]
    OutboundEmail.objects.filter(pk=email_id).update(
        status=OutboundEmail.PENDING if retry else OutboundEmail.FAILED,
        error_code=storable(result["error_code"], 32),
        error_message=storable(result["error"]),
        updated_at=timezone.now(),
    )
    if retry:
        raise SendNotFinished(f"Email {email_id}: [{result['error_code']}] {result['error']}")
    logger.error("Email %s was not sent: [%s] %s", email_id, result["error_code"], result["error"])
