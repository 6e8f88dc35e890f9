"""Read-only admin for direct uploads.

An upload's status comes from the bucket itself (``complete_upload`` heads
the object), so an edit here would claim what the bucket does not hold.
Deleting a row (superusers only) forgets the record, not the object: use
``delete_upload`` to remove the file too.
"""

from __future__ import annotations

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from patchbay.admin.base import GREEN, GREY, ORANGE, RED, ReadOnlyAdmin, badge, pretty_json
from patchbay.models import Upload

_STATUS_COLOURS = {
    Upload.STATUS_COMPLETE: GREEN,
    Upload.STATUS_PENDING: ORANGE,
    Upload.STATUS_FAILED: RED,
    Upload.STATUS_DELETED: GREY,
}


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "original_filename",
        "owner",
        "status_badge",
        "size_display",
        "content_type",
        "public",
        "simulated",
    ]
    list_select_related = ["owner"]
    list_filter = ["status", "public", "simulated", "content_type"]
    search_fields = ["original_filename", "key"]
    date_hierarchy = "created_at"
    fields = [
        "original_filename",
        "status",
        "error",
        "owner",
        "bucket",
        "key",
        "content_type",
        "size",
        "max_size",
        "etag",
        "version_id",
        "public",
        "simulated",
        "metadata_display",
        "created_at",
        "completed_at",
        "updated_at",
    ]
    readonly_fields = ["metadata_display"]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Upload) -> SafeString:
        return badge(obj.get_status_display(), _STATUS_COLOURS.get(obj.status, GREY))

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj: Upload) -> str:
        return "" if obj.size is None else str(filesizeformat(obj.size))

    @admin.display(description=_("metadata"))
    def metadata_display(self, obj: Upload) -> SafeString:
        return pretty_json(obj.metadata)
