"""Email delivery events per address, and addresses not to email again."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from patchbay.fields import EncryptedJSONField
from patchbay.models.tenancy import TenantScoped


class EmailEvent(TenantScoped):
    """One delivery event for one address, in one vocabulary across providers."""

    SENT = "sent"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"
    KINDS = [
        (SENT, _("Sent")),
        (DELIVERED, _("Delivered")),
        (DEFERRED, _("Deferred")),
        (BOUNCED, _("Bounced")),
        (COMPLAINED, _("Complained")),
        (UNSUBSCRIBED, _("Unsubscribed")),
    ]

    provider = models.CharField(_("provider"), max_length=50, default="loops")
    email = models.EmailField(_("email"), db_index=True)
    kind = models.CharField(_("event"), max_length=16, choices=KINDS, db_index=True)
    provider_event = models.CharField(_("provider event"), max_length=64)
    message_id = models.CharField(_("message id"), max_length=255, blank=True)
    template_id = models.CharField(_("template id"), max_length=255, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    webhook_event = models.ForeignKey(
        "patchbay.WebhookEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="email_events",
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("email event")
        verbose_name_plural = _("email events")

    def __str__(self) -> str:
        return f"{self.email}: {self.kind}"


class EmailSuppression(TenantScoped):
    """An address that hard-bounced, complained or unsubscribed.

    patchbay's email shortcuts skip it (``error_code`` ``"suppressed"``) unless
    told otherwise; delete the row to email it again.
    """

    email = models.EmailField(_("email"))
    reason = models.CharField(_("reason"), max_length=16, choices=EmailEvent.KINDS)
    created_at = models.DateTimeField(_("suppressed at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key", "email"], name="patchbay_emailsuppression_unique_email"
            )
        ]
        verbose_name = _("email suppression")
        verbose_name_plural = _("email suppressions")

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class OutboundEmail(TenantScoped):
    """A transactional email sent in the background: saved with the caller's transaction.

    Its ``idempotency_key`` is made from the row, so every attempt to send it
    (a task retried, run twice) is the same send to Loops, which delivers it
    once. ``payload`` (the template's variables, which may hold a reset link)
    is encrypted at rest and never shown.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    STATUSES = [
        (PENDING, _("Pending")),
        (SENDING, _("Sending")),
        (SENT, _("Sent")),
        (FAILED, _("Failed")),
    ]

    provider = models.CharField(_("provider"), max_length=50, default="loops")
    template_key = models.CharField(_("template"), max_length=100)
    to_email = models.CharField(_("to"), max_length=254, db_index=True)
    payload = EncryptedJSONField(_("payload"), editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=STATUSES, default=PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")

    def __str__(self) -> str:
        return f"{self.template_key} to {self.to_email}: {self.status}"

    @property
    def idempotency_key(self) -> str:
        """The key every attempt sends: the same row, the same send."""
        return f"patchbay-email-{self.pk}"
