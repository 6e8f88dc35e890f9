"""The API's error answer: ``{"error": "..."}`` with its status."""

from __future__ import annotations

from django.http import JsonResponse

from patchbay.exceptions import ServiceError


class APIError(Exception):
    """Stops a request with ``status`` and ``{"error": message}``."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    @classmethod
    def bad_request(cls, error: ServiceError) -> APIError:
        """A 400 for an argument :mod:`patchbay.core.arguments` refused."""
        return cls(400, error.message)

    def response(self) -> JsonResponse:
        return JsonResponse({"error": self.message}, status=self.status, headers=self.headers)
