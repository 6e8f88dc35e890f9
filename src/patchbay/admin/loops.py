"""Admin for email delivery events, suppressed addresses, sign-in links and background emails.

All read-only: events come from the provider's webhooks, a sign-in link is
evidence of who could sign in when, and a background email's row is its
task's to write. Deleting a suppression (superusers only) lets patchbay's
shortcuts email the address again. A link's token hash is never shown, nor a
background email's variables (a reset or sign-in link is a credential): only
their names.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename, get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from patchbay.admin.base import GREEN, GREY, ORANGE, RED, ReadOnlyAdmin, badge
from patchbay.models import EmailEvent, EmailSuppression, LoginToken, OutboundEmail

_KIND_COLOURS = {
    EmailEvent.SENT: GREY,
    EmailEvent.DELIVERED: GREEN,
    EmailEvent.DEFERRED: ORANGE,
    EmailEvent.BOUNCED: RED,
    EmailEvent.COMPLAINED: RED,
    EmailEvent.UNSUBSCRIBED: ORANGE,
}
_STATE_COLOURS = {"used": GREEN, "pending": ORANGE, "expired": GREY}
_SEND_COLOURS = {
    OutboundEmail.PENDING: ORANGE,
    OutboundEmail.SENDING: ORANGE,
    OutboundEmail.SENT: GREEN,
    OutboundEmail.FAILED: RED,
}
# An explicit list, so a field added later is not shown by default; never the payload.
_OUTBOUND_EMAIL_FIELDS = (
    "template_key",
    "to_email",
    "status_badge",
    "attempts",
    "next_attempt_at",
    "error_code",
    "error_message",
    "variable_names",
    "idempotency_key",
    "created_at",
    "updated_at",
    "sent_at",
)

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


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    """Emails sent in the background, with their attempts and last error; never their variables.

    *Send again* puts failed emails back in the queue under their own
    idempotency key, so one that did reach Loops is answered as a duplicate
    rather than sent twice (for as long as Loops remembers the key).
    """

    list_display = [
        "created_at",
        "template_key",
        "to_email",
        "status_badge",
        "attempts",
        "error_code",
        "sent_at",
    ]
    list_filter = ["status", "template_key"]
    search_fields = ["to_email"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    fields = _OUTBOUND_EMAIL_FIELDS
    readonly_fields = _OUTBOUND_EMAIL_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboundEmail]:
        # The payload is never shown: not even decrypted for the page.
        return super().get_queryset(request).defer("payload")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: OutboundEmail) -> SafeString:
        return badge(obj.get_status_display(), _SEND_COLOURS.get(obj.status, GREY))

    @admin.display(description=_("variables"))
    def variable_names(self, obj: OutboundEmail) -> str:
        try:
            names = sorted(obj.payload.get("data_variables") or {})
        except Exception:  # a key rotated away: the names are as unreadable as the values
            return str(_("(cannot be decrypted)"))
        return ", ".join(names) + (" " + str(_("(values not shown)")) if names else "")

    def has_send_again_permission(self, request: HttpRequest) -> bool:
        # Rows are never edited in the admin, but sending one again is a change.
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(description=_("Send selected failed emails again"), permissions=["send_again"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        from patchbay.loops.tasks import send_again

        count = send_again(queryset)
        skipped = queryset.count() - count
        self.message_user(
            request,
            ngettext("Queued %(count)d email again.", "Queued %(count)d emails again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d email was not failed: left alone.",
                    "%(count)d emails were not failed: left alone.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
