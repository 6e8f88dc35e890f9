"""``manage.py patchbay_resume``: enqueue what the queue lost, webhook events and sends alike."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from patchbay.core.sends import RESUME_GRACE_SECONDS, resume_sends
from patchbay.webhooks.background import resume as resume_webhooks


class Command(BaseCommand):
    help = (
        "Enqueue a background run of every stored webhook event that is due (never run, "
        "failed with its retry due, or claimed by a worker that died) and the send of every "
        "pending SMS and email that is due (its job lost, or its retry not deferred). Never "
        "a send already 'sending'. Run it every minute or so (see docs/background.rst)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit",
            type=int,
            default=1000,
            help="At most this many events, and this many rows of each kind (default 1000).",
        )
        parser.add_argument(
            "--grace",
            type=float,
            default=RESUME_GRACE_SECONDS,
            help="Leave what was stored or put back in the last this many seconds to the job "
            f"already enqueued for it (default {RESUME_GRACE_SECONDS:g}).",
        )

    def handle(self, *args: Any, limit: int, grace: float, **options: Any) -> None:
        events = resume_webhooks(limit=limit, grace=grace)
        sends = resume_sends(limit=limit, grace=grace)
        self.stdout.write(
            f"Enqueued {events} webhook event{'' if events == 1 else 's'} "
            f"and {sends} send{'' if sends == 1 else 's'}."
        )
