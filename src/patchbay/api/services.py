"""The services endpoints: list, create, retrieve, update, delete, toggle, test, health."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from patchbay.api import serialization
from patchbay.api.base import APIView, answer
from patchbay.api.errors import APIError
from patchbay.api.query import PAGING, listing, page
from patchbay.core import arguments
from patchbay.core.arguments import UNSTORABLE
from patchbay.core.registry import get_client_class
from patchbay.core.services import (
    load_credentials,
    probe_service,
    save_service,
    set_enabled,
    updated_credentials,
)
from patchbay.exceptions import DecryptionError, ServiceError
from patchbay.models import ExternalService, HealthCheck

VIEW = ("patchbay.view_externalservice",)
CHANGE = ("patchbay.change_externalservice",)
#: What a body may set; ``provider`` only when creating.
FIELDS = ("name", "enabled", "options", "credentials")


#: The services the API manages: the site-wide ones (tenants' are managed in the admin).
SITE_SERVICES = ExternalService.objects.filter(tenant_key="")


def get_service(provider: str) -> ExternalService:
    """The provider's row with its credentials loaded (or marked unreadable); 404 if none."""
    stored = not UNSTORABLE.search(provider) and len(provider) <= 50  # else no row has it
    row = SITE_SERVICES.defer("credentials").filter(provider=provider).first() if stored else None
    if row is None:
        raise APIError(404, f"No service {provider!r:.60}.")
    load_credentials(row)
    return row


def all_services() -> list[ExternalService]:
    try:
        return list(SITE_SERVICES.all())
    except DecryptionError:
        # One row no key decrypts (patchbay.E024) must not hide the others.
        rows = list(SITE_SERVICES.defer("credentials"))
        for row in rows:
            load_credentials(row)
        return rows


class ServiceList(APIView):
    permissions = {"GET": VIEW, "POST": ("patchbay.add_externalservice",)}

    def get(self, request: HttpRequest) -> JsonResponse:
        self.query()
        return answer({"results": [serialization.service(row) for row in all_services()]})

    def post(self, request: HttpRequest) -> JsonResponse:
        self.query()
        body = self.body()
        provider = _checked(arguments.text, body.pop("provider", None), "provider", max_length=50)
        client_class = get_client_class(provider)
        if client_class is None:
            raise APIError(404, f"No service client is registered for provider {provider!r:.60}.")
        if SITE_SERVICES.filter(provider=provider).exists():
            raise APIError(409, f"The service {provider!r} exists: update it instead.")
        row = ExternalService(provider=provider, name=client_class.label())
        _apply(row, body, replace=False)
        try:
            with transaction.atomic():
                save_service(row)
        except IntegrityError:  # created meanwhile by another request
            raise APIError(409, f"The service {provider!r} exists: update it instead.") from None
        return answer(serialization.service(row), status=201)


class ServiceDetail(APIView):
    permissions = {
        "GET": VIEW,
        "PATCH": CHANGE,
        "PUT": CHANGE,
        "DELETE": ("patchbay.delete_externalservice",),
    }

    def get(self, request: HttpRequest, provider: str) -> JsonResponse:
        self.query()
        return answer(serialization.service(get_service(provider)))

    def patch(self, request: HttpRequest, provider: str) -> JsonResponse:
        return self._update(provider, replace=False)

    def put(self, request: HttpRequest, provider: str) -> JsonResponse:
        return self._update(provider, replace=True)

    def delete(self, request: HttpRequest, provider: str) -> HttpResponse:
        self.query()
        get_service(provider).delete()
        return HttpResponse(status=204)

    def _update(self, provider: str, *, replace: bool) -> JsonResponse:
        self.query()
        row = get_service(provider)
        _apply(row, self.body(), replace=replace)
        save_service(row)
        return answer(serialization.service(row))


class ServiceToggle(APIView):
    permissions = {"POST": CHANGE}

    def post(self, request: HttpRequest, provider: str) -> JsonResponse:
        self.query()
        row = get_service(provider)
        set_enabled([row], enabled=not row.enabled)
        return answer(serialization.service(row))


class ServiceTest(APIView):
    permissions = {"POST": CHANGE}

    def post(self, request: HttpRequest, provider: str) -> JsonResponse:
        self.query()
        row = get_service(provider)
        check = probe_service(row, user=self.user)
        if check is None:
            raise APIError(409, f"No service client is installed for provider {provider!r}.")
        return answer(serialization.health_check(check))


class ServiceHealth(APIView):
    permissions = {"GET": (*VIEW, "patchbay.view_healthcheck")}
    parameters = {"GET": ("status", *PAGING)}

    def get(self, request: HttpRequest, provider: str) -> JsonResponse:
        query = self.query()
        row = get_service(provider)
        checks = HealthCheck.objects.filter(service=row)
        if (status := query.choice("status", HealthCheck.Status.values)) is not None:
            checks = checks.filter(status=status)
        rows, cursor = page(checks, query, order_field="checked_at", name="health")
        return answer(listing([serialization.health_check(check) for check in rows], cursor))


def _checked(check: Any, value: object, name: str, **kwargs: Any) -> Any:
    try:
        return check(value, name, **kwargs)
    except ServiceError as error:
        raise APIError.bad_request(error) from None


def _apply(row: ExternalService, body: Mapping[str, Any], *, replace: bool) -> None:
    """Set what ``body`` gives on ``row``; with ``replace`` (PUT), every field but credentials."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise APIError(400, f"Unknown field {unknown[0]!r:.60}; accepted: {', '.join(FIELDS)}.")
    if replace and (missing := [name for name in FIELDS[:3] if name not in body]):
        raise APIError(400, f"PUT replaces the service: give {', '.join(missing)} too.")
    if "name" in body:
        row.name = _checked(arguments.text, body["name"], "name", required=False, max_length=100)
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise APIError(400, "enabled must be true or false.")
        row.enabled = body["enabled"]
    if "options" in body:
        row.options = _options(
            row, _checked(arguments.mapping, body["options"], "options"), replace
        )
    if "credentials" in body:
        new, cleared = _credentials(
            row, _checked(arguments.mapping, body["credentials"], "credentials")
        )
        row.credentials = updated_credentials(row.credentials, new=new, cleared=cleared)


def _options(row: ExternalService, given: dict[str, Any], replace: bool) -> dict[str, Any]:
    client_class = get_client_class(row.provider)
    if client_class is not None:
        fields = client_class.config_fields
        for name in given:
            field = fields.get(name)
            if field is None:
                known = ", ".join(n for n, f in fields.items() if not f.secret) or "none"
                raise APIError(400, f"{row.provider} has no option {name!r:.60}; options: {known}.")
            if field.secret:
                raise APIError(400, f"{name} is a credential: give it in credentials.")
    # A null removes the option (its setting or default applies again).
    options = {} if replace else dict(row.options)
    for name, value in given.items():
        if value is None:
            options.pop(name, None)
        else:
            options[name] = value
    return options


def _credentials(row: ExternalService, given: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    client_class = get_client_class(row.provider)
    secrets = (
        [name for name, field in client_class.config_fields.items() if field.secret]
        if client_class is not None
        else []
    )
    new: dict[str, str] = {}
    cleared: list[str] = []
    for name, value in given.items():
        if name not in secrets:
            known = ", ".join(secrets) or "none"
            raise APIError(
                400, f"{row.provider} has no credential {name!r:.60}; credentials: {known}."
            )
        if value is None:
            cleared.append(name)
        else:
            new[name] = _checked(arguments.text, value, f"credentials.{name}")
    return new, cleared
