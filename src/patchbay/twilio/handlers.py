"""patchbay's own Twilio webhook handlers: delivery tracking, inbound storage, opt-outs.

Every start imports this module to register the handlers; what they work
with is imported when an event arrives. Each reads the form's fields through
:mod:`patchbay.webhooks.shape`, sized for the columns they are stored in: a
longer value makes the event malformed, never a ``DataError`` answered 500.
"""

from __future__ import annotations

from patchbay.exceptions import MalformedEvent, ServiceError
from patchbay.models import SMS, WebhookEvent
from patchbay.signals import sms_received
from patchbay.webhooks import shape
from patchbay.webhooks.registry import builtin_receiver

#: ``SMS.external_id``; Twilio's SIDs have 34 characters.
SID_LENGTH = 64
#: ``SMS.status``.
STATUS_LENGTH = 16
#: ``SMS.from_number`` and ``SMS.to_number``.
FROM_LENGTH = 64
TO_LENGTH = 32


@builtin_receiver("twilio", "message.status")
def message_status(event: WebhookEvent) -> None:
    from patchbay.twilio.tracking import apply_status

    payload = event.payload
    apply_status(
        shape.text(payload, "MessageSid", max_length=SID_LENGTH, required=True),
        shape.text(payload, "MessageStatus", max_length=STATUS_LENGTH, required=True),
        error_code=shape.text(payload, "ErrorCode"),
        error_message=shape.text(payload, "ErrorMessage"),
    )


@builtin_receiver("twilio", "message.received")
def message_received(event: WebhookEvent) -> None:
    from patchbay.core.simulation import should_simulate
    from patchbay.twilio import numbers
    from patchbay.twilio.tracking import apply_keyword

    payload = event.payload
    if len(event.event_id) > SID_LENGTH:
        raise MalformedEvent(f"MessageSid is longer than {SID_LENGTH} characters.")
    address = shape.text(payload, "From", max_length=FROM_LENGTH, required=True)
    to = shape.text(payload, "To").removeprefix("whatsapp:")
    if len(to) > TO_LENGTH:
        raise MalformedEvent(f"To is longer than {TO_LENGTH} characters.")
    body = shape.text(payload, "Body")
    opt_out_type = shape.text(payload, "OptOutType")
    try:
        sender: numbers.Address | None = numbers.parse_address(
            address, simulating=should_simulate()
        )
    except ServiceError:  # a short code or an alphanumeric sender: keep it as given
        sender = None
    sms, created = SMS.objects.for_tenant().get_or_create(
        external_id=event.event_id,
        defaults={
            "direction": SMS.DIRECTION_INBOUND,
            "channel": sender.channel if sender else "sms",
            "from_number": sender.number if sender else address,
            "to_number": to,
            "body": body,
            "status": "received",
        },
    )
    if created and sender is not None:  # a replay never applies its keyword again
        apply_keyword(
            sender.number,
            sms.body,
            opt_out_type,
            sms=sms,
            received_at=event.received_at,
        )
    if created:
        sms_received.send(sender="twilio", sms=sms)
