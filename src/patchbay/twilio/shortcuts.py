"""High-level Twilio functions: tracked sends, lookups, verification codes, status."""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Literal, cast, overload

from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone

from patchbay.conf import conf
from patchbay.core.arguments import (
    http_request,
    invalid_id,
    refusal,
    row_id,
    storable,
    user_id,
)
from patchbay.core.recording import stored_together
from patchbay.core.simulation import console
from patchbay.exceptions import ServiceError
from patchbay.models import SMS
from patchbay.results import Failure, failure
from patchbay.tenancy import UNSET, tenant_scoped
from patchbay.twilio import numbers, simulation
from patchbay.twilio.client import TwilioClient
from patchbay.twilio.results import (
    LookupResult,
    QueuedSMSResult,
    QueuedSMSSuccess,
    SMSResult,
    SMSStatusFailure,
    SMSStatusResult,
    TrackedSMSResult,
)
from patchbay.twilio.statuses import FINAL, PENDING, TIMESTAMP_FIELD
from patchbay.twilio.tracking import apply_status, is_opted_out

logger = logging.getLogger("patchbay.twilio")


@overload
def send_sms(
    to_number: str,
    body: str,
    from_number: str | None = ...,
    save_to_db: bool = ...,
    *,
    user: AbstractBaseUser | None = ...,
    channel: str | None = ...,
    request: HttpRequest | None = ...,
    background: Literal[False],
    tenant: object = ...,
) -> TrackedSMSResult: ...
@overload
def send_sms(
    to_number: str,
    body: str,
    from_number: str | None = ...,
    save_to_db: bool = ...,
    *,
    user: AbstractBaseUser | None = ...,
    channel: str | None = ...,
    request: HttpRequest | None = ...,
    background: Literal[True],
    tenant: object = ...,
) -> QueuedSMSResult: ...
@overload
def send_sms(
    to_number: str,
    body: str,
    from_number: str | None = ...,
    save_to_db: bool = ...,
    *,
    user: AbstractBaseUser | None = ...,
    channel: str | None = ...,
    request: HttpRequest | None = ...,
    background: bool | None = ...,
    tenant: object = ...,
) -> TrackedSMSResult | QueuedSMSResult: ...
@tenant_scoped
def send_sms(
    to_number: str,
    body: str,
    from_number: str | None = None,
    save_to_db: bool = True,
    *,
    user: AbstractBaseUser | None = None,
    channel: str | None = None,
    request: HttpRequest | None = None,
    background: bool | None = None,
    tenant: object = UNSET,
) -> TrackedSMSResult | QueuedSMSResult:
    """Send a message and track it in an :class:`~patchbay.models.SMS` row (``sms_id``).

    A number that texted STOP is refused (``error_code`` ``"opted_out"``). A
    failed send is saved too, with its error; a number refused before any call
    to Twilio (invalid, outside :setting:`TWILIO_ALLOWED_COUNTRIES`, opted
    out) saves no row and has no ``sms_id``: nothing was sent to track. Simulating, the message is
    logged on the simulated console (``patchbay.simulation``), and signed
    status callbacks (queued → sent → delivered) are delivered to the status
    endpoint, so the row ends up delivered.

    ``background`` (default :setting:`PATCHBAY_SEND_IN_BACKGROUND`): save the
    row ``pending`` in the caller's transaction and send it from a task once
    that commits (a rollback sends nothing); the result is ``queued: True``
    with ``sms_id``. A message refused at once (an invalid or opted-out number)
    fails at once, as without it. Needs ``save_to_db``.
    """
    if background is None:
        background = conf.SEND_IN_BACKGROUND is True
    if background is True and save_to_db is True:
        queued = _queue(to_number, body, from_number, user=user, channel=channel)
        if queued is not None:
            return queued
    return _send(
        to_number, body, from_number, save_to_db, user=user, channel=channel, request=request
    )


def _queue(
    to_number: str,
    body: str,
    from_number: str | None,
    *,
    user: AbstractBaseUser | None,
    channel: str | None,
) -> QueuedSMSSuccess | None:
    """Save a pending row and send it after commit; None to send now (a refusal to record)."""
    from patchbay.core.tasks import enqueue_on_commit
    from patchbay.twilio.tasks import deliver_sms

    client = TwilioClient()
    try:
        owner_id = user_id(user)
        address = numbers.parse_address(to_number, channel, simulating=client.debug_mode)
    except ServiceError:
        return None  # refused, and recorded, by the synchronous path
    given: list[object] = [body, from_number or ""]
    if not all(isinstance(value, str) for value in given):
        return None  # the synchronous path refuses it
    if _refusal(client, address, True) is not None:
        return None
    sms = SMS.objects.create(
        to_number=address.number,
        channel=address.channel,
        from_number=storable(from_number or "", 64),
        body=storable(body),
        user_id=owner_id,
        status=PENDING,
    )
    enqueue_on_commit(deliver_sms, sms.pk)
    return {
        "success": True,
        "queued": True,
        "sms_id": sms.pk,
        "status": PENDING,
        "to": address.number,
        "channel": address.channel,
    }


def _send(
    to_number: str,
    body: str,
    from_number: str | None,
    save_to_db: bool,
    *,
    user: AbstractBaseUser | None = None,
    channel: str | None = None,
    request: HttpRequest | None = None,
    stored_body: str | None = None,
) -> TrackedSMSResult:
    try:
        owner_id, request = user_id(user), http_request(request)
    except ServiceError as exc:
        return _tracked(refusal(exc), None)
    client = TwilioClient()
    try:
        # Parsed once, here: the client takes the Address as it is.
        address: numbers.Address | None = numbers.parse_address(
            to_number, channel, simulating=client.debug_mode
        )
    except ServiceError:
        address = None  # the client refuses it below, with the same error, and logs it
    # Simulating, the send's log row and its callbacks' are stored at its end, in one
    # round trip (in a test's transaction: see stored_together).
    with stored_together() if client.debug_mode else contextlib.nullcontext():
        result: SMSResult = _refusal(client, address, save_to_db) or client.send_sms(
            address or to_number, body, from_number=from_number, channel=channel
        )
        if result["success"] and result.get("simulated"):
            # Like Django's console email backend: in development, show what would be sent,
            # codes included, on the simulated console only (never the database or the
            # IntegrationLog, which store the body masked).
            console.info("[patchbay simulated %s] to %s: %s", result["channel"], result["to"], body)
        if not save_to_db or _refused_number(address, result):
            # No call was made: there is no message to track, and a history of the
            # sender's messages must not fill up with numbers that never went out.
            return _tracked(result, None)
        sent_from = (result["from"] if result["success"] else None) or from_number or ""
        # A refused send is stored too, as a record: what it was given, made storable.
        sms = SMS.objects.create(
            to_number=address.number if address else storable(to_number or "", 32),
            channel=address.channel if address else _storable_channel(channel),
            from_number=storable(sent_from, 64),
            body=storable(stored_body if stored_body is not None else body or ""),
            user_id=owner_id,
            simulated=bool(result.get("simulated")),
            **_outcome_fields(result),
        )
        if result["success"] and result.get("simulated"):
            simulation.deliver_status_callbacks(sms, request)
        return _tracked(result, sms.pk)


def _refused_number(address: numbers.Address | None, result: SMSResult) -> bool:
    """Whether the number was refused before any call to Twilio (invalid, not allowed, STOP)."""
    if result["success"]:
        return False
    return address is None or result["error_code"] == "opted_out"


def _storable_channel(channel: object) -> str:
    return numbers.WHATSAPP if channel == numbers.WHATSAPP else numbers.SMS


def _tracked(result: SMSResult, sms_id: int | None) -> TrackedSMSResult:
    """``result`` with the id of its SMS row, when one was saved."""
    # sms_id is NotRequired in both shapes: a result without it is one of them already.
    tracked = cast("TrackedSMSResult", dict(result))
    if sms_id is not None:
        tracked["sms_id"] = sms_id
    return tracked


def _refusal(
    client: TwilioClient, address: numbers.Address | None, tracked: bool
) -> Failure | None:
    """Why the message must not be sent at all, as a failure; None if it may go."""
    if address is not None and is_opted_out(address.number):
        return failure(
            f"{address.number} has opted out of messages (replied STOP).", error_code="opted_out"
        )
    if tracked and client.debug_mode:
        try:
            simulation.require_status_endpoint()  # the row's status comes from the callbacks
        except ServiceError as exc:
            return failure(exc.message, error_code=exc.error_code)
    return None


def _outcome_fields(result: SMSResult) -> dict[str, Any]:
    if not result["success"]:
        return {
            "status": "failed",
            "error_code": storable(result["error_code"], 32),
            "error_message": storable(result["error"]),
            "failed_at": timezone.now(),
        }
    status = result["status"]
    fields: dict[str, Any] = {"status": status, "external_id": result["sid"]}
    if status in TIMESTAMP_FIELD:
        fields[TIMESTAMP_FIELD[status]] = timezone.now()
    return fields


@tenant_scoped
def verify_phone_number(phone_number: str, *, tenant: object = UNSET) -> LookupResult:
    """Whether ``phone_number`` is valid (``valid``), with carrier data (Lookup v2)."""
    return TwilioClient(tenant=tenant).verify_phone_number(phone_number)


@tenant_scoped
def send_verification_code(
    phone_number: str, code: str, *, tenant: object = UNSET
) -> TrackedSMSResult:
    """Text ``code`` using ``TWILIO_VERIFICATION_MESSAGE``; the stored SMS never holds the code."""
    template = conf.TWILIO_VERIFICATION_MESSAGE
    return _send(
        phone_number,
        template.format(code=code),
        None,
        True,
        stored_body=template.format(code="•" * len(str(code))),
    )


@tenant_scoped
def get_sms_status(sms_id: int, *, tenant: object = UNSET) -> SMSStatusResult:
    """The status of a tracked message, fetched from Twilio unless already final.

    An ``sms_id`` that is not a positive integer (or a string of digits) is
    ``invalid_id``; one without a row, ``not_found`` (another tenant's message too).
    """
    pk = row_id(sms_id)
    if pk is None:
        return cast("SMSStatusFailure", invalid_id("SMS", sms_id))
    sms = SMS.objects.for_tenant().filter(pk=pk).first()
    if sms is None:
        return cast("SMSStatusFailure", failure(f"No SMS with id {pk}.", error_code="not_found"))
    if sms.status not in FINAL and sms.external_id and not sms.simulated:
        fetched = TwilioClient().get_message_status(sms.external_id)
        if not fetched["success"]:
            failed: SMSStatusFailure = {**fetched, "sms_id": sms.pk, "status": sms.status}
            return failed
        apply_status(
            sms.external_id,
            fetched["status"],
            error_code=str(fetched["data"].get("error_code") or ""),
            error_message=fetched["data"].get("error_message") or "",
        )
        sms.refresh_from_db()
    return {
        "success": True,
        "sms_id": sms.pk,
        "status": sms.status,
        "sid": sms.external_id,
        "data": {"error_code": sms.error_code or None, "error_message": sms.error_message or None},
    }
