"""Admin for email delivery events, suppressed addresses and sign-in links.

All read-only: events come from the provider's webhooks, and a sign-in link
is evidence of who could sign in when. Deleting a suppression (superusers
only) lets patchbay's shortcuts email the address again. A link's token hash
is never shown.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from patchbay.admin.base import GREEN, GREY, ORANGE, RED, ReadOnlyAdmin, badge
from patchbay.models import EmailEvent, EmailSuppression, LoginToken

_KIND_COLOURS = {
    EmailEvent.SENT: GREY,
    EmailEvent.DELIVERED: GREEN,
    EmailEvent.DEFERRED: ORANGE,
    EmailEvent.BOUNCED: RED,
    EmailEvent.COMPLAINED: RED,
    EmailEvent.UNSUBSCRIBED: ORANGE,
}
_STATE_COLOURS = {"used": GREEN, "pending": ORANGE, "expired": GREY}

# An explicit list, so a field added later is not shown by default; never token_hash.
_LOGIN_TOKEN_FIELDS = (
    "user",
    "state_badge",
    "created_at",
    "expires_at",
    "used_at",
    "next_url",
    "ip_address",
)


@admin.register(EmailEvent)
class EmailEventAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "email", "kind_badge", "provider_event", "template_id"]
    list_filter = ["kind", "provider"]
    search_fields = ["email", "message_id"]
    date_hierarchy = "occurred_at"
    fields = [
        "occurred_at",
        "provider",
        "email",
        "kind",
        "provider_event",
        "message_id",
        "template_id",
        "subject",
        "webhook_event",
    ]

    @admin.display(description=_("event"), ordering="kind")
    def kind_badge(self, obj: EmailEvent) -> SafeString:
        return badge(obj.get_kind_display(), _KIND_COLOURS.get(obj.kind, GREY))


@admin.register(EmailSuppression)
class EmailSuppressionAdmin(ReadOnlyAdmin):
    """Addresses patchbay's shortcuts do not email. Deleting one (superusers) allows it again.

    Only delete an address whose owner asked for email again: Loops may keep
    refusing to send to an address that bounced or unsubscribed.
    """

    list_display = ["email", "reason_badge", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    date_hierarchy = "created_at"

    @admin.display(description=_("reason"), ordering="reason")
    def reason_badge(self, obj: EmailSuppression) -> SafeString:
        return badge(obj.get_reason_display(), _KIND_COLOURS.get(obj.reason, GREY))


@admin.register(LoginToken)
class LoginTokenAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at", "expires_at", "used_at", "state_badge", "ip_address"]
    list_select_related = ["user"]
    list_filter = [("used_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "created_at"
    fields = _LOGIN_TOKEN_FIELDS
    readonly_fields = _LOGIN_TOKEN_FIELDS

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # Whatever the user model calls its username; read when the page is served.
        return [f"user__{get_user_model().USERNAME_FIELD}"]

    @admin.display(description=_("state"))
    def state_badge(self, obj: LoginToken) -> SafeString:
        state = obj.state()
        return badge(state, _STATE_COLOURS.get(state, GREY))
