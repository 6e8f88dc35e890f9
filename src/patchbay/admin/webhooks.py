"""Read-only admin for WebhookEvent, with an action to run handlers again."""

from __future__ import annotations

from collections import Counter

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from patchbay.admin.base import GREEN, GREY, ORANGE, RED, ReadOnlyAdmin, badge, pretty_json
from patchbay.models import WebhookEvent

STATUS_COLOURS: dict[str, str] = {
    WebhookEvent.Status.PROCESSED: GREEN,
    WebhookEvent.Status.IGNORED: GREY,
    WebhookEvent.Status.RECEIVED: ORANGE,
    WebhookEvent.Status.FAILED: RED,
    WebhookEvent.Status.MALFORMED: RED,
    WebhookEvent.Status.DEAD: RED,
}
NOT_PROCESSED = (WebhookEvent.Status.FAILED, WebhookEvent.Status.MALFORMED)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    # Status and attempts first, so that beside the navigation and the filters they stay
    # in view at 1280 px.
    list_display = [
        "provider",
        "event_type",
        "outcome",
        "attempts",
        "received_at",
        "next_attempt_at",
        "verified",
        "event_id",
        "processed_at",
    ]
    list_display_links = ["event_type"]
    list_filter = ["provider", "status", "event_type"]
    search_fields = ["event_id", "event_type"]
    date_hierarchy = "received_at"
    actions = ["reprocess_events"]
    fields = [
        "provider",
        "event_id",
        "event_type",
        "status",
        "verified",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "error",
        "received_at",
        "processed_at",
        "formatted_payload",
    ]
    readonly_fields = ["formatted_payload"]

    @admin.display(description=_("status"), ordering="status")
    def outcome(self, obj: WebhookEvent) -> SafeString:
        return badge(obj.get_status_display(), STATUS_COLOURS.get(obj.status, GREY))

    @admin.display(description=_("payload"))
    def formatted_payload(self, obj: WebhookEvent) -> SafeString:
        return pretty_json(obj.payload)

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        # Rows are never edited in the admin, but running handlers is a change.
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(description=_("Reprocess selected events"), permissions=["reprocess"])
    def reprocess_events(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        # Imported here: the admin module is imported at every start, the pipeline
        # only when an event is reprocessed.
        from patchbay.webhooks.processing import reprocess_many

        statuses: Counter[str] = Counter()
        for event, status in reprocess_many(queryset):
            statuses[status] += 1
            if status in NOT_PROCESSED:
                event.refresh_from_db(fields=["error"])
                sentence = (
                    gettext("%(event)s failed again: %(error)s")
                    if status == WebhookEvent.Status.FAILED
                    else gettext("%(event)s is malformed: %(error)s")
                )
                self.message_user(
                    request, sentence % {"event": event, "error": event.error}, messages.ERROR
                )
        total = sum(statuses.values())
        summary = ", ".join(
            f"{count} {WebhookEvent.Status(status).label}"
            for status, count in sorted(statuses.items())
        )
        message = ngettext(
            "Reprocessed %(count)d event: %(summary)s.",
            "Reprocessed %(count)d events: %(summary)s.",
            total,
        ) % {"count": total, "summary": summary}
        failed = sum(statuses[status] for status in NOT_PROCESSED)
        level = messages.WARNING if failed else messages.SUCCESS
        self.message_user(request, message, level)
