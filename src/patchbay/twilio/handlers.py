"""patchbay's own Twilio webhook handlers: delivery tracking, inbound storage, opt-outs.

Every start imports this module to register the handlers; what they work
with is imported when an event arrives.
"""

from __future__ import annotations

from patchbay.exceptions import ServiceError
from patchbay.models import SMS, WebhookEvent
from patchbay.signals import sms_received
from patchbay.webhooks.registry import builtin_receiver


@builtin_receiver("twilio", "message.status")
def message_status(event: WebhookEvent) -> None:
    from patchbay.twilio.tracking import apply_status

    payload = event.payload
    apply_status(
        payload["MessageSid"],
        payload["MessageStatus"],
        error_code=payload.get("ErrorCode") or "",
        error_message=payload.get("ErrorMessage") or "",
    )


@builtin_receiver("twilio", "message.received")
def message_received(event: WebhookEvent) -> None:
    from patchbay.core.simulation import should_simulate
    from patchbay.twilio import numbers
    from patchbay.twilio.tracking import apply_keyword

    payload = event.payload
    try:
        sender: numbers.Address | None = numbers.parse_address(
            payload["From"], simulating=should_simulate()
        )
    except ServiceError:  # a short code or an alphanumeric sender: keep it as given
        sender = None
    sms, created = SMS.objects.get_or_create(
        external_id=event.event_id,
        defaults={
            "direction": SMS.DIRECTION_INBOUND,
            "channel": sender.channel if sender else "sms",
            "from_number": sender.number if sender else str(payload["From"]),
            "to_number": str(payload.get("To", "")).removeprefix("whatsapp:"),
            "body": payload.get("Body") or "",
            "status": "received",
        },
    )
    if created and sender is not None:  # a replay never applies its keyword again
        apply_keyword(
            sender.number,
            sms.body,
            payload.get("OptOutType") or "",
            sms=sms,
            received_at=event.received_at,
        )
    if created:
        sms_received.send(sender="twilio", sms=sms)
