"""Read-only admin for phone verifications; the code hash is never shown.

Read-only because a verification is evidence: editing its attempts or
timestamps would void the limits it enforces.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from patchbay.admin.base import GREEN, GREY, ORANGE, RED, ReadOnlyAdmin, badge
from patchbay.models import PhoneVerification

_STATE_COLOURS = {
    "verified": GREEN,
    "pending": ORANGE,
    "exhausted": RED,
    "expired": GREY,
    "invalidated": GREY,
}

# An explicit list, so a field added later is not shown by default; never code_hash.
_SHOWN_FIELDS = (
    "phone_number",
    "backend",
    "state_badge",
    "attempts",
    "created_at",
    "expires_at",
    "verified_at",
    "invalidated_at",
    "user",
    "ip_address",
    "sms",
)


@admin.register(PhoneVerification)
class PhoneVerificationAdmin(ReadOnlyAdmin):
    list_display = [
        "phone_number",
        "created_at",
        "expires_at",
        "attempts",
        "state_badge",
        "verified_at",
        "user",
    ]
    list_select_related = ["user"]
    list_filter = ["backend", ("verified_at", admin.EmptyFieldListFilter)]
    search_fields = ["phone_number"]
    date_hierarchy = "created_at"
    fields = _SHOWN_FIELDS
    readonly_fields = _SHOWN_FIELDS

    @admin.display(description=_("state"))
    def state_badge(self, obj: PhoneVerification) -> SafeString:
        state = obj.state()
        return badge(state, _STATE_COLOURS.get(state, GREY))
