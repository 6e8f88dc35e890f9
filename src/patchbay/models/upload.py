"""Files uploaded straight from the browser to S3/R2, tracked from form to object."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patchbay.models.tenancy import TenantScoped


class Upload(TenantScoped):
    """One direct upload: created pending with its form, completed from the bucket's own facts."""

    STATUS_PENDING = "pending"
    STATUS_COMPLETE = "complete"
    STATUS_FAILED = "failed"
    STATUS_DELETED = "deleted"
    STATUSES = [
        (STATUS_PENDING, _("Pending")),
        (STATUS_COMPLETE, _("Complete")),
        (STATUS_FAILED, _("Failed")),
        (STATUS_DELETED, _("Deleted")),
    ]

    key = models.CharField(_("object key"), max_length=1024, unique=True)
    bucket = models.CharField(_("bucket"), max_length=255)
    original_filename = models.CharField(_("original filename"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, blank=True)
    max_size = models.PositiveBigIntegerField(_("size limit (bytes)"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patchbay_uploads",
    )
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    public = models.BooleanField(_("public"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=STATUSES, default=STATUS_PENDING, db_index=True
    )
    error = models.TextField(_("error"), blank=True)
    # What complete_upload found: file URLs are bound to it, and a replacement is refused.
    etag = models.CharField(_("ETag at confirmation"), max_length=255, blank=True)
    version_id = models.CharField(_("version at confirmation"), max_length=1024, blank=True)
    simulated = models.BooleanField(_("simulated"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("upload")
        verbose_name_plural = _("uploads")

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.status})"

    def as_dict(self) -> dict[str, object]:
        """A JSON-safe summary for API answers."""
        return {
            "id": self.pk,
            "key": self.key,
            "bucket": self.bucket,
            "original_filename": self.original_filename,
            "content_type": self.content_type,
            "size": self.size,
            "status": self.status,
            "public": self.public,
            "error": self.error,
            # Keys starting with "_" are patchbay's own bookkeeping.
            "metadata": {k: v for k, v in self.metadata.items() if not k.startswith("_")},
            "created_at": self.created_at.isoformat(),
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
        }
