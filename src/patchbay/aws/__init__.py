"""AWS S3 and Cloudflare R2: files, direct browser uploads, storage settings."""

from __future__ import annotations

from patchbay.aws.storage import storage_settings

__all__ = ["storage_settings"]
