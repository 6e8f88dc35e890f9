"""Fail uploads left pending past a deadline, deleting any object they left behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from patchbay.aws.s3 import S3Client
from patchbay.models import Upload


class Command(BaseCommand):
    help = "Mark uploads pending for too long as failed and delete their orphan objects."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=24 * 60,
            metavar="MINUTES",
            help="Pending for at least this long (default 1440: a day).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only list them.")

    def handle(self, *args: Any, older_than: int, dry_run: bool, **options: Any) -> None:
        deadline = timezone.now() - timedelta(minutes=older_than)
        stale = Upload.objects.filter(status=Upload.STATUS_PENDING, created_at__lt=deadline)
        reaped = 0
        for upload in stale.order_by("created_at").iterator():
            if dry_run:
                self.stdout.write(f"{upload.pk}: {upload.key}")
                continue
            client = S3Client(
                aws_s3_bucket_name=upload.bucket,
                debug_mode=upload.simulated,
                tenant=upload.tenant_key,  # its tenant's credentials reach its bucket
            )
            result = client.delete_object(upload.key)
            if not result["success"]:
                self.stderr.write(f"{upload.pk}: could not delete {upload.key}: {result['error']}")
                continue
            updated = Upload.objects.filter(pk=upload.pk, status=Upload.STATUS_PENDING).update(
                status=Upload.STATUS_FAILED,
                error="Abandoned: never confirmed.",
                completed_at=timezone.now(),
                updated_at=timezone.now(),
            )
            reaped += updated
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"Reaped {reaped} abandoned uploads."))
