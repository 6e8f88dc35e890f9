"""Webhook deliveries, stored before they are processed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from patchbay.models.tenancy import TenantScoped, tenant_key_field


class WebhookEvent(TenantScoped):
    """One provider event; unique per tenant, provider and event id, so it runs once."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored (no handler)")
        FAILED = "failed", _("Failed")
        MALFORMED = "malformed", _("Malformed (never processed)")
        # Background processing gave up after PATCHBAY_WEBHOOK_MAX_ATTEMPTS failed runs.
        DEAD = "dead", _("Dead (retries exhausted)")

    # No index of its own: the unique constraint's index starts with it, and serves every
    # query by tenant (the admin's filter and scope, the status page's queue).
    tenant_key = tenant_key_field(db_index=False)
    provider = models.CharField(_("provider"), max_length=50)
    event_id = models.CharField(_("event id"), max_length=255)
    event_type = models.CharField(_("event type"), max_length=255, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    # Background processing (patchbay.webhooks.background): when a failed run is retried,
    # and until when a worker's claim on the event holds (a killed worker's claim expires).
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key", "provider", "event_id"],
                name="patchbay_webhookevent_unique_event",
            )
        ]
        indexes = [
            models.Index(fields=["provider", "event_type"], name="patchbay_webhook_type_idx"),
            models.Index(fields=["status"], name="patchbay_webhook_status_idx"),
        ]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type or '?'} {self.event_id}"
