"""Add "<package>.acme_notify" to INSTALLED_APPS so this runs at start-up."""

from __future__ import annotations

from django.apps import AppConfig


class AcmeNotifyConfig(AppConfig):
    name = "tests.extending.acme_notify"
    label = "acme_notify"

    def ready(self) -> None:
        # Importing registers the client (admin, checks, patchbay_status) and the handlers.
        from tests.extending.acme_notify import client, handlers  # noqa: F401
