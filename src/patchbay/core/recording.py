"""Record every call: Python logging (no secrets) plus an IntegrationLog row."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, transaction

from patchbay.models import IntegrationLog

logger = logging.getLogger("patchbay")


def record_call(
    *,
    provider: str,
    operation: str,
    success: bool,
    duration_ms: int,
    simulated: bool = False,
    error: str = "",
    error_code: str = "",
    status_code: int | None = None,
    summary: dict[str, Any] | None = None,
    direction: str = IntegrationLog.Direction.OUTBOUND,
) -> IntegrationLog | None:
    """Log and store one call. Every argument must already be redacted."""
    tag = " (simulated)" if simulated else ""
    if success:
        logger.info("%s.%s succeeded in %d ms%s", provider, operation, duration_ms, tag)
    else:
        logger.warning(
            "%s.%s failed in %d ms%s: [%s] %s",
            provider,
            operation,
            duration_ms,
            tag,
            error_code,
            error,
        )
    try:
        # A savepoint keeps a failed insert from poisoning the caller's transaction:
        # losing a log row must never lose the result of a call that happened.
        with transaction.atomic():
            return IntegrationLog.objects.create(
                provider=provider,
                operation=operation[:100],
                direction=direction,
                success=success,
                simulated=simulated,
                duration_ms=max(0, duration_ms),
                status_code=status_code,
                error_code=error_code[:100],
                error=error,
                request_summary=summary or {},
            )
    except DatabaseError:
        logger.exception("Could not store the IntegrationLog row for %s.%s", provider, operation)
        return None
