"""patchbay.testing's Loops helpers build Loops' payloads and sign them as Loops does."""

from __future__ import annotations

import base64
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from patchbay.loops.webhooks import SIMULATION_SECRET
from patchbay.models import EmailEvent, EmailSuppression, WebhookEvent
from patchbay.testing import loops_event, post_loops_event, sign_loops_webhook
from tests.loops.helpers import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db

OTHER_SECRET = "whsec_" + base64.b64encode(b"some-other-signing-secret-456").decode()


@pytest.fixture
def configured(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.LOOPS_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


class TestLoopsEvent:
    def test_has_the_webhook_schema_fields(self):
        before = int(time.time())
        payload = loops_event("email.delivered", "ada@example.com")

        assert payload["eventName"] == "email.delivered"
        assert before <= payload["eventTime"] <= int(time.time())
        assert payload["webhookSchemaVersion"] == "1.0.0"
        assert payload["contactIdentity"]["email"] == "ada@example.com"
        assert set(payload["contactIdentity"]) == {"id", "email", "userId"}
        assert set(payload["email"]) == {"id", "emailMessageId", "subject"}
        assert "transactionalId" not in payload
        assert "sourceType" not in payload

    def test_transactional_events_name_their_template(self):
        payload = loops_event("transactional.email.sent", "ada@example.com", transactional_id="t1")
        assert payload["sourceType"] == "transactional"
        assert payload["transactionalId"] == "t1"

    def test_fields_replace_and_merge(self):
        payload = loops_event(
            "email.hardBounced",
            "ada@example.com",
            eventTime=1700000000,
            email={"subject": "Welcome"},
            mailingLists=["news"],
        )
        assert payload["eventTime"] == 1700000000
        assert payload["email"]["subject"] == "Welcome"
        assert payload["email"]["emailMessageId"]  # the generated id is kept
        assert payload["mailingLists"] == ["news"]

    def test_ids_are_fresh(self):
        first = loops_event("email.delivered", "ada@example.com")
        second = loops_event("email.delivered", "ada@example.com")
        assert first["email"]["emailMessageId"] != second["email"]["emailMessageId"]


class TestSignature:
    def test_verifies_with_the_standard_webhooks_library(self):
        body = json.dumps(loops_event("email.delivered", "ada@example.com"))
        headers = sign_loops_webhook(body, secret=WEBHOOK_SECRET)

        assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        assert Webhook(WEBHOOK_SECRET).verify(body, headers) == json.loads(body)
        with pytest.raises(WebhookVerificationError):
            Webhook(OTHER_SECRET).verify(body, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(WEBHOOK_SECRET).verify(body + " ", headers)

    def test_bytes_and_given_id_and_timestamp(self):
        now = int(time.time())
        headers = sign_loops_webhook(
            b'{"a": 1}', secret=WEBHOOK_SECRET, message_id="msg_1", timestamp=now
        )
        assert headers["webhook-id"] == "msg_1"
        assert headers["webhook-timestamp"] == str(now)
        Webhook(WEBHOOK_SECRET).verify(b'{"a": 1}', headers)

    def test_secret_defaults_to_the_configured_one(self, configured):
        headers = sign_loops_webhook("{}")
        Webhook(WEBHOOK_SECRET).verify("{}", headers)

    def test_secret_defaults_to_the_simulation_secret(self, settings):
        settings.LOOPS_WEBHOOK_SECRET = None
        headers = sign_loops_webhook("{}")
        Webhook(SIMULATION_SECRET).verify("{}", headers)


class TestPost:
    def test_is_accepted_by_the_endpoint(self, client, configured):
        response = post_loops_event(client, loops_event("email.hardBounced", "ada@example.com"))

        assert response.status_code == 200
        assert EmailEvent.objects.get().kind == "bounced"
        assert EmailSuppression.objects.filter(email="ada@example.com").exists()

    def test_simulation_accepts_the_default_secret(self, client, settings):
        settings.PATCHBAY_SIMULATE = True
        response = post_loops_event(client, loops_event("email.delivered", "ada@example.com"))
        assert response.status_code == 200
        assert EmailEvent.objects.get().kind == "delivered"

    def test_a_wrong_secret_is_refused(self, client, configured):
        response = post_loops_event(
            client, loops_event("email.delivered", "ada@example.com"), secret=OTHER_SECRET
        )
        assert response.status_code == 400
        assert not EmailEvent.objects.exists()

    def test_an_old_timestamp_is_refused(self, client, configured):
        response = post_loops_event(
            client,
            loops_event("email.delivered", "ada@example.com"),
            timestamp=int(time.time()) - 3600,
        )
        assert response.status_code == 400

    def test_a_redelivery_is_processed_once(self, client, configured):
        payload = loops_event("email.delivered", "ada@example.com")
        first = post_loops_event(client, payload, message_id="msg_again")
        again = post_loops_event(client, payload, message_id="msg_again")

        assert (first.status_code, again.status_code) == (200, 200)
        assert WebhookEvent.objects.get().event_id == "msg_again"
        assert EmailEvent.objects.count() == 1

    def test_headers_override_the_signature(self, client, configured):
        response = post_loops_event(
            client,
            loops_event("email.delivered", "ada@example.com"),
            headers={"webhook-signature": "v1,Zm9yZ2Vk"},
        )
        assert response.status_code == 400
