"""JSON endpoints for phone verification: start (text a code) and check (verify it).

Both take POST only, form-encoded or JSON (``phone_number``, and ``code`` to
check), and are CSRF-protected like any form: send the ``csrftoken`` cookie's
value in an ``X-CSRFToken`` header (or a ``csrfmiddlewaretoken`` field). They
answer 200 with the result, 400 ``{"error": ...}`` for bad input, 405 for
other methods, 429 ``{"error", "retry_after"}`` with a ``Retry-After`` header
when a send limit is reached, and 502/503 when Twilio fails.

A successful check stores the number in the session as
``request.session["patchbay_verified_phone"]`` (E.164), for the project's next
view to trust. A code started here is bound to the browser session that asked
for it (``PATCHBAY_PHONE_VERIFICATION_BIND_SESSION``): another session's check
fails like a wrong code.

Anonymous callers get no detail an outsider could use: every failed check is
the same ``400 invalid_code`` (no code, a wrong, expired, used or exhausted
code, another session's code), and a send that failed on the provider's side
is ``503 api_error`` without the provider's text. The detail goes to the
``patchbay.twilio`` log, and the admin shows each code's state and each call.
Signed-in callers get the detailed answer: after a wrong code its
``attempts_left``, and ``new_code_in`` seconds when the advice is to wait for
a new code rather than request one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_protect

from patchbay.results import failure
from patchbay.twilio.results import PhoneCodeResult, PhoneVerificationResult
from patchbay.twilio.verification import initiate_phone_verification, verify_phone_code

SESSION_KEY = "patchbay_verified_phone"
logger = logging.getLogger("patchbay.twilio")

# Failures caused by what the client sent (or the number it chose): 400.
_BAD_INPUT = frozenset(
    {
        "invalid_request",
        "invalid_number",
        "invalid_code",
        "code_expired",
        "too_many_attempts",
        "no_pending_code",
        "opted_out",
        "not_mobile",
        "landline",
        "unreachable",
        "unknown_destination",
        "region_not_enabled",
    }
)
# Failures an anonymous caller may see as they are: about what it sent, decided by
# patchbay before any lookup or provider call.
_SHOWN_TO_ANYONE = frozenset({"invalid_request", "rate_limited"})
# What the number is, which the person typing it needs to hear (the text is ours).
_UNTEXTABLE = frozenset(
    {
        "opted_out",
        "not_mobile",
        "landline",
        "unreachable",
        "unknown_destination",
        "region_not_enabled",
    }
)
NEUTRAL_CHECK = "This code could not be verified. Check it, or request a new code."
NEUTRAL_NUMBER = "Enter a mobile number in international format, e.g. +14155552671."
NEUTRAL_UNTEXTABLE = "We cannot text this number. Use another number."
NEUTRAL_SEND = "The code could not be sent right now. Try again in a few minutes."
# What a client may see of a result; internal ids (sms_id) stay on the server.
_PUBLIC_KEYS = (
    "success",
    "verified",
    "phone_number",
    "expires_in",
    "error",
    "error_code",
    "attempts_left",
    "new_code_in",
)

View = Callable[[HttpRequest], JsonResponse]


def _json_post(view: Callable[[HttpRequest, dict[str, str]], Mapping[str, Any]]) -> View:
    """POST only (405 JSON otherwise), CSRF-checked, with the body's fields parsed."""

    @csrf_protect
    def wrapper(request: HttpRequest) -> JsonResponse:
        if request.method != "POST":
            response = JsonResponse({"error": "Use POST."}, status=405)
            response["Allow"] = "POST"
            return response
        fields = _fields(request)
        if fields is None:
            return _respond(
                failure(
                    "The body must be a form or a JSON object of strings.",
                    error_code="invalid_request",
                )
            )
        result = view(request, fields)
        if not result["success"] and not _authenticated(request):
            result = _neutral(view.__name__, result)
        return _respond(result)

    wrapper.__doc__ = view.__doc__
    wrapper.__name__ = view.__name__
    return wrapper


@login_not_required  # for sign-up pages too: limited per number and per IP instead
@_json_post
def start(request: HttpRequest, fields: dict[str, str]) -> PhoneVerificationResult:
    """``patchbay:phone-verification-start``: text a code to ``phone_number``."""
    return initiate_phone_verification(fields.get("phone_number", ""), request)


@login_not_required
@_json_post
def check(request: HttpRequest, fields: dict[str, str]) -> PhoneCodeResult:
    """``patchbay:phone-verification-check``: verify ``code`` for ``phone_number``."""
    result = verify_phone_code(
        fields.get("phone_number", ""), fields.get("code", ""), request=request
    )
    if result["success"] and hasattr(request, "session"):  # needs SessionMiddleware
        request.session[SESSION_KEY] = result["phone_number"]
    return result


def _authenticated(request: HttpRequest) -> bool:
    return bool(getattr(getattr(request, "user", None), "is_authenticated", False))


def _neutral(view: str, result: Mapping[str, Any]) -> Mapping[str, Any]:
    """What an anonymous caller is told of the failure ``result``; the detail is logged."""
    error_code = result["error_code"]
    if error_code in _SHOWN_TO_ANYONE:
        return result
    logger.info(
        "Phone verification %s told an anonymous client less than: [%s] %s",
        view,
        error_code,
        result["error"],
    )
    if view == "check":
        if error_code == "invalid_number":  # the number as typed, not any code's state
            return failure(NEUTRAL_NUMBER, error_code="invalid_number")
        return failure(NEUTRAL_CHECK, error_code="invalid_code")
    if error_code == "invalid_number":
        return failure(NEUTRAL_NUMBER, error_code="invalid_number")
    if error_code in _UNTEXTABLE:
        return failure(NEUTRAL_UNTEXTABLE, error_code=error_code)
    if error_code == "rate_limit_unavailable":
        return failure(NEUTRAL_SEND, error_code=error_code, retryable=True)
    return failure(NEUTRAL_SEND, error_code="api_error", retryable=True)


def _fields(request: HttpRequest) -> dict[str, str] | None:
    """The body's fields as strings, or None if it is not a form or a flat JSON object."""
    if request.content_type != "application/json":
        return {key: request.POST.get(key, "") for key in request.POST}
    try:
        data: Any = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data


def _respond(result: Mapping[str, Any]) -> JsonResponse:
    body = {key: result[key] for key in _PUBLIC_KEYS if key in result}
    if result["success"]:
        return JsonResponse(body)
    if "retry_after" in result:
        body["retry_after"] = result["retry_after"]
        response = JsonResponse(body, status=429)
        response["Retry-After"] = str(result["retry_after"])
        return response
    if result["error_code"] in _BAD_INPUT:
        return JsonResponse(body, status=400)
    return JsonResponse(body, status=503 if result["retryable"] else 502)
