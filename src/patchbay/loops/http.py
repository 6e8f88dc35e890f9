"""The HTTP layer under ``LoopsClient``: one pooled ``requests.Session`` with urllib3 retries.

429 and 5xx answers and dropped connections are retried a bounded number of
times with exponential backoff and jitter, honouring ``Retry-After``. POSTs are
retried too, which is safe only because every send carries an
``Idempotency-Key``: Loops answers a replay with 409 instead of sending twice.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from patchbay.core.throttle import retry_after
from patchbay.exceptions import ServiceError

RETRY_STATUSES = (429, 500, 502, 503, 504)
_ERROR_CODES = {
    400: "invalid_request",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found",
    405: "invalid_request",
    409: "conflict",
    413: "invalid_request",
    429: "rate_limited",
}


@functools.lru_cache(maxsize=4)
def session(retries: int, backoff: float) -> Any:
    """A ``requests.Session`` that retries as described above; one per process and policy."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # idempotency keys make POST safe
        backoff_factor=backoff,
        backoff_jitter=backoff,
        respect_retry_after_header=True,
        retry_after_max=60,
        raise_on_status=False,
    )
    http = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    http.mount("https://", adapter)
    http.mount("http://", adapter)
    return http


def api_error(status: int, body: Any, headers: Mapping[str, Any] | None = None) -> ServiceError:
    """A ``ServiceError`` for a refused call, keeping Loops' own message.

    A 429's ``Retry-After``, if Loops sends one, is kept as its ``retry_after``.
    """
    message = ""
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("error") or "")
    message = message or f"Loops answered HTTP {status}."
    return ServiceError(
        message,
        error_code=_ERROR_CODES.get(status, "api_error" if status >= 500 else "invalid_request"),
        retryable=status in RETRY_STATUSES,
        status=status,
        response=body,
        retry_after=retry_after(headers) if status == 429 else None,
    )
