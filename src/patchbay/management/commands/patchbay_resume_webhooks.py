"""``manage.py patchbay_resume_webhooks``: enqueue background runs of due webhook events."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from patchbay.webhooks.background import RESUME_GRACE_SECONDS, resume


class Command(BaseCommand):
    help = (
        "Enqueue a background run of every stored webhook event that is due: never run (the "
        "broker was down, the job was lost), failed with its retry due, or claimed by a "
        "worker that died. Run it every minute or so (see docs/background.rst)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit", type=int, default=1000, help="At most this many events (default 1000)."
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=RESUME_GRACE_SECONDS,
            help="Leave events stored or failed in the last this many seconds to the job "
            f"already enqueued for them (default {RESUME_GRACE_SECONDS:g}).",
        )

    def handle(self, *args: Any, limit: int, grace: float, **options: Any) -> None:
        count = resume(limit=limit, grace=grace)
        self.stdout.write(f"Enqueued {count} webhook event{'' if count == 1 else 's'}.")
