from __future__ import annotations

import json
import logging
import uuid

import pytest
import requests
import responses
from responses.registries import OrderedRegistry

from patchbay.loops.client import LoopsClient
from patchbay.models import IntegrationLog
from tests.loops.helpers import API, API_KEY, live_loops

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_loops")]
__all__ = ["live_loops"]


def body(call):
    return json.loads(call.request.body)


@responses.activate
def test_transactional_email_request():
    responses.post(f"{API}/transactional", json={"success": True})
    result = LoopsClient().transactional_email(
        "ada@example.com", "tpl_1", {"name": "Ada", "resetUrl": "https://x/reset"}
    )
    assert result["success"] is True
    assert result["duplicate"] is False
    request = responses.calls[0].request
    assert request.url == f"{API}/transactional"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert uuid.UUID(request.headers["Idempotency-Key"]) == uuid.UUID(result["idempotency_key"])
    assert body(responses.calls[0]) == {
        "transactionalId": "tpl_1",
        "email": "ada@example.com",
        "dataVariables": {"name": "Ada", "resetUrl": "https://x/reset"},
    }
    log = IntegrationLog.objects.get()
    assert "https://x/reset" not in json.dumps(log.request_summary)
    assert API_KEY not in json.dumps(log.request_summary)


@responses.activate
def test_options_and_a_given_idempotency_key():
    responses.post(f"{API}/transactional", json={"success": True})
    attachment = {"filename": "a.txt", "contentType": "text/plain", "data": "aGk="}
    LoopsClient().transactional_email(
        "ada@example.com",
        "tpl_1",
        add_to_audience=True,
        attachments=[attachment],
        idempotency_key="order-42",
    )
    assert responses.calls[0].request.headers["Idempotency-Key"] == "order-42"
    sent = body(responses.calls[0])
    assert sent["addToAudience"] is True
    assert sent["attachments"] == [attachment]
    assert "dataVariables" not in sent


@responses.activate
def test_bcc_sends_one_copy_each_with_its_own_key():
    responses.post(f"{API}/transactional", json={"success": True})
    result = LoopsClient().transactional_email(
        "ada@example.com", "tpl_1", {"x": 1}, bcc=["ops@example.com"], idempotency_key="k1"
    )
    assert [body(call)["email"] for call in responses.calls] == [
        "ada@example.com",
        "ops@example.com",
    ]
    keys = [call.request.headers["Idempotency-Key"] for call in responses.calls]
    assert keys == ["k1", "k1:bcc:ops@example.com"]
    assert result["bcc"][0]["success"] is True


@responses.activate
def test_a_replayed_key_counts_as_already_sent():
    responses.post(
        f"{API}/transactional",
        status=409,
        json={"success": False, "message": "Idempotency key has been used"},
    )
    result = LoopsClient().transactional_email("ada@example.com", "tpl_1", idempotency_key="k1")
    assert (result["success"], result["duplicate"]) == (True, True)


@pytest.mark.parametrize(
    ("status", "reply", "code", "retryable"),
    [
        (
            400,
            {"success": False, "message": "transactionalId is invalid"},
            "invalid_request",
            False,
        ),
        (401, {"success": False, "message": "Invalid API key"}, "authentication_error", False),
        (404, {"success": False, "message": "Transactional email not found"}, "not_found", False),
    ],
)
@responses.activate
def test_error_mapping(status, reply, code, retryable):
    responses.post(f"{API}/transactional", status=status, json=reply)
    result = LoopsClient().transactional_email("ada@example.com", "tpl_1")
    assert (result["success"], result["error_code"], result["retryable"]) == (
        False,
        code,
        retryable,
    )
    assert result["error"] == reply["message"]
    assert len(responses.calls) == 1


@responses.activate
def test_success_false_in_a_200_is_an_error():
    responses.post(f"{API}/transactional", json={"success": False, "message": "Nope"})
    assert LoopsClient().transactional_email("ada@example.com", "tpl_1")["error"] == "Nope"


@responses.activate(registry=OrderedRegistry)
def test_429_and_5xx_are_retried_with_the_same_key():
    responses.post(
        f"{API}/transactional", status=429, json={"success": False, "message": "Slow down"}
    )
    responses.post(f"{API}/transactional", status=503, json={"success": False})
    responses.post(f"{API}/transactional", json={"success": True})
    assert LoopsClient().transactional_email("ada@example.com", "tpl_1")["success"] is True
    assert len(responses.calls) == 3
    assert len({call.request.headers["Idempotency-Key"] for call in responses.calls}) == 1


@responses.activate
def test_retries_are_bounded():
    responses.post(f"{API}/transactional", status=500, json={"success": False, "message": "Down"})
    result = LoopsClient().transactional_email("ada@example.com", "tpl_1")
    assert (result["error_code"], result["retryable"]) == ("api_error", True)
    assert len(responses.calls) == 3  # the call and PATCHBAY_MAX_RETRIES = 2 retries


@responses.activate
def test_timeout_is_a_clear_retryable_error(settings):
    settings.PATCHBAY_MAX_RETRIES = 0
    responses.post(f"{API}/transactional", body=requests.ReadTimeout("slow"))
    result = LoopsClient().transactional_email("ada@example.com", "tpl_1")
    assert (result["error_code"], result["retryable"]) == ("timeout", True)


@pytest.mark.parametrize("address", ["", "ada", "ada@", "@example.com", "ada@exa mple.com"])
@responses.activate
def test_invalid_addresses_are_refused_before_any_call(address):
    result = LoopsClient().transactional_email(address, "tpl_1")
    assert result["error_code"] == "invalid_email"
    assert len(responses.calls) == 0


@responses.activate
def test_invalid_bcc_is_refused_too():
    assert (
        LoopsClient().transactional_email("ada@example.com", "tpl_1", bcc="nope")["error_code"]
        == "invalid_email"
    )
    assert len(responses.calls) == 0


@responses.activate
def test_event():
    responses.post(f"{API}/events/send", json={"success": True})
    result = LoopsClient().event("ada@example.com", "signup", {"plan": "pro"})
    assert result["success"] is True
    assert body(responses.calls[0]) == {
        "email": "ada@example.com",
        "eventName": "signup",
        "eventProperties": {"plan": "pro"},
    }
    assert responses.calls[0].request.headers["Idempotency-Key"]


@responses.activate
def test_api_key_check_and_probe():
    responses.get(f"{API}/api-key", json={"success": True, "teamName": "Acme"})
    assert LoopsClient().test_api_key() == {"success": True, "valid": True, "team_name": "Acme"}
    assert LoopsClient().check_health()["success"] is True
    responses.replace(
        responses.GET,
        f"{API}/api-key",
        status=401,
        json={"success": False, "error": "Invalid API key"},
    )
    assert LoopsClient().test_api_key()["error_code"] == "authentication_error"


@responses.activate
def test_contacts():
    responses.post(f"{API}/contacts/create", json={"success": True, "id": "cnt_1"})
    responses.put(f"{API}/contacts/update", json={"success": True, "id": "cnt_1"})
    responses.get(f"{API}/contacts/find", json=[{"id": "cnt_1", "email": "ada@example.com"}])
    responses.post(f"{API}/contacts/delete", json={"success": True, "message": "Contact deleted."})
    client = LoopsClient()
    assert client.create_contact("ada@example.com", firstName="Ada")["contact_id"] == "cnt_1"
    assert body(responses.calls[0]) == {"email": "ada@example.com", "firstName": "Ada"}
    assert client.update_contact("ada@example.com", plan="pro")["success"] is True
    assert client.find_contact("ada@example.com")["contact"]["id"] == "cnt_1"
    assert "email=ada%40example.com" in responses.calls[2].request.url
    assert client.delete_contact("ada@example.com")["success"] is True
    responses.replace(responses.GET, f"{API}/contacts/find", json=[])
    assert client.find_contact("ada@example.com")["contact"] is None


def test_api_base_setting(settings):
    settings.LOOPS_API_BASE = "http://127.0.0.1:9999/api/v1/"
    with responses.RequestsMock() as mock:
        mock.get(
            "http://127.0.0.1:9999/api/v1/api-key", json={"success": True, "teamName": "Local"}
        )
        assert LoopsClient().test_api_key()["team_name"] == "Local"


class TestSimulated:
    @pytest.fixture(autouse=True)
    def _simulate(self, live_loops):
        live_loops.PATCHBAY_SIMULATE = True
        live_loops.LOOPS_API_KEY = ""

    def test_nothing_is_sent_and_the_outbox_has_it(self, caplog, patchbay_outbox):
        caplog.set_level(logging.INFO, logger="patchbay.simulation")
        result = LoopsClient().transactional_email(
            "ada@example.com", "tpl_1", {"loginUrl": "https://x/l"}
        )
        assert result["simulated"] is True
        assert set(result) == {"success", "data", "idempotency_key", "duplicate", "simulated"}
        [call] = patchbay_outbox.filter(provider="loops", operation="transactional_email")
        assert call.data["payload"]["dataVariables"] == {"loginUrl": "https://x/l"}
        printed = caplog.text
        assert "tpl_1" in printed
        assert "ada@example.com" in printed
        assert "https://x/l" in printed

    def test_invalid_addresses_still_refused(self):
        assert LoopsClient().transactional_email("nope", "tpl_1")["error_code"] == "invalid_email"
