"""SMS and WhatsApp messages, tracked until delivered, and opted-out numbers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patchbay.models.tenancy import TenantScoped


class SMS(TenantScoped):
    """One message, outbound (sent through patchbay) or inbound (received)."""

    DIRECTION_OUTBOUND = "outbound"
    DIRECTION_INBOUND = "inbound"
    DIRECTIONS = [(DIRECTION_OUTBOUND, _("Outbound")), (DIRECTION_INBOUND, _("Inbound"))]
    CHANNELS = [("sms", "SMS"), ("whatsapp", "WhatsApp")]

    direction = models.CharField(
        _("direction"), max_length=8, choices=DIRECTIONS, default=DIRECTION_OUTBOUND
    )
    channel = models.CharField(_("channel"), max_length=10, choices=CHANNELS, default="sms")
    to_number = models.CharField(_("to"), max_length=32, db_index=True)
    from_number = models.CharField(_("from"), max_length=64, blank=True)
    body = models.TextField(_("body"), blank=True)
    status = models.CharField(_("status"), max_length=16, default="pending", db_index=True)
    # NULL until Twilio answers with the SID: NULLs never collide in the unique constraint.
    external_id = models.CharField(  # noqa: DJ001
        _("message SID"), max_length=64, null=True, blank=True
    )
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    simulated = models.BooleanField(_("simulated"), default=False)
    #: Background sends only: attempts at the POST, and when the next one is due.
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sms_messages",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key", "external_id"], name="patchbay_sms_unique_sid"
            )
        ]
        # Status callbacks and inbound messages find their row by SID alone when there
        # are no tenants, which the constraint above (tenant first) cannot serve:
        # without this, PostgreSQL scanned every message in a pending status.
        indexes = [models.Index(fields=["external_id"], name="patchbay_sms_sid")]
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")

    def __str__(self) -> str:
        return f"{self.direction} {self.channel} to {self.to_number}: {self.status}"


class PhoneOptOut(TenantScoped):
    """A number that texted STOP: shortcut sends to it are refused until it texts START."""

    phone_number = models.CharField(_("phone number"), max_length=32)
    keyword = models.CharField(_("keyword"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("opted out at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key", "phone_number"], name="patchbay_phoneoptout_unique_number"
            )
        ]
        verbose_name = _("phone opt-out")
        verbose_name_plural = _("phone opt-outs")

    def __str__(self) -> str:
        return self.phone_number
