"""Read-only admin for IntegrationLog, the record of every call and delivery."""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from patchbay.admin.base import ReadOnlyAdmin, pretty_json
from patchbay.models import IntegrationLog

# What a row of the list shows, key columns first and headed short: beside the admin's
# navigation and the filters they all stay in view at 1280 px. Direction and level are
# filters, and on the row's page.
_LIST_COLUMNS = (
    "provider",
    "operation",
    "success",
    "duration",
    "http_status",
    "simulated",
    "created_at",
    "error_code",
)
# The change page shows these, then the details.
_COLUMNS = (
    "created_at",
    "provider",
    "operation",
    "direction",
    "level",
    "success",
    "simulated",
    "duration_ms",
    "status_code",
    "error_code",
)


@admin.register(IntegrationLog)
class IntegrationLogAdmin(ReadOnlyAdmin):
    list_display = _LIST_COLUMNS
    list_display_links = ["operation"]
    list_filter = ["provider", "direction", "level", "success", "simulated", "error_code"]
    search_fields = ["operation", "error"]
    date_hierarchy = "created_at"
    fields = [*_COLUMNS, "user", "error", "summary"]
    readonly_fields = ["summary"]

    @admin.display(description=_("ms"), ordering="duration_ms")
    def duration(self, obj: IntegrationLog) -> int:
        return obj.duration_ms

    @admin.display(description=_("HTTP"), ordering="status_code")
    def http_status(self, obj: IntegrationLog) -> int | str:
        return "—" if obj.status_code is None else obj.status_code

    @admin.display(description=_("request summary"))
    def summary(self, obj: IntegrationLog) -> SafeString:
        return pretty_json(obj.request_summary)
