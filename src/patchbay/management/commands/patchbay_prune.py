"""``manage.py patchbay_prune``: delete old logs, health checks, settled webhook events and
phone verifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Model, QuerySet
from django.utils import timezone

from patchbay.conf import conf
from patchbay.models import (
    HealthCheck,
    IntegrationLog,
    LoginToken,
    OutboundEmail,
    PhoneVerification,
    WebhookEvent,
)

# Failed, malformed and unprocessed events still need attention (a malformed one may be
# a shape patchbay does not know yet, to reprocess after an upgrade): only settled ones
# are pruned.
SETTLED = [WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED]


class Command(BaseCommand):
    help = (
        "Delete IntegrationLog and HealthCheck rows older than PATCHBAY_LOG_RETENTION_DAYS and "
        "processed or ignored WebhookEvent rows older than PATCHBAY_WEBHOOK_RETENTION_DAYS. "
        "Failed, malformed and unprocessed webhook events are kept. PhoneVerification rows "
        "(numbers and IP addresses), LoginToken rows and sent or failed OutboundEmail rows "
        "follow the log retention."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            help="Keep this many days of every kind of row (overrides both settings).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="Rows deleted per query, so no single transaction grows huge (default 5000).",
        )

    def handle(
        self, *args: Any, days: int | None, dry_run: bool, batch_size: int, **options: Any
    ) -> None:
        if days is not None and days < 0:
            raise CommandError("--days must be zero or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        log_cutoff = _cutoff(conf.LOG_RETENTION_DAYS if days is None else days)
        webhook_cutoff = _cutoff(conf.WEBHOOK_RETENTION_DAYS if days is None else days)
        targets: list[tuple[str, datetime, QuerySet[Any]]] = [
            (
                "integration logs",
                log_cutoff,
                IntegrationLog.objects.filter(created_at__lt=log_cutoff),
            ),
            ("health checks", log_cutoff, HealthCheck.objects.filter(checked_at__lt=log_cutoff)),
            (
                "phone verifications",
                log_cutoff,
                PhoneVerification.objects.filter(created_at__lt=log_cutoff),
            ),
            ("login tokens", log_cutoff, LoginToken.objects.filter(created_at__lt=log_cutoff)),
            (
                # Sent or failed only: a pending one is still to be sent.
                "sent or failed background emails",
                log_cutoff,
                OutboundEmail.objects.filter(
                    created_at__lt=log_cutoff,
                    status__in=[OutboundEmail.SENT, OutboundEmail.FAILED],
                ),
            ),
            (
                "processed or ignored webhook events",
                webhook_cutoff,
                WebhookEvent.objects.filter(received_at__lt=webhook_cutoff, status__in=SETTLED),
            ),
        ]
        for label, cutoff, queryset in targets:
            if dry_run:
                count = queryset.count()
                verb = "Would delete"
            else:
                count = delete_in_batches(queryset, batch_size)
                verb = "Deleted"
            self.stdout.write(f"{verb} {count} {label} from before {cutoff:%Y-%m-%d %H:%M %Z}.")


def _cutoff(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)


def delete_in_batches(queryset: QuerySet[Model], batch_size: int) -> int:
    """Delete ``queryset``'s rows ``batch_size`` primary keys at a time; returns the count."""
    model = queryset.model
    deleted = 0
    while True:
        pks = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not pks:
            return deleted
        # Each batch commits on its own (autocommit), so locks are short-lived.
        _, per_model = model._default_manager.filter(pk__in=pks).delete()
        deleted += per_model.get(model._meta.label, 0)
