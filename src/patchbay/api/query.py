"""Query-string filters and cursor pagination of the API's lists.

Every parameter is checked before it reaches the database: an unknown or
repeated one, a value that is not of its kind (``success=maybe``, a date that
is not ISO 8601, a tampered cursor) is a 400 naming it.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from typing import Any, TypeVar

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from patchbay.api.errors import APIError
from patchbay.core.arguments import UNSTORABLE

ModelT = TypeVar("ModelT", bound=Model)

#: Rows per page unless ``limit`` says otherwise, and the most ``limit`` may ask for.
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
PAGING = ("limit", "cursor")
_SALT = "patchbay.api.cursor"


class Query:
    """The query string of one request, read parameter by parameter."""

    def __init__(self, params: QueryDict, allowed: Collection[str]) -> None:
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise APIError(
                400,
                f"Unknown query parameter {unknown[0]!r:.60}; "
                f"accepted: {', '.join(sorted(allowed))}.",
            )
        self.params = params

    def text(self, name: str, *, max_length: int = 255) -> str | None:
        """The value of ``name``, or None if it is absent."""
        values = self.params.getlist(name)
        if not values:
            return None
        if len(values) > 1:
            raise APIError(400, f"{name} is given {len(values)} times; give it once.")
        value = values[0]
        if UNSTORABLE.search(value) or len(value) > max_length:
            raise APIError(400, f"{name} must be at most {max_length} printable characters.")
        return value

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in choices:
            raise APIError(400, f"{name} must be one of {', '.join(choices)}, not {value!r:.60}.")
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.choice(name, ("true", "false"))
        return None if value is None else value == "true"

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self.text(name, max_length=40)
        if value is None:
            return default
        if not (value.isascii() and value.isdigit()) or not minimum <= int(value) <= maximum:
            raise APIError(
                400, f"{name} must be an integer from {minimum} to {maximum}, not {value!r:.60}."
            )
        return int(value)

    def moment(self, name: str, *, end: bool = False) -> tuple[str, datetime.datetime] | None:
        """A date or date-time bound as ``(lookup, moment)``; None if absent.

        A date-time is taken as it is (in the current time zone without an
        offset); a date alone starts at its midnight, or, as an ``end`` bound,
        covers the whole day.
        """
        value = self.text(name, max_length=40)
        if value is None:
            return None
        try:
            # A date first: parse_datetime() would take "2026-03-10" as its midnight.
            day = parse_date(value)
            moment = None if day is not None else parse_datetime(value)
        except ValueError:  # well-formed but impossible: 2024-02-30
            moment = day = None
        if moment is None and day is None:
            raise APIError(400, f"{name} must be an ISO 8601 date or date-time, not {value!r:.60}.")
        if day is not None:
            if end:
                day += datetime.timedelta(days=1)
            moment = datetime.datetime.combine(day, datetime.time())
            lookup = "lt" if end else "gte"
        else:
            lookup = "lte" if end else "gte"
        assert moment is not None  # noqa: S101  # nosec B101  # for mypy: parsed above
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return lookup, moment


def date_filter(query: Query, field: str) -> Q:
    """``start_date`` and ``end_date`` as a filter on ``field``."""
    condition = Q()
    for name, end in (("start_date", False), ("end_date", True)):
        bound = query.moment(name, end=end)
        if bound is not None:
            lookup, moment = bound
            condition &= Q(**{f"{field}__{lookup}": moment})
    return condition


def page(
    queryset: QuerySet[ModelT], query: Query, *, order_field: str, name: str
) -> tuple[list[ModelT], str | None]:
    """One page of ``queryset``, newest ``order_field`` first, and the next page's cursor.

    The cursor is signed (with ``SECRET_KEY``, for this list ``name`` only)
    and names the last row shown, so that rows written meanwhile neither
    shift a page nor repeat one.
    """
    limit = query.integer("limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    queryset = queryset.order_by(f"-{order_field}", "-pk")
    cursor = query.text("cursor", max_length=500)
    if cursor is not None:
        at, pk = _read_cursor(cursor, name)
        queryset = queryset.filter(
            Q(**{f"{order_field}__lt": at}) | Q(**{order_field: at, "pk__lt": pk})
        )
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], _cursor(getattr(last, order_field), last.pk, name)


def _cursor(at: datetime.datetime, pk: int, name: str) -> str:
    return signing.dumps([at.isoformat(), pk], salt=f"{_SALT}:{name}")


def _read_cursor(cursor: str, name: str) -> tuple[datetime.datetime, int]:
    try:
        at, pk = signing.loads(cursor, salt=f"{_SALT}:{name}")
        moment = datetime.datetime.fromisoformat(at)
    except (signing.BadSignature, TypeError, ValueError):
        raise APIError(400, "cursor is not one this list gave: start again without it.") from None
    return moment, pk


def listing(rows: Sequence[Any], next_cursor: str | None) -> Mapping[str, Any]:
    """The body of a page: its results and the cursor of the next one (None on the last)."""
    return {"results": list(rows), "next_cursor": next_cursor}
