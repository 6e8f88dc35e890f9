"""Store each event once, run its handlers, record the outcome."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import DataError, connections, router, transaction
from django.utils import timezone

from patchbay.core.arguments import clean_text
from patchbay.exceptions import MalformedEvent
from patchbay.models import WebhookEvent
from patchbay.signals import webhook_received
from patchbay.tenancy import current_tenant_key, use_tenant
from patchbay.webhooks.registry import Handler, handlers_for
from patchbay.webhooks.statements import DONE, EventStatements
from patchbay.webhooks.verification import VerifiedDelivery

if TYPE_CHECKING:
    from django.db.models import QuerySet

logger = logging.getLogger("patchbay.webhooks")

DUPLICATE = "duplicate"

#: What a handler raises for an event no run can ever process: the event is stored as
#: malformed and the provider is not asked to redeliver it. A DataError is the input's
#: fault as well: a value its column refuses stays refused on every redelivery.
UNPROCESSABLE: tuple[type[Exception], ...] = (MalformedEvent, DataError)

Then = Callable[[WebhookEvent, str], object]


class _HandlerFailed(Exception):
    """Carries a handler's exception out of the claim's transaction, rolling it back."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def process_delivery(
    provider: str,
    delivery: VerifiedDelivery,
    then: Then | None = None,
    *,
    tenant_key: str | None = None,
) -> tuple[WebhookEvent, str]:
    """Store ``delivery`` and process it unless it was already processed.

    For ``tenant_key``, by default the current tenant's (``""`` without one):
    event ids are unique per tenant and provider, and everything below runs
    for that tenant.

    Returns the event and the outcome: a WebhookEvent status or ``"duplicate"``.
    ``then(event, outcome)`` runs last: for a processed (or failed) delivery in
    the transaction that stores the event, so the view's IntegrationLog row
    costs no commit of its own; for a duplicate, which writes nothing, after it.

    Exactly once: a first delivery inserts its row and runs the handlers in one
    transaction, so until it commits a concurrent delivery of the same event
    waits on the unique constraint, then finds the event done. A processed or
    ignored event never changes again (only :func:`reprocess` runs it anew), so
    a redelivery of one only reads it: no lock, nothing to flush to disk.
    """
    with use_tenant(current_tenant_key() if tenant_key is None else tenant_key):
        return _process_delivery(provider, delivery, then)


def _process_delivery(
    provider: str, delivery: VerifiedDelivery, then: Then | None
) -> tuple[WebhookEvent, str]:
    using = router.db_for_write(WebhookEvent)
    statements = EventStatements.get(connections[using])
    if statements is None:  # a backend without INSERT ... ON CONFLICT ... RETURNING
        return _process_locking(provider, delivery, then)

    handlers = handlers_for(provider, delivery.event_type)
    # The row is inserted with the status a successful run will give it; nobody sees
    # it before the commit, and a run that ends otherwise updates or rolls it back.
    expected = _status(handled=bool(handlers) or _has_receivers(provider))
    now = timezone.now()
    try:
        with transaction.atomic(using=using):
            event = statements.claim(provider, delivery, expected, now)
            claimed = event is not None
            if event is None:
                event, claimed = _claim_stored(statements, provider, delivery, expected, now)
            if claimed:
                if event.event_type != delivery.event_type:
                    # A redelivery runs as the type it was first stored with.
                    handlers = handlers_for(provider, event.event_type)
                stored_status = event.status
                try:
                    outcome = _run(event, handlers)
                except Exception as exc:
                    _log_failure(event, exc)
                    # Leave the transaction: the claim and the handlers' writes roll back
                    # together, which costs no savepoint on the way that succeeds.
                    raise _HandlerFailed(exc) from exc
                if outcome != stored_status:  # not the handlers or receivers counted above
                    event.save(update_fields=["status"])
                if then is not None:
                    then(event, outcome)
                return event, outcome
    except _HandlerFailed as failed:
        return _store_failure(statements, provider, delivery, failed.error, now, then)
    # A duplicate: it wrote nothing, so its transaction committed nothing to flush.
    if then is not None:
        then(event, DUPLICATE)
    return event, DUPLICATE


def _claim_stored(
    statements: EventStatements,
    provider: str,
    delivery: VerifiedDelivery,
    status: str,
    now: datetime,
) -> tuple[WebhookEvent, bool]:
    """The stored event, and whether this delivery took it over to run it again."""
    stored = statements.find(provider, delivery.event_id)
    if stored is not None and stored.status in DONE:
        return stored, False
    # Failed (or left received by an older version): run it again, unless a
    # concurrent redelivery has just done so.
    event = statements.claim(provider, delivery, status, now, takeover=True)
    if event is None:
        return statements.find_locked(provider, delivery.event_id), False
    return event, True


def _store_failure(
    statements: EventStatements,
    provider: str,
    delivery: VerifiedDelivery,
    error: Exception,
    now: datetime,
    then: Then | None,
) -> tuple[WebhookEvent, str]:
    """Store the FAILED (or MALFORMED) status of a run that was rolled back, and record it."""
    message = _error_text(error)
    status = _failure_status(error)
    with transaction.atomic(using=statements.alias):
        event = statements.claim(provider, delivery, status, now, error=message, takeover=True)
        if event is None:  # a concurrent redelivery processed it meanwhile: keep that
            event = statements.find_locked(provider, delivery.event_id)
            event.error = message  # what this delivery answers with, not what is stored
        if then is not None:
            then(event, status)
    return event, status


def new_event_fields(delivery: VerifiedDelivery) -> dict[str, Any]:
    """The fields of the WebhookEvent row a first delivery stores, beside its ids."""
    return {"event_type": delivery.event_type, "payload": delivery.payload, "verified": True}


def _process_locking(
    provider: str, delivery: VerifiedDelivery, then: Then | None
) -> tuple[WebhookEvent, str]:
    """The portable way, for backends without an upsert that returns rows: a row lock."""
    with transaction.atomic():
        event, created = WebhookEvent.objects.select_for_update().get_or_create(
            tenant_key=current_tenant_key(),
            provider=provider,
            event_id=delivery.event_id,
            defaults=new_event_fields(delivery),
        )
        if not created and event.status in DONE:
            outcome = DUPLICATE
        else:
            if not created:  # a redelivery after a failure carries the current payload
                event.payload = delivery.payload
            run_handlers(event)
            outcome = event.status
        if then is not None:
            then(event, outcome)
    return event, outcome


def dispatch(event: WebhookEvent, *, using: str | None = None) -> Exception | None:
    """Run ``event``'s handlers and set (not save) the outcome; the handler's error, if any.

    In a savepoint: a failing handler's writes are undone, and its exception is
    logged and returned for the caller to record its own way (reprocessing
    marks the event failed; a background run may schedule a retry). On success
    the status is the handlers', the error cleared, ``processed_at`` now.
    """
    try:
        with transaction.atomic(using=using):
            _run(event, handlers_for(event.provider, event.event_type))
    except Exception as exc:
        _log_failure(event, exc)
        return exc
    event.error = ""
    event.processed_at = timezone.now()
    return None


def run_handlers(event: WebhookEvent) -> None:
    """Dispatch ``event`` and save its new status; handler errors are kept, not raised."""
    event.attempts += 1
    failed = dispatch(event)
    if failed is not None:
        event.status = _failure_status(failed)
        event.error = _error_text(failed)
    # Run by hand (reprocess): a background retry or claim no longer applies.
    event.next_attempt_at = None
    event.claimed_until = None
    event.save(
        update_fields=[
            "payload",
            "status",
            "error",
            "attempts",
            "processed_at",
            "next_attempt_at",
            "claimed_until",
            "updated_at",
        ]
    )


def _run(event: WebhookEvent, handlers: Sequence[Handler]) -> str:
    """Run the handlers in order, then notify; sets (not saves) and returns the status.

    A handler's exception propagates: the caller marks the event failed. They
    run for the event's tenant: what they write and call is the tenant's.
    """
    with use_tenant(event.tenant_key):
        for handler in handlers:
            handler(event)
        event.status = WebhookEvent.Status.PROCESSED  # what the signal's receivers see
        notified = notify(event)
    event.status = _status(bool(handlers) or notified)
    return event.status


def notify(event: WebhookEvent) -> bool:
    """Send :data:`~patchbay.signals.webhook_received` for ``event``; whether anyone got it.

    Never raises: a receiver's exception is logged and the receivers' writes are
    rolled back (a savepoint), the event stays processed.
    """
    sender = _sender(event.provider)
    if not _has_receivers(event.provider):
        return False
    with transaction.atomic(using=router.db_for_write(WebhookEvent)):
        responses = webhook_received.send_robust(sender=sender, event=event)
        failed = [
            (receiver, error) for receiver, error in responses if isinstance(error, Exception)
        ]
        for receiver, error in failed:
            logger.error(
                "A webhook_received receiver (%s) failed for %s event %s",
                getattr(receiver, "__qualname__", receiver),
                event.provider,
                event.event_id,
                exc_info=error,
            )
        if failed:
            transaction.set_rollback(True)
    return bool(responses)


def reprocess(event: WebhookEvent) -> str:
    """Run ``event``'s handlers again, whatever its status; returns the new status."""
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        run_handlers(locked)
    return locked.status


def reprocess_many(events: QuerySet[WebhookEvent]) -> Iterator[tuple[WebhookEvent, str]]:
    """Reprocess ``events`` oldest first, each in its own transaction: each and its status.

    The admin's *Reprocess* action and the management API's reprocess use it.
    """
    for event in events.order_by("received_at", "pk"):
        yield event, reprocess(event)


def _sender(provider: str) -> str:
    # Interned so receivers connected with sender="stripe" match a provider read from the DB.
    return sys.intern(provider)


def _has_receivers(provider: str) -> bool:
    return webhook_received.has_listeners(_sender(provider))


def _status(handled: bool) -> str:
    return WebhookEvent.Status.PROCESSED if handled else WebhookEvent.Status.IGNORED


def _failure_status(exc: BaseException) -> str:
    if isinstance(exc, UNPROCESSABLE):
        return WebhookEvent.Status.MALFORMED
    return WebhookEvent.Status.FAILED


def _log_failure(event: WebhookEvent, exc: BaseException) -> None:
    if isinstance(exc, MalformedEvent):  # a handler said why: no traceback to read
        logger.warning(
            "Malformed %s event %s: %s", event.provider, event.event_id, _error_text(exc)
        )
    else:  # a DataError too: the traceback shows which handler wrote what
        logger.exception("Handler failed for %s event %s", event.provider, event.event_id)


def _error_text(exc: BaseException) -> str:
    # A message may quote the event's content: keep it storable (no NUL) in the error column.
    return clean_text(f"{type(exc).__name__}: {exc}")[:5000]
