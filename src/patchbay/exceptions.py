"""patchbay's exceptions.

Configuration problems (``ConfigurationError``) are kept apart from problems a
remote service reported (``ServiceError``): the first must be fixed by the
developer, the second is data about one call. Client methods never raise
either at callers; they return result dicts. Both are raised by lower layers
and turned into results by :class:`patchbay.core.client.BaseClient`.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured


class PatchbayError(Exception):
    """Base class of every exception patchbay raises."""


class ConfigurationError(PatchbayError, ImproperlyConfigured):
    """The project's configuration is wrong or incomplete."""


class SDKNotInstalled(ConfigurationError):
    """A provider SDK is needed but its extra is not installed."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f"The {module!r} package is not installed; "
            f'install it with: pip install "django-patchbay[{extra}]"'
        )


class DecryptionError(PatchbayError):
    """A stored secret could not be decrypted with any configured key."""


class ServiceError(PatchbayError):
    """A remote service refused or failed a call.

    Keeps what the service said: ``status`` (HTTP status, if any), ``response``
    (the parsed body, if any), a stable ``error_code``, whether the same
    call may succeed if retried later (``retryable``) and, for a
    ``rate_limited`` answer, the seconds it asked to wait (``retry_after``).
    """

    def __init__(
        self,
        message: str,
        *,
        error_code: str = "api_error",
        retryable: bool = False,
        status: int | None = None,
        response: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.retryable = retryable
        self.status = status
        self.response = response
        self.retry_after = retry_after


class WebhookVerificationError(PatchbayError):
    """A webhook delivery was refused: not authentic, malformed, or not verifiable yet.

    ``reason`` (also the message) is safe to return to the sender; the
    endpoint answers it with HTTP ``status`` (400 unless the verifier says
    otherwise). ``error_code`` says why, for results built from it
    (``StripeClient.verify_webhook_signature``): ``invalid_signature``,
    ``invalid_payload`` or ``not_configured``.
    """

    def __init__(
        self, reason: str, *, error_code: str = "invalid_signature", status: int = 400
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_code = error_code
        self.status = status


class MalformedEvent(PatchbayError):
    """An authentic webhook event that can never be processed: its shape or a value is wrong.

    patchbay's own handlers raise it when an event lacks what they read (a
    Stripe event whose ``data.object`` is not an object, an id of the wrong
    type or length); a project's handlers may raise it too. The pipeline
    stores the event as ``malformed`` with ``reason`` and answers **200**, so
    the provider does not redeliver an event no redelivery can fix. Any other
    exception from a handler answers 500, and the provider redelivers: see
    :ref:`webhook-handlers`.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
