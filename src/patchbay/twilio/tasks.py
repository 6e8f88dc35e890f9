"""Sending a saved SMS row from a task, at most once however often the task runs."""

from __future__ import annotations

import logging

from django.utils import timezone

from patchbay.core import sends
from patchbay.core.arguments import storable
from patchbay.core.simulation import console
from patchbay.core.tasks import task
from patchbay.exceptions import ServiceError
from patchbay.models import SMS
from patchbay.tenancy import use_tenant
from patchbay.twilio import numbers, simulation

logger = logging.getLogger("patchbay.twilio")

#: Failures that prove Twilio created no message, so another attempt cannot send twice:
#: no connection was made (refused, unresolvable, connect timeout: ``SendSMS.send``
#: turns every failure after the request may have left into ``outcome_unknown``),
#: Twilio refused for the rate (a 429 "is never processed and is always safe to
#: retry", Twilio's error 20429), or patchbay's circuit breaker kept the call here.
#: Not a 5xx: Twilio says a message POST answered 500 may have sent (error 20500).
SAFE_TO_RETRY = frozenset({"connection_error", "timeout", "rate_limited", "circuit_open"})


@task
def deliver_sms(sms_id: int) -> None:
    """POST the pending outbound message ``sms_id`` to Twilio, once.

    The row is claimed (``pending`` → ``sending``) by one conditional UPDATE
    before the POST: a retried or duplicated task finds it claimed and sends
    nothing. A failure that proves no message was created (:data:`SAFE_TO_RETRY`)
    puts it back to ``pending`` for a retry with backoff, up to
    :setting:`PATCHBAY_SEND_MAX_ATTEMPTS`. A lost answer (``outcome_unknown``)
    leaves it ``sending`` with that error code, for ``patchbay_twilio_reconcile``
    and a person to resolve, never for a retry to send twice.
    """
    outbound = SMS.objects.filter(direction=SMS.DIRECTION_OUTBOUND, external_id__isnull=True)
    if not sends.claim(outbound, sms_id):
        logger.info("SMS %s is not pending and due: not sent now.", sms_id)
        return
    sms = SMS.objects.get(pk=sms_id)
    # The row carries its tenant: sent with that tenant's credentials, whoever runs the task.
    with use_tenant(sms.tenant_key):
        _deliver(sms)


def _deliver(sms: SMS) -> None:
    from patchbay.twilio.client import TwilioClient
    from patchbay.twilio.shortcuts import _outcome_fields, _refusal

    sms_id = sms.pk
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
    if not result["success"] and result["error_code"] in SAFE_TO_RETRY:
        failed_at = {"failed_at": timezone.now()}
        sends.retry_or_fail(SMS.objects.all(), sms, deliver_sms, result, failed=failed_at)
        return
    fields = {**_outcome_fields(result), "updated_at": timezone.now()}
    if result["success"]:
        fields["from_number"] = storable(result["from"] or sms.from_number, 64)
        fields["simulated"] = bool(result.get("simulated"))
        fields.update(error_code="", error_message="")  # an earlier attempt's
    SMS.objects.filter(pk=sms_id).update(**fields)
    if result["success"] and result.get("simulated"):
        console.info("[patchbay simulated %s] to %s: %s", result["channel"], result["to"], sms.body)
        sms.refresh_from_db()
        simulation.deliver_status_callbacks(sms, None)
