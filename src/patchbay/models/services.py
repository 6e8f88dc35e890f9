"""The admin-managed registry of external services and their health history."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from patchbay.fields import EncryptedJSONField
from patchbay.models.tenancy import TenantScoped


class HealthStatus(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    HEALTHY = "healthy", _("Healthy")
    DEGRADED = "degraded", _("Degraded")
    DOWN = "down", _("Down")


class ExternalService(TenantScoped):
    """One external provider: its stored configuration, switch and health.

    Configuration precedence for a client is constructor arguments, then this
    row (when enabled), then Django settings. Secrets live in ``credentials``,
    encrypted at rest; the rest of the configuration lives in ``options``.
    """

    HealthStatus = HealthStatus

    provider = models.SlugField(_("provider"), max_length=50)
    name = models.CharField(_("name"), max_length=100, blank=True)
    #: The unguessable id in this tenant's webhook URLs for the provider.
    webhook_endpoint = models.UUIDField(
        _("webhook endpoint"), unique=True, default=uuid.uuid4, editable=False
    )
    enabled = models.BooleanField(
        _("enabled"),
        default=True,
        help_text=_("A disabled service is never called: its calls fail with a clear error."),
    )
    credentials = EncryptedJSONField(_("credentials"), editable=False)
    options = models.JSONField(_("options"), default=dict, blank=True)

    health_status = models.CharField(
        _("health"), max_length=10, choices=HealthStatus.choices, default=HealthStatus.UNKNOWN
    )
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    total_requests = models.PositiveBigIntegerField(_("requests"), default=0)
    failed_requests = models.PositiveBigIntegerField(_("failed requests"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last health check"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    #: True on a row loaded without its credentials because no configured key decrypts
    #: them (``patchbay.E024``); the admin opens such a row so they can be entered again.
    credentials_unreadable: bool = False

    class Meta:
        ordering = ["provider", "tenant_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key", "provider"], name="patchbay_externalservice_one_per_tenant"
            )
        ]
        verbose_name = _("external service")
        verbose_name_plural = _("external services")

    def __str__(self) -> str:
        return self.name or self.provider

    def __repr__(self) -> str:
        # Never include credentials, even encrypted.
        tenant = f" tenant={self.tenant_key}" if self.tenant_key else ""
        return (
            f"<ExternalService {self.provider}{tenant} enabled={self.enabled} "
            f"health={self.health_status}>"
        )

    @property
    def success_rate(self) -> float | None:
        """Percentage of requests that succeeded, or None before the first one."""
        if not self.total_requests:
            return None
        return round(100.0 * (self.total_requests - self.failed_requests) / self.total_requests, 2)

    def is_healthy(self) -> bool:
        """Whether calls are expected to work (HEALTHY, or UNKNOWN before any call)."""
        return self.health_status in {HealthStatus.HEALTHY, HealthStatus.UNKNOWN}

    def credential_names(self) -> list[str]:
        """Names of the stored credentials (never their values)."""
        credentials: dict[str, Any] = self.credentials
        return sorted(name for name, value in credentials.items() if value)


class HealthCheck(TenantScoped):
    """One health probe of a service and its outcome."""

    class Status(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")
        TIMEOUT = "timeout", _("Timeout")

    service = models.ForeignKey(
        ExternalService, on_delete=models.CASCADE, related_name="health_checks"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    response_time_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    simulated = models.BooleanField(_("simulated"), default=False)
    error = models.TextField(_("error"), blank=True)
    checked_at = models.DateTimeField(_("checked at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        verbose_name = _("health check")
        verbose_name_plural = _("health checks")

    def __str__(self) -> str:
        return f"{self.service_id} {self.status} at {self.checked_at:%Y-%m-%d %H:%M:%S}"
