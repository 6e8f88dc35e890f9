"""Who is calling the API: a staff session (CSRF-checked) or a bearer token.

A request with an ``Authorization`` header is authenticated by it alone: it
must be ``Bearer <token>`` for an :class:`~patchbay.models.APIToken`, and acts
as the token's user; no CSRF check applies, as no browser sends that header by
itself. Without the header, the session's user is the caller, and unsafe
methods must pass Django's CSRF check, as a form post would. Either way the
user must be active staff; each endpoint then requires its model permissions.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone

from patchbay.api.errors import APIError
from patchbay.models import APIToken
from patchbay.models.api import token_digest

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="patchbay"'}


def authenticate(request: HttpRequest) -> Any:
    """The staff user making ``request``; :class:`APIError` 401 or 403 otherwise."""
    header = request.META.get("HTTP_AUTHORIZATION")
    if header is not None:
        user = _token_user(header)
    else:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            raise APIError(
                401,
                "Authentication required: sign in as staff, or send Authorization: Bearer <token>.",
                headers=CHALLENGE,
            )
        if request.method not in SAFE_METHODS:
            _check_csrf(request)
    if not user.is_active or not user.is_staff:
        raise APIError(403, "The API is for staff users only.")
    return user


def require(user: Any, permissions: tuple[str, ...]) -> None:
    """:class:`APIError` 403 unless ``user`` has every permission (``"app.codename"``)."""
    missing = [permission for permission in permissions if not user.has_perm(permission)]
    if missing:
        raise APIError(403, f"Permission required: {', '.join(missing)}.")


def _token_user(header: str) -> Any:
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise APIError(401, "Authorization must be Bearer <token>.", headers=CHALLENGE)
    digest = token_digest(token)
    row = APIToken.objects.select_related("user").filter(digest=digest).first()
    if row is None or not row.user.is_active:
        raise APIError(401, "Invalid or revoked API token.", headers=CHALLENGE)
    APIToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.user


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> Any:
        return reason


def _never_called(request: HttpRequest) -> HttpResponseBase:
    raise AssertionError("the CSRF check calls no view")


def _check_csrf(request: HttpRequest) -> None:
    # The middleware's own rules (origin, referer, token), run for a view that is
    # exempt from the middleware itself because token requests need no token.
    check = _CSRFCheck(_never_called)
    check.process_request(request)
    reason = check.process_view(request, _never_called, (), {})
    if reason:
        raise APIError(403, f"CSRF check failed: {reason}")
