"""Clients of the tests' authorization server, one per authentication type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patchbay.core.auth import ApiKeyAuth, BasicAuth, BearerAuth, OAuth2Auth
from patchbay.core.client import BaseClient
from patchbay.core.config import ConfigField
from patchbay.exceptions import ServiceError


class ServerClient(BaseClient):
    """Calls the test server's /api endpoints through BaseClient.http."""

    def me(self) -> dict[str, Any]:
        return self.call("me", lambda: self.get("/api/me"), simulate=lambda: {"user": "sim"})

    def echo(self, **params: str) -> dict[str, Any]:
        return self.call("echo", lambda: self.get("/api/echo", params=params), simulate=dict)

    def get(self, path: str, **kwargs: Any) -> Mapping[str, Any]:
        response = self.http("GET", self.config["api_url"] + path, **kwargs)
        if response.status_code == 401:
            raise ServiceError(
                f"{self.label()} refused the token: {response.text}",
                error_code="authentication_error",
                status=401,
            )
        response.raise_for_status()
        answer: Mapping[str, Any] = response.json()
        return answer


API_URL = {"api_url": ConfigField(setting="TEST_SERVER_API_URL")}


class AcmeOAuthClient(ServerClient):
    provider = "acme_oauth"
    display_name = "Acme OAuth"
    config_fields = API_URL
    authentication = OAuth2Auth(
        authorize_url="https://acme.example/authorize",
        token_url="https://acme.example/token",
        scopes=("read", "offline_access"),
    )


class AcmePerUserClient(ServerClient):
    provider = "acme_per_user"
    display_name = "Acme per user"
    config_fields = API_URL
    authentication = OAuth2Auth(
        authorize_url="https://acme.example/authorize",
        token_url="https://acme.example/token",
        scopes=("read",),
        per_user=True,
    )


class KeyInHeaderClient(ServerClient):
    provider = "key_in_header"
    config_fields = API_URL
    authentication = ApiKeyAuth(header="X-API-Key")


class KeyInQueryClient(ServerClient):
    provider = "key_in_query"
    config_fields = API_URL
    authentication = ApiKeyAuth(field="token", query_parameter="key")


class PrefixedKeyClient(ServerClient):
    provider = "prefixed_key"
    config_fields = API_URL
    authentication = ApiKeyAuth(header="Authorization", prefix="Token ")


class BasicClient(ServerClient):
    provider = "basic_service"
    config_fields = API_URL
    authentication = BasicAuth("account", "password")


class BearerClient(ServerClient):
    provider = "bearer_service"
    config_fields = API_URL
    authentication = BearerAuth("api_token")
