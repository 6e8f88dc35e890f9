"""Deliver simulated webhooks to the project's real endpoints, in process.

Simulation has no provider to call back, so patchbay plays the provider: it
signs the event exactly as the provider would and hands it to the endpoint's
view, which verifies and processes it through the same pipeline as a real
delivery. No socket is needed, so this works under runserver, in tests and
behind any server.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.urls import resolve

from patchbay.core.urls import patchbay_path
from patchbay.tenancy import UNSET, tenant_key, webhook_path


def deliver_webhook(
    url_name: str,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
    on_behalf_of: HttpRequest | None = None,
    tenant: object = UNSET,
) -> HttpResponse:
    """POST ``body`` to the view named ``url_name`` and return its response.

    ``on_behalf_of`` (the request being served) supplies host and scheme, so
    endpoints that sign the URL (Twilio) see the URL the signer used. Raises
    :exc:`~patchbay.exceptions.ServiceError` (``urls_not_mounted``) when
    ``url_name`` does not reverse. With ``tenant``, the delivery goes to that
    tenant's endpoint (:func:`~patchbay.tenancy.webhook_path`), as its provider's would.
    """
    path = patchbay_path(url_name)
    if tenant is not UNSET and tenant_key(tenant):
        path = webhook_path(url_name.removeprefix("patchbay:"), tenant)
    host, scheme = "localhost", "http"
    if on_behalf_of is not None:
        host, scheme = on_behalf_of.get_host(), on_behalf_of.scheme or "http"
    server_name, _, port = host.partition(":")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": server_name,
        "SERVER_PORT": port or ("443" if scheme == "https" else "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": scheme,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    match = resolve(path)
    response: HttpResponse = match.func(WSGIRequest(environ), *match.args, **match.kwargs)
    return response
