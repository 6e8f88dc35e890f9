"""The API's JSON for each model: never a credential's value, only its name."""

from __future__ import annotations

import datetime
from typing import Any

from patchbay.core.registry import get_client_class
from patchbay.models import ExternalService, HealthCheck, IntegrationLog, WebhookEvent


def moment(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def service(row: ExternalService) -> dict[str, Any]:
    """``row`` with its credentials' names (loaded or marked unreadable beforehand)."""
    return {
        "provider": row.provider,
        "name": row.name,
        "enabled": row.enabled,
        "registered": get_client_class(row.provider) is not None,
        "options": row.options,
        "credentials": [] if row.credentials_unreadable else row.credential_names(),
        "credentials_unreadable": row.credentials_unreadable,
        "health": {
            "status": row.health_status,
            "consecutive_failures": row.consecutive_failures,
            "total_requests": row.total_requests,
            "failed_requests": row.failed_requests,
            "success_rate": row.success_rate,
            "last_error": row.last_error,
            "last_success_at": moment(row.last_success_at),
            "last_failure_at": moment(row.last_failure_at),
            "last_checked_at": moment(row.last_checked_at),
        },
        "created_at": moment(row.created_at),
        "updated_at": moment(row.updated_at),
    }


def health_check(check: HealthCheck) -> dict[str, Any]:
    return {
        "id": check.pk,
        "status": check.status,
        "response_time_ms": check.response_time_ms,
        "simulated": check.simulated,
        "error": check.error,
        "checked_at": moment(check.checked_at),
    }


def log(row: IntegrationLog) -> dict[str, Any]:
    user_id: Any = row.user_id
    return {
        "id": row.pk,
        "provider": row.provider,
        "operation": row.operation,
        "direction": row.direction,
        "level": row.level,
        "success": row.success,
        "simulated": row.simulated,
        "duration_ms": row.duration_ms,
        "status_code": row.status_code,
        "error_code": row.error_code,
        "error": row.error,
        "request_summary": row.request_summary,
        # A custom user model's key may be a UUID: JSON gets its text.
        "user": user_id if user_id is None or isinstance(user_id, int) else str(user_id),
        "created_at": moment(row.created_at),
    }


def webhook_event(event: WebhookEvent, *, payload: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": event.pk,
        "provider": event.provider,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "status": event.status,
        "verified": event.verified,
        "attempts": event.attempts,
        "error": event.error,
        "received_at": moment(event.received_at),
        "processed_at": moment(event.processed_at),
        "next_attempt_at": moment(event.next_attempt_at),
    }
    if payload:
        data["payload"] = event.payload
    return data
