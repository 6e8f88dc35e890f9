"""The SQL that stores a webhook delivery, built once per database.

On databases with ``INSERT ... ON CONFLICT ... RETURNING`` (PostgreSQL, SQLite
3.35+) a delivery is claimed with one statement: see
:func:`patchbay.webhooks.processing.process_delivery`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field

from patchbay.models import WebhookEvent
from patchbay.tenancy import current_tenant_key
from patchbay.webhooks.verification import VerifiedDelivery

#: Statuses of an event whose handlers ran to the end (it has a ``processed_at``).
HANDLED = frozenset({WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED})
#: Statuses after which an event never runs again, except by ``reprocess``: a malformed
#: event would only fail the same way.
DONE = HANDLED | {WebhookEvent.Status.MALFORMED}


class EventStatements:
    """A delivery's statements, as SQL built once per database alias, for the current tenant.

    ``claim`` inserts the event, ``INSERT ... ON CONFLICT DO NOTHING RETURNING``;
    with ``takeover`` it also takes over a stored event that is not done,
    ``... ON CONFLICT DO UPDATE ... WHERE ... RETURNING`` (PostgreSQL, SQLite
    3.35+). ``find`` reads an event without locking it. The ORM would need a
    ``SELECT ... FOR UPDATE``, a savepoint, an ``INSERT`` and an ``UPDATE``
    for a first delivery, and builds each query anew every time.
    """

    _built: dict[str, EventStatements | None] = {}

    # Every column but the payload, which a redelivery of a done event does not need:
    # it stays deferred (read if a caller asks for it), so duplicates decode no JSON.
    _FIND_FIELDS = (
        "id",
        "tenant_key",
        "provider",
        "event_id",
        "event_type",
        "verified",
        "status",
        "attempts",
        "error",
        "received_at",
        "processed_at",
        "updated_at",
    )
    _RETURNED_FIELDS = ("id", "event_type", "verified", "attempts", "received_at")

    @classmethod
    def get(cls, connection: BaseDatabaseWrapper) -> EventStatements | None:
        try:
            return cls._built[connection.alias]
        except KeyError:
            features = connection.features
            usable = (
                features.supports_update_conflicts_with_target
                and features.can_return_columns_from_insert
            )
            built = cls(connection) if usable else None
            cls._built[connection.alias] = built
            return built

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.alias = connection.alias
        opts = WebhookEvent._meta
        quote = connection.ops.quote_name
        self.fields: dict[str, Field[Any, Any]] = {
            field.attname: field for field in opts.concrete_fields
        }
        column = {name: quote(field.column) for name, field in self.fields.items()}
        table = quote(opts.db_table)
        # Only identifiers from the model's metadata, quoted, are formatted in: every
        # value is a query parameter.
        self.find_sql = (
            f"SELECT {', '.join(column[name] for name in self._FIND_FIELDS)} FROM {table}"  # noqa: S608  # nosec B608
            f" WHERE {column['tenant_key']} = %s AND {column['provider']} = %s"
            f" AND {column['event_id']} = %s"
        )
        self.inserted = tuple(name for name in self.fields if name != "id")
        self.done = sorted(DONE)
        takeover = [
            f"{column[name]} = excluded.{column[name]}"
            for name in ("payload", "status", "error", "processed_at", "updated_at")
        ]
        takeover.append(f"{column['attempts']} = {table}.{column['attempts']} + 1")
        insert = (
            f"INSERT INTO {table} ({', '.join(column[name] for name in self.inserted)})"  # noqa: S608  # nosec B608
            f" VALUES ({', '.join(['%s'] * len(self.inserted))})"
            f" ON CONFLICT ({column['tenant_key']}, {column['provider']}, {column['event_id']})"
        )
        returning = f" RETURNING {', '.join(column[name] for name in self._RETURNED_FIELDS)}"
        # DO NOTHING takes no lock on a stored row, so a duplicate writes nothing at all.
        self.insert_sql = f"{insert} DO NOTHING{returning}"
        self.takeover_sql = (
            f"{insert} DO UPDATE SET {', '.join(takeover)}"  # nosec B608  # identifiers only
            f" WHERE {table}.{column['status']} NOT IN ({', '.join(['%s'] * len(self.done))})"
            f"{returning}"
        )

    def _converted(self, names: Sequence[str], row: Sequence[Any]) -> list[Any]:
        # What the ORM's compiler does to the values it reads (e.g. SQLite's datetimes).
        connection = connections[self.alias]
        values = []
        for name, value in zip(names, row, strict=True):
            column = self.fields[name].cached_col
            converters = connection.ops.get_db_converters(column)
            converters += column.get_db_converters(connection)
            for convert in converters:
                value = convert(value, column, connection)
            values.append(value)
        return values

    def find(self, provider: str, event_id: str) -> WebhookEvent | None:
        """The current tenant's stored event, its payload deferred; no lock is taken."""
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.find_sql, [current_tenant_key(), provider, event_id])
            row = cursor.fetchone()
        if row is None:
            return None
        values = self._converted(self._FIND_FIELDS, row)
        return WebhookEvent.from_db(self.alias, list(self._FIND_FIELDS), values)

    def find_locked(self, provider: str, event_id: str) -> WebhookEvent:
        """The done event a :meth:`claim` of this transaction found and locked.

        ``ON CONFLICT DO UPDATE`` locks the conflicting row even when its
        ``WHERE`` refuses the update (SQLite locks the whole database), so the
        row cannot be deleted (pruned) before this transaction ends.
        """
        event = self.find(provider, event_id)
        if event is None:
            raise RuntimeError(f"{provider} event {event_id} vanished while locked")
        return event

    def claim(
        self,
        provider: str,
        delivery: VerifiedDelivery,
        status: str,
        now: datetime,
        *,
        error: str = "",
        takeover: bool = False,
        attempts: int = 1,
    ) -> WebhookEvent | None:
        """Insert the event with ``status``; None if it is stored already.

        ``attempts`` is 1 for a delivery run as it is stored, 0 for one stored
        for a background run (which counts its attempts as it claims them).
        With ``takeover``, a stored event that is not done gets ``status``,
        the payload just received and one attempt more; None if it is done.
        The row returned, or with ``takeover`` the done one, stays locked until
        the transaction ends. The event is the current tenant's (see
        :func:`~patchbay.tenancy.use_tenant`): event ids are unique per tenant.
        """
        event = WebhookEvent(
            tenant_key=current_tenant_key(),
            provider=provider,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            payload=delivery.payload,
            verified=True,
            status=status,
            attempts=attempts,
            error=error,
            received_at=now,
            processed_at=now if status in HANDLED else None,
            updated_at=now,
        )
        connection = connections[self.alias]
        params = [
            self.fields[name].get_db_prep_save(getattr(event, name), connection)
            for name in self.inserted
        ]
        if takeover:
            params.extend(self.done)
        with connection.cursor() as cursor:
            cursor.execute(self.takeover_sql if takeover else self.insert_sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        # A redelivery keeps its row's id, type, first reception and attempt count.
        for name, value in zip(
            self._RETURNED_FIELDS, self._converted(self._RETURNED_FIELDS, row), strict=True
        ):
            setattr(event, name, value)
        event._state.adding = False
        event._state.db = self.alias
        return event
