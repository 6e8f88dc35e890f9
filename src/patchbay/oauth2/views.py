"""The OAuth2 connect, callback and disconnect views, and the simulated consent page.

They only render what :mod:`patchbay.oauth2.flow` returns: a redirect, or a
page saying what went wrong with a 4xx status (502 when the provider itself
failed), never a 500. They check who is signed in themselves (so they are
``login_not_required``): a POST to connect cannot survive a detour through
the login page, and the callback must say why it refuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from patchbay.core.auth import OAuth2Auth
from patchbay.core.registry import get_client_class
from patchbay.core.simulation import should_simulate
from patchbay.exceptions import ServiceError
from patchbay.oauth2 import flow, simulated

if TYPE_CHECKING:
    from patchbay.core.client import BaseClient
    from patchbay.results import Failure

#: The status of a failure page, by error code; any other failure is the provider's (502).
STATUS_OF_ERROR = {
    "permission_error": 403,
    "invalid_state": 400,
    "access_denied": 400,
    "invalid_request": 400,
    "authentication_error": 400,
    "not_configured": 503,
    "service_disabled": 503,
    "sdk_missing": 503,
    "urls_not_mounted": 503,
    "decryption_failed": 503,
}
_FAILED = "patchbay/oauth2/failed.html"
_DONE = "patchbay/oauth2/done.html"


def _client(request: HttpRequest, provider: str) -> BaseClient:
    client_class = get_client_class(provider)
    if client_class is None or not isinstance(client_class.authentication, OAuth2Auth):
        raise Http404("No OAuth2 service by that name.")
    if flow.is_per_user(client_class):
        return client_class(user=request.user)
    return client_class()


def _failed(
    request: HttpRequest, client: BaseClient, result: Failure, heading: str
) -> HttpResponse:
    context = {"service": client.label(), "heading": heading, "error": result["error"]}
    status = STATUS_OF_ERROR.get(result["error_code"], 502)
    return render(request, _FAILED, context, status=status)


def _done(request: HttpRequest, next_url: str, message: str) -> HttpResponse:
    if next_url:
        messages.success(request, message, fail_silently=True)
        return HttpResponseRedirect(next_url)
    return render(request, _DONE, {"message": message})


def _next(request: HttpRequest) -> str:
    return str(request.POST.get("next") or request.GET.get("next") or "")


@login_not_required
@require_POST
def connect(request: HttpRequest, provider: str) -> HttpResponse:
    """Send the user to the provider to authorize the connection (``patchbay:oauth2-connect``)."""
    client = _client(request, provider)
    result = flow.authorization_url(request, client, next_url=_next(request))
    if not result["success"]:
        return _failed(request, client, result, f"{client.label()} could not be connected")
    return HttpResponseRedirect(result["url"])


@login_not_required  # the view says itself why it refuses a callback
@require_GET
def callback(request: HttpRequest, provider: str) -> HttpResponse:
    """Where the provider sends the user back (``patchbay:oauth2-callback``)."""
    client = _client(request, provider)
    result = flow.complete_authorization(request, client)
    if not result["success"]:
        return _failed(request, client, result, f"{client.label()} was not connected")
    return _done(request, result["next_url"], f"{client.label()} is connected.")


@login_not_required
@require_POST
def disconnect(request: HttpRequest, provider: str) -> HttpResponse:
    """Revoke the connection at the provider and forget it (``patchbay:oauth2-disconnect``)."""
    client = _client(request, provider)
    result = flow.disconnect(request, client)
    if not result["success"]:
        return _failed(request, client, result, f"{client.label()} could not be disconnected")
    next_url = flow.safe_next(request, _next(request))
    return _done(request, next_url, f"{client.label()} is disconnected.")


@login_not_required  # stands in for the provider's page, which has its own sign-in
@require_http_methods(["GET", "POST"])
def simulated_authorize(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider's consent page, while simulating: "Approve" or "Deny"."""
    if not should_simulate():
        raise Http404("The simulated consent page exists only while simulating.")
    client = _client(request, provider)
    query = {name: request.GET.get(name, "") for name in request.GET}
    try:
        # Only to this site's own callback: the page must redirect nowhere else.
        own_callback = flow.callback_url(provider, request)
    except ServiceError as exc:
        raise Http404(exc.message) from exc
    if query.get("redirect_uri") != own_callback or query.get("response_type") != "code":
        return render(
            request,
            _FAILED,
            {
                "service": client.label(),
                "heading": "Not an authorization request",
                "error": "The simulated consent page answers only authorization requests "
                "(response_type=code) of this site's own callback URL.",
            },
            status=400,
        )
    context: dict[str, Any] = {
        "service": client.label(),
        "scopes": query.get("scope", "").split(),
        "per_user": flow.is_per_user(type(client)),
    }
    if request.method != "POST":
        return render(request, "patchbay/oauth2/simulated_consent.html", context)
    if request.POST.get("action") == "approve":
        answer = {"code": simulated.issue_code(provider, query), "state": query.get("state", "")}
    else:
        answer = {"error": "access_denied", "state": query.get("state", "")}
    return HttpResponseRedirect(f"{own_callback}?{urlencode(answer)}")
