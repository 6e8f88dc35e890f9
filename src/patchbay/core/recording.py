"""Record every call: Python logging (no secrets) plus an IntegrationLog row."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import DatabaseError, transaction

from patchbay.core.health import record_outcome
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
    health: Mapping[str, Any] | None = None,
    store: bool = True,
) -> IntegrationLog | None:
    """Log and store one call. Every argument must already be redacted.

    ``health``, the keyword arguments of :func:`~patchbay.core.health.record_outcome`
    for a live call, updates the service's health in the same transaction as the
    row: one commit per call instead of two, which on a real disk is most of
    what recording costs. An error of that update propagates, as it would alone.
    ``store=False`` only logs (a successful local operation, see ``BaseClient.call``).
    """
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
    if not store:
        return None
    inserting = False
    try:
        # A savepoint keeps a failed insert from poisoning the caller's transaction:
        # losing a log row must never lose the result of a call that happened.
        with transaction.atomic():
            if health is not None:
                record_outcome(provider, **health)
            inserting = True
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
        if not inserting:
            raise
        logger.exception("Could not store the IntegrationLog row for %s.%s", provider, operation)
        if health is not None:  # rolled back with the row: the health update must stay
            record_outcome(provider, **health)
        return None
