"""patchbay's services as django-health-check (v4) checks.

``pip install django-patchbay[health-check]``, then list the checks in the
project's ``HealthCheckView`` (see :ref:`health-checks`)::

    HealthCheckView.as_view(checks=[..., *service_checks()])

By default a check reads what is known without calling the service: its
circuit breaker and the health that recent calls left (see :ref:`health`).
With ``probe=True`` it calls the service's health probe, as ``patchbay_status
--probe`` does, and stores a HealthCheck row; ``timeout`` bounds how long the
health page waits for it. Messages never carry an error's text (the page is
often public): the admin and the HealthCheck rows have the details.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.db import connections
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from patchbay.core import registry
from patchbay.core.breaker import HALF_OPEN, OPEN, CircuitBreaker
from patchbay.core.client import BaseClient
from patchbay.models import ExternalService
from patchbay.models import HealthCheck as HealthCheckRow

#: How long the health page waits for a live probe by default.
PROBE_TIMEOUT = datetime.timedelta(seconds=10)


# django-health-check ships no type information: its base class is Any to mypy.
@dataclasses.dataclass
class PatchbayService(HealthCheck):  # type: ignore[misc]
    """One registered service: its breaker and recent health, or a live probe.

    A disabled or simulated service passes (nothing is wrong with it); an
    open breaker or a ``down`` service is unavailable; a half-open breaker or
    a ``degraded`` service is a warning, which django-health-check reports as
    a failure too.
    """

    provider: str
    probe: bool = False
    timeout: datetime.timedelta = dataclasses.field(default=PROBE_TIMEOUT, repr=False)

    def run(self) -> None:
        """Raise django-health-check's exceptions for a service that is not well."""
        # Run in a thread of django-health-check's executor: its connections are closed
        # here, as no request's end will close them.
        try:
            client_class = registry.get_client_class(self.provider)
            if client_class is None:
                raise ServiceUnavailable(f"No service {self.provider!r} is registered.")
            if self.probe:
                self._probe(client_class)
            else:
                self._recent(client_class)
        finally:
            connections.close_all()

    def _recent(self, client_class: type[BaseClient]) -> None:
        client = client_class()
        if client.config.disabled_reason or client.debug_mode:
            return
        state = CircuitBreaker(self.provider).state
        if state == OPEN:
            raise ServiceUnavailable("Circuit breaker open: calls are short-circuited.")
        row = (
            ExternalService.objects.filter(provider=self.provider, tenant_key="")
            .values("health_status", "consecutive_failures")
            .first()
        )
        status = row["health_status"] if row else ExternalService.HealthStatus.UNKNOWN
        failures = row["consecutive_failures"] if row else 0
        if status == ExternalService.HealthStatus.DOWN:
            raise ServiceUnavailable(f"Down after {failures} consecutive failures.")
        if status == ExternalService.HealthStatus.DEGRADED:
            raise ServiceWarning(f"Degraded: {failures} consecutive failure(s).")
        if state == HALF_OPEN:
            raise ServiceWarning("Circuit breaker half-open: a trial call is pending.")

    def _probe(self, client_class: type[BaseClient]) -> None:
        from patchbay.status import ServiceCheck

        check = ServiceCheck(client_class).run()
        if check.status == HealthCheckRow.Status.TIMEOUT:
            raise ServiceUnavailable(f"{client_class.label()} did not answer in time.")
        if check.status != HealthCheckRow.Status.SUCCESS:
            raise ServiceUnavailable(f"{client_class.label()}'s probe failed.")


def service_checks(
    *, probe: bool = False, timeout: datetime.timedelta | None = None
) -> list[tuple[type[PatchbayService], dict[str, Any]]]:
    """A :class:`PatchbayService` check per registered service, for ``checks=[...]``.

    ``probe`` and ``timeout`` are each check's options.
    """
    options: dict[str, Any] = {"probe": probe}
    if timeout is not None:
        options["timeout"] = timeout
    return [
        (PatchbayService, {"provider": service.provider, **options})
        for service in registry.declarations()
    ]
