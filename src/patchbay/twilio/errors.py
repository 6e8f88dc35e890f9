"""Twilio's failures as patchbay error codes, and lost answers to message POSTs."""

from __future__ import annotations

from patchbay.exceptions import ServiceError

# Twilio error codes that will fail the same way however often they are retried.
_PERMANENT_ERRORS = {
    21211: "invalid_number",
    21408: "region_not_enabled",
    21610: "opted_out",
    21612: "unreachable",
    21614: "not_mobile",
    30003: "unreachable",
    30005: "unknown_destination",
    30006: "landline",
    30007: "filtered",
}
_AUTH_ERRORS = {20003, 20005}
_RATE_LIMIT_ERRORS = {20429, 14107}
#: Verify's 429s about one phone number (too many checks, too many codes sent), not the
#: account's rate: they put no hold on Twilio (see BaseClient.retry_after).
ONE_NUMBER_LIMITS = frozenset({60202, 60203})


def from_rest_exception(exc: object) -> ServiceError | None:
    """A ``ServiceError`` for a ``TwilioRestException``, else None."""
    try:
        from twilio.base.exceptions import TwilioRestException
    except ImportError:  # no SDK (simulating): the exception cannot be one of its own
        return None

    if not isinstance(exc, TwilioRestException):
        return None
    message = f"Twilio error {exc.code}: {exc.msg}" if exc.code else str(exc.msg)
    if exc.code in _PERMANENT_ERRORS:
        return ServiceError(message, error_code=_PERMANENT_ERRORS[exc.code], status=exc.status)
    if exc.code in _AUTH_ERRORS or exc.status == 401:
        return ServiceError(message, error_code="authentication_error", status=exc.status)
    if exc.code in _RATE_LIMIT_ERRORS or exc.status == 429:
        return ServiceError(message, error_code="rate_limited", retryable=True, status=exc.status)
    if exc.status >= 500:
        return ServiceError(message, error_code="api_error", retryable=True, status=exc.status)
    code = f"twilio_{exc.code}" if exc.code else "invalid_request"
    return ServiceError(message, error_code=code, status=exc.status)


def unknown_outcome(exc: Exception) -> Exception:
    """A lost answer to a message POST: say so, rather than invite a double send."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return exc  # never connected: nothing was sent, retrying is safe
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(getattr(reason, "reason", reason), NewConnectionError):
            return exc  # refused or unresolvable: nothing was sent
    if isinstance(exc, (requests.ReadTimeout, requests.ConnectionError)):
        return ServiceError(
            "Twilio did not answer; the message may have been sent. Check its status "
            "before sending it again.",
            error_code="outcome_unknown",
        )
    return exc
