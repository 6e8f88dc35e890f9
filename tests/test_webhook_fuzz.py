"""Garbage, unsigned and validly signed, at every webhook endpoint: never a 5xx.

Hypothesis posts random JSON shapes, wrong types, long and non-printable ids,
NULs, lone surrogates, huge numbers, deep nesting, wrong content types and
random forms to the Stripe, Twilio (status and inbound) and Loops endpoints.
Every delivery must be answered below 500 and recorded (an inbound
``IntegrationLog`` row, for every refusal too: the window that stores one per
reason is 0 here); every delivery answered 2xx must be stored (a
``WebhookEvent`` row), and an unsigned one is never accepted.

Derandomized, so a run is reproducible. ``PATCHBAY_FUZZ_EXAMPLES`` sets the
examples per endpoint: a few in the normal suite, more in ``.ci/run``'s fuzz
step, which runs ``-m fuzz`` on PostgreSQL (where NULs, lengths and ``NaN``
are actually refused).
"""

from __future__ import annotations

import itertools
import json
import os
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from patchbay.models import IntegrationLog, WebhookEvent
from patchbay.testing import sign_loops_webhook, sign_stripe_payload, sign_twilio_request
from tests.live_webhooks import (
    INBOUND_URL,
    LOOPS_URL,
    STATUS_URL,
    STRIPE_URL,
    live_loops,
    live_stripe,
    live_twilio,
    live_webhooks,
)

__all__ = ["live_loops", "live_stripe", "live_twilio", "live_webhooks"]
pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db,
    pytest.mark.usefixtures("live_webhooks", "every_refusal_recorded"),
]


@pytest.fixture
def every_refusal_recorded(settings):
    # Refusals are stored once per window (tests/test_refused_deliveries.py); here each
    # delivery's row is checked, so every one is stored.
    settings.PATCHBAY_REFUSED_WEBHOOK_WINDOW = 0


FUZZ = settings(
    max_examples=int(os.environ.get("PATCHBAY_FUZZ_EXAMPLES", "20")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# -- values -----------------------------------------------------------------------------

# Every code point, NUL, C0/C1 controls and lone surrogates included.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
# What a form or an HTTP header can carry: no lone surrogates (not encodable as UTF-8).
form_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
long_text = st.integers(240, 320).map(lambda n: "x" * n)
numbers = (
    st.integers()
    | st.integers(-(10**400), 10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, -1, 2**63, 10**20, 1e308, 253_402_300_800])
)
scalars = st.none() | st.booleans() | numbers | any_text | long_text


def nested(depth: int) -> object:
    value: object = "bottom"
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
) | st.integers(1, 200).map(nested)
ids = (
    scalars | json_values | st.just("") | st.text(st.sampled_from("\x00\t\n\x7f\x85a"), min_size=1)
)


def mostly(plausible: st.SearchStrategy, garbage: st.SearchStrategy) -> st.SearchStrategy:
    """``plausible`` four times in five: enough of the garbage gets past the checks."""
    return st.integers(0, 4).flatmap(lambda draw: garbage if draw == 0 else plausible)


signed = mostly(st.just(True), st.just(False))
token = st.text(st.sampled_from("abcdefXYZ0123456789_"), min_size=1, max_size=24)
_serial = itertools.count()


def unique(prefix: str) -> st.SearchStrategy[str]:
    """Plausible ids, each new: Hypothesis repeats simple values, and a repeated id would
    only ever be a duplicate, never reaching the handlers."""
    return token.map(lambda text: f"{prefix}{text}{next(_serial)}")


def objects(fields: list[str]) -> st.SearchStrategy[dict]:
    """Objects with the keys a handler reads (and others), holding anything."""
    return st.dictionaries(st.sampled_from(fields) | any_text, json_values, max_size=8)


def body_of(value: object) -> bytes:
    return json.dumps(value).encode()


raw_bodies = st.binary(max_size=200) | st.sampled_from(
    [b"", b"{", b"null", b"[]", b'"text"', b"\xff\xfe", b"NaN", b"{" * 2000 + b"}" * 2000]
)
content_types = mostly(
    st.just("application/json"),
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
)


def deliver(client, url, body, content_type, headers):
    """POST, and check what every delivery must satisfy; the response and its log row."""
    before = IntegrationLog.objects.filter(direction="inbound").count()
    response = client.post(url, data=body, content_type=content_type, headers=headers)
    assert response.status_code < 500, (response.status_code, response.content, body[:300])
    logs = IntegrationLog.objects.filter(direction="inbound").order_by("-id")
    assert logs.count() == before + 1, "every delivery is recorded"
    log = logs[0]
    assert log.status_code == response.status_code
    # Shown by --hypothesis-show-statistics: how much of the garbage got how far.
    outcome = log.error_code or log.request_summary.get("outcome")
    event(f"{response.status_code} {outcome} {log.error[:60]}")
    if response.status_code < 300:
        stored = WebhookEvent.objects.filter(
            provider=log.provider, event_id=log.request_summary["event_id"]
        )
        assert stored.exists(), "every accepted delivery is stored"
    else:
        assert response.json()["error"]
    return response, log


# -- Stripe -----------------------------------------------------------------------------

STRIPE_TYPES = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
]
STRIPE_FIELDS = [
    "id",
    "customer",
    "client_reference_id",
    "customer_email",
    "customer_details",
    "metadata",
    "status",
    "items",
    "current_period_end",
    "canceled_at",
    "cancel_at_period_end",
    "subscription",
    "parent",
]
stripe_objects = objects(STRIPE_FIELDS) | st.fixed_dictionaries(
    {
        "id": mostly(token.map("sub_".__add__), ids),
        "customer": mostly(token.map("cus_".__add__), ids),
        "metadata": st.fixed_dictionaries({"user_id": json_values}) | json_values,
        "items": st.fixed_dictionaries(
            {"data": st.lists(objects(["price", "current_period_end"]), max_size=2)}
        )
        | json_values,
        "parent": st.fixed_dictionaries(
            {"subscription_details": objects(["subscription"]) | json_values}
        ),
    }
)
stripe_events = st.fixed_dictionaries(
    {
        "id": mostly(unique("evt_"), ids),
        "type": mostly(st.sampled_from(STRIPE_TYPES), ids),
        "data": mostly(st.fixed_dictionaries({"object": stripe_objects}), json_values),
    },
    optional={"created": mostly(st.integers(0, 2**32), numbers | ids), "object": st.just("event")},
)
stripe_bodies = mostly(stripe_events.map(body_of), json_values.map(body_of) | raw_bodies)


@FUZZ
@given(body=stripe_bodies, signed=signed, content_type=content_types)
def test_stripe(client, body, signed, content_type):
    try:
        body.decode()
    except UnicodeDecodeError:
        signed = False  # Stripe signs text: such a body is never validly signed
    headers = {"Stripe-Signature": sign_stripe_payload(body)} if signed else {}
    if not signed and body[:1] == b"{":
        headers = {"Stripe-Signature": "t=1,v1=" + "0" * 64}

    response, log = deliver(client, STRIPE_URL, body, content_type, headers)

    if not signed:
        assert response.status_code == 400
    elif response.status_code < 300:
        assert log.request_summary["event_id"] == json.loads(body)["id"]


# -- Twilio -----------------------------------------------------------------------------

TWILIO_FIELDS = [
    "MessageSid",
    "SmsSid",
    "MessageStatus",
    "From",
    "To",
    "Body",
    "ErrorCode",
    "ErrorMessage",
    "OptOutType",
    "NumMedia",
]
twilio_values = mostly(
    st.sampled_from(
        ["SM" + "0" * 32, "delivered", "read", "+14155550100", "whatsapp:+14155550100", "STOP"]
    )
    | unique("SM"),
    form_text | long_text,
)
twilio_forms = st.dictionaries(
    st.sampled_from(TWILIO_FIELDS) | form_text, twilio_values, max_size=10
) | st.fixed_dictionaries(
    {
        "MessageSid": twilio_values,
        "MessageStatus": twilio_values,
        "From": twilio_values,
        "To": twilio_values,
        "Body": twilio_values,
    }
)


def post_twilio(client, url, form, raw, signed, content_type):
    params = form if raw is None else {}
    body = urlencode(params).encode() if raw is None else raw
    headers = {}
    if signed:
        headers["X-Twilio-Signature"] = sign_twilio_request("http://testserver" + url, params)
    elif params:
        headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
    response, log = deliver(client, url, body, content_type, headers)
    if not signed:
        assert response.status_code == 400
    return response, log


twilio_content_types = mostly(st.just("application/x-www-form-urlencoded"), content_types)


@FUZZ
@given(
    form=twilio_forms,
    raw=mostly(st.none(), raw_bodies),
    signed=signed,
    content_type=twilio_content_types,
)
def test_twilio_status_callback(client, form, raw, signed, content_type):
    post_twilio(client, STATUS_URL, form, raw, signed, content_type)


@FUZZ
@given(
    form=twilio_forms,
    raw=mostly(st.none(), raw_bodies),
    signed=signed,
    content_type=twilio_content_types,
)
def test_twilio_inbound(client, form, raw, signed, content_type):
    post_twilio(client, INBOUND_URL, form, raw, signed, content_type)


# -- Loops ------------------------------------------------------------------------------

LOOPS_TYPES = ["email.delivered", "email.hardBounced", "email.spamReported", "loop.email.sent"]
loops_events = st.fixed_dictionaries(
    {"eventName": mostly(st.sampled_from(LOOPS_TYPES), ids)},
    optional={
        "eventTime": mostly(st.integers(0, 2**32), numbers | ids),
        "contactIdentity": objects(["email", "id", "userId"]) | json_values,
        "email": objects(["id", "emailMessageId", "subject"]) | json_values,
        "transactionalId": ids,
    },
)
loops_bodies = mostly(loops_events.map(body_of), json_values.map(body_of) | raw_bodies)
# A header's value: Latin-1, as HTTP carries it.
message_ids = mostly(
    unique("msg_"), st.text(st.characters(max_codepoint=255), max_size=40) | long_text
)


@FUZZ
@given(body=loops_bodies, message_id=message_ids, signed=signed, content_type=content_types)
def test_loops(client, body, message_id, signed, content_type):
    headers = sign_loops_webhook(body, message_id=message_id or "msg_1")
    if not signed:
        headers["webhook-signature"] = "v1,bm90IGEgc2lnbmF0dXJl"

    response, log = deliver(client, LOOPS_URL, body, content_type, headers)

    if not signed:
        assert response.status_code == 400
    elif response.status_code < 300:
        assert log.request_summary["event_id"] == headers["webhook-id"]
