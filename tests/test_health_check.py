"""patchbay's checks through django-health-check's own views: HTML, JSON and OpenMetrics."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import modify_settings
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from patchbay.core.breaker import CircuitBreaker
from patchbay.exceptions import ServiceError
from patchbay.health_checks import PatchbayService, service_checks
from patchbay.models import ExternalService, HealthCheck
from tests.dummy import SECRET, DummyClient

# Checks run in django-health-check's executor threads, on connections of their own.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.urls_health_check"),
    # django-health-check runs every check in a thread of its own: on SQLite's shared
    # in-memory test database those threads' writes are refused at times (table locked)
    # and their connections, which Django never closes in memory, leak (ResourceWarning,
    # an error under Python 3.13's pytest). CI runs this module on PostgreSQL.
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="health-check threads need PostgreSQL"
    ),
]

KEY = "PatchbayService(provider='dummy', probe=False)"
PROBE_KEY = "PatchbayService(provider='dummy', probe=True)"


@pytest.fixture
def live(settings):
    settings.PATCHBAY_SIMULATE = False
    settings.DUMMY_API_KEY = SECRET


def health_json(client, url="/health/"):
    response = client.get(url, headers={"Accept": "application/json"})
    return response.status_code, response.json()


def set_health(status, failures):
    ExternalService.objects.update_or_create(
        provider="dummy",
        defaults={"name": "Dummy", "health_status": status, "consecutive_failures": failures},
    )


def test_a_check_per_registered_service():
    providers = [options["provider"] for _check, options in service_checks()]
    assert {"dummy", "loops", "stripe", "twilio"} <= set(providers)
    assert all(check is PatchbayService for check, _options in service_checks())


def test_healthy_services_pass(client, live):
    set_health("healthy", 0)
    status, found = health_json(client)
    assert status == 200
    assert found[KEY] == "OK"
    # Simulated (every other service here) and disabled services have nothing wrong.
    assert found["PatchbayService(provider='stripe', probe=False)"] == "OK"


def test_a_disabled_service_passes(client, live, settings):
    settings.DUMMY_ENABLED = False
    set_health("down", 9)
    assert health_json(client)[1][KEY] == "OK"


@pytest.mark.parametrize(
    ("status", "failures", "message"),
    [
        ("down", 7, "Unavailable: Down after 7 consecutive failures."),
        ("degraded", 2, "Warning: Degraded: 2 consecutive failure(s)."),
    ],
)
def test_recent_health_fails_the_page(client, live, status, failures, message):
    set_health(status, failures)
    code, found = health_json(client)
    assert code == 500
    assert found[KEY] == message


def test_an_open_breaker_is_unavailable(client, live):
    set_health("healthy", 0)
    CircuitBreaker("dummy", threshold=1).record_failure()
    assert health_json(client)[1][KEY] == (
        "Unavailable: Circuit breaker open: calls are short-circuited."
    )


def test_openmetrics_labels_each_service(client, live):
    set_health("down", 5)
    response = client.get("/health/?format=openmetrics")
    families = {
        family.name: family for family in text_string_to_metric_families(response.content.decode())
    }
    statuses = {
        sample.labels["provider"]: sample.value
        for sample in families["django_health_check_status"].samples
        if sample.labels.get("check") == "PatchbayService"
    }
    assert statuses["dummy"] == 0
    assert statuses["stripe"] == 1


def test_html_page(client, live):
    set_health("healthy", 0)
    # Its template's app only here: importing health_check imports redis, which a start
    # of the test project must not (tests/test_startup.py).
    with modify_settings(INSTALLED_APPS={"append": "health_check"}):
        response = client.get("/health/", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "PatchbayService" in response.content.decode()


class TestProbe:
    def test_a_successful_probe_is_stored(self, client, live):
        _status, found = health_json(client, "/health/probe/")
        assert found[PROBE_KEY] == "OK"
        check = HealthCheck.objects.get(service__provider="dummy")
        assert check.status == HealthCheck.Status.SUCCESS

    def test_a_failed_probe_says_so_without_the_error(self, client, live, monkeypatch):
        def down(self):
            raise ServiceError(f"bad key {SECRET}", error_code="authentication_error")

        monkeypatch.setattr(DummyClient, "probe", down)
        status, found = health_json(client, "/health/probe/")
        assert status == 500
        assert found[PROBE_KEY] == "Unavailable: Dummy's probe failed."
        assert SECRET not in str(found)
        assert HealthCheck.objects.get(service__provider="dummy").status == "failure"

    def test_a_probe_past_its_timeout_is_unavailable(self, client, live, monkeypatch):
        release = threading.Event()

        def hangs(self):
            release.wait(10)
            return {"healthy": True}

        monkeypatch.setattr(DummyClient, "probe", hangs)
        try:
            status, found = health_json(client, "/health/probe/")
        finally:
            release.set()
        assert status == 500
        assert found[PROBE_KEY] == "Unavailable: Timed out after 0 seconds"
