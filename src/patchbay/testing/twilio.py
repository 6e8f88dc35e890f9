"""Sign and post Twilio webhooks exactly as Twilio does (``X-Twilio-Signature``).

Twilio signs the full URL it requests plus the sorted form parameters, as the SDK's
``RequestValidator`` does (no SDK needed): HMAC-SHA1 under the auth token, or
HMAC-SHA256 under a SharedKey secret when it announces so in
``X-Twilio-Webhooks-Signature-Settings``. The helpers sign the URL the
endpoint verifies: ``PATCHBAY_PUBLIC_URL`` + path when it is set, else the
test client's own host (``http://testserver``) + path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from patchbay.conf import conf
from patchbay.core.simulation import fake_id
from patchbay.core.urls import patchbay_path

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse

HMAC_SHA1 = "HMAC_SHA1"
HMAC_SHA256 = "HMAC_SHA256"
#: The SharedKey id the helpers announce; patchbay verifies with the secret, not the id.
TEST_SHARED_KEY_ID = "webhooks_sharedkey_patchbay_test"
_API_VERSION = "2010-04-01"
_TEST_ACCOUNT_SID = "AC" + "0" * 32


def sign_twilio_request(
    url: str, params: Mapping[str, str], token: str | None = None, *, algorithm: str = HMAC_SHA1
) -> str:
    """The ``X-Twilio-Signature`` of a POST of ``params`` to ``url``, as Twilio signs it.

    ``token`` defaults to the secret patchbay's endpoints verify with: for
    ``HMAC_SHA1`` the auth token (:setting:`TWILIO_AUTH_TOKEN`), for
    ``HMAC_SHA256`` the SharedKey secret (:setting:`TWILIO_WEBHOOK_SIGNING_KEY`,
    else the auth token); the simulation token when neither is configured,
    which patchbay accepts only while simulating with ``DEBUG`` on or in a test run.
    """
    from patchbay.twilio.simulation import sign
    from patchbay.twilio.webhooks import SIMULATION_AUTH_TOKEN, signing_token

    shared_key = algorithm.upper() != HMAC_SHA1
    secret = token or signing_token(shared_key) or SIMULATION_AUTH_TOKEN
    return sign(url, dict(params), secret, algorithm)


def post_twilio_status(
    client: Client,
    message_sid: str,
    status: str,
    *,
    url: str | None = None,
    token: str | None = None,
    extra: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    algorithm: str = HMAC_SHA1,
) -> _MonkeyPatchedWSGIResponse:
    """POST a signed status callback (``MessageSid``, ``MessageStatus``...) for a message.

    ``extra`` adds or replaces parameters, e.g. ``{"ErrorCode": "30003"}``;
    ``headers`` are sent too and may override the signature, to test refusals.
    ``url`` defaults to ``patchbay:twilio-status-callback``; a path is signed as
    the endpoint sees it, a full URL exactly as given.
    """
    params = {
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": _configured("account_sid", _TEST_ACCOUNT_SID),
        "ApiVersion": _API_VERSION,
        **(extra or {}),
    }
    target = url or patchbay_path("patchbay:twilio-status-callback")
    return _post(client, target, params, token, algorithm, headers)


def post_twilio_inbound(
    client: Client,
    from_number: str,
    body: str,
    *,
    to: str | None = None,
    message_sid: str | None = None,
    url: str | None = None,
    token: str | None = None,
    extra: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    algorithm: str = HMAC_SHA1,
) -> _MonkeyPatchedWSGIResponse:
    """POST a signed inbound message from ``from_number`` (``whatsapp:+…`` for WhatsApp).

    ``to`` defaults to :setting:`TWILIO_PHONE_NUMBER` (Twilio's test number
    when unset), ``message_sid`` to a fresh ``SM…`` id; reuse one to test a
    redelivery. ``url``, ``token``, ``extra``, ``headers`` and ``algorithm`` as
    for :func:`post_twilio_status`.
    """
    recipient = to or _configured("from_number", "+15005550006")
    if from_number.startswith("whatsapp:") and not recipient.startswith("whatsapp:"):
        recipient = "whatsapp:" + recipient  # Twilio addresses both sides on the channel
    sid = message_sid or fake_id("SM", 32)
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": _configured("account_sid", _TEST_ACCOUNT_SID),
        "From": from_number,
        "To": recipient,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": _API_VERSION,
        **(extra or {}),
    }
    target = url or patchbay_path("patchbay:twilio-inbound")
    return _post(client, target, params, token, algorithm, headers)


def _post(
    client: Client,
    url: str,
    params: dict[str, str],
    token: str | None,
    algorithm: str,
    headers: Mapping[str, str] | None,
) -> _MonkeyPatchedWSGIResponse:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    signed_url = url if parts.scheme else _endpoint_base(client) + path
    signature_headers = {
        "X-Twilio-Signature": sign_twilio_request(signed_url, params, token, algorithm=algorithm)
    }
    if algorithm.upper() != HMAC_SHA1:
        signature_headers["X-Twilio-Webhooks-Signature-Settings"] = (
            f"key={TEST_SHARED_KEY_ID},algorithm={algorithm}"
        )
    return client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={**signature_headers, **(headers or {})},
    )


def _endpoint_base(client: Client) -> str:
    """Scheme and host of the URL the endpoint rebuilds for a request from ``client``."""
    if conf.PUBLIC_URL:
        return conf.PUBLIC_URL
    defaults = client.defaults
    host = defaults.get("HTTP_HOST") or defaults.get("SERVER_NAME") or "testserver"
    scheme = "https" if defaults.get("wsgi.url_scheme") == "https" else "http"
    return f"{scheme}://{host}"


def _configured(name: str, default: str) -> str:
    """A Twilio configuration value, from the admin or settings, else ``default``."""
    from patchbay.twilio.client import TwilioClient

    return str(TwilioClient().config.get(name) or default)
