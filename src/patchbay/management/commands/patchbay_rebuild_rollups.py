"""``manage.py patchbay_rebuild_rollups``: compute the dashboard's hourly rollups from the logs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from patchbay.core import rollups


class Command(BaseCommand):
    help = (
        "Replace the health dashboard's hourly rollups with counts computed from the "
        "IntegrationLog rows: all of them, or the hours from --since (or the last --days) up "
        "to --until. Run it once for rows stored before rollups existed, and after deleting "
        "rows the dashboard should forget. The recorder keeps rollups current otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="From the hour of this ISO 8601 date-time.")
        parser.add_argument("--until", help="Up to the hour of this ISO 8601 date-time.")
        parser.add_argument("--days", type=int, help="The last this many days (not with --since).")
        parser.add_argument("--provider", help="Only this provider's rollups.")

    def handle(
        self,
        *args: Any,
        since: str | None,
        until: str | None,
        days: int | None,
        provider: str | None,
        **options: Any,
    ) -> None:
        if days is not None and since is not None:
            raise CommandError("Give --since or --days, not both.")
        if days is not None and days < 0:
            raise CommandError("--days must be zero or more.")
        start = timezone.now() - timedelta(days=days) if days is not None else _moment(since)
        end = _moment(until)
        written = rollups.rebuild(start, end, provider or None)
        span = f" from {start:%Y-%m-%d %H:00 %Z}" if start else ""
        span += f" until {end:%Y-%m-%d %H:00 %Z}" if end else ""
        self.stdout.write(f"Wrote {written} rollup row{'' if written == 1 else 's'}{span}.")


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"{value!r} is not an ISO 8601 date-time.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment
