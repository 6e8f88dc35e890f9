"""A row per outbound call and per inbound webhook delivery."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patchbay.models.tenancy import TenantScoped, tenant_key_field


class IntegrationLog(TenantScoped):
    """What happened on one call, with secrets redacted from every field."""

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outbound call")
        INBOUND = "inbound", _("Inbound webhook")

    class Level(models.TextChoices):
        """Set when the call is recorded (see :ref:`levels <log-levels>`)."""

        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        ERROR = "error", _("Error")

    # Indexed by Meta.indexes, a plain B-tree: db_index would add on PostgreSQL a second
    # one (varchar_pattern_ops, for LIKE), which no query of this table uses.
    tenant_key = tenant_key_field(db_index=False)
    provider = models.CharField(_("provider"), max_length=50)
    operation = models.CharField(_("operation"), max_length=100)
    direction = models.CharField(
        _("direction"), max_length=8, choices=Direction.choices, default=Direction.OUTBOUND
    )
    success = models.BooleanField(_("success"))
    level = models.CharField(_("level"), max_length=7, choices=Level.choices, default=Level.INFO)
    simulated = models.BooleanField(_("simulated"), default=False)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=100, blank=True)
    error = models.TextField(_("error"), blank=True)
    request_summary = models.JSONField(_("request summary"), default=dict, blank=True)
    # Who made the call, when the caller said (patchbay.core.recording.acting_user).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # When the call was made: set by the recorder, which may store the row later.
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["provider", "-created_at"], name="patchbay_log_provider_idx"),
            # The admin's tenant filter and scope, the API's ?tenant=, the dashboard's
            # failures of one tenant.
            models.Index(fields=["tenant_key"], name="patchbay_log_tenant_idx"),
        ]
        verbose_name = _("integration log")
        verbose_name_plural = _("integration logs")

    def __str__(self) -> str:
        outcome = "ok" if self.success else (self.error_code or "failed")
        return f"{self.provider}.{self.operation}: {outcome}"
