"""Record every call: Python logging (no secrets), health, and an IntegrationLog row.

Outside a database transaction, the row and the health update are stored by a
background writer (see :mod:`patchbay.core.writer` and
:setting:`PATCHBAY_RECORD_IN_BACKGROUND`), so that a call does not wait for a
commit of its own; inside one, they are stored in it, as the caller's other
writes are (and a test's transaction sees and discards them). On SQLite, only
with ``"transaction_mode": "IMMEDIATE"``: see :func:`records_in_background`.

Refused deliveries are another matter: anyone can send them, as fast as they
like. :func:`record_refusal` counts them per provider and reason in the cache
and stores (and logs) only the first of each window of
:setting:`PATCHBAY_REFUSED_WEBHOOK_WINDOW` seconds, with the count of those
before it that were not stored; :func:`refusal_counts` reads them back.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from django.core.cache import BaseCache, caches
from django.db import DatabaseError, connections, router, transaction
from django.db.models.sql import InsertQuery
from django.utils import timezone

from patchbay import metrics
from patchbay.conf import conf
from patchbay.core import rollups
from patchbay.core.arguments import storable, storable_json
from patchbay.core.health import Outcome, record_outcomes, writes
from patchbay.core.writer import BackgroundWriter
from patchbay.models import IntegrationLog
from patchbay.tenancy import current_tenant_key

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
    #: The call's effect on the service's health (a simulated one only ends UNKNOWN).
    health: Outcome | None = None
    #: The service's human name, for the ExternalService row if it must be created.
    service_name: str = ""
    #: False for a call that is only logged (a successful local operation).
    store_row: bool = True
    #: The row's level; derived from ``success`` if not given (see :ref:`levels <log-levels>`).
    level: str = ""
    #: The primary key of the user the call was made for (:func:`acting_user`).
    user_id: Any = None
    #: The tenant the call was made for (``""``: the site); set when it is recorded, since
    #: the background writer's thread has no current tenant.
    tenant_key: str = ""

    def log_row(self) -> IntegrationLog:
        level = self.level or (
            IntegrationLog.Level.INFO if self.success else IntegrationLog.Level.ERROR
        )
        values = {
            "tenant_key": self.tenant_key,
            "level": level,
            "user_id": self.user_id,
            "provider": self.provider,
            "operation": self.operation[:100],
            "direction": self.direction,
            "success": self.success,
            "simulated": self.simulated,
            "duration_ms": max(0, self.duration_ms),
            "status_code": self.status_code,
            "error_code": self.error_code[:100],
            "error": self.error,
            "request_summary": self.summary or {},
            "created_at": self.at or timezone.now(),
        }
        # Positional values, in the columns' order, take Model.__init__'s fast path (the one
        # rows read from the database take): half the CPU of keywords, for every row the
        # writer stores. Every column but the key is given (a test checks it).
        columns = IntegrationLog._meta.concrete_fields
        return IntegrationLog(*[values.get(column.attname) for column in columns])


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
    tenant_key: str | None = None,
) -> None:
    """Log one call on the ``patchbay`` logger and store it (see :class:`CallRecord`).

    Every argument must already be redacted. ``tenant_key`` defaults to the
    current tenant's.
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
    if direction == IntegrationLog.Direction.OUTBOUND:
        metrics.count_call(
            provider,
            operation,
            success=success,
            error_code=error_code,
            seconds=duration_ms / 1000,
            simulated=simulated,
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
        user_id=_acting_user_id.get(),
        tenant_key=current_tenant_key() if tenant_key is None else tenant_key,
    )
    _submit(record)


_acting_user_id: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "patchbay_acting_user_id", default=None
)


@contextlib.contextmanager
def acting_user(user: Any) -> Iterator[None]:
    """Record the calls made inside the block as made by ``user`` (IntegrationLog.user).

    A signed-in user (anything with a primary key that is authenticated);
    an anonymous one, or None, records no user. The management API wraps its
    connection tests in it; wrap your own calls where a person asked for them.
    """
    pk = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    token = _acting_user_id.set(pk)
    try:
        yield
    finally:
        _acting_user_id.reset(token)


def _submit(record: CallRecord) -> None:
    together = _together.get()
    if together is not None:
        together.append(record)
    elif not (records_in_background() and _writer.submit(record)):
        store_records([record])


#: The records of the calls made inside stored_together(), stored when it ends.
_together: contextvars.ContextVar[list[CallRecord] | None] = contextvars.ContextVar(
    "patchbay_stored_together", default=None
)


@contextlib.contextmanager
def stored_together() -> Iterator[None]:
    """In the caller's transaction, store the records of the block's calls at its end, at once.

    One round trip for all their rows on PostgreSQL (see
    :func:`_stored_in_one_round_trip`) instead of one each: a simulated SMS
    delivers its three status callbacks in one. The rows keep the time of
    their calls, and are there when the block ends; a block that raises still
    stores them (or logs them, if its error broke the transaction). Outside a
    transaction it changes nothing: each record goes its usual way, and none
    waits for the others' commit.
    """
    connection = transaction.get_connection(router.db_for_write(IntegrationLog))
    if _together.get() is not None or not connection.in_atomic_block:
        yield
        return
    records: list[CallRecord] = []
    token = _together.set(records)
    try:
        yield
    except BaseException:
        _together.reset(token)
        try:
            _store_together(records)
        except DatabaseError:  # the block's error broke the transaction: it is the one to see
            _log_unstored([record.log_row() for record in records if record.store_row])
        raise
    _together.reset(token)
    _store_together(records)


def _store_together(records: list[CallRecord]) -> None:
    if records:
        store_records(records)


# -- refused deliveries: counted, and stored once per window ---------------------------------

_REFUSALS = "patchbay:refusals"
#: The cache keys of the refusals this process counted, for forget_refusals().
_counted: set[str] = set()
#: When the cache does not answer: the window and uncounted refusals of each, per process.
_local_windows: dict[str, tuple[int, int]] = {}
_local_lock = threading.Lock()


def record_refusal(
    *,
    provider: str,
    operation: str,
    error: str,
    error_code: str,
    status_code: int,
    duration_ms: int,
    direction: str = IntegrationLog.Direction.INBOUND,
    tenant_key: str | None = None,
) -> bool:
    """Count one refused delivery; log and store it if it is its window's first.

    Refusals are counted per ``provider`` and ``error_code`` (the reason). The
    first of each window of :setting:`PATCHBAY_REFUSED_WEBHOOK_WINDOW` seconds
    is logged as a warning and stored as an IntegrationLog row whose summary
    says ``refused``: itself and the refusals since the previous row, which were
    only counted (and logged at DEBUG). A window of 0 stores every refusal.
    When the cache does not answer, each process keeps its own windows, so the
    rows stay bounded. Every argument must already be redacted. Whether it was
    logged and stored (False: only counted).
    """
    key = current_tenant_key() if tenant_key is None else tenant_key
    window = conf.REFUSED_WEBHOOK_WINDOW
    # Per tenant too: each tenant's row tells its own refusals.
    refused = _count_refusal(f"{provider}@{key}" if key else provider, error_code, window)
    if refused is None:
        logger.debug("Refused a %s %s: [%s] %s (counted)", provider, operation, error_code, error)
        return False
    more = f" ({refused - 1} more refused since the last report)" if refused > 1 else ""
    logger.warning("Refused a %s %s: [%s] %s%s", provider, operation, error_code, error, more)
    _submit(
        CallRecord(
            provider=provider,
            operation=operation,
            success=False,
            duration_ms=duration_ms,
            error=storable(error),
            error_code=error_code,
            status_code=status_code,
            summary={"refused": refused, "window_seconds": window},
            direction=direction,
            at=timezone.now(),
            # Refused at the door: nothing of the site failed, and the count is the news.
            level=IntegrationLog.Level.WARNING,
            tenant_key=key,
        )
    )
    return True


def refusal_counts(provider: str, since: datetime.datetime) -> dict[str, int]:
    """``reason -> refusals`` of ``provider``'s deliveries since ``since``.

    The counts of the rows stored since then, plus those counted after the
    last row of each reason (not stored yet). A refusal counted in a row
    stored before ``since`` is not included, even if it happened later.
    """
    rows = IntegrationLog.objects.filter(
        provider=provider,
        direction=IntegrationLog.Direction.INBOUND,
        success=False,
        created_at__gte=since,
        request_summary__has_key="refused",
    ).values_list("error_code", "request_summary")
    counts: dict[str, int] = {}
    for reason, summary in rows:
        counts[reason] = counts.get(reason, 0) + _count_of(summary)
    try:
        store = _shared_cache()
        for reason in counts:
            pending = store.get(f"{_REFUSALS}:{provider}:{reason}:pending") or 0
            counts[reason] += int(pending)
    except Exception:  # the cache's own errors share no base class; the rows still count
        logger.debug("Could not read the refusals counted in the cache", exc_info=True)
    return counts


def _count_of(summary: Any) -> int:
    count = summary.get("refused") if isinstance(summary, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else 1


def forget_refusals() -> None:
    """Forget the refusal windows and counts this process made (between tests)."""
    with _local_lock:
        _local_windows.clear()
    keys, window = list(_counted), conf.REFUSED_WEBHOOK_WINDOW
    _counted.clear()
    if not keys:
        return
    number = int(time.time() // window) if window > 0 else 0
    try:
        _shared_cache().delete_many(
            [f"{base}:{suffix}" for base in keys for suffix in ("pending", f"window:{number}")]
        )
    except Exception:  # a cache that is down keeps nothing to forget
        logger.debug("Could not forget the refusals counted in the cache", exc_info=True)


def _shared_cache() -> BaseCache:
    return caches[conf.CACHE_ALIAS]


def _count_refusal(provider: str, reason: str, window: int) -> int | None:
    """The refusals the row of this one stands for; None if it is only counted."""
    if window <= 0:
        return 1
    base = f"{_REFUSALS}:{provider}:{reason}"
    # Fixed windows, numbered from the epoch: add() opens each once, in every process.
    number = int(time.time() // window)
    try:
        store = _shared_cache()
        _counted.add(base)
        if store.add(f"{base}:window:{number}", 1, window * 2):
            return 1 + _take(store, f"{base}:pending")
        if not store.add(f"{base}:pending", 1, None):
            try:
                store.incr(f"{base}:pending")
            except ValueError:  # evicted since add(): count afresh
                store.set(f"{base}:pending", 1, None)
        return None
    except Exception:  # the cache's errors share no base class; stay bounded without it
        return _count_locally(base, number)


def _take(store: BaseCache, key: str) -> int:
    """The count at ``key``, taken off it (what other processes add meanwhile stays)."""
    pending = int(store.get(key) or 0)
    if pending:
        with contextlib.suppress(ValueError):  # evicted: nothing left to take
            store.decr(key, pending)
    return pending


def _count_locally(base: str, number: int) -> int | None:
    with _local_lock:
        current, pending = _local_windows.get(base, (-1, 0))
        if current != number:
            _local_windows[base] = (number, 0)
            return pending + 1
        _local_windows[base] = (current, pending + 1)
        return None


def store_records(records: Sequence[CallRecord]) -> None:
    """Store health updates, log rows and their rollups in one transaction: one commit.

    A row that cannot be stored is logged, and the health updates are kept:
    losing a log row must never lose the rest. An error of the health update
    itself propagates. In the caller's transaction, the savepoint keeps a failed
    insert from breaking it.
    """
    outcomes: dict[tuple[str, str], tuple[str, list[Outcome]]] = {}
    for record in records:
        if record.health is not None:
            scope = (record.provider, record.tenant_key)
            outcomes.setdefault(scope, (record.service_name, []))[1].append(record.health)
    rows = [record.log_row() for record in records if record.store_row]
    health_writes = any(
        writes(provider, scoped, tenant_key=tenant_key)
        for (provider, tenant_key), (_name, scoped) in outcomes.items()
    )
    if not health_writes and _stored_in_one_round_trip(rows):
        return
    inserting = False
    try:
        with transaction.atomic():
            _update_health(outcomes)
            inserting = True
            # In the rows' transaction: the dashboard's counts never differ from them.
            if not _inserted_with_rollups(rows):
                IntegrationLog.objects.bulk_create(rows)
                rollups.add(rows)
    except DatabaseError:
        if not inserting:
            raise
        _log_unstored(rows)
        _update_health(outcomes)  # rolled back with the rows: the health update must stay


#: The savepoint that guards the log rows stored in one round trip.
_SAVEPOINT = '"patchbay_log_rows"'


def _stored_in_one_round_trip(rows: Sequence[IntegrationLog]) -> bool:
    """Store ``rows`` and their rollups on PostgreSQL in one round trip; whether it did.

    In the caller's transaction, the savepoint that keeps a failed row from
    breaking it, the rows, their rollups and the savepoint's release travel as
    one query string: four round trips become one (a test suite's simulated
    calls make many). A failure rolls back to the savepoint, in a second trip,
    and is logged, as :func:`store_records` does.

    Outside one (the background writer's batches of deliveries), the rows and
    their rollups travel as one query string too, without ``BEGIN`` and
    ``COMMIT``: PostgreSQL runs the statements of one query string as one
    transaction and commits it at its end, as durably as any other commit, so
    both are stored or neither. Three to four round trips become one, and the
    ORM's ``atomic()`` and ``bulk_create()`` (which also fetches every new
    primary key back) cost the writer no CPU. Rows the database refuses are
    logged; a broken connection (a database restart) is raised, for the writer
    to reconnect and try again.

    Elsewhere (SQLite, server-side parameter binding, which takes one statement
    per query) it is left to the usual path.
    """
    alias = router.db_for_write(IntegrationLog)
    connection = connections[alias]
    if not (rows and _one_query_string(connection)):
        return False
    if not connection.in_atomic_block:
        try:
            _insert_with_rollups(rows, alias)
        except DatabaseError:
            if not connection.is_usable():
                raise
            _log_unstored(rows)
        return True
    try:
        _insert_with_rollups(rows, alias, in_savepoint=True)
    except DatabaseError:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"ROLLBACK TO {_SAVEPOINT}; RELEASE {_SAVEPOINT}")
        except DatabaseError:
            pass  # the savepoint was never made: the caller's transaction had failed before
        else:
            _log_unstored(rows)
            return True
        raise
    return True


def _inserted_with_rollups(rows: Sequence[IntegrationLog]) -> bool:
    """Insert ``rows`` and their rollups in one round trip where it can be done; whether it was.

    For the batches that update health first, in :func:`store_records`'s
    transaction: its ``BEGIN``, the health ``UPDATE``, this and its ``COMMIT``.
    """
    alias = router.db_for_write(IntegrationLog)
    if not (rows and _one_query_string(connections[alias])):
        return False
    _insert_with_rollups(rows, alias)
    return True


def _one_query_string(connection: Any) -> bool:
    """Whether ``connection`` runs several statements sent as one query string."""
    if connection.vendor != "postgresql":
        return False
    if connection.settings_dict.get("OPTIONS", {}).get("server_side_binding") is True:
        return False
    return bool(connection.features.supports_update_conflicts_with_target)  # rollups' upsert


def _insert_with_rollups(
    rows: Sequence[IntegrationLog], alias: str, *, in_savepoint: bool = False
) -> None:
    """Send the rows' ``INSERT`` and their rollups' upserts as one query string.

    ``in_savepoint``: between ``SAVEPOINT`` and ``RELEASE`` (see :data:`_SAVEPOINT`).
    """
    statements = _statements(rows, alias)
    texts = [text for text, _ in statements]
    if in_savepoint:
        texts = [f"SAVEPOINT {_SAVEPOINT}", *texts, f"RELEASE {_SAVEPOINT}"]
    with connections[alias].cursor() as cursor:
        cursor.execute("; ".join(texts), [value for _, params in statements for value in params])


def _statements(rows: Sequence[IntegrationLog], alias: str) -> list[tuple[str, Any]]:
    """The rows' ``INSERT``, as Django's compiler writes it, and their rollups' upserts."""
    insert = InsertQuery(IntegrationLog)
    insert.insert_values(
        [field for field in IntegrationLog._meta.concrete_fields if not field.primary_key],
        list(rows),
    )
    return [*insert.get_compiler(alias).as_sql(), *rollups.upsert_statements(rows, alias)]


def _log_unstored(rows: Sequence[IntegrationLog]) -> None:
    logger.exception(
        "Could not store the IntegrationLog row(s) for %s",
        ", ".join(sorted({f"{row.provider}.{row.operation}" for row in rows})),
    )


def flush(timeout: float | None = None) -> bool:
    """Wait until every call recorded so far is stored; False on timeout.

    Useful before reading IntegrationLog rows or health counters that calls
    made outside a transaction have just produced (a test, a command's summary).
    """
    return _writer.flush(timeout)


def _update_health(outcomes: dict[tuple[str, str], tuple[str, list[Outcome]]]) -> None:
    for (provider, tenant_key), (name, provider_outcomes) in outcomes.items():
        record_outcomes(provider, provider_outcomes, name=name, tenant_key=tenant_key)


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
