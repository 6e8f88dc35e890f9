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


class Endpoint:
    """A webhook view of the project, found once, to deliver one or more webhooks to.

    Resolving the path (a query for a tenant's endpoint) and the view is the
    same for every delivery to it: a simulated SMS posts its three status
    callbacks to one ``Endpoint``. ``on_behalf_of`` (the request being served)
    supplies host and scheme, so endpoints that sign the URL (Twilio) see the
    URL the signer used. Raises :exc:`~patchbay.exceptions.ServiceError`
    (``urls_not_mounted``) when ``url_name`` does not reverse. With
    ``tenant``, it is that tenant's endpoint
    (:func:`~patchbay.tenancy.webhook_path`), as its provider's would be.
    """

    def __init__(
        self,
        url_name: str,
        *,
        on_behalf_of: HttpRequest | None = None,
        tenant: object = UNSET,
    ) -> None:
        #: The path deliveries are posted to.
        self.path = patchbay_path(url_name)
        if tenant is not UNSET and tenant_key(tenant):
            self.path = webhook_path(url_name.removeprefix("patchbay:"), tenant)
        self.host, self.scheme = "localhost", "http"
        if on_behalf_of is not None:
            self.host, self.scheme = on_behalf_of.get_host(), on_behalf_of.scheme or "http"
        self._match = resolve(self.path)

    @property
    def url(self) -> str:
        """The URL a provider would have requested, as the view rebuilds it."""
        return f"{self.scheme}://{self.host}{self.path}"

    def post(
        self,
        body: bytes,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """POST ``body`` to the view and return its response."""
        server_name, _, port = self.host.partition(":")
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": self.path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": server_name,
            "SERVER_PORT": port or ("443" if self.scheme == "https" else "80"),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": self.host,
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": self.scheme,
        }
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        match = self._match
        response: HttpResponse = match.func(WSGIRequest(environ), *match.args, **match.kwargs)
        return response


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

    One delivery to an :class:`Endpoint` (which says what ``on_behalf_of``
    and ``tenant`` mean); raises :exc:`~patchbay.exceptions.ServiceError`
    (``urls_not_mounted``) when ``url_name`` does not reverse.
    """
    endpoint = Endpoint(url_name, on_behalf_of=on_behalf_of, tenant=tenant)
    return endpoint.post(body, content_type=content_type, headers=headers)
