"""Secrets are masked in the forms patchbay sends them, not only as written (issue 14, finding 8).

A stub that echoed the Authorization header into its error body had the
Base64 Basic credential (``base64(sid:token)``) stored unmasked: the token
itself never appears in it.
"""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote

import pytest
import responses

from patchbay.loops.client import LoopsClient
from patchbay.models import IntegrationLog
from patchbay.redaction import MASK, Redactor
from patchbay.twilio.client import TwilioClient, _sdk_client
from tests.twilio.helpers import ACCOUNT_SID, API, AUTH_TOKEN, TO

pytestmark = pytest.mark.django_db

LOOPS_API = "https://app.loops.so/api/v1"
# An API key as the admin may hold one: characters that URL-encoding changes.
LOOPS_KEY = "loops/key+with=special?chars&0123456789"


def echo_authorization(status, shape):
    def callback(request):
        return (
            status,
            {"Content-Type": "application/json"},
            json.dumps(shape(request.headers["Authorization"])),
        )

    return callback


def stored_text(caplog):
    rows = list(IntegrationLog.objects.values_list("error", "request_summary"))
    return repr(rows) + "\n".join(record.getMessage() for record in caplog.records)


@pytest.fixture
def live_twilio(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_PHONE_NUMBER = "+14155550100"
    settings.PATCHBAY_MAX_RETRIES = 0
    _sdk_client.cache_clear()
    yield settings
    _sdk_client.cache_clear()


@pytest.fixture
def live_loops(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.LOOPS_API_KEY = LOOPS_KEY
    settings.PATCHBAY_MAX_RETRIES = 0
    return settings


@responses.activate
@pytest.mark.usefixtures("live_twilio")
@pytest.mark.parametrize(
    "echo",
    [
        lambda header: header,  # "Basic QUNh..."
        lambda header: header.split()[1],  # the credential alone
        lambda header: header.split()[1].rstrip("="),
    ],
)
def test_twilio_basic_credential_echoed_in_an_error_is_masked(caplog, echo):
    caplog.set_level(logging.DEBUG)
    basic = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    responses.add_callback(
        responses.POST,
        f"{API}/Messages.json",
        callback=echo_authorization(
            401, lambda header: {"code": 20003, "message": f"Bad credentials: {echo(header)}"}
        ),
    )

    result = TwilioClient().send_sms(TO, "hi")

    assert responses.calls[0].request.headers["Authorization"] == f"Basic {basic}"
    assert result["error_code"] == "authentication_error"
    assert basic not in result["error"]
    assert MASK in result["error"]
    assert basic not in stored_text(caplog)
    assert basic.rstrip("=") not in stored_text(caplog)


@responses.activate
@pytest.mark.usefixtures("live_loops")
@pytest.mark.parametrize(
    "echo",
    [
        lambda header: header,  # as sent
        lambda header: quote(header, safe=""),  # as a proxy's error page may quote it
        lambda header: quote(header, safe=" "),
        lambda header: header.replace(" ", "+").replace("/", "%2F"),
    ],
)
def test_loops_bearer_key_echoed_in_an_error_is_masked(caplog, echo):
    caplog.set_level(logging.DEBUG)
    responses.add_callback(
        responses.POST,
        f"{LOOPS_API}/transactional",
        callback=echo_authorization(
            401, lambda header: {"success": False, "message": f"Refused {echo(header)}"}
        ),
    )

    result = LoopsClient().transactional_email("ada@example.com", "tpl_1")

    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {LOOPS_KEY}"
    assert result["error_code"] == "authentication_error"
    for form in (LOOPS_KEY, quote(LOOPS_KEY, safe=""), echo(LOOPS_KEY)):
        assert form not in result["error"]
        assert form not in stored_text(caplog)


# -- the Redactor ---------------------------------------------------------------------------


def test_basic_credentials_of_a_secret_are_masked():
    redactor = Redactor(["the-auth-token-123"], basic_auth=[("AC123", "the-auth-token-123")])
    basic = base64.b64encode(b"AC123:the-auth-token-123").decode()

    assert redactor.text(f"header was Basic {basic}") == f"header was Basic {MASK}"
    assert basic.rstrip("=") not in redactor.text(f"Basic {basic.rstrip('=')}")


@pytest.mark.parametrize(
    "form",
    [
        quote("s3cr3t/with+plus=", safe=""),
        "s3cr3t%2Fwith%2Bplus%3D",
        "s3cr3t%2fwith%2bplus%3d",  # lower-case escapes are as valid
        "s3cr3t/with+plus=".replace("/", "\\/"),  # JSON may escape the slash
    ],
)
def test_encoded_forms_of_a_secret_are_masked(form):
    assert Redactor(["s3cr3t/with+plus="]).text(f"got {form} here") == f"got {MASK} here"


@pytest.mark.parametrize(
    "credential",
    [
        "Bearer sk_live_" + "x" * 24,
        "Basic " + base64.b64encode(b"someone:their-password").decode(),
        "authorization: Bearer 0123456789abcdef0123",
    ],
)
def test_any_authorization_credential_in_text_is_masked(credential):
    # Even one the redactor was not told: a header echoed from another call.
    masked = Redactor().text(f"echo: {credential}.")

    assert credential.rsplit(" ", 1)[1] not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text",
    ["Basic plan", "Basic authentication failed", "Bearer token expired", "a Bearer of news"],
)
def test_words_after_basic_or_bearer_are_left_alone(text):
    assert Redactor().text(text) == text
