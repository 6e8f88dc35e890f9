"""The API's OpenAPI 3.1 document, served at ``api/schema/``.

Written by hand as data, next to the views it describes; tests check that it
names every URL and method of :mod:`patchbay.api.urls`, and schemathesis
checks every answer against it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from patchbay.api.query import DEFAULT_LIMIT, MAX_LIMIT
from patchbay.api.webhooks import MAX_REPROCESS
from patchbay.models import HealthCheck, IntegrationLog, WebhookEvent

JSON = "application/json"
MOMENT = {"type": ["string", "null"], "format": "date-time"}
ERRORS = {
    400: "Bad input: a malformed body or query parameter.",
    401: "No credentials, or an invalid token.",
    403: "Not staff, a permission missing, or a failed CSRF check (session).",
    404: "No such service or event.",
    405: "Method not allowed.",
    409: "The service exists already, or no client is installed for it.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(properties)
    return schema


def _answer(status: int, description: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if schema is not None:
        response["content"] = {JSON: {"schema": schema}}
    return {str(status): response}


def _operation(
    summary: str,
    success: dict[str, Any],
    errors: tuple[int, ...],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    permissions: str,
) -> dict[str, Any]:
    responses = dict(success)
    for status in (401, 403, 405, *errors):
        responses |= _answer(status, ERRORS[status], _ref("Error"))
    operation: dict[str, Any] = {
        "summary": summary,
        "description": f"Permissions: {permissions}.",
        "responses": dict(sorted(responses.items())),
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    return operation


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _path(name: str, description: str, example: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }


PAGING = [
    _query(
        "limit",
        f"Rows per page (default {DEFAULT_LIMIT}).",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    ),
    _query("cursor", "The next_cursor of the previous page.", {"type": "string"}),
]
DATES = [
    _query("start_date", "From this ISO 8601 date or date-time on.", {"type": "string"}),
    _query(
        "end_date", "Until this ISO 8601 date-time, or the end of this date.", {"type": "string"}
    ),
]
TENANT = _query(
    "tenant",
    "Only this tenant's (its key; empty: the site's). See the tenants guide.",
    {"type": "string", "maxLength": 64},
)
PROVIDER = _path("provider", "The service's provider name (stripe, twilio...).", "stripe")
EVENT = _path("event_id", "The event's id (its row's primary key).", "1")


def _page(item: str) -> dict[str, Any]:
    return _object(
        {
            "results": {"type": "array", "items": _ref(item)},
            "next_cursor": {"type": ["string", "null"]},
        }
    )


SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": {"type": "string"}}),
    "Health": _object(
        {
            "status": {"type": "string", "enum": ["unknown", "healthy", "degraded", "down"]},
            "consecutive_failures": {"type": "integer"},
            "total_requests": {"type": "integer"},
            "failed_requests": {"type": "integer"},
            "success_rate": {"type": ["number", "null"]},
            "last_error": {"type": "string"},
            "last_success_at": MOMENT,
            "last_failure_at": MOMENT,
            "last_checked_at": MOMENT,
        }
    ),
    "Service": _object(
        {
            "provider": {"type": "string"},
            "name": {"type": "string"},
            "enabled": {"type": "boolean"},
            "registered": {"type": "boolean", "description": "A client is installed for it."},
            "options": {"type": "object"},
            "credentials": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The names of the stored credentials, never their values.",
            },
            "credentials_unreadable": {"type": "boolean"},
            "health": _ref("Health"),
            "created_at": MOMENT,
            "updated_at": MOMENT,
        }
    ),
    "ServiceChanges": _object(
        {
            "name": {"type": "string", "maxLength": 100},
            "enabled": {"type": "boolean"},
            "options": {
                "type": "object",
                "description": "Option values by name; null removes one.",
            },
            "credentials": {
                "type": "object",
                "additionalProperties": {"type": ["string", "null"], "minLength": 1},
                "description": "Write-only: values by name, null clears one; others are kept.",
            },
        },
        required=False,
    )
    | {"additionalProperties": False},
    "HealthCheck": _object(
        {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": HealthCheck.Status.values},
            "response_time_ms": {"type": ["integer", "null"]},
            "simulated": {"type": "boolean"},
            "error": {"type": "string"},
            "checked_at": MOMENT,
        }
    ),
    "Log": _object(
        {
            "id": {"type": "integer"},
            "provider": {"type": "string"},
            "operation": {"type": "string"},
            "direction": {"type": "string", "enum": IntegrationLog.Direction.values},
            "level": {"type": "string", "enum": IntegrationLog.Level.values},
            "success": {"type": "boolean"},
            "simulated": {"type": "boolean"},
            "duration_ms": {"type": "integer"},
            "status_code": {"type": ["integer", "null"]},
            "error_code": {"type": "string"},
            "error": {"type": "string"},
            "request_summary": {"type": "object"},
            "user": {"type": ["integer", "string", "null"]},
            "created_at": MOMENT,
        }
    ),
    "WebhookEvent": _object(
        {
            "id": {"type": "integer"},
            "provider": {"type": "string"},
            "event_id": {"type": "string"},
            "event_type": {"type": "string"},
            "status": {"type": "string", "enum": WebhookEvent.Status.values},
            "verified": {"type": "boolean"},
            "attempts": {"type": "integer"},
            "error": {"type": "string"},
            "received_at": MOMENT,
            "processed_at": MOMENT,
            "next_attempt_at": MOMENT,
        }
    ),
}
SCHEMAS["ServiceCreation"] = {
    **SCHEMAS["ServiceChanges"],
    "properties": {
        "provider": {"type": "string", "maxLength": 50, "examples": ["stripe"]},
        **SCHEMAS["ServiceChanges"]["properties"],
    },
    "required": ["provider"],
}
SCHEMAS["ServiceReplacement"] = {
    **SCHEMAS["ServiceChanges"],
    "required": ["name", "enabled", "options"],
}
SCHEMAS["WebhookEventWithPayload"] = {
    **SCHEMAS["WebhookEvent"],
    "properties": {**SCHEMAS["WebhookEvent"]["properties"], "payload": {}},
    "required": [*SCHEMAS["WebhookEvent"]["required"], "payload"],
}

SERVICE = _answer(200, "The service.", _ref("Service"))
REPROCESSED = _answer(
    200,
    "Each event after its handlers ran again.",
    _object({"results": {"type": "array", "items": _ref("WebhookEvent")}}),
)

PATHS: dict[str, Any] = {
    "/services/": {
        "get": _operation(
            "List the services",
            _answer(
                200,
                "Every service row.",
                _object({"results": {"type": "array", "items": _ref("Service")}}),
            ),
            (400,),
            permissions="patchbay.view_externalservice",
        ),
        "post": _operation(
            "Create the row of a registered service that has none",
            _answer(201, "The new service.", _ref("Service")),
            (400, 404, 409),
            body=_ref("ServiceCreation"),
            permissions="patchbay.add_externalservice",
        ),
    },
    "/services/{provider}/": {
        "parameters": [PROVIDER],
        "get": _operation(
            "Retrieve a service", SERVICE, (400, 404), permissions="patchbay.view_externalservice"
        ),
        "patch": _operation(
            "Change some of a service's fields",
            SERVICE,
            (400, 404),
            body=_ref("ServiceChanges"),
            permissions="patchbay.change_externalservice",
        ),
        "put": _operation(
            "Replace a service's name, switch and options (credentials only as given)",
            SERVICE,
            (400, 404),
            body=_ref("ServiceReplacement"),
            permissions="patchbay.change_externalservice",
        ),
        "delete": _operation(
            "Delete a service's row",
            _answer(204, "Deleted.", None),
            (400, 404),
            permissions="patchbay.delete_externalservice",
        ),
    },
    "/services/{provider}/toggle/": {
        "parameters": [PROVIDER],
        "post": _operation(
            "Switch a service on if it is off, off if it is on",
            SERVICE,
            (400, 404),
            permissions="patchbay.change_externalservice",
        ),
    },
    "/services/{provider}/test/": {
        "parameters": [PROVIDER],
        "post": _operation(
            "Test the connection: probe the service and store a health check",
            _answer(200, "The health check.", _ref("HealthCheck")),
            (400, 404, 409),
            permissions="patchbay.change_externalservice",
        ),
    },
    "/services/{provider}/health/": {
        "parameters": [PROVIDER],
        "get": _operation(
            "The service's health checks, newest first",
            _answer(200, "A page of health checks.", _page("HealthCheck")),
            (400, 404),
            parameters=[
                _query(
                    "status",
                    "Only this outcome.",
                    {"type": "string", "enum": HealthCheck.Status.values},
                ),
                *PAGING,
            ],
            permissions="patchbay.view_externalservice and patchbay.view_healthcheck",
        ),
    },
    "/logs/": {
        "get": _operation(
            "Integration logs, newest first",
            _answer(200, "A page of log rows.", _page("Log")),
            (400,),
            parameters=[
                _query("provider", "Only this provider's.", {"type": "string"}),
                TENANT,
                _query(
                    "level",
                    "Only this level.",
                    {"type": "string", "enum": IntegrationLog.Level.values},
                ),
                _query(
                    "success",
                    "Only successes, or only failures.",
                    {"type": "string", "enum": ["true", "false"]},
                ),
                _query("operation", "Only this operation.", {"type": "string"}),
                _query(
                    "direction",
                    "Only calls, or only webhook deliveries.",
                    {"type": "string", "enum": IntegrationLog.Direction.values},
                ),
                *DATES,
                *PAGING,
            ],
            permissions="patchbay.view_integrationlog",
        ),
    },
    "/webhooks/events/": {
        "get": _operation(
            "Webhook events, newest first",
            _answer(200, "A page of events.", _page("WebhookEvent")),
            (400,),
            parameters=[
                _query("provider", "Only this provider's.", {"type": "string"}),
                TENANT,
                _query(
                    "status",
                    "Only this status.",
                    {"type": "string", "enum": WebhookEvent.Status.values},
                ),
                _query("type", "Only this event type.", {"type": "string"}),
                *DATES,
                *PAGING,
            ],
            permissions="patchbay.view_webhookevent",
        ),
    },
    "/webhooks/events/reprocess/": {
        "post": _operation(
            "Run the handlers of several events again (none if one is missing)",
            REPROCESSED,
            (400, 404),
            body=_object(
                {
                    "ids": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 1},
                        "examples": [[1, 2]],
                        "minItems": 1,
                        "maxItems": MAX_REPROCESS,
                    }
                }
            )
            | {"additionalProperties": False},
            permissions="patchbay.view_webhookevent and patchbay.change_webhookevent",
        ),
    },
    "/webhooks/events/{event_id}/": {
        "parameters": [EVENT],
        "get": _operation(
            "Retrieve an event, with its payload",
            _answer(200, "The event.", _ref("WebhookEventWithPayload")),
            (404,),
            permissions="patchbay.view_webhookevent",
        ),
    },
    "/webhooks/events/{event_id}/reprocess/": {
        "parameters": [EVENT],
        "post": _operation(
            "Run an event's handlers again",
            REPROCESSED,
            (404,),
            permissions="patchbay.view_webhookevent and patchbay.change_webhookevent",
        ),
    },
}


def document(base_path: str) -> dict[str, Any]:
    """The OpenAPI document, its server the API's mount point ``base_path``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "django-patchbay management API",
            "version": "1",
            "description": "Services, integration logs and webhook events (staff only).",
        },
        "servers": [{"url": base_path.rstrip("/")}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token."},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
        },
    }


@require_GET
@login_not_required  # the same document for every site: it describes the API, holds no data
def schema(request: HttpRequest) -> JsonResponse:
    """The OpenAPI document, its server where the API is mounted on this site."""
    base = request.path.removesuffix("schema/")
    return JsonResponse(document(base))
