"""A minimal service used by the core's tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.core.simulation import fake_id
from patchbay.tenancy import UNSET

SECRET = "dummy-secret-key-0123456789"


class DummyClient(BaseClient):
    """Calls whatever ``behaviour`` says; no SDK, no network."""

    provider = "dummy"
    display_name = "Dummy"
    enabled_setting = "DUMMY_ENABLED"
    config_fields = {
        "api_key": ConfigField(setting="DUMMY_API_KEY", secret=True),
        "region": ConfigField(setting="DUMMY_REGION", required=False, default="eu"),
    }

    def __init__(
        self,
        api_key: str | None = None,
        region: str | None = None,
        debug_mode: bool | None = None,
        behaviour: Callable[[], Mapping[str, Any]] | None = None,
        tenant: object = UNSET,
    ) -> None:
        super().__init__(debug_mode=debug_mode, tenant=tenant, api_key=api_key, region=region)
        self.behaviour = behaviour or (lambda: {"item": {"id": "it_live"}})

    def create_item(self, name: str, password: str = "") -> dict[str, Any]:
        return self.call(
            "create_item",
            self.behaviour,
            simulate=lambda: {"item": {"id": fake_id("it_")}},
            params={"name": name, "password": password},
        )

    def probe(self) -> Mapping[str, Any]:
        return self.behaviour()
