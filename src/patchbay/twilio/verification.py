"""Phone number verification with one-time codes.

``initiate_phone_verification`` texts a code; ``verify_phone_code`` checks it.
A code is 6 digits from :mod:`secrets`, stored only as a keyed hash, valid for
``PATCHBAY_PHONE_VERIFICATION_TTL`` seconds, usable once, and dead after
``PATCHBAY_PHONE_VERIFICATION_MAX_ATTEMPTS`` guesses; a new code for a number
voids the earlier ones. Sends are limited per number and per client IP
(``PATCHBAY_PHONE_VERIFICATION_SENDS_PER_*``), against brute force and SMS
pumping. With ``PATCHBAY_PHONE_VERIFICATION_BACKEND = "twilio_verify"`` Twilio
Verify makes and checks the codes; the limits and the attempt count still apply.

The client IP is ``request.META["REMOTE_ADDR"]``, never ``X-Forwarded-For``
(see :mod:`patchbay.core.ratelimit` for setting it behind a proxy).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from patchbay.conf import conf
from patchbay.core import ratelimit
from patchbay.core.arguments import http_request, refusal
from patchbay.core.simulation import console, should_simulate
from patchbay.exceptions import ConfigurationError, ServiceError
from patchbay.models import PhoneVerification
from patchbay.results import RateLimitedFailure, failure
from patchbay.tenancy import UNSET, tenant_scoped
from patchbay.twilio import codes, numbers, shortcuts
from patchbay.twilio.client import TwilioClient
from patchbay.twilio.results import (
    PhoneCodeFailure,
    PhoneCodeResult,
    PhoneVerificationResult,
    PhoneVerificationSuccess,
    TrackedSMSResult,
    VerificationStartResult,
)

LOCAL = PhoneVerification.BACKEND_LOCAL
TWILIO_VERIFY = PhoneVerification.BACKEND_TWILIO_VERIFY

# Why a code cannot be used, for each state of PhoneVerification.state() (and "none").
# The advice _refusal() replaces with when, while the send limit refuses a new code.
_REQUEST_NEW = "request a new one."
_REFUSALS = {
    "none": ("No code was sent to this number; request one.", "no_pending_code"),
    "verified": (f"This code was already used; {_REQUEST_NEW}", "no_pending_code"),
    "invalidated": ("A newer code was sent; use the latest one.", "no_pending_code"),
    "expired": (f"This code has expired; {_REQUEST_NEW}", "code_expired"),
    "exhausted": (f"Too many wrong codes; {_REQUEST_NEW}", "too_many_attempts"),
}
# TwilioClient.check_verification statuses that mean the code can no longer be used.
_VERIFY_STATES = {"not_found": "expired", "max_attempts_reached": "exhausted"}


@tenant_scoped
def initiate_phone_verification(
    phone_number: str, request: HttpRequest | None = None, *, tenant: object = UNSET
) -> PhoneVerificationResult:
    """Send a verification code to ``phone_number``.

    ``{"success": True, "sms_id": ..., "phone_number": "+1…", "expires_in": 600}``
    (``sms_id`` is the tracked :class:`~patchbay.models.SMS`, None with Twilio
    Verify, which adds ``verification_sid``), or a failure: ``invalid_number``,
    ``rate_limited`` (``retryable``, with ``retry_after`` seconds),
    ``rate_limit_unavailable`` (``retryable``: the cache does not answer, and the
    limits fail closed), ``opted_out`` or the send's own error. ``request``
    gives the client IP for the per-IP limit and, when authenticated, the user
    recorded on the verification.
    """
    try:
        request = http_request(request)
        phone = numbers.normalize(phone_number, simulating=should_simulate())
    except ServiceError as exc:
        return cast("RateLimitedFailure", refusal(exc))
    backend = _backend()
    client_ip = ratelimit.client_ip(request)
    refused = ratelimit.check_send_limits(
        "phone-verification",
        target=("number", phone),
        client_ip=client_ip,
        per_target=conf.PHONE_VERIFICATION_SENDS_PER_NUMBER,
        per_ip=conf.PHONE_VERIFICATION_SENDS_PER_IP,
        window=conf.PHONE_VERIFICATION_WINDOW,
        requested="codes",
    )
    if refused is not None:
        return refused
    code = codes.generate_code() if backend == LOCAL else ""
    verification = _replace_pending(
        PhoneVerification(
            phone_number=phone,
            backend=backend,
            code_hash=codes.hash_code(phone, code) if code else "",
            expires_at=timezone.now() + timedelta(seconds=conf.PHONE_VERIFICATION_TTL),
            user_id=_authenticated_user_id(request),
            ip_address=ratelimit.storable_ip(client_ip),
        )
    )
    sent = _deliver(verification, code)
    if not sent["success"]:
        # The code never reached anyone: it must not stay usable.
        PhoneVerification.objects.filter(pk=verification.pk).update(invalidated_at=timezone.now())
        return cast(
            "RateLimitedFailure",
            failure(sent["error"], error_code=sent["error_code"], retryable=sent["retryable"]),
        )
    started: PhoneVerificationSuccess = {
        "success": True,
        "sms_id": cast("int | None", sent.get("sms_id")),  # None from Twilio Verify
        "phone_number": phone,
        "expires_in": conf.PHONE_VERIFICATION_TTL,
    }
    if backend == TWILIO_VERIFY:
        started["verification_sid"] = sent["sid"]
    if sent.get("simulated"):
        started["simulated"] = True
    _bind_to_session(request, verification)
    return started


@tenant_scoped
def verify_phone_code(
    phone_number: str,
    code: str,
    *,
    request: HttpRequest | None = None,
    tenant: object = UNSET,
) -> PhoneCodeResult:
    """Check ``code`` against the latest code sent to ``phone_number``.

    ``{"success": True, "verified": True, "phone_number": "+1…"}``, or a failure
    with ``error_code`` ``invalid_number``, ``invalid_code`` (malformed or
    wrong), ``code_expired``, ``too_many_attempts`` or ``no_pending_code``.
    A wrong code's failure has ``attempts_left`` (the guesses the code still
    allows); a failure that advises requesting a new code while the per-number
    send limit refuses one says when instead, and has ``new_code_in`` seconds.
    Every well-formed guess counts as an attempt, atomically, so parallel
    guesses cannot exceed the limit.

    With ``request`` (the JSON endpoint passes its own) and
    :setting:`PATCHBAY_PHONE_VERIFICATION_BIND_SESSION` on, the code must have
    been started with a request of the same session: a check from another
    browser is ``no_pending_code``, and counts no attempt against the code.
    A code sent for one tenant is checked among that tenant's codes only.
    """
    try:
        request = http_request(request)
        phone = numbers.normalize(phone_number, simulating=should_simulate())
    except ServiceError as exc:
        return failure(exc.message, error_code=exc.error_code)
    verification = (
        PhoneVerification.objects.for_tenant()
        .filter(phone_number=phone, invalidated_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    if verification is None or not _bound_to_session(request, verification):
        return _refusal("none")
    cleaned = codes.clean_code(code, twilio_verify=verification.backend == TWILIO_VERIFY)
    if cleaned is None:
        return failure(
            "The code is malformed: enter the digits you received.", error_code="invalid_code"
        )
    if not _count_attempt(verification):
        verification.refresh_from_db()
        return _refusal(verification.state(), phone)
    if verification.backend == TWILIO_VERIFY:
        checked = TwilioClient().check_verification(phone, cleaned)
        if not checked["success"]:
            return checked
        if checked["status"] in _VERIFY_STATES:  # Twilio no longer accepts this code
            return _refusal(_VERIFY_STATES[checked["status"]], phone)
        correct = bool(checked["approved"])
    else:
        correct = codes.code_matches(verification.code_hash, phone, cleaned)
    if not correct:
        return _wrong_code(verification, phone)
    used = _usable(PhoneVerification.objects.filter(pk=verification.pk), timezone.now())
    if not used.update(verified_at=timezone.now()):  # a parallel request used it first
        return _refusal("verified", phone)
    return {"success": True, "verified": True, "phone_number": phone}


# -- helpers -----------------------------------------------------------------------------

#: The session key of the codes started in a session: ``{phone number: verification id}``.
BOUND_SESSION_KEY = "patchbay_phone_verifications"
_BOUND_PER_SESSION = 5  # numbers remembered per session: the latest win


def _binds(request: HttpRequest | None) -> bool:
    return (
        conf.PHONE_VERIFICATION_BIND_SESSION
        and request is not None
        and hasattr(request, "session")  # SessionMiddleware
    )


def _bind_to_session(request: HttpRequest | None, verification: PhoneVerification) -> None:
    """Remember in ``request``'s session that it started ``verification``."""
    if request is None or not _binds(request):
        return
    bound = dict(request.session.get(BOUND_SESSION_KEY) or {})
    bound.pop(verification.phone_number, None)
    bound[verification.phone_number] = verification.pk
    request.session[BOUND_SESSION_KEY] = dict(list(bound.items())[-_BOUND_PER_SESSION:])


def _bound_to_session(request: HttpRequest | None, verification: PhoneVerification) -> bool:
    """Whether ``request`` may check ``verification`` (always, when nothing binds)."""
    if request is None or not _binds(request):
        return True
    bound = request.session.get(BOUND_SESSION_KEY) or {}
    return isinstance(bound, dict) and bound.get(verification.phone_number) == verification.pk


def _refusal(state: str, phone: str | None = None) -> PhoneCodeFailure:
    """Why no code can be checked; with ``phone``, when a new one may be requested."""
    message, error_code = _REFUSALS.get(state, _REFUSALS["none"])
    wait = _new_code_in(phone) if phone is not None else None
    if wait is None or not message.endswith(_REQUEST_NEW):
        return cast("PhoneCodeFailure", failure(message, error_code=error_code))
    # Saying "request a new one" when the send limit refuses one would be a dead end.
    reason = message.removesuffix(_REQUEST_NEW)
    refused = cast(
        "PhoneCodeFailure",
        failure(
            f"{reason}a new code can be requested in {ratelimit.wait_in_words(wait)}.",
            error_code=error_code,
        ),
    )
    refused["new_code_in"] = wait
    return refused


def _wrong_code(verification: PhoneVerification, phone: str) -> PhoneCodeFailure:
    """A wrong guess: how many the code still allows, or, after the last, what to do next."""
    verification.refresh_from_db(fields=["attempts"])
    left = max(0, conf.PHONE_VERIFICATION_MAX_ATTEMPTS - verification.attempts)
    if left == 0:
        refused = _refusal("exhausted", phone)
        refused["error_code"] = "invalid_code"  # this guess was a wrong code, as the ones before
    else:
        refused = cast(
            "PhoneCodeFailure",
            failure(
                f"The code is not correct: {left} attempt{'s' if left != 1 else ''} left.",
                error_code="invalid_code",
            ),
        )
    refused["attempts_left"] = left
    return refused


def _new_code_in(phone: str) -> int | None:
    """Seconds before the per-number send limit lets a new code go to ``phone``, or None."""
    return ratelimit.next_use_in(
        "phone-verification:number", phone, limit=conf.PHONE_VERIFICATION_SENDS_PER_NUMBER
    )


def _backend() -> str:
    backend = conf.PHONE_VERIFICATION_BACKEND
    if backend not in (LOCAL, TWILIO_VERIFY):
        raise ConfigurationError(
            f"PATCHBAY_PHONE_VERIFICATION_BACKEND must be {LOCAL!r} or {TWILIO_VERIFY!r}."
        )
    return backend


def _deliver(
    verification: PhoneVerification, code: str
) -> VerificationStartResult | TrackedSMSResult:
    """Text ``code`` (local backend) or have Twilio Verify send its own; the send's result."""
    phone = verification.phone_number
    if verification.backend == TWILIO_VERIFY:
        sent = TwilioClient().start_verification(phone)
        if sent.get("simulated"):
            # Like the simulated SMS of the local backend: on the simulated console only.
            console.info(
                "[patchbay simulated verify] to %s: %s", phone, codes.simulated_verify_code(phone)
            )
        return sent
    sent = shortcuts.send_verification_code(phone, code)
    if sent.get("sms_id") is not None:
        PhoneVerification.objects.filter(pk=verification.pk).update(sms_id=sent["sms_id"])
    return sent


def _replace_pending(verification: PhoneVerification) -> PhoneVerification:
    """Save ``verification``, voiding the number's earlier unused codes in the same transaction."""
    with transaction.atomic():
        PhoneVerification.objects.for_tenant().filter(
            phone_number=verification.phone_number,
            verified_at__isnull=True,
            invalidated_at__isnull=True,
        ).update(invalidated_at=timezone.now())
        verification.save()
    return verification


def _usable(queryset: QuerySet[PhoneVerification], now: datetime) -> QuerySet[PhoneVerification]:
    """The rows of ``queryset`` whose code may still be used, as of ``now``."""
    return queryset.filter(
        verified_at__isnull=True, invalidated_at__isnull=True, expires_at__gt=now
    )


def _count_attempt(verification: PhoneVerification) -> bool:
    """Count one guess if the code may still be tried: a single conditional UPDATE.

    The database applies concurrent UPDATEs of a row one after the other and
    re-checks the condition each time, so at most MAX_ATTEMPTS guesses pass.
    """
    candidates = _usable(PhoneVerification.objects.filter(pk=verification.pk), timezone.now())
    return bool(
        candidates.filter(attempts__lt=conf.PHONE_VERIFICATION_MAX_ATTEMPTS).update(
            attempts=F("attempts") + 1
        )
    )


def _authenticated_user_id(request: HttpRequest | None) -> Any:  # the user model's pk type
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None
