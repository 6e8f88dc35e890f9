"""The base of every API view: authentication, permissions, JSON in and out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from patchbay.api.auth import authenticate, require
from patchbay.api.errors import APIError
from patchbay.api.query import Query
from patchbay.core.arguments import UNSTORABLE, json_value
from patchbay.exceptions import ServiceError

#: The deepest JSON body accepted: configuration is a flat mapping.
MAX_BODY_DEPTH = 10


# CSRF is checked by authenticate() for session requests only: a token request
# carries no CSRF token. Sign-in is the API's own (401, never a redirect to a login page).
@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class APIView(View):
    """A JSON endpoint; ``permissions`` maps each method to the permissions it needs."""

    permissions: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    #: The query parameters each method accepts.
    parameters: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        method = request.method.lower() if request.method else ""
        if method not in self.http_method_names or not hasattr(self, method):
            return self.http_method_not_allowed(request, *args, **kwargs)
        try:
            self.user = authenticate(request)
            # HEAD runs GET's handler, so it needs GET's permissions.
            checked = "GET" if method == "head" else method.upper()
            require(self.user, self.permissions.get(checked, ()))
            return super().dispatch(request, *args, **kwargs)
        except APIError as error:
            return error.response()

    def http_method_not_allowed(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        allowed = ", ".join(self.allowed_methods())
        return JsonResponse(
            {"error": f"{request.method!s:.20} is not allowed here; use {allowed}."},
            status=405,
            headers={"Allow": allowed},
        )

    def options(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(headers={"Allow": ", ".join(self.allowed_methods())})

    def allowed_methods(self) -> list[str]:
        return [method.upper() for method in self.http_method_names if hasattr(self, method)]

    def query(self) -> Query:
        """The request's query string, with the parameters this method accepts."""
        method = self.request.method or ""
        return Query(self.request.GET, self.parameters.get(method, ()))

    def body(self) -> dict[str, Any]:
        """The request's JSON object; 400 for anything else."""
        try:
            raw = self.request.body
        except RequestDataTooBig:
            raise APIError(400, "The request body is too large.") from None
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):  # includes undecodable bytes and huge integers
            raise APIError(400, "The request body must be a JSON object.") from None
        if not isinstance(data, dict):
            raise APIError(400, "The request body must be a JSON object.")
        _refuse_unstorable(data, depth=0)
        try:
            checked: dict[str, Any] = json_value(data, "the request body")  # 1e999 is inf
        except ServiceError as error:
            raise APIError.bad_request(error) from None
        return checked


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _refuse_unstorable(value: Any, *, depth: int) -> None:
    # What no database column stores (NUL, lone surrogates) is refused, never stored
    # replaced: a credential with one replaced would silently differ from the one given.
    if depth > MAX_BODY_DEPTH:
        raise APIError(400, f"The request body is nested deeper than {MAX_BODY_DEPTH} levels.")
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            raise APIError(400, "The request body holds NUL or unpaired surrogate characters.")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(key, depth=depth)
            _refuse_unstorable(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _refuse_unstorable(item, depth=depth + 1)


def answer(data: Mapping[str, Any], *, status: int = 200) -> JsonResponse:
    return JsonResponse(dict(data), status=status)
