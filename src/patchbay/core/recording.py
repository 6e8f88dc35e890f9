"""Record every call: Python logging (no secrets), health, and an IntegrationLog row.

Outside a database transaction, the row and the health update are stored by a
background writer (see :mod:`patchbay.core.writer` and
:setting:`PATCHBAY_RECORD_IN_BACKGROUND`), so that a call does not wait for a
commit of its own; inside one, they are stored in it, as the caller's other
writes are (and a test's transaction sees and discards them). On SQLite, only
with ``"transaction_mode": "IMMEDIATE"``: see :func:`records_in_background`.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.db import DatabaseError, router, transaction
from django.utils import timezone

from patchbay.conf import conf
from patchbay.core.arguments import storable, storable_json
from patchbay.core.health import Outcome, record_outcomes
from patchbay.core.writer import BackgroundWriter
from patchbay.models import IntegrationLog

logger = logging.getLogger("patchbay")


class CallRecord(NamedTuple):
    """Everything stored about one call. Every field is already redacted."""

    provider: str
    operation: str
    success: bool
    duration_ms: int
    simulated: bool = False
    error: str = ""
    error_code: str = ""
    status_code: int | None = None
    summary: dict[str, Any] | None = None
    direction: str = IntegrationLog.Direction.OUTBOUND
    #: When the call was made; when it is stored if not given.
    at: datetime.datetime | None = None
    #: The call's effect on the service's health (live calls only).
    health: Outcome | None = None
    #: The service's human name, for the ExternalService row if it must be created.
    service_name: str = ""
    #: False for a call that is only logged (a successful local operation).
    store_row: bool = True

    def log_row(self) -> IntegrationLog:
        return IntegrationLog(
            provider=self.provider,
            operation=self.operation[:100],
            direction=self.direction,
            success=self.success,
            simulated=self.simulated,
            duration_ms=max(0, self.duration_ms),
            status_code=self.status_code,
            error_code=self.error_code[:100],
            error=self.error,
            request_summary=self.summary or {},
            created_at=self.at or timezone.now(),
        )


def record_call(
    *,
    provider: str,
    operation: str,
    success: bool,
    duration_ms: int,
    simulated: bool = False,
    error: str = "",
    error_code: str = "",
    status_code: int | None = None,
    summary: dict[str, Any] | None = None,
    direction: str = IntegrationLog.Direction.OUTBOUND,
    health: Outcome | None = None,
    service_name: str = "",
    store: bool = True,
) -> None:
    """Log one call on the ``patchbay`` logger and store it (see :class:`CallRecord`).

    Every argument must already be redacted.
    """
    tag = " (simulated)" if simulated else ""
    if success:
        logger.info("%s.%s succeeded in %d ms%s", provider, operation, duration_ms, tag)
    else:
        logger.warning(
            "%s.%s failed in %d ms%s: [%s] %s",
            provider,
            operation,
            duration_ms,
            tag,
            error_code,
            error,
        )
    if not store and health is None:
        return
    now = timezone.now()
    # An error may quote what the caller gave (a number with NUL), which no text
    # column of PostgreSQL stores: the stored copy has it replaced.
    error, operation, error_code = storable(error), storable(operation), storable(error_code)
    # The summary too (a key with NUL, a NaN amount): jsonb would refuse the whole row.
    summary = storable_json(summary) if summary else summary
    if health is not None:
        health = health._replace(at=health.at or now, error=storable(health.error))
    record = CallRecord(
        provider=provider,
        operation=operation,
        success=success,
        duration_ms=duration_ms,
        simulated=simulated,
        error=error,
        error_code=error_code,
        status_code=status_code,
        summary=summary,
        direction=direction,
        at=now,
        health=health,
        service_name=service_name,
        store_row=store,
    )
    if not (records_in_background() and _writer.submit(record)):
        store_records([record])


def store_records(records: Sequence[CallRecord]) -> None:
    """Store health updates and log rows in one transaction: one commit for all.

    A row that cannot be stored is logged, and the health updates are kept:
    losing a log row must never lose the rest. An error of the health update
    itself propagates. In the caller's transaction, the savepoint keeps a failed
    insert from breaking it.
    """
    outcomes: dict[str, tuple[str, list[Outcome]]] = {}
    for record in records:
        if record.health is not None:
            outcomes.setdefault(record.provider, (record.service_name, []))[1].append(record.health)
    rows = [record.log_row() for record in records if record.store_row]
    inserting = False
    try:
        with transaction.atomic():
            _update_health(outcomes)
            inserting = True
            IntegrationLog.objects.bulk_create(rows)
    except DatabaseError:
        if not inserting:
            raise
        logger.exception(
            "Could not store the IntegrationLog row(s) for %s",
            ", ".join(sorted({f"{row.provider}.{row.operation}" for row in rows})),
        )
        _update_health(outcomes)  # rolled back with the rows: the health update must stay


def flush(timeout: float | None = None) -> bool:
    """Wait until every call recorded so far is stored; False on timeout.

    Useful before reading IntegrationLog rows or health counters that calls
    made outside a transaction have just produced (a test, a command's summary).
    """
    return _writer.flush(timeout)


def _update_health(outcomes: dict[str, tuple[str, list[Outcome]]]) -> None:
    for provider, (name, provider_outcomes) in outcomes.items():
        record_outcomes(provider, provider_outcomes, name=name)


def records_in_background() -> bool:
    """Whether a call recorded now would be stored by the background writer.

    Not inside a transaction, not on SQLite in deferred mode, and only while
    :setting:`PATCHBAY_RECORD_IN_BACKGROUND` is on (see :ref:`recording`).
    """
    if not conf.RECORD_IN_BACKGROUND:
        return False
    connection = transaction.get_connection(router.db_for_write(IntegrationLog))
    if connection.in_atomic_block:
        return False
    if connection.vendor == "sqlite":
        # SQLite has one writer at a time. In its default (deferred) transactions, one
        # of the caller's that reads before it writes fails at once ("database is
        # locked") while another thread writes; immediate transactions wait instead.
        mode = connection.settings_dict.get("OPTIONS", {}).get("transaction_mode")
        return str(mode).upper() in {"IMMEDIATE", "EXCLUSIVE"}
    return True


_writer: BackgroundWriter[CallRecord] = BackgroundWriter(store_records, name="patchbay-recorder")
