"""Values the database refuses: refused with a 400 and recorded, or stored cleaned; never a 500.

Run these on PostgreSQL too (``DATABASE_URL``): SQLite stores a NUL, a
300-character ``varchar(255)`` or ``NaN`` without complaint, PostgreSQL does not.
"""

from __future__ import annotations

import json

import pytest
from django.db import DataError

from patchbay.models import SMS, IntegrationLog, WebhookEvent
from patchbay.testing import (
    loops_event,
    post_loops_event,
    post_stripe_event,
    post_twilio_inbound,
    post_twilio_status,
    stripe_event,
)
from patchbay.webhooks import processing, views
from tests.live_webhooks import live_loops, live_stripe, live_twilio, live_webhooks

__all__ = ["live_loops", "live_stripe", "live_twilio", "live_webhooks"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_webhooks")]

SID = "SM" + "5" * 32
REPLACED = "\N{REPLACEMENT CHARACTER}"


def assert_refused(response, provider, reason):
    """A 4xx with a JSON error, recorded as an IntegrationLog row; no event stored."""
    assert 400 <= response.status_code < 500, response.content
    assert reason in response.json()["error"]
    assert not WebhookEvent.objects.exists()
    log = IntegrationLog.objects.get(provider=provider, direction="inbound")
    assert (log.success, log.status_code, log.error_code) == (False, 400, "invalid_payload")
    assert reason in log.error


def product(**fields):
    return {**stripe_event("product.created", {"id": "prod_1"}, event_id="evt_values"), **fields}


@pytest.mark.parametrize(
    ("event_id", "reason"),
    [
        ("evt_" + "x" * 296, "The event id is longer than 255 characters"),
        (12345, "The event id is not a string"),
        ({"x": 1}, "The event id is not a string"),
        (["evt_1"], "The event id is not a string"),
        (True, "The event id is not a string"),
        ("evt_\x00nul", "The event id holds a control character"),
        ("evt_\ttab", "The event id holds a control character"),
        ("evt_\ud800", "The event id holds a control character"),
    ],
)
def test_a_stripe_event_id_that_cannot_be_stored_is_refused(client, event_id, reason):
    response = post_stripe_event(client, product(id=event_id))

    assert_refused(response, "stripe", reason)


@pytest.mark.parametrize(
    ("event_type", "reason"),
    [
        ("t" * 300, "The event type is longer than 255 characters"),
        (7, "The event type is not a string"),
        ({"name": "product.created"}, "The event type is not a string"),
    ],
)
def test_a_stripe_event_type_that_cannot_be_stored_is_refused(client, event_type, reason):
    response = post_stripe_event(client, product(type=event_type))

    assert_refused(response, "stripe", reason)


def test_the_client_side_check_refuses_the_same_ids(live_webhooks):
    from patchbay.stripe.client import StripeClient
    from patchbay.testing import sign_stripe_payload

    body = json.dumps(product(id={"x": 1}))
    result = StripeClient().verify_webhook_signature(body, sign_stripe_payload(body))

    assert (result["success"], result["error_code"]) == (False, "invalid_payload")
    assert result["error"] == "The event id is not a string."


@pytest.mark.parametrize(
    "text", ["nul \x00 inside", "\x00", "lone \ud800 surrogate", "low \udfff", "key"]
)
def test_nul_and_lone_surrogates_in_a_stripe_payload_are_stored_replaced(client, text):
    obj = {"id": "prod_1", "name": text, "metadata": {text: text, "list": [text, 1]}}

    response = post_stripe_event(client, product(data={"object": obj}))

    assert response.status_code == 200, response.content
    stored = WebhookEvent.objects.get().payload["data"]["object"]
    clean = text.replace("\x00", REPLACED).replace("\ud800", REPLACED).replace("\udfff", REPLACED)
    assert stored["name"] == clean
    assert stored["metadata"] == {clean: clean, "list": [clean, 1]}


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_a_number_json_cannot_store_is_refused(client, number):
    body = json.dumps(product()).replace('"livemode"', f'"amount": {number}, "livemode"')
    assert number in body

    response = post_stripe_event(client, body)

    assert_refused(response, "stripe", "number")


def test_a_deeply_nested_payload_is_refused(client):
    deep = "[" * 500 + "]" * 500
    body = json.dumps(product()).replace('"livemode"', f'"deep": {deep}, "livemode"')

    response = post_stripe_event(client, body)

    assert_refused(response, "stripe", "nested")


def test_a_huge_integer_is_stored(client):
    response = post_stripe_event(client, product(amount=10**200))

    assert response.status_code == 200, response.content
    assert WebhookEvent.objects.get().payload["amount"] == 10**200


def test_a_loops_webhook_id_of_300_characters_is_refused(client):
    response = post_loops_event(
        client, loops_event("email.delivered", "ada@example.com"), message_id="msg_" + "1" * 296
    )

    assert_refused(response, "loops", "The event id is longer than 255 characters")


def test_a_loops_event_name_that_is_not_a_string_is_refused(client):
    payload = {**loops_event("email.delivered", "ada@example.com"), "eventName": ["a", "b"]}

    response = post_loops_event(client, payload)

    assert response.status_code == 400
    assert response.json()["error"] == "The event type is not a string."


def test_a_loops_body_that_is_not_json_is_refused(client):
    response = post_loops_event(client, b"\xff not json")

    assert response.status_code == 400
    assert response.json()["error"] == "The body is not JSON."


@pytest.mark.parametrize("length", [65, 300])
@pytest.mark.parametrize("post", ["status", "inbound"])
def test_a_twilio_message_sid_too_long_to_store_is_refused(client, post, length):
    sid = "SM" + "6" * (length - 2)
    if post == "status":
        response = post_twilio_status(client, sid, "delivered")
    else:
        response = post_twilio_inbound(client, "+14155550100", "hi", message_sid=sid)

    assert_refused(response, "twilio", "MessageSid is longer than 64 characters")


def test_a_twilio_status_with_a_nul_is_refused(client):
    response = post_twilio_status(client, SID, "deliv\x00ered")

    assert_refused(response, "twilio", "MessageStatus holds a control character")


def test_a_twilio_inbound_body_with_a_nul_is_stored_replaced_on_every_redelivery(client):
    for _ in range(2):
        response = post_twilio_inbound(client, "+14155550100", "STOP\x00 now", message_sid=SID)

        assert response.status_code == 200, response.content
    assert SMS.objects.get().body == f"STOP{REPLACED} now"
    event = WebhookEvent.objects.get()
    assert (event.status, event.payload["Body"]) == ("processed", f"STOP{REPLACED} now")


def test_an_unexpected_data_error_while_storing_is_a_recorded_400(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise DataError("value too long for type character varying(255)")

    monkeypatch.setattr(views, "process_delivery", refuse)

    response = post_stripe_event(client, product())

    assert response.status_code == 400
    assert response.json() == {"error": "The event holds a value the database cannot store."}
    log = IntegrationLog.objects.get(direction="inbound")
    assert (log.success, log.status_code, log.error_code) == (False, 400, "invalid_payload")


def test_a_data_error_inserting_the_event_is_a_recorded_400(client, monkeypatch, postgres_only):
    original = processing.EventStatements.claim

    def claim(self, provider, delivery, *args, **kwargs):
        return original(self, provider, delivery._replace(event_id="e" * 300), *args, **kwargs)

    monkeypatch.setattr(processing.EventStatements, "claim", claim)

    response = post_stripe_event(client, product())

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert IntegrationLog.objects.get(direction="inbound").error_code == "invalid_payload"


def test_a_handler_error_holding_a_nul_is_stored_replaced(client):
    from patchbay.webhooks import receiver
    from patchbay.webhooks.registry import disconnect

    def crash(event):
        raise RuntimeError("bad \x00 byte")

    receiver("stripe", "product.created")(crash)
    try:
        response = post_stripe_event(client, product())
    finally:
        disconnect("stripe", "product.created", crash)

    assert response.status_code == 500
    assert WebhookEvent.objects.get().error == f"RuntimeError: bad {REPLACED} byte"
    assert (
        IntegrationLog.objects.get(direction="inbound").error
        == f"RuntimeError: bad {REPLACED} byte"
    )
