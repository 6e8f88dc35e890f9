"""The "Adding your own service" example (tests/extending/acme_notify), end to end."""

from __future__ import annotations

import json

import pytest
import requests
import responses
from django.apps import AppConfig
from django.core.cache import cache
from django.forms.models import model_to_dict
from responses import matchers

from patchbay.core import registry
from patchbay.models import ExternalService, IntegrationLog, WebhookEvent
from patchbay.testing import post_signed_webhook
from patchbay.webhooks import handlers_for
from tests.extending.acme_notify import handlers
from tests.extending.acme_notify.apps import AcmeNotifyConfig
from tests.extending.acme_notify.client import API_URL, AcmeNotifyClient
from tests.extending.acme_notify.shortcuts import notify_user
from tests.extending.acme_notify.webhooks import SIGNATURE_HEADER

# Users name the plugin in their root conftest.py; naming it here exercises that too.
pytestmark = pytest.mark.django_db

API_KEY = "acme_live_0123456789abcdef"
WEBHOOK_SECRET = "acme_whsec_0123456789abcdef"
NOTIFICATIONS_URL = f"{API_URL}/notifications"
WEBHOOK_URL = "/acme-notify/webhook/"
RESULT_KEYS = {"success", "notification_id", "status"}


@pytest.fixture
def acme_settings(settings):
    settings.ACME_NOTIFY_API_KEY = API_KEY
    settings.ACME_NOTIFY_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


@pytest.fixture
def api(patchbay_live, acme_settings):
    """Acme Notify's API, mocked: unregistered requests fail, registered ones must be made."""
    with responses.RequestsMock() as mock:
        yield mock


def send(**kwargs):
    return AcmeNotifyClient(**kwargs).send_notification("device-1", "Your order has shipped")


# -- the client, live ------------------------------------------------------------------


def test_send_notification_makes_the_documented_request(api, acme_settings):
    acme_settings.PATCHBAY_TIMEOUT = 3
    api.post(
        NOTIFICATIONS_URL,
        json={"id": "ntf_123", "status": "queued"},
        match=[
            matchers.header_matcher({"Authorization": f"Bearer {API_KEY}"}),
            matchers.json_params_matcher({"to": "device-1", "message": "Your order has shipped"}),
        ],
    )

    result = send()

    assert result == {"success": True, "notification_id": "ntf_123", "status": "queued"}
    assert api.calls[0].request.req_kwargs["timeout"] == 3.0


def test_constructor_argument_beats_the_admin_row_which_beats_settings(api):
    ExternalService.objects.update_or_create(
        provider="acme_notify", defaults={"credentials": {"api_key": "from-admin-row"}}
    )
    for key in ("from-argument", "from-admin-row"):
        api.post(
            NOTIFICATIONS_URL,
            json={"id": "ntf_1", "status": "queued"},
            match=[matchers.header_matcher({"Authorization": f"Bearer {key}"})],
        )

    assert send(api_key="from-argument")["success"] is True
    assert send()["success"] is True


@pytest.mark.parametrize(
    ("status", "error_code", "retryable"),
    [
        (400, "invalid_request", False),
        (401, "authentication_error", False),
        (403, "permission_error", False),
        (404, "not_found", False),
        (429, "rate_limited", True),
        (500, "server_error", True),
        (503, "server_error", True),
    ],
)
def test_http_errors_are_mapped(api, status, error_code, retryable):
    api.post(NOTIFICATIONS_URL, status=status, json={"error": {"message": "Nope."}})

    result = send()

    # A 429 puts the provider on hold: for a second, when it does not say how long.
    held = {"retry_after": 1} if status == 429 else {}
    assert result == {
        "success": False,
        "error": f"Acme Notify refused the request (HTTP {status}): Nope.",
        "error_code": error_code,
        "retryable": retryable,
        **held,
    }
    assert IntegrationLog.objects.get().status_code == status


def test_an_error_without_a_json_body_uses_the_reason(api):
    api.post(NOTIFICATIONS_URL, status=502, body="<html>Bad gateway</html>")

    result = send()

    assert result["error"] == "Acme Notify refused the request (HTTP 502): Bad Gateway"
    assert result["retryable"] is True


@pytest.mark.parametrize(
    ("exception", "error_code"),
    [
        (requests.Timeout("read timed out"), "timeout"),
        (requests.ConnectionError(), "connection_error"),
    ],
)
def test_network_failures_are_retryable(api, exception, error_code):
    api.post(NOTIFICATIONS_URL, body=exception)

    result = send()

    assert result["error_code"] == error_code
    assert result["retryable"] is True


def test_only_safe_retries_are_made(acme_settings):
    acme_settings.PATCHBAY_MAX_RETRIES = 4

    retry = AcmeNotifyClient().http_session.get_adapter(API_URL).max_retries

    assert retry.total == 4
    assert "POST" not in retry.allowed_methods


def test_retryable_failures_open_the_circuit_breaker(api, acme_settings):
    acme_settings.PATCHBAY_BREAKER_THRESHOLD = 2
    api.post(NOTIFICATIONS_URL, status=500)

    outcomes = [send()["error_code"] for _ in range(3)]

    assert outcomes == ["server_error", "server_error", "circuit_open"]
    assert len(api.calls) == 2


def test_not_configured_fails_without_a_request(api, acme_settings):
    acme_settings.ACME_NOTIFY_API_KEY = ""

    result = send()

    assert result["error_code"] == "not_configured"
    assert "ACME_NOTIFY_API_KEY" in result["error"]


def test_the_log_row_and_the_error_never_hold_the_api_key(api):
    # Some APIs echo the credential back; the client's redactor scrubs it.
    api.post(NOTIFICATIONS_URL, status=401, json={"error": {"message": f"Bad key {API_KEY}"}})

    result = send()

    log = IntegrationLog.objects.get()
    assert model_to_dict(log, fields=["provider", "operation", "success", "simulated"]) == {
        "provider": "acme_notify",
        "operation": "send_notification",
        "success": False,
        "simulated": False,
    }
    assert log.request_summary == {"to": "device-1", "message": "Your order has shipped"}
    assert API_KEY not in result["error"]
    assert API_KEY not in json.dumps(model_to_dict(log), default=str)
    assert API_KEY not in repr(AcmeNotifyClient()) + repr(AcmeNotifyClient().config)


def test_health_probe(api):
    api.get(f"{API_URL}/account", json={"id": "acct_1"})

    assert AcmeNotifyClient().check_health() == {"success": True, "healthy": True}


def test_the_app_config_registers_the_client_and_handlers():
    config = AppConfig.create("tests.extending.acme_notify")
    config.ready()

    assert isinstance(config, AcmeNotifyConfig)
    assert registry.get_client_class("acme_notify") is AcmeNotifyClient
    assert handlers_for("acme_notify", "notification.delivered") == [handlers.remember_delivery]


# -- the client, simulated --------------------------------------------------------------


@responses.activate
def test_simulation_answers_offline_with_the_live_shape(patchbay_simulate, patchbay_outbox):
    result = send()

    assert set(result) == RESULT_KEYS | {"simulated"}
    assert result["simulated"] is True
    assert result["notification_id"].startswith("ntf_")
    assert len(responses.calls) == 0
    [call] = patchbay_outbox.filter(provider="acme_notify", operation="send_notification")
    assert call.data == {
        "to": "device-1",
        "message": "Your order has shipped",
        "notification_id": result["notification_id"],
        "status": "queued",
    }
    assert IntegrationLog.objects.get().simulated is True


def test_an_empty_message_is_refused_before_anything_is_sent(
    api, patchbay_simulate, patchbay_outbox
):
    result = AcmeNotifyClient().send_notification("device-1", "")

    assert result["success"] is False
    assert result["error_code"] == "invalid_request"
    assert len(patchbay_outbox) == 0
    assert len(api.calls) == 0
    log = IntegrationLog.objects.get()
    assert (log.operation, log.success, log.error_code) == (
        "send_notification",
        False,
        "invalid_request",
    )


def test_notify_user_addresses_the_users_alias(
    patchbay_simulate, patchbay_outbox, django_user_model
):
    user = django_user_model.objects.create_user("ada")

    result = notify_user(user, "Hello")

    assert result["success"] is True
    assert patchbay_outbox[0].data["to"] == f"user-{user.pk}"


def test_notify_user_logs_a_failure(api, django_user_model, caplog):
    api.post(NOTIFICATIONS_URL, status=429)

    result = notify_user(django_user_model.objects.create_user("ada"), "Hello")

    assert result["error_code"] == "rate_limited"
    assert "Could not notify user" in caplog.text


# -- the webhook ------------------------------------------------------------------------


def delivered(event_id="evt_1", notification_id="ntf_1"):
    data = {"id": notification_id, "delivered_at": "2025-01-02T03:04:05Z"}
    return {"id": event_id, "type": "notification.delivered", "data": data}


def deliver(client, payload, *, secret=WEBHOOK_SECRET, header=SIGNATURE_HEADER, **kwargs):
    return post_signed_webhook(client, WEBHOOK_URL, payload, secret=secret, header=header, **kwargs)


@pytest.mark.urls("tests.extending.urls")
def test_a_signed_delivery_is_stored_and_handled(client, acme_settings):
    response = deliver(client, delivered())

    assert response.status_code == 200
    assert response.json() == {"status": "processed", "duplicate": False}
    event = WebhookEvent.objects.get()
    assert (event.provider, event.event_id) == ("acme_notify", "evt_1")
    assert (event.event_type, event.verified) == ("notification.delivered", True)
    assert handlers.delivered_at("ntf_1") == "2025-01-02T03:04:05Z"


@pytest.mark.urls("tests.extending.urls")
def test_an_event_without_a_handler_is_ignored(client, acme_settings):
    response = deliver(client, {"id": "evt_2", "type": "notification.opened"})

    assert response.json()["status"] == "ignored"


@pytest.mark.urls("tests.extending.urls")
@pytest.mark.parametrize(
    ("payload", "kwargs", "error"),
    [
        (delivered(), {"secret": "another-secret"}, "Invalid X-Acme-Signature signature."),
        (delivered(), {"header": "X-Signature"}, "Missing X-Acme-Signature header."),
        (delivered(), {"headers": {SIGNATURE_HEADER: ""}}, "Missing X-Acme-Signature header."),
        (delivered(), {"prefix": "sha1="}, "Invalid X-Acme-Signature signature."),
        (b"\xff not json", {}, "The body is not an Acme Notify event."),
        ("[1, 2]", {}, "The body is not an Acme Notify event."),
        ({"type": "notification.delivered"}, {}, "The body is not an Acme Notify event."),
    ],
    ids=["wrong-secret", "no-header", "empty-header", "wrong-prefix", "garbage", "array", "no-id"],
)
def test_unverifiable_deliveries_are_refused(client, acme_settings, payload, kwargs, error):
    response = deliver(client, payload, **kwargs)

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert not WebhookEvent.objects.exists()
    assert handlers.delivered_at("ntf_1") is None


@pytest.mark.urls("tests.extending.urls")
def test_deliveries_are_refused_until_the_secret_is_configured(client):
    response = deliver(client, delivered())

    assert response.status_code == 400
    assert response.json() == {"error": "Acme Notify webhooks are not configured."}


@pytest.mark.urls("tests.extending.urls")
def test_a_duplicate_delivery_is_acknowledged_but_not_handled_again(client, acme_settings):
    deliver(client, delivered())
    cache.clear()

    response = deliver(client, delivered())

    assert response.status_code == 200
    assert response.json() == {"status": "duplicate", "duplicate": True}
    assert handlers.delivered_at("ntf_1") is None
    assert WebhookEvent.objects.get().attempts == 1


class CacheDown:
    def set(self, *args, **kwargs):
        raise ConnectionError("cache unreachable")


@pytest.mark.urls("tests.extending.urls")
def test_a_failing_handler_answers_500_and_the_redelivery_is_processed(
    client, acme_settings, monkeypatch
):
    monkeypatch.setattr(handlers, "cache", CacheDown())

    response = deliver(client, delivered())

    assert response.status_code == 500
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.FAILED
    assert event.error == "ConnectionError: cache unreachable"

    monkeypatch.undo()
    response = deliver(client, delivered())

    assert response.json() == {"status": "processed", "duplicate": False}
    event.refresh_from_db()
    assert (event.status, event.attempts) == (WebhookEvent.Status.PROCESSED, 2)
    assert handlers.delivered_at("ntf_1") == "2025-01-02T03:04:05Z"
