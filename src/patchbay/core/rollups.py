"""Hourly rollups of the outbound calls: counts and a latency histogram per provider.

The health dashboard reads these instead of the IntegrationLog rows, so that
its success rates and p50/p95 over a week cost the same at a million rows as at
a hundred. A :class:`~patchbay.models.LogRollup` row counts the calls (and
errors) of one provider, in one hour, simulated or live, whose durations fall
in one bucket of :data:`BOUNDS`. :func:`add` keeps them as the recorder stores
rows (one upsert per batch); :func:`rebuild` computes them again from the rows.

Percentile precision: bucket ``0`` holds 0 ms, bucket ``i`` (1 to 89) the
durations from ``BOUNDS[i - 1]`` up to ``BOUNDS[i]`` excluded, and the last
one 100 s and more. Below 10 ms each bucket holds one value, so percentiles are
exact; above, the bounds grow by a factor of 10 ** (1 / 20) (12.2 %).
:func:`percentile` gives the largest duration of the bucket holding the true
percentile: never below it, at most 12.2 % above it, and ``None`` (shown as
"100 s or more") when it lies in the last bucket.
"""

from __future__ import annotations

import bisect
import datetime
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import TruncHour

from patchbay.models import IntegrationLog, LogRollup

#: Upper bounds (exclusive, in ms) of the buckets before the last: 1 ms to 100 s,
#: twenty per decade, rounded up to whole milliseconds (the durations stored).
BOUNDS: tuple[int, ...] = tuple(sorted({math.ceil(10 ** (i / 20)) for i in range(101)}))
#: Buckets of a histogram: one per bound, and the last for 100 s and more.
BUCKETS = len(BOUNDS) + 1


class Key(NamedTuple):
    tenant_key: str
    provider: str
    hour: datetime.datetime
    simulated: bool
    bucket: int


def bucket_of(duration_ms: int) -> int:
    """The bucket of a duration: the number of bounds it reaches."""
    return bisect.bisect_right(BOUNDS, duration_ms)


def hour_of(moment: datetime.datetime) -> datetime.datetime:
    """The start of the hour ``moment`` falls in, in UTC."""
    return moment.astimezone(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)


def percentile(histogram: Sequence[int], fraction: float) -> int | None:
    """The duration (ms) at ``fraction`` (0.5 for the median) of a histogram's calls.

    The largest duration of the bucket holding the nearest-rank percentile, so
    within the precision the module describes; 0 for an empty histogram, None
    if it lies in the last bucket (100 s or more).
    """
    total = sum(histogram)
    if not total:
        return 0
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return BOUNDS[index] - 1 if index < len(BOUNDS) else None
    return None  # pragma: no cover - seen reaches total


def add(rows: Iterable[IntegrationLog]) -> None:
    """Count the outbound rows in the rollups: one statement per batch.

    Called by the recorder in the transaction that inserts the rows, so both are
    stored or neither. PostgreSQL and SQLite add to existing rows with
    ``INSERT ... ON CONFLICT DO UPDATE``; databases without it (MySQL, Oracle)
    with F() updates.
    """
    counts = _count(rows)
    if counts:
        store(counts)


def _count(rows: Iterable[IntegrationLog]) -> dict[Key, tuple[int, int]]:
    calls: Counter[Key] = Counter()
    errors: Counter[Key] = Counter()
    for row in rows:
        if row.direction != IntegrationLog.Direction.OUTBOUND:
            continue
        key = Key(
            row.tenant_key,
            row.provider,
            hour_of(row.created_at),
            row.simulated,
            bucket_of(row.duration_ms),
        )
        calls[key] += 1
        if not row.success:
            errors[key] += 1
    return {key: (calls[key], errors[key]) for key in calls}


def store(counts: Mapping[Key, tuple[int, int]]) -> None:
    """Add ``key -> (calls, errors)`` to the rollups."""
    alias = router.db_for_write(LogRollup)
    connection = connections[alias]
    # In one order everywhere: two writers adding to the same rows cannot deadlock.
    keys = sorted(counts)
    if connection.features.supports_update_conflicts_with_target:
        _upsert(alias, keys, counts)
        return
    with transaction.atomic(using=alias):
        for key in keys:
            calls, errors = counts[key]
            fields = key._asdict()
            updated = (
                LogRollup.objects.using(alias)
                .filter(**fields)
                .update(calls=F("calls") + calls, errors=F("errors") + errors)
            )
            if not updated:
                _create_or_add(alias, fields, calls, errors)


def _create_or_add(alias: str, fields: dict[str, Any], calls: int, errors: int) -> None:
    try:
        with transaction.atomic(using=alias):
            LogRollup.objects.using(alias).create(**fields, calls=calls, errors=errors)
    except IntegrityError:  # another writer created it meanwhile: add to it
        LogRollup.objects.using(alias).filter(**fields).update(
            calls=F("calls") + calls, errors=F("errors") + errors
        )


def upsert_statements(rows: Iterable[IntegrationLog], alias: str) -> list[tuple[str, list[Any]]]:
    """The ``(sql, params)`` statements that count ``rows`` in the rollups, to run as they are.

    For a caller that sends them together with other statements (the recorder, in
    one round trip); only where the database upserts (``ON CONFLICT DO UPDATE``).
    """
    counts = _count(rows)
    return _upsert_statements(alias, sorted(counts), counts)


def _upsert(alias: str, keys: Sequence[Key], counts: Mapping[Key, tuple[int, int]]) -> None:
    with connections[alias].cursor() as cursor:
        for sql, params in _upsert_statements(alias, keys, counts):
            cursor.execute(sql, params)


def _upsert_statements(
    alias: str, keys: Sequence[Key], counts: Mapping[Key, tuple[int, int]]
) -> list[tuple[str, list[Any]]]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = quote(LogRollup._meta.db_table)
    # The model sets no db_column: each column is named after its field.
    column = {name: quote(name) for name in _COLUMNS}
    hour_field = LogRollup._meta.get_field("hour")
    added = ", ".join(
        f"{column[name]} = {table}.{column[name]} + excluded.{column[name]}"
        for name in ("calls", "errors")
    )
    statements = []
    # SQLite allows 32766 parameters a statement (999 before 3.32): stay well below.
    for start in range(0, len(keys), _ROWS_PER_STATEMENT):
        chunk = keys[start : start + _ROWS_PER_STATEMENT]
        params: list[Any] = []
        row = f"({', '.join(['%s'] * len(_COLUMNS))})"
        for key in chunk:
            hour = hour_field.get_db_prep_value(key.hour, connection)
            params.extend((key.tenant_key, key.provider, hour, key.simulated, key.bucket))
            params.extend(counts[key])
        # Only identifiers from the model's metadata, quoted, are formatted in: every
        # value is a query parameter.
        sql = (
            f"INSERT INTO {table} ({', '.join(column.values())})"  # noqa: S608  # nosec B608
            f" VALUES {', '.join([row] * len(chunk))}"
            f" ON CONFLICT ({', '.join(column[name] for name in Key._fields)})"
            f" DO UPDATE SET {added}"
        )
        statements.append((sql, params))
    return statements


_COLUMNS = (*Key._fields, "calls", "errors")
_ROWS_PER_STATEMENT = 150


def _bucket_expression() -> Case:
    # The SQL twin of bucket_of(): the same integer bounds, compared exactly.
    return Case(
        *(
            When(duration_ms__gte=bound, then=Value(index + 1))
            for index, bound in reversed(list(enumerate(BOUNDS)))
        ),
        default=Value(0),
        output_field=IntegerField(),
    )


_Rows = TypeVar("_Rows", bound=QuerySet[Any, Any])


def _hours(
    rows: _Rows,
    field: str,
    since: datetime.datetime | None,
    until: datetime.datetime | None,
    provider: str | None,
) -> _Rows:
    """``rows`` of ``provider`` (all if None) whose ``field`` is in the hours given."""
    if since is not None:
        rows = rows.filter(**{f"{field}__gte": hour_of(since)})
    if until is not None:
        rows = rows.filter(**{f"{field}__lt": hour_of(until)})
    return rows.filter(provider=provider) if provider else rows


def computed(
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    provider: str | None = None,
) -> QuerySet[IntegrationLog, dict[str, Any]]:
    """The rollups of the stored rows, computed by the database (whole hours)."""
    rows = _hours(
        IntegrationLog.objects.filter(direction=IntegrationLog.Direction.OUTBOUND),
        "created_at",
        since,
        until,
        provider,
    )
    return (
        rows.annotate(
            rollup_hour=TruncHour("created_at", tzinfo=datetime.timezone.utc),
            rollup_bucket=_bucket_expression(),
        )
        .values("tenant_key", "provider", "rollup_hour", "simulated", "rollup_bucket")
        .annotate(calls=Count("pk"), errors=Count("pk", filter=Q(success=False)))
        .order_by()
    )


def rebuild(
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    provider: str | None = None,
) -> int:
    """Replace the rollups of the hours from ``since`` up to ``until`` with the rows' counts.

    Whole hours: ``since`` counts from the start of its hour, ``until`` up to the
    start of its own (None: the first row, the last). Run it for data stored
    before rollups existed, or after deleting rows the rollups should forget.
    Rows recorded meanwhile in the rebuilt hours may be counted twice or not at
    all: rebuild hours that are over. The number of rollup rows written.
    """
    alias = router.db_for_write(LogRollup)
    existing = _hours(LogRollup.objects.using(alias), "hour", since, until, provider)
    with transaction.atomic(using=alias):
        existing.delete()
        written = 0
        batch: list[LogRollup] = []
        for row in computed(since, until, provider).using(alias).iterator(chunk_size=2000):
            batch.append(
                LogRollup(
                    tenant_key=row["tenant_key"],
                    provider=row["provider"],
                    hour=row["rollup_hour"],
                    simulated=row["simulated"],
                    bucket=row["rollup_bucket"],
                    calls=row["calls"],
                    errors=row["errors"],
                )
            )
            if len(batch) >= 2000:
                LogRollup.objects.using(alias).bulk_create(batch)
                written += len(batch)
                batch = []
        LogRollup.objects.using(alias).bulk_create(batch)
        return written + len(batch)
