"""The sign-in link view, ``patchbay:magic-link-login``.

``GET login/<token>/`` signs the token's user in and redirects to the URL
stored with the token when it belongs to this site (else to
``LOGIN_REDIRECT_URL``). A query string is ignored: the stored URL is the
only redirect target, so a link cannot be re-aimed at another site. An
unknown, used or expired token gets a 400 page that does not say which.

Mail scanners and link previewers fetch links too. ``HEAD`` never uses a
token; with ``PATCHBAY_MAGIC_LINK_CONFIRM = True``, ``GET`` only shows a
"Sign in" button and the ``POST`` it makes signs in, so a scanner's ``GET``
cannot use the link up.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from patchbay.conf import conf
from patchbay.loops.login import consume_login_token, is_usable
from patchbay.models import LoginToken

INVALID_TEMPLATE = "patchbay/loops/magic_link_invalid.html"
CONFIRM_TEMPLATE = "patchbay/loops/magic_link_confirm.html"


@login_not_required  # it is how a visitor signs in
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@csrf_protect
def magic_link_login(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "HEAD":  # a link checker: answer without looking at the token
        return _private(HttpResponse())
    if request.method == "GET" and conf.MAGIC_LINK_CONFIRM:
        if not is_usable(token):
            return _invalid(request)
        return _private(render(request, CONFIRM_TEMPLATE))
    row = consume_login_token(token)
    if row is None:
        return _invalid(request)
    user = row.user
    backend = getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[0]
    login(request, user, backend=backend)
    return _private(HttpResponseRedirect(_redirect_target(request, row)))


def _redirect_target(request: HttpRequest, row: LoginToken) -> str:
    """The stored next URL if it is on this site (and https when this request is), else
    ``LOGIN_REDIRECT_URL``."""
    if row.next_url and url_has_allowed_host_and_scheme(
        row.next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return row.next_url
    return str(resolve_url(settings.LOGIN_REDIRECT_URL))


def _invalid(request: HttpRequest) -> HttpResponse:
    return _private(render(request, INVALID_TEMPLATE, status=400))


def _private(response: HttpResponse) -> HttpResponse:
    """Keep the token in this page's URL out of the Referer of anything it links to."""
    response["Referrer-Policy"] = "no-referrer"
    return response
