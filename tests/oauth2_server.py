"""A real OAuth2 authorization server for the tests, built on authlib's server side.

It serves, on 127.0.0.1 and a free port, in a thread of the test process:

* ``GET /authorize``: the authorization-code grant with PKCE (RFC 7636). There is no
  login page: the resource owner is ``approve_as`` (or nobody, after :meth:`deny`),
  and the answer is the 302 to the client's redirect URI that a browser would follow.
* ``POST /token``: the ``authorization_code`` and ``refresh_token`` grants, the
  client authenticated by HTTP Basic, by form fields, or not at all (a public client).
* ``POST /revoke``: RFC 7009 revocation.
* ``GET /api/me``: a protected resource answering 401 for an unknown, expired or
  revoked bearer token, else the token's user and scope as JSON.
* ``GET /api/echo``: answers with the request's query and credential headers, for the
  other authentication types.

The fixture ``oauth2_server`` (a pytest plugin, listed in tests/conftest.py) starts
one per test and gives its :class:`TestAuthorizationServer`: URLs, counters of what
arrived (``refresh_requests`` counts every refresh request, granted or not) and the
knobs a test turns. ``python -m tests.oauth2_server [--port N]`` serves one on its
own, printing its base URL, for a process that needs a server of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import request_uri

import pytest
import requests
from authlib.common.security import generate_token
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    OAuth2Payload,
    OAuth2Request,
    ResourceProtector,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from requests.structures import CaseInsensitiveDict

CLIENT_ID = "patchbay-test-client"
CLIENT_SECRET = "patchbay-test-client-secret"
SCOPES = ("read", "write", "offline_access")
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


# -- the stores ----------------------------------------------------------------------


@dataclass
class Client:
    """A registered client (authlib's ClientMixin)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scope: str = " ".join(SCOPES)
    auth_method: str = "client_secret_basic"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return self.scope
        allowed = set(self.scope.split())
        return " ".join(part for part in scope.split() if part in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # "*" accepts any redirect URI: the tests' callback URLs vary with the settings.
        return "*" in self.redirect_uris or redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.client_secret) and client_secret == self.client_secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in {"authorization_code", "refresh_token"}


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token:
    """An issued access token with its refresh token (authlib's TokenMixin)."""

    client_id: str
    user: str
    scope: str
    access_token: str
    refresh_token: str
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    #: The whole grant is revoked (by RFC 7009 or a rotation): its refresh token too.
    revoked: bool = False
    #: Only the access token is revoked (the API refuses it; the refresh token still works).
    access_revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return bool(self.expires_in) and self.issued_at + self.expires_in <= time.time()

    def is_revoked(self) -> bool:
        return self.revoked or self.access_revoked

    def get_user(self) -> str:
        return self.user

    def get_client(self) -> str:
        return self.client_id


# -- the grants ----------------------------------------------------------------------


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        payload = request.payload.data
        self.server.state.codes[code] = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=payload.get("redirect_uri", ""),
            scope=request.client.get_allowed_scope(payload.get("scope")),
            user=request.user,
            code_challenge=payload.get("code_challenge"),
            code_challenge_method=payload.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        found = self.server.state.codes.get(code)
        return found if found is not None and found.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        self.server.state.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> str:
        return authorization_code.user


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    @property  # type: ignore[override]
    def INCLUDE_NEW_REFRESH_TOKEN(self) -> bool:
        return self.server.state.rotate_refresh_tokens

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        state = self.server.state
        if state.refuse_next_refresh:
            # The provider forgot the grant (revoked by the user, expired): invalid_grant.
            state.refuse_next_refresh = False
            return None
        for token in reversed(state.tokens):
            if token.refresh_token == refresh_token and not token.revoked:
                return token
        return None

    def authenticate_user(self, refresh_token: Token) -> str:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: Token) -> None:
        refresh_token.revoked = True


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return self.server.state.find(token_string)

    def revoke_token(self, token: Token, request: OAuth2Request) -> None:
        token.revoked = True


class Validator(BearerTokenValidator):
    def __init__(self, state: ServerState) -> None:
        super().__init__()
        self.state = state

    def authenticate_token(self, token_string: str) -> Token | None:
        found = self.state.find(token_string)
        return found if found is not None and found.access_token == token_string else None


# -- authlib's framework integration, for WSGI ---------------------------------------


class FormPayload(OAuth2Payload):
    def __init__(self, query: dict[str, list[str]], form: dict[str, list[str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for source in (query, form):
            for name, values in source.items():
                self._datalist[name].extend(values)

    @property
    def data(self) -> dict[str, str]:
        return {name: values[0] for name, values in self._datalist.items()}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class WSGIOAuth2Request(OAuth2Request):
    def __init__(self, environ: dict[str, Any]) -> None:
        headers = CaseInsensitiveDict(
            {
                name[5:].replace("_", "-"): value
                for name, value in environ.items()
                if name.startswith("HTTP_")
            }
        )
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        super().__init__(environ["REQUEST_METHOD"], request_uri(environ), headers=headers)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        self._query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        self._form = parse_qs(body, keep_blank_values=True)
        self.payload = FormPayload(self._query, self._form)

    @property
    def args(self) -> dict[str, str]:
        return {name: values[0] for name, values in self._query.items()}

    @property
    def form(self) -> dict[str, str]:
        return {name: values[0] for name, values in self._form.items()}


Response = tuple[int, bytes, list[tuple[str, str]]]


class Server(AuthorizationServer):
    def __init__(self, state: ServerState) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.state = state
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: generate_token(42),
                refresh_token_generator=lambda **_: generate_token(48),
                expires_generator=lambda client, grant_type: state.expires_in,
            ),
        )
        self.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=False)])
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(Revocation)

    def query_client(self, client_id: str) -> Client | None:
        return self.state.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # A refresh that issues no new refresh token keeps the one it was made with.
        previous = request.refresh_token
        refresh_token = token.get("refresh_token") or (previous.refresh_token if previous else "")
        self.state.tokens.append(
            Token(
                client_id=request.client.client_id,
                user=request.user,
                scope=token.get("scope", ""),
                access_token=token["access_token"],
                refresh_token=refresh_token,
                expires_in=int(token.get("expires_in") or 0),
            )
        )

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request if isinstance(request, OAuth2Request) else WSGIOAuth2Request(request)

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("the test server takes no JSON requests")

    def handle_response(
        self, status: int, body: Any, headers: Iterable[tuple[str, str]]
    ) -> Response:
        content = json.dumps(body).encode() if isinstance(body, dict) else str(body).encode()
        return status, content, list(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass


# -- the state a test reads and turns ------------------------------------------------


@dataclass
class ServerState:
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)
    #: Knobs: answer each refresh with a new refresh token (revoking the old one).
    rotate_refresh_tokens: bool = True
    #: Lifetime of the access tokens issued from now on, in seconds (0: none given).
    expires_in: int = 3600
    #: Answer the next refresh request with invalid_grant.
    refuse_next_refresh: bool = False
    #: Seconds each refresh request takes, to widen the window of a race.
    refresh_delay: float = 0.0
    #: Answer token requests with this HTTP status and an HTML page (a failing gateway).
    token_endpoint_status: int | None = None
    #: The resource owner who approves authorization requests; None denies them.
    approve_as: str | None = "alice"
    #: Answer every /api request with 401, whatever the token.
    reject_api: bool = False
    #: Counters of what arrived.
    refresh_requests: int = 0
    code_exchanges: int = 0
    revocations: int = 0
    api_requests: int = 0
    #: The Authorization header of each /api request, in order.
    api_authorizations: list[str] = field(default_factory=list)

    def find(self, token_string: str) -> Token | None:
        for token in reversed(self.tokens):
            if token_string in (token.access_token, token.refresh_token):
                return token
        return None


class TestAuthorizationServer:
    """One running server: its URLs, its state and the knobs tests turn."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = ServerState()
        self.lock = threading.Lock()
        self.server = Server(self.state)
        self.protector = ResourceProtector()
        self.protector.register_token_validator(Validator(self.state))
        self.register_client(CLIENT_ID, CLIENT_SECRET, ["*"])
        self.httpd = make_server(
            host, port, self.wsgi, server_class=ThreadingWSGIServer, handler_class=QuietHandler
        )
        self.url = f"http://{host}:{self.httpd.server_port}"
        self.thread: threading.Thread | None = None

    # URLs
    @property
    def authorize_url(self) -> str:
        return f"{self.url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def revocation_url(self) -> str:
        return f"{self.url}/revoke"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/me"

    # Counters and knobs, by name, as attributes of the state.
    def __getattr__(self, name: str) -> Any:
        if name in ServerState.__dataclass_fields__:
            return getattr(self.state, name)
        raise AttributeError(name)

    def set(self, **knobs: Any) -> None:
        """Turn knobs: ``set(rotate_refresh_tokens=False, expires_in=30)``."""
        with self.lock:
            for name, value in knobs.items():
                if name not in ServerState.__dataclass_fields__:
                    raise TypeError(f"no knob {name!r}")
                setattr(self.state, name, value)

    def register_client(
        self,
        client_id: str,
        client_secret: str = "",
        redirect_uris: list[str] | None = None,
        *,
        auth_method: str = "client_secret_basic",
        scope: str = " ".join(SCOPES),
    ) -> Client:
        client = Client(client_id, client_secret, redirect_uris or ["*"], scope, auth_method)
        with self.lock:
            self.state.clients[client_id] = client
        return client

    def deny(self) -> None:
        """Have the resource owner deny the next authorization requests."""
        self.set(approve_as=None)

    def revoke(self, token_string: str) -> None:
        """Revoke a token (access or refresh) as the provider would, without a request."""
        with self.lock:
            found = self.state.find(token_string)
            if found is not None:
                found.revoked = True

    def revoke_access_token(self, access_token: str) -> None:
        """Have the API refuse ``access_token`` before its expiry; its refresh token stays."""
        with self.lock:
            found = self.state.find(access_token)
            if found is not None:
                found.access_revoked = True

    def live_token(self, access_token: str) -> Token | None:
        """The issued token with this access token, if it is still valid."""
        with self.lock:
            found = self.state.find(access_token)
        if found is None or found.is_revoked() or found.is_expired():
            return None
        return found

    def authorize(self, authorization_url: str) -> str:
        """What a browser sent to ``authorization_url`` does: the URL it is redirected to.

        That is the client's redirect URI with ``code`` and ``state`` (or ``error``).
        """
        answer = requests.get(authorization_url, allow_redirects=False, timeout=10)
        if answer.status_code != 302:
            raise AssertionError(f"authorize answered {answer.status_code}: {answer.text}")
        return answer.headers["Location"]

    # Serving
    def start(self) -> TestAuthorizationServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        status, body, headers = self.respond(environ)
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", "application/json"))
        start_response(f"{status} {STATUS_PHRASES.get(status, 'Status')}", headers)
        return iter([body])

    def respond(self, environ: dict[str, Any]) -> Response:
        path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
        request = WSGIOAuth2Request(environ)
        if path == "/authorize" and method == "GET":
            return self.authorization(request)
        if path == "/token" and method == "POST":
            return self.token(request)
        if path == "/revoke" and method == "POST":
            with self.lock:
                self.state.revocations += 1
                answer: Response = self.server.create_endpoint_response("revocation", request)
            return answer
        if path == "/api/me" and method == "GET":
            return self.me(request)
        if path == "/api/echo":
            return self.echo(request, environ)
        return 404, b'{"error": "not_found"}', []

    def authorization(self, request: WSGIOAuth2Request) -> Response:
        with self.lock:
            try:
                grant = self.server.get_consent_grant(request, end_user=self.state.approve_as)
            except OAuth2Error as error:
                # No valid redirect URI to send the error to: shown to the user.
                return self.server.handle_error_response(request, error)  # type: ignore[no-any-return]
            answer: Response = self.server.create_authorization_response(
                request, grant_user=self.state.approve_as, grant=grant
            )
        return answer

    def token(self, request: WSGIOAuth2Request) -> Response:
        grant_type = request.payload.grant_type
        with self.lock:
            if grant_type == "refresh_token":
                self.state.refresh_requests += 1
                delay = self.state.refresh_delay
            elif grant_type == "authorization_code":
                self.state.code_exchanges += 1
                delay = 0.0
        if grant_type == "refresh_token" and delay:
            time.sleep(delay)
        with self.lock:
            if self.state.token_endpoint_status:
                page = b"<html><body>Bad gateway</body></html>"
                return self.state.token_endpoint_status, page, [("Content-Type", "text/html")]
            answer: Response = self.server.create_token_response(request)
        return answer

    def me(self, request: WSGIOAuth2Request) -> Response:
        authorization = request.headers.get("Authorization", "")
        refused = [("WWW-Authenticate", 'Bearer error="invalid_token"')]
        with self.lock:
            self.state.api_requests += 1
            self.state.api_authorizations.append(authorization)
            if self.state.reject_api:
                presented = authorization.partition(" ")[2]
                body = {"error": "invalid_token", "error_description": f"{presented} is refused"}
                return 401, json.dumps(body).encode(), refused
            try:
                token = self.protector.validate_request(scopes=None, request=request)
            except OAuth2Error as error:
                return 401, json.dumps({"error": error.error}).encode(), refused
        return 200, json.dumps({"user": token.user, "scope": token.scope}).encode(), []

    def echo(self, request: WSGIOAuth2Request, environ: dict[str, Any]) -> Response:
        with self.lock:
            self.state.api_requests += 1
        answer = {
            "method": environ["REQUEST_METHOD"],
            "query": request.args,
            "authorization": request.headers.get("Authorization", ""),
            "x_api_key": request.headers.get("X-API-Key", ""),
            "x_trace": request.headers.get("X-Trace", ""),
        }
        return 200, json.dumps(answer).encode(), []


STATUS_PHRASES = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
}


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def query_of(url: str) -> dict[str, str]:
    """The query parameters of ``url`` (the callback a test was redirected to)."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def oauth2_server() -> Iterator[TestAuthorizationServer]:
    """A running authorization server on 127.0.0.1, fresh for each test."""
    server = TestAuthorizationServer().start()
    yield server
    server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    server = TestAuthorizationServer(port=arguments.port)
    print(server.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.httpd.serve_forever()


if __name__ == "__main__":
    main()
