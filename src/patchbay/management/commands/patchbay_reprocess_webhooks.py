"""``manage.py patchbay_reprocess_webhooks``: run stored webhook events' handlers again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q, QuerySet

from patchbay.models import WebhookEvent
from patchbay.webhooks.processing import reprocess

ANY_STATUS = "any"
NOT_PROCESSED = (WebhookEvent.Status.FAILED, WebhookEvent.Status.MALFORMED)


class Command(BaseCommand):
    help = (
        "Run the handlers of stored webhook events again: the failed ones by default, or those "
        "selected by id, type, status and provider (malformed events only when named by id or "
        "selected with --status malformed). Fails if any event fails again or is still "
        "malformed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--id",
            action="append",
            dest="ids",
            default=[],
            help="A WebhookEvent primary key or provider event id (repeatable).",
        )
        parser.add_argument(
            "--type",
            action="append",
            dest="event_types",
            default=[],
            help="Only events of this type (repeatable).",
        )
        parser.add_argument(
            "--status",
            choices=[*WebhookEvent.Status.values, ANY_STATUS],
            help=f"Only events with this status (default: failed; {ANY_STATUS} with --id).",
        )
        parser.add_argument("--provider", help="Only this provider's events.")
        parser.add_argument(
            "--dry-run", action="store_true", help="List the events without running anything."
        )

    def handle(
        self,
        *args: Any,
        ids: list[str],
        event_types: list[str],
        status: str | None,
        provider: str | None,
        dry_run: bool,
        **options: Any,
    ) -> None:
        events = list(select_events(ids, event_types, status, provider))
        if not events:
            self.stdout.write("No webhook events match.")
            return
        failed = 0
        for event in events:
            label = f"{event} (pk {event.pk})"
            if dry_run:
                self.stdout.write(f"Would reprocess {label}, now {event.status}.")
                continue
            new_status = reprocess(event)
            line = f"{label}: {event.status} -> {new_status}"
            if new_status in NOT_PROCESSED:
                failed += 1
                self.stdout.write(self.style.ERROR(line))
            else:
                self.stdout.write(self.style.SUCCESS(line))
        if failed:
            raise CommandError(f"{failed} of {len(events)} events failed again.")


def select_events(
    ids: list[str], event_types: list[str], status: str | None, provider: str | None
) -> QuerySet[WebhookEvent]:
    """The events to reprocess, oldest first (the order they were received in)."""
    events = WebhookEvent.objects.order_by("received_at", "pk")
    if ids:
        by_id = Q(event_id__in=ids)
        pks = [int(value) for value in ids if value.isdigit()]
        if pks:
            by_id |= Q(pk__in=pks)
        events = events.filter(by_id)
    # Naming events is choosing them: the default status filter applies only to searches.
    status = status or (ANY_STATUS if ids else WebhookEvent.Status.FAILED)
    if status != ANY_STATUS:
        events = events.filter(status=status)
    if event_types:
        events = events.filter(event_type__in=event_types)
    if provider:
        events = events.filter(provider=provider)
    return events
