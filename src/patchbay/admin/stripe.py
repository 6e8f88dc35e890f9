"""Read-only admin for the Stripe state patchbay keeps from webhooks.

Read-only because Stripe is the source of truth: an edit here would be
overwritten by the next event.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from patchbay.admin.base import GREEN, GREY, ORANGE, RED, ReadOnlyAdmin, badge
from patchbay.models import StripeCustomer, StripeSubscription

_STATUS_COLOURS = {
    "active": GREEN,
    "trialing": GREEN,
    "past_due": ORANGE,
    "unpaid": ORANGE,
    "incomplete": ORANGE,
    "canceled": RED,
    "incomplete_expired": RED,
}


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyAdmin):
    list_display = ["customer_id", "user", "email", "created_at"]
    list_select_related = ["user"]
    search_fields = ["customer_id", "email"]
    date_hierarchy = "created_at"


@admin.register(StripeSubscription)
class StripeSubscriptionAdmin(ReadOnlyAdmin):
    # Whether it ends at the period's end beside its status, before the long ids.
    list_display = [
        "subscription_id",
        "user",
        "status_badge",
        "cancel_at_period_end",
        "current_period_end",
        "price_id",
        "latest_invoice_status",
        "last_event_at",
    ]
    list_select_related = ["user"]
    list_filter = ["status", "cancel_at_period_end", "latest_invoice_status"]
    search_fields = ["subscription_id", "customer_id", "price_id"]
    date_hierarchy = "created_at"

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: StripeSubscription) -> SafeString:
        return badge(obj.status, _STATUS_COLOURS.get(obj.status, GREY))
