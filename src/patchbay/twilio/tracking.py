"""Apply delivery statuses and opt-out keywords: forward only.

A status moves a message forward with one atomic conditional UPDATE; a
keyword counts once, when its message is first stored, and only if no later
keyword message of the same number is stored (so a replay never undoes it).
Each works on the current tenant's rows: a STOP to one tenant's number opts
the sender out of that tenant's messages only.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Field
from django.utils import timezone

from patchbay.models import SMS, PhoneOptOut
from patchbay.signals import sms_status_changed
from patchbay.tenancy import current_tenant_key, tenancy_enabled
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
    moved = _move(message_sid, may_precede(status), fields)
    # The row is read only for someone to hear of it: each simulated send moves its
    # message twice, and a test suite's sends would pay a query each for no one.
    if moved and sms_status_changed.has_listeners(sender="twilio"):
        sms = SMS.objects.for_tenant().get(external_id=message_sid)
        sms_status_changed.send(sender="twilio", sms=sms, status=status)
    return bool(moved)


def _move(message_sid: str, earlier: list[str], fields: dict[str, object]) -> int:
    """``UPDATE`` the current tenant's message ``message_sid`` if in ``earlier``; rows moved.

    The statement the ORM's ``filter(...).update(...)`` makes, built once per
    shape; values are prepared by their fields, as ``update()`` prepares them.
    """
    if not earlier:  # no status may precede it: the ORM sends no query either
        return 0
    using = router.db_for_write(SMS)
    connection = connections[using]
    tenants = tenancy_enabled()
    sql = _update_sql(using, tuple(fields), len(earlier), tenants)
    columns = _fields()
    params: list[Any] = [
        columns[name].get_db_prep_save(value, connection) for name, value in fields.items()
    ]
    if tenants:
        params.append(current_tenant_key())
    params.append(message_sid)
    params.extend(earlier)
    # As update() does: an error marks the enclosing atomic block for rollback.
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


@functools.cache
def _fields() -> dict[str, Field[Any, Any]]:
    return {field.attname: field for field in SMS._meta.concrete_fields}


# Built once per database alias, set of columns and tenancy: the ORM built (filter, clone,
# compile) the same statement anew for each of a simulated send's three callbacks, about a
# quarter of a send's CPU.
@functools.cache
def _update_sql(using: str, names: tuple[str, ...], earlier: int, tenants: bool) -> str:
    quote, fields = connections[using].ops.quote_name, _fields()

    def column(name: str) -> str:
        return str(quote(fields[name].column))

    where = [f"{column('tenant_key')} = %s"] if tenants else []
    where.append(f"{column('external_id')} = %s")
    where.append(f"{column('status')} IN ({', '.join(['%s'] * earlier)})")
    # Only identifiers from the model's metadata, quoted, are formatted in: values are
    # query parameters.
    return (
        f"UPDATE {quote(SMS._meta.db_table)} SET {', '.join(f'{column(n)} = %s' for n in names)}"  # noqa: S608  # nosec B608
        f" WHERE {' AND '.join(where)}"
    )


def is_opted_out(phone_number: str) -> bool:
    """Whether the current tenant's ``phone_number`` replied STOP (and not START since).

    The ORM's ``filter(...).exists()`` as SQL built once per database.
    """
    using = router.db_for_read(PhoneOptOut)
    tenants = tenancy_enabled()
    params = [current_tenant_key(), phone_number] if tenants else [phone_number]
    with connections[using].cursor() as cursor:
        cursor.execute(_opt_out_sql(using, tenants), params)
        return cursor.fetchone() is not None


# The opt-out check of every send, built once per database alias and tenancy (as the
# status UPDATE).
@functools.cache
def _opt_out_sql(using: str, tenants: bool) -> str:
    connection = connections[using]
    quote, opts = connection.ops.quote_name, PhoneOptOut._meta
    column = {field.attname: quote(field.column) for field in opts.concrete_fields}
    where = [f"{column['phone_number']} = %s"]
    if tenants:
        where.insert(0, f"{column['tenant_key']} = %s")
    return (
        f"SELECT 1 FROM {quote(opts.db_table)} WHERE {' AND '.join(where)} "  # noqa: S608  # nosec B608
        + connection.ops.limit_offset_sql(0, 1)
    )


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
