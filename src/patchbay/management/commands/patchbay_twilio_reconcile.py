"""Fetch the status of messages stuck in a non-final status (a lost callback, an outage)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from patchbay.core.sends import SENDING
from patchbay.models import SMS
from patchbay.tenancy import use_tenant
from patchbay.twilio.client import TwilioClient
from patchbay.twilio.statuses import FINAL
from patchbay.twilio.tracking import apply_status


class Command(BaseCommand):
    help = "Fetch from Twilio the status of outbound messages stuck in a non-final status."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=10,
            metavar="MINUTES",
            help="Only messages sent at least this long ago (default 10).",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=500,
            help="At most this many messages per run (default 500).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only list them.")

    def handle(
        self, *args: Any, older_than: int, limit: int, dry_run: bool, **options: Any
    ) -> None:
        stuck = (
            SMS.objects.filter(
                direction=SMS.DIRECTION_OUTBOUND,
                simulated=False,
                external_id__isnull=False,
                created_at__lte=timezone.now() - timedelta(minutes=older_than),
            )
            .exclude(status__in=FINAL)
            .order_by("created_at")[:limit]
        )
        # Each message is fetched from its tenant's account and moved among its rows.
        clients: dict[str, TwilioClient] = {}
        moved = failed = 0
        for sms in stuck:
            if dry_run:
                self.stdout.write(f"{sms.external_id}: {sms.status}")
                continue
            client = clients.setdefault(sms.tenant_key, TwilioClient(tenant=sms.tenant_key))
            result = client.get_message_status(str(sms.external_id))
            if not result["success"]:
                failed += 1
                self.stderr.write(f"{sms.external_id}: {result['error']}")
                continue
            data = result["data"]
            with use_tenant(sms.tenant_key):
                applied = apply_status(
                    str(sms.external_id),
                    result["status"],
                    error_code=str(data.get("error_code") or ""),
                    error_message=data.get("error_message") or "",
                )
            if applied:
                moved += 1
                self.stdout.write(f"{sms.external_id}: {sms.status} -> {result['status']}")
        if not dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"{moved} updated, {failed} could not be fetched.")
            )
        self._report_unknown_outcomes(older_than, limit)

    def _report_unknown_outcomes(self, older_than: int, limit: int) -> None:
        # A background send whose answer was lost (or whose worker died after claiming
        # it) has no sid to fetch: Twilio may have sent it, so nothing resends it. A
        # person decides, from the Twilio console's message log.
        unknown = SMS.objects.filter(
            direction=SMS.DIRECTION_OUTBOUND,
            status=SENDING,
            external_id__isnull=True,
            updated_at__lte=timezone.now() - timedelta(minutes=older_than),
        ).order_by("created_at")[:limit]
        for sms in unknown:
            self.stderr.write(
                f"SMS {sms.pk} to {sms.to_number}: outcome unknown since "
                f"{sms.updated_at:%Y-%m-%d %H:%M %Z} ({sms.error_code or 'worker stopped'}); "
                "check Twilio's message log before sending it again."
            )
