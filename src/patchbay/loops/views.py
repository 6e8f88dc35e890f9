"""The sign-in link view, ``patchbay:magic-link-login``, and the script of its page.

``GET login/<token>/`` shows a page whose form, ``POST`` to the same URL with
the CSRF token, signs the token's user in and redirects to the URL stored with
the token when it belongs to this site (else to ``LOGIN_REDIRECT_URL``). The
form submits itself with a small script file (``patchbay:magic-link-script``),
and has a button for browsers that run none. A query string is ignored: the
stored URL is the only redirect target, so a link cannot be re-aimed at
another site. An unknown, used or expired token gets a 400 page that does not
say which.

Why a page, not a sign-in on ``GET``: mail scanners and link previewers fetch
every link in an email, and would use a single-use link up before the person
opens it; and another site could make a visitor's browser ``GET`` the
attacker's own link, signing the visitor into the attacker's account (login
CSRF). ``HEAD`` and ``GET`` never use a token; the ``POST`` needs the CSRF
token of the page, which only a browser showing it has, and the page cannot be
framed. ``PATCHBAY_MAGIC_LINK_CONFIRM = False`` signs in on ``GET`` again.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from patchbay.conf import conf
from patchbay.loops.login import consume_login_token, is_usable
from patchbay.models import LoginToken

INVALID_TEMPLATE = "patchbay/loops/magic_link_invalid.html"
CONFIRM_TEMPLATE = "patchbay/loops/magic_link_confirm.html"
SCRIPT = Path(__file__).resolve().parent.parent / "static" / "patchbay" / "loops" / "sign-in.js"


@login_not_required  # it is how a visitor signs in
@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@xframe_options_deny  # a hidden frame of another site must not submit the form
@csrf_protect
def magic_link_login(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "HEAD":  # a link checker: answer without looking at the token
        return _private(HttpResponse())
    if request.method == "GET" and conf.MAGIC_LINK_CONFIRM:
        if not is_usable(token):
            return _invalid(request)
        # Relative to login/<token>/: right wherever and under whatever namespace
        # patchbay.urls is mounted.
        context = {"auto_submit": conf.MAGIC_LINK_AUTO_SUBMIT, "script_url": "../sign-in.js"}
        return _private(render(request, CONFIRM_TEMPLATE, context))
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
    """Keep the token in this page's URL out of the Referer sent to any other site.

    ``same-origin``, not ``no-referrer``: under ``no-referrer`` a browser sends the
    form's ``POST`` with ``Origin: null``, which Django's CSRF check refuses, so no
    link could ever sign anyone in.
    """
    response["Referrer-Policy"] = "same-origin"
    return response


@login_not_required  # the sign-in page of a visitor loads it
@require_GET
def magic_link_script(request: HttpRequest) -> HttpResponse:
    """``patchbay:magic-link-script``: the script that submits the sign-in page's form."""
    response = HttpResponse(_script(), content_type="text/javascript; charset=utf-8")
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, public=True, max_age=24 * 3600)
    return response


@cache
def _script() -> bytes:
    return SCRIPT.read_bytes()
