"""Pieces shared by patchbay's admins: read-only history admins and display helpers."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django.conf import settings
from django.db.models import Max, Min, Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from patchbay.admin.tenancy import TenantScopedAdmin

# Foreground colours with enough contrast on the admin's light and dark themes.
GREEN = "#2e7d32"
ORANGE = "#e65100"
RED = "#c62828"
GREY = "#757575"


# ModelAdmin and ModelForm are generic only in django-stubs, not at runtime.
class ReadOnlyAdmin(TenantScopedAdmin):
    """An admin for rows patchbay writes itself: viewable, never added or edited.

    Superusers may delete rows (the prune command is the usual way). Scoped by
    tenant (see :class:`~patchbay.admin.tenancy.TenantScopedAdmin`).
    """

    # Counting a large log table twice per page is the slowest part of the changelist.
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return with_range_periods(super().get_queryset(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)


class RangePeriodsMixin:
    """Date-hierarchy periods from the rows' first and last dates, not from every row.

    The changelist's date hierarchy asks ``datetimes(field, "year")`` (then
    ``"month"``, ``"day"``) of the rows shown: a ``SELECT DISTINCT`` that converts
    every row's date to the local time zone, the slowest query of the page and
    one that grows with the table. Here one ``MIN``/``MAX`` (read from the date's
    index) gives the range and every period in it is offered: for a table that
    gains rows every day, the same list; a period without rows, if there is
    one, opens an empty list.
    """

    def datetimes(
        self, field_name: str, kind: str, order: str = "ASC", tzinfo: tzinfo | None = None
    ) -> Any:
        if kind not in ("year", "month", "day"):
            return super().datetimes(field_name, kind, order, tzinfo)  # type: ignore[misc]
        zone = (tzinfo or timezone.get_current_timezone()) if settings.USE_TZ else None
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))  # type: ignore[attr-defined]
        if bounds["first"] is None:
            return []
        first, last = (
            timezone.localtime(bounds[end], zone) if zone else bounds[end]
            for end in ("first", "last")
        )
        periods = [
            datetime(day.year, day.month, day.day, tzinfo=zone)
            for day in _period_starts(first.date(), last.date(), kind)
        ]
        return periods if order == "ASC" else periods[::-1]


def _period_starts(first: date, last: date, kind: str) -> Iterator[date]:
    """The first day of each year, month or day from ``first``'s to ``last``'s."""
    if kind == "day":
        for offset in range((last - first).days + 1):
            yield first + timedelta(days=offset)
        return
    year, month = first.year, first.month if kind == "month" else 1
    while (year, month) <= (last.year, last.month if kind == "month" else 1):
        yield date(year, month, 1)
        year, month = (year + 1, 1) if kind == "year" or month == 12 else (year, month + 1)


@functools.cache
def _range_periods_class(base: type[QuerySet[Any]]) -> type[QuerySet[Any]]:
    return type(f"RangePeriods{base.__name__}", (RangePeriodsMixin, base), {})


def with_range_periods(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """``queryset``, whose (and whose clones') ``datetimes()`` is :class:`RangePeriodsMixin`'s."""
    clone = queryset.all()
    # The queryset's own class stays a base, so a project's custom QuerySet methods remain.
    clone.__class__ = _range_periods_class(type(queryset))
    return clone


def badge(text: Any, colour: str) -> SafeString:
    """``text`` as a small coloured label, for statuses in changelists."""
    return format_html(
        '<span style="color: #fff; background: {}; padding: 1px 6px; border-radius: 8px; '
        'white-space: nowrap;">{}</span>',
        colour,
        text,
    )


def pretty_json(value: Any) -> SafeString:
    """``value`` as indented JSON in a ``<pre>``, escaped."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return format_html('<pre style="margin: 0; white-space: pre-wrap;">{}</pre>', text)
