from __future__ import annotations

import json
import logging
from unittest.mock import patch

import pytest
from django.db import DatabaseError

from patchbay.core.client import BaseClient
from patchbay.core.request import CallableRequest
from patchbay.core.simulation import outbox
from patchbay.exceptions import ServiceError
from patchbay.models import ExternalService, IntegrationLog
from patchbay.redaction import Redactor
from tests.conftest import inserts_refused
from tests.dummy import SECRET, DummyClient

pytestmark = pytest.mark.django_db


def failing(exc):
    def behaviour():
        raise exc

    return behaviour


def service():
    return ExternalService.objects.get(provider="dummy")


class TestResultShape:
    def test_live_success(self):
        result = DummyClient(api_key=SECRET, debug_mode=False).create_item("a")
        assert result == {"success": True, "item": {"id": "it_live"}}

    def test_simulated_success_has_same_keys_plus_flag(self):
        result = DummyClient(debug_mode=True).create_item("a")
        assert result["success"] is True
        assert result["simulated"] is True
        assert result["item"]["id"].startswith("it_")
        assert set(result) == {"success", "item", "simulated"}

    def test_simulation_needs_no_credentials_and_fills_the_outbox(self):
        DummyClient(debug_mode=True).create_item("widget", password="hunter2")
        [call] = outbox.filter(provider="dummy", operation="create_item")
        assert call.data["name"] == "widget"
        assert call.data["item"]["id"].startswith("it_")

    def test_failure_shape(self):
        client = DummyClient(
            api_key=SECRET,
            debug_mode=False,
            behaviour=failing(ServiceError("Card declined.", error_code="card_declined")),
        )
        assert client.create_item("a") == {
            "success": False,
            "error": "Card declined.",
            "error_code": "card_declined",
            "retryable": False,
        }

    @pytest.mark.parametrize(
        ("exc", "code", "retryable"),
        [
            (TimeoutError("slow"), "timeout", True),
            (BrokenPipeError("gone"), "connection_error", True),
            (ConnectionRefusedError("nope"), "connection_error", True),
            (KeyError("surprise"), "unexpected_error", False),
        ],
    )
    def test_unexpected_exceptions_never_escape(self, exc, code, retryable):
        result = DummyClient(api_key=SECRET, debug_mode=False, behaviour=failing(exc)).create_item(
            "a"
        )
        assert result["success"] is False
        assert result["error_code"] == code
        assert result["retryable"] is retryable

    def test_missing_credentials(self):
        result = DummyClient(debug_mode=False).create_item("a")
        assert result["error_code"] == "not_configured"
        assert "DUMMY_API_KEY" in result["error"]

    def test_missing_sdk_is_a_clear_error(self):
        class NoSdkClient(BaseClient):
            provider = "nosdk"
            sdk_module = "patchbay_missing_sdk_for_tests"
            extra = "nosdk"

            def ping(self):
                return self.call("ping", dict, simulate=dict)

        result = NoSdkClient(debug_mode=False).ping()
        assert result["error_code"] == "sdk_missing"
        assert 'pip install "django-patchbay[nosdk]"' in result["error"]
        assert NoSdkClient(debug_mode=True).ping()["success"] is True


class TestRecording:
    def test_every_call_is_recorded_without_secrets(self, caplog):
        caplog.set_level(logging.INFO, logger="patchbay")
        client = DummyClient(
            api_key=SECRET,
            debug_mode=False,
            behaviour=failing(
                ServiceError(f"Invalid key {SECRET}", error_code="authentication_error")
            ),
        )
        result = client.create_item("a", password="hunter2-password")
        assert SECRET not in result["error"]
        log = IntegrationLog.objects.get()
        assert (log.provider, log.operation, log.success, log.simulated) == (
            "dummy",
            "create_item",
            False,
            False,
        )
        assert log.error_code == "authentication_error"
        row = json.dumps([log.error, log.request_summary])
        assert SECRET not in row
        assert "hunter2-password" not in row
        assert log.request_summary == {"name": "a", "password": "***"}
        assert SECRET not in caplog.text
        assert "hunter2-password" not in caplog.text

    def test_simulated_calls_are_recorded_as_simulated(self):
        DummyClient(debug_mode=True).create_item("a")
        log = IntegrationLog.objects.get()
        assert log.simulated is True
        assert log.success is True
        assert log.duration_ms >= 0

    def test_a_row_that_cannot_be_stored_loses_neither_the_result_nor_health(self, caplog):
        # The health update and the row share one transaction (one commit); when the
        # row fails, the transaction is rolled back and the health update made again.
        # The database itself refuses the row: the insert is not always bulk_create()'s.
        with inserts_refused("patchbay_integrationlog"):
            result = DummyClient(api_key=SECRET, debug_mode=False).create_item("a")
        assert result == {"success": True, "item": {"id": "it_live"}}
        assert (service().total_requests, service().health_status) == (1, "healthy")
        assert "Could not store the IntegrationLog row(s) for dummy.create_item" in caplog.text

    def test_a_failing_health_update_is_not_swallowed(self, monkeypatch):
        from patchbay.core import recording

        def refuse(*args, **kwargs):
            raise DatabaseError("database gone")

        monkeypatch.setattr(recording, "record_outcomes", refuse)
        with pytest.raises(DatabaseError):
            DummyClient(api_key=SECRET, debug_mode=False).create_item("a")

    def test_status_code_is_kept(self):
        error = ServiceError("Down", error_code="server_error", retryable=True, status=503)
        DummyClient(api_key=SECRET, debug_mode=False, behaviour=failing(error)).create_item("a")
        assert IntegrationLog.objects.get().status_code == 503


class TestHealth:
    def fail(self, retryable=True, code="server_error"):
        error = ServiceError("Down", error_code=code, retryable=retryable)
        return DummyClient(api_key=SECRET, debug_mode=False, behaviour=failing(error)).create_item(
            "a"
        )

    def test_transitions(self, settings):
        settings.PATCHBAY_HEALTH_DOWN_THRESHOLD = 3
        settings.PATCHBAY_BREAKER_THRESHOLD = 100
        DummyClient(api_key=SECRET, debug_mode=False).create_item("a")
        assert service().health_status == "healthy"
        self.fail()
        assert (service().health_status, service().consecutive_failures) == ("degraded", 1)
        self.fail()
        assert service().health_status == "degraded"
        self.fail()
        assert (service().health_status, service().consecutive_failures) == ("down", 3)
        DummyClient(api_key=SECRET, debug_mode=False).create_item("a")
        row = service()
        assert (row.health_status, row.consecutive_failures) == ("healthy", 0)
        assert (row.total_requests, row.failed_requests) == (5, 3)
        assert row.success_rate == 40.0
        assert row.last_error == "Down"
        assert row.last_success_at >= row.last_failure_at

    def test_business_errors_do_not_hurt_health(self):
        self.fail(retryable=False, code="card_declined")
        row = service()
        assert (row.health_status, row.consecutive_failures, row.failed_requests) == (
            "healthy",
            0,
            1,
        )

    def test_authentication_errors_do(self):
        self.fail(retryable=False, code="authentication_error")
        assert service().health_status == "degraded"

    def test_simulated_calls_do_not_touch_health(self):
        DummyClient(debug_mode=True).create_item("a")
        assert service().total_requests == 0


class TestBreakerIntegration:
    def test_opens_after_threshold_and_short_circuits(self, settings):
        settings.PATCHBAY_BREAKER_THRESHOLD = 2
        calls = []

        def boom():
            calls.append(1)
            raise ServiceError("Down", error_code="server_error", retryable=True)

        client = DummyClient(api_key=SECRET, debug_mode=False, behaviour=boom)
        client.create_item("a")
        client.create_item("a")
        result = client.create_item("a")
        assert result["error_code"] == "circuit_open"
        assert result["retryable"] is True
        assert len(calls) == 2
        assert IntegrationLog.objects.filter(error_code="circuit_open").count() == 1

    def test_business_errors_never_open_it(self, settings):
        settings.PATCHBAY_BREAKER_THRESHOLD = 2
        error = ServiceError("Declined", error_code="card_declined")
        client = DummyClient(api_key=SECRET, debug_mode=False, behaviour=failing(error))
        for _ in range(4):
            assert client.create_item("a")["error_code"] == "card_declined"
        assert client.breaker.state == "closed"


class TestLocalOperations:
    """Operations computed here without reaching the service (presigning): ``local=True``."""

    def sign(self, client, behaviour=lambda: {"signature": "sig"}):
        return client.call(
            "sign",
            behaviour,
            simulate=lambda: {"signature": "sim"},
            params={"key": "k"},
            local=True,
        )

    def test_a_success_stores_no_row_and_leaves_health_and_breaker_alone(self, settings, caplog):
        caplog.set_level(logging.INFO, logger="patchbay")
        settings.PATCHBAY_BREAKER_THRESHOLD = 1
        client = DummyClient(api_key=SECRET, debug_mode=False)
        client.breaker.record_failure()  # open: the service is failing
        assert self.sign(client) == {"success": True, "signature": "sig"}
        assert client.breaker.state == "open"  # neither blocked nor closed by a local success
        assert IntegrationLog.objects.count() == 0
        assert service().total_requests == 0
        assert "dummy.sign succeeded" in caplog.text
        assert self.sign(DummyClient(debug_mode=True))["signature"] == "sim"
        assert IntegrationLog.objects.count() == 0

    def test_a_failure_is_stored_but_not_counted_against_health(self):
        client = DummyClient(api_key=SECRET, debug_mode=False)
        result = self.sign(client, failing(KeyError("boom")))
        assert (result["success"], result["error_code"]) == (False, "unexpected_error")
        log = IntegrationLog.objects.get()
        assert (log.operation, log.success, log.error_code) == ("sign", False, "unexpected_error")
        assert service().total_requests == 0
        assert client.breaker.failures == 0

    def test_a_success_is_only_logged_so_its_request_is_not_redacted(self):
        # The log line quotes no summary: masking one for every signature was waste.
        client = DummyClient(api_key=SECRET, debug_mode=False)
        with patch.object(Redactor, "data", side_effect=AssertionError("redacted")):
            assert self.sign(client)["success"] is True
        assert "redactor" not in client.__dict__

    def test_a_success_makes_no_request_summary(self):
        # Nothing quotes it (no row, a log line without one): a signature is spared making it.
        client = DummyClient(api_key=SECRET, debug_mode=False)
        request = CallableRequest("sign", lambda: {"signature": "sig"}, dict, local=True)
        with patch.object(request, "params", side_effect=AssertionError("summary made")):
            assert client.call(request) == {"success": True, "signature": "sig"}

    def test_a_failure_stores_its_request_redacted(self):
        client = DummyClient(api_key=SECRET, debug_mode=False)
        result = client.call(
            "sign",
            failing(ServiceError(f"bad key {SECRET}", error_code="invalid_request")),
            simulate=dict,
            params={"key": f"k-{SECRET}", "password": "hunter2-hunter2"},
            local=True,
        )
        assert result["error"] == "bad key ***"
        log = IntegrationLog.objects.get()
        assert log.request_summary == {"key": "k-***", "password": "***"}
        assert "breaker" not in client.__dict__  # signing never consults the breaker

    def test_the_usual_refusals_still_apply(self):
        assert self.sign(DummyClient(debug_mode=False))["error_code"] == "not_configured"
