"""Admin for the messages patchbay tracks and the numbers that opted out.

Messages are read-only: their status comes from Twilio's callbacks, and an
edit here would be overwritten by the next one. Verification codes never
reach this page: ``send_verification_code`` stores its message with the code
masked.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from patchbay.admin.base import GREEN, GREY, ORANGE, RED, ReadOnlyAdmin, badge
from patchbay.models import SMS, PhoneOptOut

_STATUS_COLOURS = {
    "delivered": GREEN,
    "read": GREEN,
    "received": GREEN,
    "undelivered": RED,
    "failed": RED,
    "canceled": RED,
    "pending": ORANGE,
}


@admin.register(SMS)
class SMSAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "direction",
        "channel",
        "to_number",
        "from_number",
        "status_badge",
        "error_code",
        "simulated",
        "user",
    ]
    list_select_related = ["user"]
    list_filter = ["direction", "channel", "status", "simulated"]
    search_fields = ["to_number", "from_number", "external_id"]
    date_hierarchy = "created_at"
    fields = [
        "direction",
        "channel",
        "to_number",
        "from_number",
        "body",
        "status",
        "external_id",
        "error_code",
        "error_message",
        "attempts",
        "next_attempt_at",
        "simulated",
        "user",
        "created_at",
        "queued_at",
        "sent_at",
        "delivered_at",
        "read_at",
        "failed_at",
        "updated_at",
    ]

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: SMS) -> SafeString:
        return badge(obj.status, _STATUS_COLOURS.get(obj.status, GREY))


@admin.register(PhoneOptOut)
class PhoneOptOutAdmin(ReadOnlyAdmin):
    """Numbers that texted STOP. Deleting one (superusers only) opts the number back in.

    Only delete a number whose owner asked for messages again: Twilio itself
    keeps blocking a number that texted STOP until it texts START.
    """

    list_display = ["phone_number", "keyword", "created_at"]
    search_fields = ["phone_number"]
    date_hierarchy = "created_at"
