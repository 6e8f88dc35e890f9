"""Sending a saved SMS row from a task, at most once however often the task runs."""

from __future__ import annotations

import logging

from django.utils import timezone

from patchbay.core.arguments import storable
from patchbay.core.simulation import console
from patchbay.core.tasks import task
from patchbay.exceptions import ServiceError
from patchbay.models import SMS
from patchbay.twilio import numbers, simulation
from patchbay.twilio.statuses import PENDING

logger = logging.getLogger("patchbay.twilio")

#: The status a background send claims its row with, before the POST.
SENDING = "sending"


@task
def deliver_sms(sms_id: int) -> None:
    """POST the pending outbound message ``sms_id`` to Twilio, once.

    The row is claimed (``pending`` → ``sending``) by one conditional UPDATE
    before the POST: a retried or duplicated task finds it claimed and sends
    nothing. A lost answer (``outcome_unknown``) leaves it ``sending`` with that
    error code, for ``patchbay_twilio_reconcile`` and a person to resolve, never
    for a retry to send twice.
    """
    from patchbay.twilio.client import TwilioClient
    from patchbay.twilio.shortcuts import _outcome_fields, _refusal

    claimed = SMS.objects.filter(
        pk=sms_id, direction=SMS.DIRECTION_OUTBOUND, status=PENDING, external_id__isnull=True
    ).update(status=SENDING, updated_at=timezone.now())
    if not claimed:
        logger.info("SMS %s is not pending any more: not sent again.", sms_id)
        return
    sms = SMS.objects.get(pk=sms_id)
    client = TwilioClient()
    try:
        address: numbers.Address | str = numbers.parse_address(
            sms.to_number, sms.channel, simulating=client.debug_mode
        )
    except ServiceError:
        address = sms.to_number  # the client refuses it, with the same error
    result = _refusal(
        client, address if isinstance(address, numbers.Address) else None, True
    ) or client.send_sms(
        address, sms.body, from_number=sms.from_number or None, channel=sms.channel
    )
    if not result["success"] and result["error_code"] == "outcome_unknown":
        SMS.objects.filter(pk=sms_id).update(
            error_code="outcome_unknown",
            error_message=storable(result["error"]),
            updated_at=timezone.now(),
        )
        logger.error("SMS %s: Twilio's answer was lost; not retried (reconcile).", sms_id)
        return
    fields = {**_outcome_fields(result), "updated_at": timezone.now()}
    if result["success"]:
        fields["from_number"] = storable(result["from"] or sms.from_number, 64)
        fields["simulated"] = bool(result.get("simulated"))
    SMS.objects.filter(pk=sms_id).update(**fields)
    if result["success"] and result.get("simulated"):
        console.info("[patchbay simulated %s] to %s: %s", result["channel"], result["to"], sms.body)
        sms.refresh_from_db()
        simulation.deliver_status_callbacks(sms, None)
