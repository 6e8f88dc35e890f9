"""One-time codes sent to prove a phone number belongs to whoever asked for it."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patchbay.conf import conf
from patchbay.models.tenancy import TenantScoped


class PhoneVerification(TenantScoped):
    """A code sent to a number: usable once, until it expires, within a few guesses.

    ``code_hash`` is an HMAC-SHA256 of the code keyed from ``SECRET_KEY`` (see
    :mod:`patchbay.twilio.codes`); the code itself is never stored. With the
    ``twilio_verify`` backend Twilio keeps the code and ``code_hash`` is empty.
    """

    BACKEND_LOCAL = "local"
    BACKEND_TWILIO_VERIFY = "twilio_verify"
    BACKENDS = [(BACKEND_LOCAL, _("Local")), (BACKEND_TWILIO_VERIFY, _("Twilio Verify"))]

    phone_number = models.CharField(_("phone number"), max_length=32, db_index=True)
    backend = models.CharField(_("backend"), max_length=16, choices=BACKENDS, default=BACKEND_LOCAL)
    code_hash = models.CharField(_("code hash"), max_length=64, blank=True, editable=False)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField(_("expires"))
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    # Set when a newer code for the number replaces this one, or its SMS failed.
    invalidated_at = models.DateTimeField(_("invalidated"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="phone_verifications",
    )
    ip_address = models.GenericIPAddressField(_("client IP"), null=True, blank=True)
    sms = models.ForeignKey(
        "patchbay.SMS",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SMS"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("phone verification")
        verbose_name_plural = _("phone verifications")

    def __str__(self) -> str:
        return f"{self.phone_number}: {self.state()}"

    def state(self, now: datetime | None = None) -> str:
        """``verified``, ``invalidated``, ``expired``, ``exhausted`` or ``pending``."""
        now = now or timezone.now()
        if self.verified_at:
            return "verified"
        if self.invalidated_at:
            return "invalidated"
        if self.expires_at <= now:
            return "expired"
        if self.attempts >= conf.PHONE_VERIFICATION_MAX_ATTEMPTS:
            return "exhausted"
        return "pending"
