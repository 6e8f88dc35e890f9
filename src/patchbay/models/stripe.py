"""Local Stripe state, kept current from webhooks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patchbay.models.tenancy import TenantScoped


class StripeCustomer(TenantScoped):
    """Links a user to their Stripe customer, so checkouts reuse one customer."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="stripe_customers",
    )
    customer_id = models.CharField(_("customer id"), max_length=255)
    email = models.EmailField(_("email"), blank=True)
    # The clock of the last write, as on StripeSubscription.
    last_event_at = models.DateTimeField(_("last event"), null=True, blank=True)
    last_event_received_at = models.DateTimeField(_("last event received"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One customer per user and tenant: each tenant's Stripe account has its own.
            models.UniqueConstraint(
                fields=["tenant_key", "user"],
                condition=models.Q(user__isnull=False),
                name="patchbay_stripecustomer_one_per_user",
            ),
            models.UniqueConstraint(
                fields=["tenant_key", "customer_id"], name="patchbay_stripecustomer_unique_id"
            ),
        ]
        verbose_name = _("Stripe customer")
        verbose_name_plural = _("Stripe customers")

    def __str__(self) -> str:
        return self.customer_id


class StripeSubscription(TenantScoped):
    """A subscription as the newest webhook event described it.

    The row's clock is the change that last wrote it: ``last_event_at``, the
    Stripe ``created`` time of its event (or of a shortcut's answer), and
    ``last_event_received_at``, when patchbay first received that event (or
    wrote that answer). A change older than the clock is not applied; see
    "Local state only moves forward" in the Stripe docs.
    """

    ACTIVE_STATUSES = ("active", "trialing")

    subscription_id = models.CharField(_("subscription id"), max_length=255)
    customer_id = models.CharField(_("customer id"), max_length=255, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stripe_subscriptions",
    )
    status = models.CharField(_("status"), max_length=32)
    price_id = models.CharField(_("price id"), max_length=255, blank=True)
    current_period_end = models.DateTimeField(_("current period end"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(_("cancels at period end"), default=False)
    canceled_at = models.DateTimeField(_("canceled at"), null=True, blank=True)
    latest_invoice_status = models.CharField(_("latest invoice"), max_length=32, blank=True)
    latest_invoice_event_at = models.DateTimeField(_("latest invoice event"), null=True, blank=True)
    last_event_at = models.DateTimeField(_("last event"), null=True, blank=True)
    last_event_received_at = models.DateTimeField(_("last event received"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key", "subscription_id"], name="patchbay_stripesub_unique_id"
            )
        ]
        indexes = [models.Index(fields=["user", "status"], name="patchbay_stripesub_user_idx")]
        verbose_name = _("Stripe subscription")
        verbose_name_plural = _("Stripe subscriptions")

    def __str__(self) -> str:
        return f"{self.subscription_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES
