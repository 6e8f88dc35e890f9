"""Apply delivery statuses and opt-out keywords: forward only.

A status moves a message forward with one atomic conditional UPDATE; a
keyword counts once, when its message is first stored, and only if no later
keyword message of the same number is stored (so a replay never undoes it).
Each works on the current tenant's rows: a STOP to one tenant's number opts
the sender out of that tenant's messages only.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from patchbay.models import SMS, PhoneOptOut
from patchbay.signals import sms_status_changed
from patchbay.twilio.statuses import TIMESTAMP_FIELD, may_precede

OPT_OUT_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN_KEYWORDS = {"START", "YES", "UNSTOP", "OPTIN"}


def apply_status(
    message_sid: str, status: str, *, error_code: str = "", error_message: str = ""
) -> bool:
    """Move the message to ``status`` unless it is already there or further on.

    Returns whether it moved. The status condition is part of the UPDATE, so two
    callbacks racing each other can never move a message backwards.
    """
    now = timezone.now()
    fields: dict[str, object] = {"status": status, "updated_at": now}
    if status in TIMESTAMP_FIELD:
        fields[TIMESTAMP_FIELD[status]] = now
    if error_code:
        fields.update(error_code=str(error_code)[:32], error_message=error_message)
    # Message SIDs are Twilio's, unique per account: looked up among the tenant's messages.
    # One filter() call: each builds and clones a query, three per simulated send.
    messages = SMS.objects.for_tenant()
    moved = messages.filter(external_id=message_sid, status__in=may_precede(status)).update(
        **fields
    )
    # The row is read only for someone to hear of it: each simulated send moves its
    # message twice, and a test suite's sends would pay a query each for no one.
    if moved and sms_status_changed.has_listeners(sender="twilio"):
        sms = messages.get(external_id=message_sid)
        sms_status_changed.send(sender="twilio", sms=sms, status=status)
    return bool(moved)


def is_opted_out(phone_number: str) -> bool:
    return PhoneOptOut.objects.for_tenant().filter(phone_number=phone_number).exists()


def _keyword(text: str) -> str:
    return text.strip().upper()


def _later_keyword_stored(phone_number: str, received_at: datetime, sms: SMS) -> bool:
    later = (
        SMS.objects.for_tenant()
        .filter(
            direction=SMS.DIRECTION_INBOUND, from_number=phone_number, created_at__gt=received_at
        )
        .exclude(pk=sms.pk)
    )
    keywords = OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS
    return any(_keyword(body) in keywords for body in later.values_list("body", flat=True))


def apply_keyword(
    phone_number: str,
    body: str,
    opt_out_type: str = "",
    *,
    sms: SMS | None = None,
    received_at: datetime | None = None,
) -> None:
    """STOP-like keywords opt a number out, START-like ones back in (Twilio's defaults).

    With the inbound ``sms`` and when its event was first ``received_at``, a
    keyword is not applied if a later keyword message of the number is stored
    (a redelivery after a failure runs after it).
    """
    keyword = _keyword(opt_out_type or body)
    if keyword not in OPT_OUT_KEYWORDS | OPT_IN_KEYWORDS:
        return
    if (
        sms is not None
        and received_at is not None
        and _later_keyword_stored(phone_number, received_at, sms)
    ):
        return
    if keyword in OPT_OUT_KEYWORDS:
        PhoneOptOut.objects.for_tenant().get_or_create(
            phone_number=phone_number, defaults={"keyword": keyword}
        )
    elif keyword in OPT_IN_KEYWORDS:
        PhoneOptOut.objects.for_tenant().filter(phone_number=phone_number).delete()
