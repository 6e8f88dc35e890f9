"""Password reset by address: the request does the same work whatever the address.

Django's ``PasswordResetForm.save`` looks the address up and emails each
account inside the request, so its response is slower for addresses that
have an account. :func:`send_password_reset_to_address` only checks the
address and hands the lookup, the tokens and the emails to
:mod:`patchbay.core.deferred` (after the response, or to a worker on a real
Tasks backend).
"""

from __future__ import annotations

import logging

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from patchbay.core import deferred
from patchbay.core.arguments import http_request, text
from patchbay.exceptions import ServiceError
from patchbay.loops.login import _absolute, _carried, _carried_tenant, _checked_address, _site
from patchbay.tenancy import UNSET

logger = logging.getLogger("patchbay.loops")


def send_password_reset_to_address(
    email: str,
    *,
    request: HttpRequest | None = None,
    url_name: str = "password_reset_confirm",
    tenant: object = UNSET,
) -> None:
    """Email a password reset link to each active account of ``email``, after the response.

    For a ``PasswordResetForm`` subclass's ``save()``. The link is
    ``reverse(url_name, args=[uidb64, token])`` (Django's
    ``PasswordResetConfirmView``), made absolute with
    :setting:`PATCHBAY_PUBLIC_URL` or the request's host, and sent with
    :func:`~patchbay.loops.shortcuts.send_password_reset_email`. Returns None
    and never raises: whether the address has an account is logged, never
    told, and costs the request nothing.
    """
    try:
        request = http_request(request)
        address = _checked_address(email)
        url_name = text(url_name, "url_name", max_length=200)
        deferred.run_after_response(
            _reset_address, address, url_name, _site(request), tenant_key=_carried_tenant(tenant)
        )
    except ServiceError as exc:
        logger.info("No password reset was sent: %s", exc.message)
    except Exception:  # None, whatever happens: a reset form must not fail
        logger.exception("No password reset was sent.")


def _reset_address(
    address: str, url_name: str, site: str, *, tenant_key: str | None = None
) -> None:
    """The lookup and the emails, after the response (or on a worker)."""
    with _carried(tenant_key):
        _reset_address_now(address, url_name, site)


def _reset_address_now(address: str, url_name: str, site: str) -> None:
    from patchbay.loops.shortcuts import send_password_reset_email

    users = list(PasswordResetForm().get_users(address))
    if not users:
        logger.info("No active account uses the address given; no password reset was sent.")
    for user in users:
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        try:
            path = reverse(url_name, args=[uid, default_token_generator.make_token(user)])
        except NoReverseMatch:
            logger.error("No password reset was sent: %r is not a URL name.", url_name)
            return
        send_password_reset_email(user, _absolute(path, site), background=False)
