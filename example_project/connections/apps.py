from __future__ import annotations

from django.apps import AppConfig


class ConnectionsConfig(AppConfig):
    name = "connections"

    def ready(self) -> None:
        # Importing registers the client: patchbay's connect views, the admin and the
        # home page's service list find it by its provider name.
        from connections import client  # noqa: F401
