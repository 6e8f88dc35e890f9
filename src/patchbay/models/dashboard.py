"""The health dashboard's data: hourly rollups of the call log, and its admin entry."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from patchbay.models.services import ExternalService
from patchbay.models.tenancy import TenantScoped


class LogRollup(TenantScoped):
    """Outbound calls of a tenant's provider in one hour whose durations fall in one bucket.

    Kept by the recorder as it stores IntegrationLog rows, and rebuilt from them
    by ``patchbay_rebuild_rollups``; summing a provider's rows gives its calls,
    errors and latency histogram over any span of whole hours (see
    :mod:`patchbay.core.rollups` for the buckets).
    """

    provider = models.CharField(_("provider"), max_length=50)
    hour = models.DateTimeField(_("hour"))
    simulated = models.BooleanField(_("simulated"), default=False)
    #: Index into :data:`patchbay.core.rollups.BOUNDS`.
    bucket = models.PositiveSmallIntegerField(_("duration bucket"))
    calls = models.PositiveBigIntegerField(_("calls"), default=0)
    errors = models.PositiveBigIntegerField(_("errors"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_key", "provider", "hour", "simulated", "bucket"],
                name="patchbay_logrollup_unique_key",
            )
        ]
        indexes = [models.Index(fields=["hour"], name="patchbay_rollup_hour_idx")]
        verbose_name = _("log rollup")
        verbose_name_plural = _("log rollups")

    def __str__(self) -> str:
        return f"{self.provider} {self.hour:%Y-%m-%d %H}:00 bucket {self.bucket}: {self.calls}"


class Dashboard(ExternalService):
    """The health dashboard's entry in the admin index (no table of its own)."""

    class Meta:
        proxy = True
        # Its admin checks the view permissions of ExternalService and IntegrationLog.
        default_permissions = ()
        verbose_name = _("health dashboard")
        verbose_name_plural = _("health dashboard")
