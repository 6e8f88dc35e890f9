"""The ``error_code`` of every failure patchbay returns: one closed vocabulary.

Each code means the same situation in every service (``not_found`` is a
missing object, contact or row alike). Values are plain ``str``, so results
stay JSON and compare with ``==``: ``result["error_code"] == ErrorCode.TIMEOUT``
is ``result["error_code"] == "timeout"``.

Two families pass a provider's own code through, because the provider's list
is longer than any copy of it would stay true: a Stripe card error or invalid
request carries Stripe's ``code`` when it has one (``card_declined``,
``resource_missing``; see :doc:`/stripe`), and a Twilio error without a
code of its own here is ``twilio_<number>``. Every other code is listed here,
and a test keeps ``src/`` to this list.
"""

from __future__ import annotations

__all__ = ["ERROR_CODES", "ErrorCode"]


class ErrorCode:
    """The error codes, as string constants (``ErrorCode.NOT_FOUND == "not_found"``)."""

    # -- any service: the core's own ----------------------------------------------------

    #: Disabled in the admin, or ``<SERVICE>_ENABLED`` is false (not ``None``) for a live call.
    SERVICE_DISABLED = "service_disabled"
    #: The provider SDK (or ``phonenumbers``) is not installed; the error names the extra.
    SDK_MISSING = "sdk_missing"
    #: A required value (an API key, a template id, a sender...) has no source.
    NOT_CONFIGURED = "not_configured"
    #: The service's credentials stored in the admin cannot be decrypted with any
    #: configured key (``patchbay.E024``); the error names the fix. Not retryable.
    DECRYPTION_FAILED = "decryption_failed"
    #: With ``PATCHBAY_TENANT_MODEL``: the call names no tenant and none is current
    #: (see :doc:`/tenants`); pass ``tenant=`` or ``tenant=SITE``. Not retryable.
    TENANT_REQUIRED = "tenant_required"
    #: patchbay's URLs are not mounted, and the operation needs one of them. Not retryable.
    URLS_NOT_MOUNTED = "urls_not_mounted"
    #: The circuit breaker is open: the service was not called. Retryable.
    CIRCUIT_OPEN = "circuit_open"
    #: The service did not answer within ``PATCHBAY_TIMEOUT``. Retryable.
    TIMEOUT = "timeout"
    #: The service could not be reached. Retryable.
    CONNECTION_ERROR = "connection_error"
    #: An exception no translation knew; its traceback is logged.
    UNEXPECTED_ERROR = "unexpected_error"
    #: The operation is not available here (no health probe; presigned PUTs in simulation).
    NOT_SUPPORTED = "not_supported"

    # -- any service: how it answered ---------------------------------------------------

    #: The service failed (a 5xx: retryable), or answered in a way nothing else names.
    API_ERROR = "api_error"
    #: The service refused the credentials. Counts against its health.
    AUTHENTICATION_ERROR = "authentication_error"
    #: The credentials lack a permission. Counts against its health.
    PERMISSION_ERROR = "permission_error"
    #: Too many requests: the service answered 429, or a patchbay send limit or
    #: outbound rate limit refused the call unsent (with ``retry_after`` seconds when
    #: patchbay knows it). Retryable.
    RATE_LIMITED = "rate_limited"
    #: A send limit (phone codes, sign-in links) could not be counted: the cache does not
    #: answer. Nothing was sent; the limits fail closed. Retryable.
    RATE_LIMIT_UNAVAILABLE = "rate_limit_unavailable"
    #: The request is malformed or the service refused it as such (a 4xx).
    INVALID_REQUEST = "invalid_request"
    #: What was asked for does not exist (an object, a contact, a stored row).
    NOT_FOUND = "not_found"
    #: An id that cannot name a row: not a positive integer in range (``None``, ``""``,
    #: ``"abc"``, ``-1``, ``1.5``...). A well-formed id without a row is ``not_found``.
    INVALID_ID = "invalid_id"
    #: The request conflicts with the service's state (Loops: a contact that exists).
    CONFLICT = "conflict"

    # -- Stripe -------------------------------------------------------------------------

    #: A card error Stripe gave no more precise code for.
    CARD_ERROR = "card_error"
    #: An idempotency key was reused with other parameters.
    IDEMPOTENCY_ERROR = "idempotency_error"
    #: A webhook body that is not an event of its provider (not JSON, no id or type), or
    #: that holds a value the database cannot store (an id too long or not a string).
    INVALID_PAYLOAD = "invalid_payload"
    #: A webhook signature that does not match any configured secret.
    INVALID_SIGNATURE = "invalid_signature"
    #: The user has a live subscription already: ``create_subscription_checkout``
    #: refused a second one (``STRIPE_ALREADY_SUBSCRIBED``). Not retryable.
    ALREADY_SUBSCRIBED = "already_subscribed"

    # -- Twilio: messages and numbers ---------------------------------------------------

    #: The phone number cannot be parsed, or Twilio says it is invalid.
    INVALID_NUMBER = "invalid_number"
    #: The message body is empty or longer than 1,600 characters.
    INVALID_BODY = "invalid_body"
    #: An unknown channel (use ``sms`` or ``whatsapp``; Verify also ``call``).
    INVALID_CHANNEL = "invalid_channel"
    #: The number replied STOP: nothing is sent to it.
    OPTED_OUT = "opted_out"
    #: Twilio did not answer a message POST: the message may have been sent. Check its
    #: status before sending again. Not retryable, on purpose.
    OUTCOME_UNKNOWN = "outcome_unknown"
    #: The destination's region is not enabled on the Twilio account.
    REGION_NOT_ENABLED = "region_not_enabled"
    #: The destination's region is not in ``TWILIO_ALLOWED_COUNTRIES``: nothing was sent.
    COUNTRY_NOT_ALLOWED = "country_not_allowed"
    #: The destination cannot receive messages now (switched off, out of coverage).
    UNREACHABLE = "unreachable"
    #: The destination is not a mobile number.
    NOT_MOBILE = "not_mobile"
    #: The carrier does not know the destination.
    UNKNOWN_DESTINATION = "unknown_destination"
    #: The destination is a landline.
    LANDLINE = "landline"
    #: The carrier filtered the message.
    FILTERED = "filtered"

    # -- Twilio: phone verification -----------------------------------------------------

    #: The code is malformed, or not the one sent.
    INVALID_CODE = "invalid_code"
    #: The code has expired.
    CODE_EXPIRED = "code_expired"
    #: Too many wrong codes: request a new one.
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    #: No code waits for this number (none sent, already used, or replaced by a newer one).
    NO_PENDING_CODE = "no_pending_code"

    # -- Loops ----------------------------------------------------------------------------

    #: Not a valid email address.
    INVALID_EMAIL = "invalid_email"
    #: The address bounced or complained: nothing is sent to it unless asked to.
    SUPPRESSED = "suppressed"
    #: The user is inactive: no sign-in link is sent.
    INACTIVE_USER = "inactive_user"
    #: The user has no email address.
    NO_EMAIL = "no_email"
    #: Live, neither ``PATCHBAY_PUBLIC_URL`` nor a request gives the link's host.
    NO_PUBLIC_URL = "no_public_url"

    # -- S3 uploads -----------------------------------------------------------------------

    #: The upload's content type is not allowed (``AWS_UPLOAD_ALLOWED_CONTENT_TYPES``).
    CONTENT_TYPE_NOT_ALLOWED = "content_type_not_allowed"
    #: The file of a direct upload never reached the bucket.
    UPLOAD_MISSING = "upload_missing"
    #: The uploaded file is over its size limit or of another type (it was deleted).
    UPLOAD_INVALID = "upload_invalid"
    #: The object is no longer the one confirmed (the form was posted again): it was
    #: deleted and the upload failed.
    UPLOAD_REPLACED = "upload_replaced"

    # -- OAuth2 connections ----------------------------------------------------------------

    #: The service (or, for a per-user connection, the user) has no OAuth2 token: it must
    #: be connected first. Not retryable.
    NOT_CONNECTED = "not_connected"
    #: The provider refused to refresh the token (``invalid_grant``: revoked, expired or
    #: rotated away), or there is no refresh token: the connection must be made again
    #: (Reconnect in the admin). Counts against the service's health. Not retryable.
    REAUTHORIZATION_REQUIRED = "reauthorization_required"
    #: An authorization callback whose ``state`` this session did not start, or started
    #: longer ago than ``PATCHBAY_OAUTH2_STATE_MAX_AGE``, or that was used already (a
    #: replay). Connect again. Not retryable.
    INVALID_STATE = "invalid_state"
    #: The user (or the provider) refused the authorization (``error=access_denied``).
    #: Not retryable.
    ACCESS_DENIED = "access_denied"

    # -- inbound webhooks (IntegrationLog rows only; the provider gets an HTTP status) ----

    #: The body is larger than ``PATCHBAY_WEBHOOK_MAX_BODY_SIZE`` (413).
    BODY_TOO_LARGE = "body_too_large"
    #: The delivery failed verification (400).
    VERIFICATION_FAILED = "verification_failed"
    #: A tenant's webhook URL whose endpoint id names no service of the provider (404).
    UNKNOWN_ENDPOINT = "unknown_endpoint"
    #: A handler raised (500; the provider redelivers).
    HANDLER_FAILED = "handler_failed"
    #: A handler found the event malformed (200: stored as ``malformed``, not redelivered).
    MALFORMED_EVENT = "malformed_event"


#: Every code of :class:`ErrorCode`.
ERROR_CODES: frozenset[str] = frozenset(
    value for name, value in vars(ErrorCode).items() if name.isupper()
)
