from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PatchbayConfig(AppConfig):
    name = "patchbay"
    verbose_name = "Patchbay integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from patchbay import checks  # noqa: F401  (registers the system checks)

        # Neither patchbay's own webhook handlers (imported when a delivery is first
        # processed, see patchbay.webhooks.registry; they run before the project's
        # whenever they are imported) nor the service clients are imported here, nor by
        # the checks, the admin's forms or migrate, which read only the services'
        # declarations; a live call imports its provider's SDK only then.
        post_migrate.connect(_ensure_service_rows, sender=self)

        from patchbay.core import deferred

        deferred.connect()  # work run after the response (sign-in links)

        # After Django applied LOGGING: simulated links and codes must reach the developer.
        from patchbay.core.simulation import show_console_while_debugging

        show_console_while_debugging()


def _ensure_service_rows(**kwargs: Any) -> None:
    """Give every registered service a row, so the admin lists it from the start."""
    from patchbay.core.registry import declarations
    from patchbay.models import ExternalService

    using = kwargs.get("using", "default")
    for service in declarations():
        ExternalService.objects.using(using).get_or_create(
            provider=service.provider, tenant_key="", defaults={"name": service.label()}
        )
